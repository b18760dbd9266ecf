package dev.parley.media.sfu;

import java.util.Comparator;
import java.util.List;

/**
 * Shares one receiver's downlink estimate among the videos it gets. In priority order (screen shares, the dominant
 * speaker, pinned tiles, then larger tiles, then the more recent speakers) every video first gets its lowest layer,
 * until one does not fit: that one gets its lowest layer at a lower frame rate (fewer VP8 temporal layers) if that
 * fits, and it (otherwise) and every video after it pause. Then, again in priority order, each video at its full
 * frame rate takes the best layer that fits in what is left, never above the layer its tile asks for.
 *
 * <p>Stable by construction: keeping a layer needs only its bitrate to fit, while moving up to a layer needs
 * {@link #UPGRADE_HEADROOM} times its bitrate (so an estimate wavering by a few percent does not flap), and a video
 * moved down or paused for bandwidth is not moved up again for {@link #UPGRADE_HOLD_NANOS}, unless a probe shows
 * the link carries more first ({@link #liftHolds}).
 *
 * <p>Pure: the caller fills each {@link Video}'s inputs, under the conference lock, and reads its outputs.
 */
final class BandwidthAllocator {
    /** Moving a video up (or resuming it) needs this much more than the new layer's bitrate. */
    static final double UPGRADE_HEADROOM = 1.25;
    /** After a video is moved down or paused for bandwidth, it is not moved up for this long. */
    static final long UPGRADE_HOLD_NANOS = 4_000_000_000L;

    /** Why a video gets the layer it gets. */
    enum Reason {
        /** What its tile asks for (or the best the publisher sends of it). */
        TILE("tile"),
        /** Nothing: its tile is hidden. */
        HIDDEN("hidden"),
        /** Nothing: last-N withholds it. */
        LAST_N("last-n"),
        /** A lower layer than its tile asks for: the receiver's downlink estimate does not carry more. */
        BANDWIDTH("bandwidth"),
        /** Nothing: the estimate does not carry even its lowest layer after the more important videos. */
        PAUSED_BANDWIDTH("paused-bandwidth");

        final String label;

        Reason(String label) {
            this.label = label;
        }
    }

    /** One video a receiver gets: what the caller says about it, and the layer the allocation gives it. */
    static final class Video {
        /** The best layer for the tile among those the publisher sends (-1: none, {@link #reason} says why). */
        int target = -1;
        /** Each layer's bitrate, bit/s; 0 for a layer the publisher does not send now. */
        long[] layerBps = new long[0];
        /**
         * Each layer's bitrate with its temporal layers up to 0 and up to 1 only ({@code [layer][t]}), bit/s; 0 where
         * the layer has no such temporal layer.
         */
        long[][] reducedBps = new long[0][2];
        boolean screen;
        boolean dominant;
        boolean pinned;
        /** The tile's area in device pixels; {@link Long#MAX_VALUE} when the receiver did not say. */
        long tileArea = Long.MAX_VALUE;
        /** Its publisher's place among the recent dominant speakers, 0 the most recent; large when never. */
        int recency = Integer.MAX_VALUE;
        /** Set by the caller when {@code target} is -1: {@link Reason#HIDDEN} or {@link Reason#LAST_N}. */
        Reason reason = Reason.TILE;

        /** The allocated layer (-1: none), kept from one allocation to the next. */
        int layer = -1;
        /** The highest temporal layer allocated of it ({@link LayerRewriter#MAX_TEMPORAL}: the full frame rate). */
        int temporal = LayerRewriter.MAX_TEMPORAL;
        /** No move up before this ({@link System#nanoTime()}); 0 when free. */
        long holdUntilNanos;

        /** Whether this video was paused for bandwidth by the last allocation. */
        boolean pausedForBandwidth() {
            return reason == Reason.PAUSED_BANDWIDTH;
        }

        private int lowestSent() {
            for (int i = 0; i <= target && i < layerBps.length; i++) {
                if (layerBps[i] > 0) {
                    return i;
                }
            }
            return target;
        }

        private long cost(int index) {
            return index >= 0 && index < layerBps.length ? layerBps[index] : 0;
        }

        private long cost(int index, int temporal) {
            if (temporal >= LayerRewriter.MAX_TEMPORAL) {
                return cost(index);
            }
            return index >= 0 && index < reducedBps.length ? reducedBps[index][temporal] : 0;
        }
    }

    /** Screen shares, then the dominant speaker, pinned tiles, larger tiles, more recent speakers. */
    static final Comparator<Video> PRIORITY = Comparator.<Video, Boolean>comparing(v -> !v.screen)
            .thenComparing(v -> !v.dominant)
            .thenComparing(v -> !v.pinned)
            .thenComparing(v -> -v.tileArea)
            .thenComparingInt(v -> v.recency);

    private BandwidthAllocator() {
    }

    /**
     * Allocates {@code budgetBps} to {@code videos} (sorted by {@link #PRIORITY} here; the order among equals is
     * kept): sets each one's {@link Video#layer} and {@link Video#reason}.
     *
     * @return the bitrate allocated, bit/s
     */
    static long allocate(List<Video> videos, long budgetBps, long nowNanos) {
        videos.sort(PRIORITY);
        long remaining = budgetBps;
        boolean out = false;
        int[] next = new int[videos.size()];
        int[] nextTemporal = new int[videos.size()];
        for (int i = 0; i < videos.size(); i++) {
            Video video = videos.get(i);
            next[i] = -1;
            nextTemporal[i] = LayerRewriter.MAX_TEMPORAL;
            if (video.target < 0 || out) {
                continue;
            }
            int lowest = video.lowestSent();
            int temporal = fittingTemporal(video, lowest, remaining, nowNanos);
            if (temporal < 0) {
                out = true;
                continue;
            }
            if (temporal < LayerRewriter.MAX_TEMPORAL) {
                // The last video with anything: the ones after it pause.
                out = true;
            }
            next[i] = lowest;
            nextTemporal[i] = temporal;
            remaining -= video.cost(lowest, temporal);
        }
        for (int i = 0; i < videos.size(); i++) {
            Video video = videos.get(i);
            if (next[i] < 0 || nextTemporal[i] < LayerRewriter.MAX_TEMPORAL) {
                continue;
            }
            for (int layer = video.target; layer > next[i]; layer--) {
                long cost = video.cost(layer);
                if (cost <= 0) {
                    continue;
                }
                boolean up = layer > video.layer;
                if (up && nowNanos < video.holdUntilNanos) {
                    continue;
                }
                long need = (up ? (long) (cost * UPGRADE_HEADROOM) : cost) - video.cost(next[i]);
                if (need <= remaining) {
                    remaining -= cost - video.cost(next[i]);
                    next[i] = layer;
                    break;
                }
            }
        }
        for (int i = 0; i < videos.size(); i++) {
            Video video = videos.get(i);
            if (video.target < 0) {
                video.layer = -1;
                video.temporal = LayerRewriter.MAX_TEMPORAL;
                continue;
            }
            Reason reason = next[i] < 0 ? Reason.PAUSED_BANDWIDTH
                    : next[i] < video.target || nextTemporal[i] < LayerRewriter.MAX_TEMPORAL ? Reason.BANDWIDTH
                    : Reason.TILE;
            boolean down = next[i] < video.layer || next[i] < 0 && video.reason != Reason.PAUSED_BANDWIDTH
                    || next[i] >= 0 && next[i] == video.layer && nextTemporal[i] < video.temporal;
            if (down && reason != Reason.TILE) {
                video.holdUntilNanos = nowNanos + UPGRADE_HOLD_NANOS;
            }
            video.layer = next[i];
            video.temporal = nextTemporal[i];
            video.reason = reason;
        }
        return budgetBps - remaining;
    }

    /**
     * The highest temporal layer of {@code video}'s lowest layer that fits in {@code remaining} ({@link
     * LayerRewriter#MAX_TEMPORAL}: all of it), or -1 when none does: keeping what it has needs only its bitrate to
     * fit, more (resuming, or a higher frame rate) needs the headroom and no hold.
     */
    private static int fittingTemporal(Video video, int lowest, long remaining, long nowNanos) {
        boolean held = nowNanos < video.holdUntilNanos;
        for (int temporal = LayerRewriter.MAX_TEMPORAL; temporal >= 0; temporal--) {
            long cost = video.cost(lowest, temporal);
            if (cost <= 0) {
                continue;
            }
            boolean up = video.pausedForBandwidth() || video.layer == lowest && temporal > video.temporal;
            long need = up ? (long) (cost * UPGRADE_HEADROOM) : cost;
            if (need <= remaining && !(up && held)) {
                return temporal;
            }
        }
        return -1;
    }

    /**
     * A probe cluster just showed the link carries more than the estimate said: the holds after moves down were
     * there against an estimate that wavers, and the link has now been measured, so the videos may move up at once.
     */
    static void liftHolds(List<Video> videos) {
        for (Video video : videos) {
            video.holdUntilNanos = 0;
        }
    }

    /** Gives every video its target, without a budget (no estimate of the receiver's downlink). */
    static void unlimited(List<Video> videos) {
        for (Video video : videos) {
            video.layer = video.target;
            video.temporal = LayerRewriter.MAX_TEMPORAL;
            if (video.target >= 0) {
                video.reason = Reason.TILE;
            }
            video.holdUntilNanos = 0;
        }
    }
}
