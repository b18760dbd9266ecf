package dev.parley.signaling.call;

import dev.parley.signaling.ws.ServerMessage;

/** A participant's connection, as calls see it: who it is and how to reach it. Sending is thread-safe. */
public interface CallPeer {

    String userId();

    void push(ServerMessage message);
}
