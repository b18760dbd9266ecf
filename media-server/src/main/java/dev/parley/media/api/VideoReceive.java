package dev.parley.media.api;

/**
 * What a receiver shows of one remote video track: whether its tile is visible, and the tile's size in device
 * pixels (0 when unknown). The server forwards the smallest layer that covers the size, and no video for a tile
 * that is not visible.
 *
 * @param trackId the server's track id ({@link TrackInfo#trackId()})
 */
public record VideoReceive(String trackId, boolean visible, int width, int height) {
    /** The largest width or height a receiver may state. */
    public static final int MAX_DIMENSION = 16_384;
    /** The most tracks one call may describe. */
    public static final int MAX_TRACKS = 100;
}
