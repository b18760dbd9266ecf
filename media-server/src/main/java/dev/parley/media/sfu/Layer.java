package dev.parley.media.sfu;

import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.sdp.MediaKind;
import java.util.concurrent.atomic.AtomicLongArray;

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
    /** What the publisher is asked to send again; null for audio and for video whose publisher takes no NACKs. */
    final RetransmissionRequests requests;
    volatile long ssrc;
    volatile long rtxSsrc;
    volatile long lastPacketNanos;
    /**
     * When the current unbroken run of this layer's packets began (a silence over {@link #RUN_GAP_NANOS} starts a new
     * one): written by the publisher's receive thread only after such a silence, read by layer selection.
     */
    private volatile long runStartNanos;
    /** A silence longer than this ends a run of packets (at 15 fps with three temporal layers, frames come every 67 ms). */
    static final long RUN_GAP_NANOS = 250_000_000L;
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
    /**
     * VP8 bytes received per temporal layer (TID 0..2), counted by the publisher's receive thread (the only writer,
     * so an ordered store is enough: no fence per packet); the timer's last reading of them; and the share of the
     * layer's bitrate the temporal layers up to 0 and up to 1 take, as measured (NaN: the stream carries no temporal
     * layers, or not measured yet).
     */
    private final AtomicLongArray temporalBytes = new AtomicLongArray(3);
    private final long[] measuredTemporalBytes = new long[3];
    private volatile double shareUpToT0 = Double.NaN;
    private volatile double shareUpToT1 = Double.NaN;

    /** Typical bitrates, bit/s, for a layer not measured yet: audio, and video by its number of pixels. */
    static final long TYPICAL_AUDIO_BPS = 40_000;
    private static final long[][] TYPICAL_VIDEO_BPS = {
        {320 * 180, 150_000}, {640 * 360, 500_000}, {960 * 540, 1_000_000}, {Long.MAX_VALUE, 1_700_000}};

    /** {@code nack}: whether the publisher takes NACKs for this video; {@code counters} count them (null without). */
    Layer(Track track, int index, String rid, MediaKind kind, int clockRate, long ssrc, long rtxSsrc, boolean nack,
          MediaCounters counters) {
        this.track = track;
        this.index = index;
        this.rid = rid;
        this.ssrc = ssrc;
        this.rtxSsrc = rtxSsrc;
        this.statistics = new ReceiveStatistics(clockRate);
        this.cache = kind == MediaKind.VIDEO ? new RetransmissionCache() : null;
        this.requests = kind == MediaKind.VIDEO && nack ? new RetransmissionRequests(counters) : null;
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
        measureTemporal();
    }

    /** Counts a VP8 packet of temporal layer {@code tid} (the publisher's receive thread). */
    void countTemporal(int tid, int bytes) {
        if (tid >= 0 && tid < 3) {
            temporalBytes.lazySet(tid, temporalBytes.get(tid) + bytes);
        }
    }

    private void measureTemporal() {
        long t0 = temporalBytes.get(0);
        long t1 = temporalBytes.get(1);
        long t2 = temporalBytes.get(2);
        long d0 = t0 - measuredTemporalBytes[0];
        long d1 = t1 - measuredTemporalBytes[1];
        long d2 = t2 - measuredTemporalBytes[2];
        measuredTemporalBytes[0] = t0;
        measuredTemporalBytes[1] = t1;
        measuredTemporalBytes[2] = t2;
        long total = d0 + d1 + d2;
        if (total <= 0 || d1 + d2 == 0) {
            // Nothing sent, or no temporal layers above the base: keep what was known.
            return;
        }
        double upTo0 = (double) d0 / total;
        double upTo1 = (double) (d0 + d1) / total;
        double previous0 = shareUpToT0;
        double previous1 = shareUpToT1;
        shareUpToT0 = Double.isNaN(previous0) ? upTo0 : (previous0 + upTo0) / 2;
        shareUpToT1 = Double.isNaN(previous1) ? upTo1 : (previous1 + upTo1) / 2;
    }

    /**
     * What this layer needs with its temporal layers up to {@code temporal} only (0..2), bit/s; 0 when it has no
     * temporal layers below the top one (or they were not measured yet).
     */
    long bitrateBps(int temporal) {
        if (temporal >= LayerRewriter.MAX_TEMPORAL) {
            return bitrateBps();
        }
        double share = temporal == 0 ? shareUpToT0 : shareUpToT1;
        return Double.isNaN(share) ? 0 : Math.max(1, Math.round(bitrateBps() * share));
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

    /** A packet of this layer arrived (the publisher's receive thread). */
    void arrived(long nowNanos) {
        if (nowNanos - lastPacketNanos > RUN_GAP_NANOS) {
            runStartNanos = nowNanos;
        }
        lastPacketNanos = nowNanos;
    }

    /** Whether packets of this layer have been arriving without a silence over {@link #RUN_GAP_NANOS} for {@code
     * forNanos} up to now. */
    boolean steadyFor(long nowNanos, long forNanos) {
        return activeWithin(nowNanos, RUN_GAP_NANOS) && nowNanos - runStartNanos >= forNanos;
    }

    /** Whether a packet of this layer arrived within {@code windowNanos}. */
    boolean activeWithin(long nowNanos, long windowNanos) {
        long last = lastPacketNanos;
        return last != 0 && nowNanos - last < windowNanos;
    }
}
