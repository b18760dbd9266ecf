package dev.parley.media.sdp;

import dev.parley.media.ice.IceCandidate;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An {@code application/trickle-ice-sdpfrag} body (RFC 8840 §9, as WHIP's PATCH uses it, RFC 9725 §4.3): the
 * sender's ICE credentials if it names them, its candidates and whether it has sent its last one. Only {@code a=}
 * and {@code m=} lines may appear; attributes other than the ICE ones are ignored.
 *
 * @param ufrag the {@code ice-ufrag}, or null when the fragment names none
 * @param password the {@code ice-pwd}, or null
 * @param mids the {@code a=mid} values, in order
 * @param candidates the usable candidates (IP-literal addresses)
 * @param discarded well-formed candidates the server cannot use (a hostname or mDNS address), dropped as RFC 9725
 *     §4.3.2 asks
 * @param endOfCandidates whether {@code a=end-of-candidates} was present
 */
public record TrickleFragment(String ufrag, String password, List<String> mids, List<IceCandidate> candidates,
                              int discarded, boolean endOfCandidates) {
    /** Largest fragment read, in bytes; a client's whole candidate list fits many times over. */
    public static final int MAX_BYTES = 16 * 1024;
    /** Most candidates one fragment may carry. */
    public static final int MAX_CANDIDATES = 64;
    public static final String MEDIA_TYPE = "application/trickle-ice-sdpfrag";

    // RFC 8839 §5.4: ice-char is ALPHA / DIGIT / "+" / "/"; a ufrag is 4-256 of them, a password 22-256.
    private static final Pattern UFRAG = Pattern.compile("[A-Za-z0-9+/]{4,256}");
    private static final Pattern PASSWORD = Pattern.compile("[A-Za-z0-9+/]{22,256}");
    private static final Pattern MEDIA_LINE = Pattern.compile("[a-z]+ \\d+(/\\d+)? \\S+( \\S+)+");

    public TrickleFragment {
        mids = List.copyOf(mids);
        candidates = List.copyOf(candidates);
    }

    /** Reads a fragment; anything malformed is an {@link SdpException} saying which line and why. */
    public static TrickleFragment parse(String text) throws SdpException {
        String ufrag = null;
        String password = null;
        List<String> mids = new ArrayList<>();
        List<IceCandidate> candidates = new ArrayList<>();
        int discarded = 0;
        boolean end = false;
        int number = 0;
        for (String raw : text.split("\n", -1)) {
            number++;
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            if (line.isEmpty()) {
                continue;
            }
            if (line.length() < 2 || line.charAt(1) != '=') {
                throw new SdpException("line " + number + " is not an SDP line (x=value)");
            }
            String value = line.substring(2);
            switch (line.charAt(0)) {
                case 'm' -> {
                    if (!MEDIA_LINE.matcher(value).matches()) {
                        throw new SdpException("line " + number + ": malformed m= line");
                    }
                }
                case 'a' -> {
                    String name = value.contains(":") ? value.substring(0, value.indexOf(':')) : value;
                    String argument = value.contains(":") ? value.substring(value.indexOf(':') + 1).trim() : null;
                    switch (name) {
                        case "ice-ufrag" -> ufrag = credential(ufrag, argument, UFRAG, "ice-ufrag", number);
                        case "ice-pwd" -> password = credential(password, argument, PASSWORD, "ice-pwd", number);
                        case "mid" -> {
                            if (argument == null || argument.isEmpty() || argument.length() > 32) {
                                throw new SdpException("line " + number + ": malformed a=mid");
                            }
                            mids.add(argument);
                        }
                        case "candidate" -> {
                            if (!wellFormedCandidate(argument)) {
                                throw new SdpException("line " + number + ": malformed a=candidate");
                            }
                            if (candidates.size() + discarded >= MAX_CANDIDATES) {
                                throw new SdpException("more than " + MAX_CANDIDATES + " candidates");
                            }
                            IceCandidate candidate = IceCandidate.parse(argument);
                            if (candidate == null) {
                                discarded++;
                            } else {
                                candidates.add(candidate);
                            }
                        }
                        case "end-of-candidates" -> end = true;
                        default -> {
                            // ice-options, group, ice-lite, ...: nothing a lite agent acts on
                        }
                    }
                }
                default -> throw new SdpException("line " + number + ": a trickle-ice-sdpfrag holds only a= and m="
                        + " lines, not " + line.charAt(0) + "=");
            }
        }
        if ((ufrag == null) != (password == null)) {
            throw new SdpException("ice-ufrag and ice-pwd come together");
        }
        return new TrickleFragment(ufrag, password, mids, candidates, discarded, end);
    }

    /**
     * The server's fragment after an ICE restart: its new credentials and its candidates under the bundle's first
     * m-line ({@code mid} of kind {@code kind}), as RFC 9725 §4.3.3 shows.
     */
    public static String answer(String ufrag, String password, String kind, String mid, List<String> candidates) {
        StringBuilder out = new StringBuilder();
        out.append("a=ice-lite\r\n");
        out.append("m=").append(kind).append(" 9 UDP/TLS/RTP/SAVPF 0\r\n");
        out.append("a=mid:").append(mid).append("\r\n");
        out.append("a=ice-ufrag:").append(ufrag).append("\r\n");
        out.append("a=ice-pwd:").append(password).append("\r\n");
        for (String candidate : candidates) {
            out.append("a=").append(candidate).append("\r\n");
        }
        out.append("a=end-of-candidates\r\n");
        return out.toString();
    }

    private static String credential(String seen, String value, Pattern syntax, String name, int line)
            throws SdpException {
        if (value == null || !syntax.matcher(value).matches()) {
            throw new SdpException("line " + line + ": malformed a=" + name);
        }
        if (seen != null && !seen.equals(value)) {
            throw new SdpException("line " + line + ": a second, different a=" + name);
        }
        return value;
    }

    /** The shape RFC 8839 §5.1 requires (foundation, component, transport, priority, address, port, typ, type). */
    private static boolean wellFormedCandidate(String value) {
        if (value == null) {
            return false;
        }
        String[] f = value.trim().split("\\s+");
        if (f.length < 8 || !"typ".equals(f[6]) || f[0].isEmpty() || f[0].length() > 32) {
            return false;
        }
        try {
            int component = Integer.parseInt(f[1]);
            long priority = Long.parseLong(f[3]);
            int port = Integer.parseInt(f[5]);
            return component >= 1 && component <= 256 && priority >= 0 && priority <= 0xffffffffL && port >= 0
                    && port <= 65535;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
