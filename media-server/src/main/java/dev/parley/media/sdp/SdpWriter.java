package dev.parley.media.sdp;

import dev.parley.media.dtls.Fingerprint;
import dev.parley.media.ice.IceCandidate;
import java.util.List;

/**
 * Writes the server's offers and answers: an ICE-lite agent (the peer is always the controlling one), one BUNDLE
 * transport, rtcp-mux, a=setup always present.
 */
public final class SdpWriter {

    /** The server's side of the transport. */
    public record LocalTransport(String ufrag, String password, Fingerprint fingerprint,
                                 List<IceCandidate> candidates) {
    }

    /**
     * One m-section to write. {@code ssrc} 0 means the server sends nothing in it. {@code receiveRids}: the
     * simulcast streams the server receives in it ({@code a=rid:<id> recv} and {@code a=simulcast:recv}), or empty.
     */
    public record Section(String mid, MediaKind kind, boolean rejected, Direction direction, List<Codec> codecs,
                          List<HeaderExtension> extensions, long ssrc, long rtxSsrc, String cname, String msid,
                          List<String> receiveRids) {
        public Section {
            receiveRids = List.copyOf(receiveRids);
        }

        public Section(String mid, MediaKind kind, boolean rejected, Direction direction, List<Codec> codecs,
                       List<HeaderExtension> extensions, long ssrc, long rtxSsrc, String cname, String msid) {
            this(mid, kind, rejected, direction, codecs, extensions, ssrc, rtxSsrc, cname, msid, List.of());
        }
    }

    private SdpWriter() {
    }

    public static String write(long sessionId, long version, LocalTransport local, String setup,
                               List<Section> sections) {
        StringBuilder out = new StringBuilder(2048);
        line(out, "v=0");
        line(out, "o=parley " + sessionId + " " + version + " IN IP4 127.0.0.1");
        line(out, "s=-");
        line(out, "t=0 0");
        line(out, "a=ice-lite");
        StringBuilder bundle = new StringBuilder("a=group:BUNDLE");
        for (Section section : sections) {
            if (!section.rejected()) {
                bundle.append(' ').append(section.mid());
            }
        }
        line(out, bundle.toString());
        line(out, "a=msid-semantic: WMS *");
        for (Section section : sections) {
            writeSection(out, local, setup, section);
        }
        return out.toString();
    }

    private static void writeSection(StringBuilder out, LocalTransport local, String setup, Section section) {
        StringBuilder formats = new StringBuilder();
        for (Codec codec : section.codecs()) {
            formats.append(' ').append(codec.payloadType());
            if (codec.rtxPayloadType() >= 0) {
                formats.append(' ').append(codec.rtxPayloadType());
            }
        }
        if (formats.length() == 0) {
            formats.append(section.kind() == MediaKind.AUDIO ? " 0" : " 96");
        }
        line(out, "m=" + section.kind().sdp() + " " + (section.rejected() ? 0 : 9) + " UDP/TLS/RTP/SAVPF" + formats);
        line(out, "c=IN IP4 0.0.0.0");
        line(out, "a=mid:" + section.mid());
        if (section.rejected()) {
            line(out, "a=inactive");
            return;
        }
        line(out, "a=rtcp:9 IN IP4 0.0.0.0");
        line(out, "a=ice-ufrag:" + local.ufrag());
        line(out, "a=ice-pwd:" + local.password());
        line(out, "a=fingerprint:" + local.fingerprint().sdpValue());
        line(out, "a=setup:" + setup);
        for (HeaderExtension extension : section.extensions()) {
            line(out, "a=extmap:" + extension.id() + " " + extension.uri());
        }
        line(out, "a=" + section.direction().sdp());
        if (section.msid() != null && section.ssrc() != 0) {
            line(out, "a=msid:" + section.msid());
        }
        line(out, "a=rtcp-mux");
        if (section.kind() == MediaKind.VIDEO) {
            line(out, "a=rtcp-rsize");
        }
        for (Codec codec : section.codecs()) {
            line(out, "a=rtpmap:" + codec.payloadType() + " " + codec.name() + "/" + codec.clockRate()
                    + (codec.channels() > 1 ? "/" + codec.channels() : ""));
            for (String feedback : codec.feedback()) {
                line(out, "a=rtcp-fb:" + codec.payloadType() + " " + feedback);
            }
            if (!codec.fmtp().isEmpty()) {
                line(out, "a=fmtp:" + codec.payloadType() + " " + codec.fmtp());
            }
            if (codec.rtxPayloadType() >= 0) {
                line(out, "a=rtpmap:" + codec.rtxPayloadType() + " rtx/" + codec.clockRate());
                line(out, "a=fmtp:" + codec.rtxPayloadType() + " apt=" + codec.payloadType());
            }
        }
        for (String rid : section.receiveRids()) {
            line(out, "a=rid:" + rid + " recv");
        }
        if (!section.receiveRids().isEmpty()) {
            line(out, "a=simulcast:recv " + String.join(";", section.receiveRids()));
        }
        if (section.ssrc() != 0) {
            if (section.rtxSsrc() != 0) {
                line(out, "a=ssrc-group:FID " + section.ssrc() + " " + section.rtxSsrc());
            }
            writeSsrc(out, section.ssrc(), section);
            if (section.rtxSsrc() != 0) {
                writeSsrc(out, section.rtxSsrc(), section);
            }
        }
        for (IceCandidate candidate : local.candidates()) {
            line(out, "a=" + candidate.toSdpValue());
        }
        line(out, "a=end-of-candidates");
    }

    private static void writeSsrc(StringBuilder out, long ssrc, Section section) {
        line(out, "a=ssrc:" + ssrc + " cname:" + section.cname());
        if (section.msid() != null) {
            line(out, "a=ssrc:" + ssrc + " msid:" + section.msid());
        }
    }

    private static void line(StringBuilder out, String text) {
        out.append(text).append("\r\n");
    }
}
