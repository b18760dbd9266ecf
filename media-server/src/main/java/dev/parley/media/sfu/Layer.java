package dev.parley.media.sfu;

import dev.parley.media.sdp.MediaKind;

/**
 * One RTP stream a publisher sends for a track: the track's only stream, or one simulcast encoding (identified by
 * its rid; its SSRCs are learnt from the first packets that carry the RID and repaired-RID header extensions).
 * Written by the publisher's receive thread; read by timers and subscribers' threads.
 */
final class Layer {
    final Track track;
    /** 0 for the lowest quality. */
    final int index;
    /** The simulcast rid, or null for a track without simulcast. */
    final String rid;
    final ReceiveStatistics statistics;
    final RetransmissionCache cache;
    volatile long ssrc;
    volatile long rtxSsrc;
    volatile long lastPacketNanos;
    /** The size of the last keyframe (VP8 tells it in every keyframe), or 0 while unknown. */
    volatile int width;
    volatile int height;
    volatile long lastSrNtpMiddle;
    volatile long lastSrArrivalNanos;
    /** Guarded by this layer. */
    long lastKeyframeRequestNanos = System.nanoTime() - 1_000_000_000L;

    Layer(Track track, int index, String rid, MediaKind kind, int clockRate, long ssrc, long rtxSsrc) {
        this.track = track;
        this.index = index;
        this.rid = rid;
        this.ssrc = ssrc;
        this.rtxSsrc = rtxSsrc;
        this.statistics = new ReceiveStatistics(clockRate);
        this.cache = kind == MediaKind.VIDEO ? new RetransmissionCache() : null;
    }

    /** Whether a packet of this layer arrived within {@code windowNanos}. */
    boolean activeWithin(long nowNanos, long windowNanos) {
        long last = lastPacketNanos;
        return last != 0 && nowNanos - last < windowNanos;
    }
}
