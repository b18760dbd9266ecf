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
    /** The bitrate measured over the last intervals it was sent in, bit/s (0: not yet); see {@link #measure}. */
    private volatile long measuredBps;
    /** The timer's last reading: bytes received and when. */
    private long measuredBytes;
    private long measuredAtNanos;

    /** Typical bitrates, bit/s, for a layer not measured yet: audio, and video by its number of pixels. */
    static final long TYPICAL_AUDIO_BPS = 40_000;
    private static final long[][] TYPICAL_VIDEO_BPS = {
        {320 * 180, 150_000}, {640 * 360, 500_000}, {960 * 540, 1_000_000}, {Long.MAX_VALUE, 1_700_000}};

    Layer(Track track, int index, String rid, MediaKind kind, int clockRate, long ssrc, long rtxSsrc) {
        this.track = track;
        this.index = index;
        this.rid = rid;
        this.ssrc = ssrc;
        this.rtxSsrc = rtxSsrc;
        this.statistics = new ReceiveStatistics(clockRate);
        this.cache = kind == MediaKind.VIDEO ? new RetransmissionCache() : null;
    }

    /**
     * Measures the bitrate since the last call (the reports timer, about once a second, one thread): averaged with
     * the previous figure while the layer is sent, kept as it was while it is not (so a layer the publisher stopped
     * is known by what it needed when it last came).
     */
    void measure(long nowNanos) {
        long bytes = statistics.bytes();
        long elapsed = nowNanos - measuredAtNanos;
        if (measuredAtNanos != 0 && bytes > measuredBytes && elapsed > 0) {
            long rate = (bytes - measuredBytes) * 8 * 1_000_000_000L / elapsed;
            long previous = measuredBps;
            measuredBps = previous == 0 ? rate : (previous + rate) / 2;
        }
        measuredBytes = bytes;
        measuredAtNanos = nowNanos;
    }

    /** What this layer needs, bit/s: as measured, else what such a layer typically needs. */
    long bitrateBps() {
        long measured = measuredBps;
        if (measured > 0) {
            return measured;
        }
        if (cache == null) {
            return TYPICAL_AUDIO_BPS;
        }
        long pixels = (long) width * height;
        if (pixels == 0) {
            // Unknown size: each layer taken as half the width and height of the next, the top one 1280x720.
            int shift = track.layers.length - 1 - index;
            pixels = (1280L >> shift) * (720L >> shift);
        }
        for (long[] typical : TYPICAL_VIDEO_BPS) {
            if (pixels <= typical[0] * 6 / 5) {
                return typical[1];
            }
        }
        return TYPICAL_VIDEO_BPS[TYPICAL_VIDEO_BPS.length - 1][1];
    }

    /** Whether a packet of this layer arrived within {@code windowNanos}. */
    boolean activeWithin(long nowNanos, long windowNanos) {
        long last = lastPacketNanos;
        return last != 0 && nowNanos - last < windowNanos;
    }
}
