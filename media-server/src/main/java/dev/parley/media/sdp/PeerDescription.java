package dev.parley.media.sdp;

import dev.parley.media.ice.IceCandidate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A browser's (or any peer's) SDP read into what the server needs: the transport and each m-section. */
public record PeerDescription(TransportParameters transport, List<OfferedMedia> media) {
    /**
     * Most {@code a=candidate} lines a description may carry, over all its sections. Browsers send a handful; the
     * server (ICE-lite) learns addresses from checks, so more is only work for a parser an attacker feeds.
     */
    public static final int MAX_CANDIDATES = 32;

    public PeerDescription {
        media = List.copyOf(media);
    }

    public static PeerDescription parse(String sdp) throws SdpException {
        return read(SessionDescription.parse(sdp));
    }

    public static PeerDescription read(SessionDescription description) throws SdpException {
        int candidateLines = 0;
        for (MediaSection section : description.media()) {
            candidateLines += section.attributeValues("candidate").size();
        }
        if (candidateLines > MAX_CANDIDATES) {
            throw new SdpException("SDP carries " + candidateLines + " candidates; at most " + MAX_CANDIDATES
                    + " are accepted");
        }
        List<OfferedMedia> media = new ArrayList<>();
        MediaSection transportSection = null;
        List<String> bundle = bundleMids(description);
        for (MediaSection section : description.media()) {
            MediaKind kind = MediaKind.fromSdp(section.kind());
            String mid = section.mid();
            boolean rejected = section.port() == 0 || kind == null;
            if (mid == null) {
                throw new SdpException("m=" + section.kind() + " section has no a=mid");
            }
            if (!rejected && !section.protocol().contains("SAVPF") && !section.protocol().contains("SAVP")) {
                throw new SdpException("m-section " + mid + " is not DTLS-SRTP (" + section.protocol() + ")");
            }
            if (!rejected) {
                if (section.attribute("rtcp-mux") == null) {
                    throw new SdpException("m-section " + mid + " has no a=rtcp-mux; rtcp-mux is required");
                }
                if (!bundle.contains(mid) && description.media().size() > 1) {
                    throw new SdpException("m-section " + mid + " is not in the BUNDLE group; BUNDLE is required");
                }
                if (transportSection == null) {
                    transportSection = section;
                }
            }
            long[] ssrcs = ssrcs(section);
            media.add(new OfferedMedia(mid, kind, section.direction(), rejected,
                    kind == null ? List.of() : codecs(section), extensions(section), ssrcs[0], ssrcs[1],
                    section.attribute("msid")));
        }
        if (transportSection == null) {
            throw new SdpException("SDP has no usable audio or video m-section");
        }
        return new PeerDescription(transport(description, transportSection), media);
    }

    private static List<String> bundleMids(SessionDescription description) {
        String group = description.sessionAttribute("group");
        for (String attribute : description.sessionAttributes()) {
            if (attribute.startsWith("group:BUNDLE")) {
                group = attribute.substring("group:".length());
            }
        }
        List<String> mids = new ArrayList<>();
        if (group != null && group.startsWith("BUNDLE")) {
            for (String mid : group.substring("BUNDLE".length()).trim().split("\\s+")) {
                if (!mid.isEmpty()) {
                    mids.add(mid);
                }
            }
        }
        return mids;
    }

    private static TransportParameters transport(SessionDescription description, MediaSection section)
            throws SdpException {
        String ufrag = description.attribute(section, "ice-ufrag");
        String password = description.attribute(section, "ice-pwd");
        if (ufrag == null || ufrag.isEmpty() || password == null || password.isEmpty()) {
            throw new SdpException("SDP has no ice-ufrag and ice-pwd");
        }
        String fingerprint = null;
        for (MediaSection s : List.of(section)) {
            for (String value : s.attributeValues("fingerprint")) {
                fingerprint = sha256(value, fingerprint);
            }
        }
        for (String attribute : description.sessionAttributes()) {
            if (fingerprint == null && attribute.startsWith("fingerprint:")) {
                fingerprint = sha256(attribute.substring("fingerprint:".length()), null);
            }
        }
        if (fingerprint == null) {
            throw new SdpException("SDP has no sha-256 DTLS fingerprint");
        }
        String setup = description.attribute(section, "setup");
        List<IceCandidate> candidates = new ArrayList<>();
        for (String value : section.attributeValues("candidate")) {
            IceCandidate candidate = IceCandidate.parse(value);
            if (candidate != null) {
                candidates.add(candidate);
            }
        }
        return new TransportParameters(ufrag, password, fingerprint, setup == null ? "actpass" : setup, candidates);
    }

    private static String sha256(String value, String previous) {
        String[] parts = value.trim().split("\\s+");
        if (parts.length == 2 && parts[0].equalsIgnoreCase("sha-256")) {
            return parts[1].toUpperCase(Locale.ROOT);
        }
        return previous;
    }

    private static List<Codec> codecs(MediaSection section) {
        Map<Integer, String[]> rtpmaps = new LinkedHashMap<>();
        for (String value : section.attributeValues("rtpmap")) {
            String[] parts = value.split("\\s+", 2);
            if (parts.length == 2) {
                try {
                    rtpmaps.put(Integer.parseInt(parts[0]), parts[1].split("/"));
                } catch (NumberFormatException ignored) {
                    // a malformed rtpmap only loses that format
                }
            }
        }
        Map<Integer, String> fmtps = new LinkedHashMap<>();
        for (String value : section.attributeValues("fmtp")) {
            String[] parts = value.split("\\s+", 2);
            try {
                fmtps.put(Integer.parseInt(parts[0]), parts.length > 1 ? parts[1] : "");
            } catch (NumberFormatException ignored) {
                // ignored like an unknown attribute
            }
        }
        Map<Integer, List<String>> feedback = new LinkedHashMap<>();
        List<String> wildcard = new ArrayList<>();
        for (String value : section.attributeValues("rtcp-fb")) {
            String[] parts = value.split("\\s+", 2);
            if (parts.length < 2) {
                continue;
            }
            if (parts[0].equals("*")) {
                wildcard.add(parts[1]);
            } else {
                try {
                    feedback.computeIfAbsent(Integer.parseInt(parts[0]), k -> new ArrayList<>()).add(parts[1]);
                } catch (NumberFormatException ignored) {
                    // ignored like an unknown attribute
                }
            }
        }
        Map<Integer, Integer> rtxByPrimary = new LinkedHashMap<>();
        for (Map.Entry<Integer, String[]> entry : rtpmaps.entrySet()) {
            if (entry.getValue()[0].equalsIgnoreCase("rtx")) {
                String apt = new Codec("rtx", 0, 0, 0, fmtps.get(entry.getKey()), List.of(), -1)
                        .fmtpParameter("apt", null);
                if (apt != null) {
                    try {
                        rtxByPrimary.putIfAbsent(Integer.parseInt(apt), entry.getKey());
                    } catch (NumberFormatException ignored) {
                        // no usable apt
                    }
                }
            }
        }
        List<Codec> codecs = new ArrayList<>();
        for (String format : section.formats()) {
            int pt;
            try {
                pt = Integer.parseInt(format);
            } catch (NumberFormatException e) {
                continue;
            }
            String[] map = rtpmaps.get(pt);
            if (map == null || map.length < 2 || map[0].equalsIgnoreCase("rtx")) {
                continue;
            }
            int clockRate;
            int channels;
            try {
                clockRate = Integer.parseInt(map[1]);
                channels = map.length > 2 ? Integer.parseInt(map[2]) : 1;
            } catch (NumberFormatException e) {
                continue;
            }
            List<String> fb = new ArrayList<>(feedback.getOrDefault(pt, List.of()));
            fb.addAll(wildcard);
            codecs.add(new Codec(map[0], clockRate, channels, pt, fmtps.get(pt), fb,
                    rtxByPrimary.getOrDefault(pt, -1)));
        }
        return codecs;
    }

    private static List<HeaderExtension> extensions(MediaSection section) {
        List<HeaderExtension> extensions = new ArrayList<>();
        for (String value : section.attributeValues("extmap")) {
            String[] parts = value.split("\\s+");
            if (parts.length < 2) {
                continue;
            }
            try {
                int id = Integer.parseInt(parts[0].split("/")[0]);
                extensions.add(new HeaderExtension(id, parts[1]));
            } catch (NumberFormatException ignored) {
                // ignored like an unknown attribute
            }
        }
        return extensions;
    }

    /** The primary SSRC and its RTX SSRC (0 if none), from ssrc-group:FID or the first a=ssrc. */
    private static long[] ssrcs(MediaSection section) {
        for (String group : section.attributeValues("ssrc-group")) {
            String[] parts = group.trim().split("\\s+");
            if (parts[0].equals("FID") && parts.length >= 3) {
                try {
                    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
                } catch (NumberFormatException ignored) {
                    // fall through to plain ssrc lines
                }
            }
        }
        for (String value : section.attributeValues("ssrc")) {
            try {
                return new long[] {Long.parseLong(value.split("\\s+")[0]), 0};
            } catch (NumberFormatException ignored) {
                // try the next line
            }
        }
        return new long[] {0, 0};
    }
}
