package dev.parley.signaling.call;

import dev.parley.signaling.protocol.ServerMessage;

/** A participant's connection, as calls see it: who it is and how to reach it. Sending is thread-safe. */
public interface CallPeer {

    String userId();

    /** The session this connection belongs to; a peer is the same peer exactly when both ids match. */
    String sessionId();

    /** Sends a message that answers no request: an event. */
    void push(ServerMessage message);

    /**
     * Sends the answer to the request with this id ({@code null} when the request carried none, in which case a
     * bare {@code ok} is not sent at all).
     */
    void answer(String requestId, ServerMessage message);
}
