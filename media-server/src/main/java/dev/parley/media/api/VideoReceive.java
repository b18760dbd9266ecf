package dev.parley.media.api;

/**
 * What a receiver shows of one remote video track: whether its tile is visible, and the tile's size in device
 * pixels (0 when unknown). The server forwards the smallest layer that covers the size, and no video for a tile
 * that is not visible.
 *
 * @param trackId the server's track id ({@link TrackInfo#trackId()})
 * @param pinned  the receiver pinned the tile: with more video publishers than last-N, its publisher's video comes
 *                in addition to the last-N most recent speakers'
 */
public record VideoReceive(String trackId, boolean visible, int width, int height, boolean pinned) {
    /** A tile that is not pinned. */
    public VideoReceive(String trackId, boolean visible, int width, int height) {
        this(trackId, visible, width, height, false);
    }

    /** The largest width or height a receiver may state. */
    public static final int MAX_DIMENSION = 16_384;
    /** The most tracks one call may describe. */
    public static final int MAX_TRACKS = 100;
}
