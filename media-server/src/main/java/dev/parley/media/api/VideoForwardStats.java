package dev.parley.media.api;

/**
 * One remote video as one receiver gets it: the layer the server aims for and the one it sends (0 is the lowest;
 * -1 none), its simulcast rid (null without simulcast), whether it is paused (the receiver does not show it), and
 * how often its layer changed.
 */
public record VideoForwardStats(String trackId, String publisherEndpointId, int targetLayer, int currentLayer,
                                String currentRid, int temporalLayer, boolean paused, long switches,
                                long packetsSent) {
}
