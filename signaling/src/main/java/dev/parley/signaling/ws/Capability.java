package dev.parley.signaling.ws;

/** One capability of the WebSocket (session, presence, chat, call): registers its message types and listeners. */
public interface Capability {

    void register(MessageDispatcher dispatcher);
}
