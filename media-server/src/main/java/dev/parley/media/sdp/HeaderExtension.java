package dev.parley.media.sdp;

/** An RTP header extension as negotiated with {@code a=extmap} (RFC 8285). */
public record HeaderExtension(int id, String uri) {
}
