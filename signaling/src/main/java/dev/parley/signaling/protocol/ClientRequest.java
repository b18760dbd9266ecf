package dev.parley.signaling.protocol;

/**
 * One message from a client with the id it chose for it ({@code null} when it sent none). The answer to it, success
 * or error, carries the same id as {@code re}; a request without an id gets its answer without one.
 */
public record ClientRequest(String id, ClientMessage message) {
}
