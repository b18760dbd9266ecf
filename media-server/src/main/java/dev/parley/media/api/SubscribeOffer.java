package dev.parley.media.api;

/** The server's offer for an endpoint's subscribe transport; {@code version} grows with every new offer. */
public record SubscribeOffer(String sdp, long version) {
}
