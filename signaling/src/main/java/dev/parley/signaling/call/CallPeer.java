package dev.parley.signaling.call;

import dev.parley.signaling.ws.ServerMessage;

/** A participant's connection, as calls see it: who it is and how to reach it. Sending is thread-safe. */
public interface CallPeer {

    String userId();

    /** The session this connection belongs to; a peer is the same peer exactly when both ids match. */
    String sessionId();

    void push(ServerMessage message);
}
