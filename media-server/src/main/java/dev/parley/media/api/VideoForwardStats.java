package dev.parley.media.api;

/**
 * One remote video as one receiver gets it: the layer the server aims for and the one it sends (0 is the lowest;
 * -1 none), its simulcast rid (null without simulcast), whether it is paused, how often its layer changed, and why
 * it gets that layer.
 *
 * @param reason    {@code tile} (what the receiver's tile asks for, or the best the publisher sends), {@code hidden}
 *                  (the tile is not shown), {@code last-n} (withheld by last-N), {@code bandwidth} (a lower layer:
 *                  the receiver's downlink estimate does not carry more) or {@code paused-bandwidth} (paused: it does
 *                  not carry even the lowest layer after the more important videos)
 * @param neededBps what the layer it gets needs, bit/s, as measured from the publisher (0 when paused)
 */
public record VideoForwardStats(String trackId, String publisherEndpointId, int targetLayer, int currentLayer,
                                String currentRid, int temporalLayer, boolean paused, long switches,
                                long packetsSent, String reason, long neededBps) {
}
