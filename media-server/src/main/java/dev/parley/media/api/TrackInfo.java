package dev.parley.media.api;

/** A published track: who publishes it, audio or video, its codec, SSRC and the browser's stream/track ids. */
public record TrackInfo(String trackId, String publisherEndpointId, String kind, String codec, long ssrc,
                        String streamId, String mediaStreamTrackId) {
}
