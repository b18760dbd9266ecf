package dev.parley.signaling.ws;

import java.util.List;

/** Every message a client may send over the WebSocket (docs/protocol.md). */
public sealed interface ClientMessage {

    /** The first frame: who this is, and optionally the session it resumes after a dropped connection. */
    record Hello(String token, String resume) implements ClientMessage {
    }

    /** Watch these users' presence: their current status now, then every change. */
    record PresenceSubscribe(List<String> userIds) implements ClientMessage {
    }

    /** Stop watching these users. */
    record PresenceUnsubscribe(List<String> userIds) implements ClientMessage {
    }
}
