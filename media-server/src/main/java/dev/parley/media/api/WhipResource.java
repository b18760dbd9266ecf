package dev.parley.media.api;

/** A WHIP or WHEP session: the resource id (its endpoint id) and the SDP answer. */
public record WhipResource(String conferenceId, String resourceId, String answer) {
}
