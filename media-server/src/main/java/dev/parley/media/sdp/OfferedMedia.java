package dev.parley.media.sdp;

import java.util.List;

/**
 * What one m-section of a peer's description says: its mid, kind, direction, codecs, header extensions and the
 * SSRCs the peer will send with (primary, and RTX or 0).
 */
public record OfferedMedia(String mid, MediaKind kind, Direction direction, boolean rejected, List<Codec> codecs,
                           List<HeaderExtension> extensions, long ssrc, long rtxSsrc, String msid) {

    public OfferedMedia {
        codecs = List.copyOf(codecs);
        extensions = List.copyOf(extensions);
    }
}
