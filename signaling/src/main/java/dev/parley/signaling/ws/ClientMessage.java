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

    /** Post a message to a meeting's chat; a retry with the same clientMsgId is stored once. */
    record ChatSend(String meetingId, String clientMsgId, String text) implements ClientMessage {
    }

    /** Tell the other members this user is typing. */
    record ChatTyping(String meetingId) implements ClientMessage {
    }

    /** Everything up to this message has been read (drives unread counts). */
    record ChatRead(String meetingId, String messageId) implements ClientMessage {
    }
}
