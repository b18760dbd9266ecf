package dev.parley.media.sfu;

import dev.parley.media.api.VideoReceive;

/**
 * Which spatial layer of a track a receiver gets: none for a tile it does not show; the smallest layer that covers
 * the tile's size; the top layer when it said nothing or no size. A layer the publisher stopped sending is replaced
 * by the best one still arriving (the next lower, else the next higher).
 *
 * <p>A layer counts as stopped after {@link #ACTIVE_WINDOW_NANOS} without packets; or, sooner, after
 * {@link #STOPPED_BESIDE_LOWER_NANOS} without packets while a lower layer of the track has been arriving steadily all
 * that time: a browser drops its upper layers first when its uplink narrows, and the receivers on them would
 * otherwise see a frozen picture until the longer wait runs out. When a publisher's browser stalls (a busy CPU) every
 * layer goes quiet at once and comes back at once, so no lower layer is steady and nothing switches.
 */
final class LayerChoice {
    /** A layer that sent nothing for this long is taken as stopped (publishers drop layers under congestion). */
    static final long ACTIVE_WINDOW_NANOS = 1_500_000_000L;
    /** A layer silent this long while a lower one keeps arriving is taken as stopped. */
    static final long STOPPED_BESIDE_LOWER_NANOS = 500_000_000L;
    /** A layer covers a tile up to this much larger than itself: slight upscaling is invisible, bandwidth is not. */
    private static final double UPSCALE_TOLERANCE = 1.15;
    /** The size assumed for the top layer before a keyframe tells it. */
    private static final int ASSUMED_TOP_WIDTH = 1280;
    private static final int ASSUMED_TOP_HEIGHT = 720;

    private LayerChoice() {
    }

    /** The spatial layer index for {@code want} (null: nothing said), or -1 for none. */
    static int choose(Layer[] layers, VideoReceive want, long nowNanos) {
        int preferred = preferred(layers, want);
        return preferred < 0 ? -1 : available(layers, preferred, nowNanos);
    }

    /** The layer the receiver's tile asks for, whether the publisher sends it now or not; -1 for none. */
    static int preferred(Layer[] layers, VideoReceive want) {
        if (want != null && !want.visible()) {
            return -1;
        }
        int top = layers.length - 1;
        int preferred = top;
        if (want != null && (want.width() > 0 || want.height() > 0)) {
            for (int i = 0; i < top; i++) {
                if (covers(layers, i, want.width(), want.height())) {
                    preferred = i;
                    break;
                }
            }
        }
        return preferred;
    }

    /** {@code preferred} if the publisher sends it now, else the best layer it does send. */
    static int available(Layer[] layers, int preferred, long nowNanos) {
        boolean anySending = false;
        for (int i = 0; i < layers.length; i++) {
            anySending |= sending(layers, i, nowNanos);
        }
        if (!anySending || sending(layers, preferred, nowNanos)) {
            return preferred;
        }
        for (int i = preferred - 1; i >= 0; i--) {
            if (sending(layers, i, nowNanos)) {
                return i;
            }
        }
        for (int i = preferred + 1; i < layers.length; i++) {
            if (sending(layers, i, nowNanos)) {
                return i;
            }
        }
        return preferred;
    }

    /** Whether the publisher sends layer {@code index} now (see the class comment for when a layer is stopped). */
    static boolean sending(Layer[] layers, int index, long nowNanos) {
        Layer layer = layers[index];
        if (!layer.activeWithin(nowNanos, ACTIVE_WINDOW_NANOS)) {
            return false;
        }
        if (layer.activeWithin(nowNanos, STOPPED_BESIDE_LOWER_NANOS)) {
            return true;
        }
        for (int lower = 0; lower < index; lower++) {
            if (layers[lower].steadyFor(nowNanos, STOPPED_BESIDE_LOWER_NANOS)) {
                return false;
            }
        }
        return true;
    }

    private static boolean covers(Layer[] layers, int index, int width, int height) {
        int[] size = size(layers, index);
        return size[0] * UPSCALE_TOLERANCE >= width && size[1] * UPSCALE_TOLERANCE >= height;
    }

    /**
     * A layer's size: as its last keyframe said, else estimated from the layers above it (each layer is taken as
     * half the size of the next), else from the assumed size of the top layer.
     */
    private static int[] size(Layer[] layers, int index) {
        if (layers[index].width > 0) {
            return new int[] {layers[index].width, layers[index].height};
        }
        for (int above = index + 1; above < layers.length; above++) {
            if (layers[above].width > 0) {
                int shift = above - index;
                return new int[] {layers[above].width >> shift, layers[above].height >> shift};
            }
        }
        int shift = layers.length - 1 - index;
        return new int[] {ASSUMED_TOP_WIDTH >> shift, ASSUMED_TOP_HEIGHT >> shift};
    }
}
