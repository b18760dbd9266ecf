package dev.parley.media.sdp;

import java.util.ArrayList;
import java.util.List;

/** A parsed SDP (RFC 8866): session-level attributes and media sections. Lines the server ignores are dropped. */
public record SessionDescription(List<String> sessionAttributes, List<MediaSection> media) {
    private static final int MAX_LENGTH = 64 * 1024;

    public SessionDescription {
        sessionAttributes = List.copyOf(sessionAttributes);
        media = List.copyOf(media);
    }

    public static SessionDescription parse(String sdp) throws SdpException {
        if (sdp == null || sdp.isBlank()) {
            throw new SdpException("empty SDP");
        }
        if (sdp.length() > MAX_LENGTH) {
            throw new SdpException("SDP longer than " + MAX_LENGTH + " characters");
        }
        List<String> session = new ArrayList<>();
        List<MediaSection> media = new ArrayList<>();
        String[] current = null;
        List<String> currentFormats = null;
        List<String> currentAttributes = null;
        boolean sawVersion = false;
        for (String raw : sdp.split("\r?\n")) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.length() < 2 || line.charAt(1) != '=') {
                throw new SdpException("malformed SDP line: " + abbreviate(line));
            }
            char type = line.charAt(0);
            String value = line.substring(2);
            if (type == 'v') {
                sawVersion = true;
            } else if (type == 'm') {
                if (current != null) {
                    media.add(section(current, currentFormats, currentAttributes));
                }
                String[] fields = value.split(" ");
                if (fields.length < 3) {
                    throw new SdpException("malformed m= line: " + abbreviate(line));
                }
                current = fields;
                currentFormats = new ArrayList<>();
                for (int i = 3; i < fields.length; i++) {
                    currentFormats.add(fields[i]);
                }
                currentAttributes = new ArrayList<>();
            } else if (type == 'a') {
                if (current == null) {
                    session.add(value);
                } else {
                    currentAttributes.add(value);
                }
            }
        }
        if (current != null) {
            media.add(section(current, currentFormats, currentAttributes));
        }
        if (!sawVersion) {
            throw new SdpException("SDP has no v= line");
        }
        return new SessionDescription(session, media);
    }

    private static MediaSection section(String[] fields, List<String> formats, List<String> attributes)
            throws SdpException {
        int port;
        try {
            // "port" or "port/number of ports"; a lone "/" has no port at all.
            int slash = fields[1].indexOf('/');
            port = Integer.parseInt(slash < 0 ? fields[1] : fields[1].substring(0, slash));
        } catch (NumberFormatException e) {
            throw new SdpException("bad port in m= line: " + fields[1]);
        }
        return new MediaSection(fields[0], port, fields[2], formats, attributes);
    }

    /** A session-level attribute, as {@link MediaSection#attribute}. */
    public String sessionAttribute(String name) {
        return SdpAttributes.first(sessionAttributes, name);
    }

    /** A media attribute falling back to the session level (ice-ufrag, fingerprint, setup). */
    public String attribute(MediaSection section, String name) {
        String value = section.attribute(name);
        return value != null ? value : sessionAttribute(name);
    }

    private static String abbreviate(String line) {
        return line.length() > 80 ? line.substring(0, 80) + "..." : line;
    }
}
