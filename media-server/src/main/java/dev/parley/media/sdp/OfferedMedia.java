package dev.parley.media.sdp;

import java.util.List;

/**
 * What one m-section of a peer's description says: its mid, kind, direction, codecs, header extensions, the
 * SSRCs the peer will send with (primary, and RTX or 0), and the simulcast streams it sends ({@code rids}, from
 * {@code a=simulcast:send}, lowest quality first; empty without simulcast).
 */
public record OfferedMedia(String mid, MediaKind kind, Direction direction, boolean rejected, List<Codec> codecs,
                           List<HeaderExtension> extensions, long ssrc, long rtxSsrc, String msid,
                           List<String> rids) {

    public OfferedMedia {
        codecs = List.copyOf(codecs);
        extensions = List.copyOf(extensions);
        rids = List.copyOf(rids);
    }

    /** Whether the section sends simulcast: several RTP streams told apart by their RID header extension. */
    public boolean simulcast() {
        return !rids.isEmpty();
    }
}
