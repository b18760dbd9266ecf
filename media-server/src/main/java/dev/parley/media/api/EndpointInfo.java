package dev.parley.media.api;

/** An endpoint of a conference. */
public record EndpointInfo(String conferenceId, String endpointId) {
}
