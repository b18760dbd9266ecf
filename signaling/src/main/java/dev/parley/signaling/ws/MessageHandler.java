package dev.parley.signaling.ws;

import dev.parley.signaling.protocol.ClientMessage;

/** Handles one type of client message; runs on the connection's event loop. {@code re} is the request's id. */
@FunctionalInterface
public interface MessageHandler<M extends ClientMessage> {

    void handle(Connection connection, M message, String re);
}
