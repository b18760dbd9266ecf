package dev.parley.media.sdp;

import dev.parley.media.dtls.Fingerprint;
import dev.parley.media.ice.IceCandidate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A browser's (or any peer's) SDP read into what the server needs: the transport and each m-section. */
public record PeerDescription(TransportParameters transport, List<OfferedMedia> media) {
    private static final Logger LOG = LoggerFactory.getLogger(PeerDescription.class);

    /**
     * Most {@code a=candidate} lines a description may carry, over all its sections. Browsers send a handful; the
     * server (ICE-lite) learns addresses from checks, so more is only work for a parser an attacker feeds.
     */
    public static final int MAX_CANDIDATES = 32;

    /** Most simulcast streams one section may send: three spatial layers is what publishers use. */
    public static final int MAX_SIMULCAST_STREAMS = 3;

    private static final java.util.regex.Pattern RID = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,16}");

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
        String tagged = bundle.isEmpty() ? null : bundle.get(0);
        for (MediaSection section : description.media()) {
            MediaKind kind = MediaKind.fromSdp(section.kind());
            String mid = section.mid();
            if (mid == null) {
                throw new SdpException("m=" + section.kind() + " section has no a=mid");
            }
            // RFC 8843: port 0 with a=bundle-only in the BUNDLE group is a bundled section (the offerer leaves
            // the port to the group's); port 0 otherwise rejects the section.
            boolean bundleOnly = section.attribute("bundle-only") != null && bundle.contains(mid);
            boolean rejected = kind == null || (section.port() == 0 && !bundleOnly);
            if (!rejected) {
                if (!PROTOCOLS.contains(section.protocol())) {
                    throw new SdpException("m-section " + mid + " uses protocol " + abbreviate(section.protocol())
                            + "; only DTLS-SRTP (UDP/TLS/RTP/SAVPF) is supported");
                }
                if (section.attribute("rtcp-mux") == null) {
                    throw new SdpException("m-section " + mid + " has no a=rtcp-mux; rtcp-mux is required");
                }
                if (!bundle.contains(mid) && description.media().size() > 1) {
                    throw new SdpException("m-section " + mid
                            + " is not in the a=group:BUNDLE group; BUNDLE is required");
                }
                if (transportSection == null || mid.equals(tagged)) {
                    transportSection = section;
                }
            }
            long[] ssrcs = ssrcs(section);
            List<String> rids = rejected || kind != MediaKind.VIDEO ? List.of() : sendRids(section);
            media.add(new OfferedMedia(mid, kind, section.direction(), rejected,
                    kind == null ? List.of() : codecs(section), extensions(section), rids.isEmpty() ? ssrcs[0] : 0,
                    rids.isEmpty() ? ssrcs[1] : 0, section.attribute("msid"), rids));
        }
        if (transportSection == null) {
            throw new SdpException("SDP has no usable audio or video m-section");
        }
        return new PeerDescription(transport(description, transportSection), oneMeaningPerId(media, bundle));
    }

    /**
     * Within one BUNDLE group an {@code a=extmap} id names one extension (RFC 8285 section 6, RFC 8843 section
     * 9.1): every packet of the transport is read with one map. Some stacks (aiortc) still give an id one meaning
     * on the audio section and another on the video section. The first section in BUNDLE-group order that uses
     * an id keeps it; a later section that maps the id to another URI loses that extension, so it is neither
     * answered nor sent there, and the peer never meets the id with the other meaning. The same id for the same
     * URI in several sections is the normal case and is kept. Rejected sections take part in nothing.
     */
    private static List<OfferedMedia> oneMeaningPerId(List<OfferedMedia> media, List<String> bundle) {
        List<Integer> order = new ArrayList<>();
        for (String mid : bundle) {
            for (int i = 0; i < media.size(); i++) {
                if (!media.get(i).rejected() && media.get(i).mid().equals(mid) && !order.contains(i)) {
                    order.add(i);
                    break;
                }
            }
        }
        for (int i = 0; i < media.size(); i++) {
            if (!media.get(i).rejected() && !order.contains(i)) {
                order.add(i);
            }
        }
        List<OfferedMedia> result = new ArrayList<>(media);
        Map<Integer, String> owners = new LinkedHashMap<>();
        for (int i : order) {
            OfferedMedia m = media.get(i);
            List<HeaderExtension> extensions = new ArrayList<>();
            for (HeaderExtension extension : m.extensions()) {
                String owner = owners.putIfAbsent(extension.id(), extension.uri());
                if (owner == null || owner.equals(extension.uri())) {
                    extensions.add(extension);
                } else if (LOG.isDebugEnabled()) {
                    LOG.debug("a=extmap:{} {} in m-section {} dropped: id {} already names {} in the BUNDLE group",
                            extension.id(), shortUri(extension.uri()), abbreviate(m.mid()), extension.id(),
                            shortUri(owner));
                }
            }
            if (extensions.size() != m.extensions().size()) {
                result.set(i, new OfferedMedia(m.mid(), m.kind(), m.direction(), m.rejected(), m.codecs(),
                        extensions, m.ssrc(), m.rtxSsrc(), m.msid(), m.rids()));
            }
        }
        return result;
    }

    /** An extension URI from the peer, cut short for a log line. */
    private static String shortUri(String uri) {
        return uri.length() > 96 ? uri.substring(0, 96) + "..." : uri;
    }

    /** The RTP profiles of DTLS-SRTP; the older names without UDP/TLS are what some stacks still write (RFC 5764). */
    private static final List<String> PROTOCOLS = List.of("UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP", "RTP/SAVPF",
            "RTP/SAVP");

    private static List<String> bundleMids(SessionDescription description) {
        String group = null;
        for (String attribute : description.sessionAttributes()) {
            if (attribute.startsWith("group:BUNDLE")) {
                group = attribute.substring("group:".length());
                break;
            }
        }
        List<String> mids = new ArrayList<>();
        if (group != null) {
            for (String mid : group.substring("BUNDLE".length()).trim().split("\\s+")) {
                if (!mid.isEmpty()) {
                    mids.add(mid);
                }
            }
        }
        return mids;
    }

    /**
     * The transport from the BUNDLE group's tagged section (its first mid; else the first usable section). Peers
     * such as aiortc write different ICE credentials into each bundled section: only the tagged one's count.
     */
    private static TransportParameters transport(SessionDescription description, MediaSection section)
            throws SdpException {
        String ufrag = description.attribute(section, "ice-ufrag");
        String password = description.attribute(section, "ice-pwd");
        if (ufrag == null || ufrag.isEmpty() || password == null || password.isEmpty()) {
            throw new SdpException("m-section " + section.mid() + " has no a=ice-ufrag and a=ice-pwd");
        }
        List<String> lines = section.attributeValues("fingerprint");
        if (lines.isEmpty()) {
            for (String attribute : description.sessionAttributes()) {
                if (attribute.startsWith("fingerprint:")) {
                    lines.add(attribute.substring("fingerprint:".length()));
                }
            }
        }
        List<Fingerprint> fingerprints = fingerprints(lines);
        if (fingerprints.isEmpty()) {
            List<String> hashes = new ArrayList<>();
            for (String line : lines.subList(0, Math.min(lines.size(), 4))) {
                hashes.add(abbreviate(line.trim().split("\\s+")[0]));
            }
            throw new SdpException(lines.isEmpty() ? "SDP has no a=fingerprint"
                    : "no usable a=fingerprint (offered: " + String.join(", ", hashes)
                            + "); it needs a well-formed digest under one of " + String.join(", ", Fingerprint.HASHES));
        }
        String setup = description.attribute(section, "setup");
        if (setup != null && !SETUP_ROLES.contains(setup.trim().toLowerCase(Locale.ROOT))) {
            throw new SdpException("a=setup:" + abbreviate(setup) + " leaves the server no DTLS role; use actpass, active or"
                    + " passive");
        }
        List<IceCandidate> candidates = new ArrayList<>();
        for (String value : section.attributeValues("candidate")) {
            IceCandidate candidate = IceCandidate.parse(value);
            if (candidate != null) {
                candidates.add(candidate);
            }
        }
        return new TransportParameters(ufrag, password, fingerprints,
                setup == null ? "actpass" : setup.trim().toLowerCase(Locale.ROOT), candidates);
    }

    /** Peer text quoted in an error, cut short. */
    static String abbreviate(String text) {
        return text.length() > 24 ? text.substring(0, 24) + "..." : text;
    }

    private static final List<String> SETUP_ROLES = List.of("actpass", "active", "passive");

    /** The well-formed fingerprints of the strongest hash function offered (RFC 8122 section 5). */
    private static List<Fingerprint> fingerprints(List<String> lines) {
        List<Fingerprint> parsed = new ArrayList<>();
        for (String line : lines) {
            Fingerprint fingerprint = Fingerprint.parse(line);
            if (fingerprint != null) {
                parsed.add(fingerprint);
            }
        }
        for (String hash : Fingerprint.HASHES) {
            List<Fingerprint> strongest = parsed.stream().filter(f -> f.hash().equals(hash)).toList();
            if (!strongest.isEmpty()) {
                return strongest;
            }
        }
        return List.of();
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
                // "id" or "id/direction"; "/" alone splits into nothing, so cut at the slash instead.
                int slash = parts[0].indexOf('/');
                int id = Integer.parseInt(slash < 0 ? parts[0] : parts[0].substring(0, slash));
                extensions.add(new HeaderExtension(id, parts[1]));
            } catch (NumberFormatException ignored) {
                // ignored like an unknown attribute
            }
        }
        return extensions;
    }

    /**
     * The RTP streams a video section sends as simulcast (RFC 8853): the first alternative of each stream in
     * {@code a=simulcast:send}, in its order (browsers list them as their encodings, lowest quality first), paused
     * ({@code ~}) ones included; each must have an {@code a=rid:<id> send} line. Empty without {@code a=simulcast}.
     * Their SSRCs are learnt from the packets' RID header extension, so any {@code a=ssrc} lines are not used. A
     * receive-only simulcast description, an unknown rid, a
     * malformed id or more than {@link #MAX_SIMULCAST_STREAMS} streams is refused.
     */
    private static List<String> sendRids(MediaSection section) throws SdpException {
        String simulcast = section.attribute("simulcast");
        if (simulcast == null) {
            return List.of();
        }
        String[] parts = simulcast.trim().split("\\s+");
        List<String> rids = new ArrayList<>();
        for (int i = 0; i + 1 < parts.length; i += 2) {
            if (!parts[i].equals("send")) {
                continue;
            }
            for (String stream : parts[i + 1].split(";")) {
                // A paused stream ("~q": a browser writes it once the encoding is turned off) is still one of the
                // section's streams: it keeps its layer, and its SSRC, for when it is turned on again.
                String first = stream.split(",")[0];
                if (first.startsWith("~")) {
                    first = first.substring(1);
                }
                if (!RID.matcher(first).matches()) {
                    throw new SdpException("m-section " + abbreviate(section.mid()) + " has a=simulcast with rid "
                            + abbreviate(first) + "; a rid is 1-16 letters, digits, '-' or '_'");
                }
                if (!rids.contains(first)) {
                    rids.add(first);
                }
            }
        }
        if (rids.size() > MAX_SIMULCAST_STREAMS) {
            throw new SdpException("m-section " + abbreviate(section.mid()) + " sends " + rids.size()
                    + " simulcast streams (a=simulcast); at most " + MAX_SIMULCAST_STREAMS + " are accepted");
        }
        List<String> declared = new ArrayList<>();
        for (String value : section.attributeValues("rid")) {
            String[] fields = value.trim().split("\\s+");
            if (fields.length >= 2 && fields[1].equals("send")) {
                declared.add(fields[0]);
            }
        }
        for (String rid : rids) {
            if (!declared.contains(rid)) {
                throw new SdpException("m-section " + abbreviate(section.mid()) + " lists rid " + rid
                        + " in a=simulcast but has no a=rid:" + rid + " send");
            }
        }
        return rids;
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
