package dev.parley.signaling.ws;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.chat.ChatMessage;

/** Every message the gateway sends over the WebSocket; the {@code type} field names the record. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(ServerMessage.Welcome.class),
        @JsonSubTypes.Type(ServerMessage.Error.class),
        @JsonSubTypes.Type(ServerMessage.Presence.class),
        @JsonSubTypes.Type(ServerMessage.ChatAck.class),
        @JsonSubTypes.Type(ServerMessage.ChatMessageEvent.class),
        @JsonSubTypes.Type(ServerMessage.ChatTyping.class),
        @JsonSubTypes.Type(ServerMessage.MeetingUpdated.class),
        @JsonSubTypes.Type(ServerMessage.MeetingRemoved.class)
})
public sealed interface ServerMessage {

    @JsonTypeName("welcome")
    record Welcome(String sessionId, Account user) implements ServerMessage {
    }

    /** A failure; {@code ref} names the request it answers (a chat.send's clientMsgId), when there is one. */
    @JsonTypeName("error")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Error(String code, String message, String ref) implements ServerMessage {
        public Error(String code, String message) {
            this(code, message, null);
        }
    }

    @JsonTypeName("presence")
    record Presence(String userId, String status) implements ServerMessage {
    }

    /** The sender's message is stored (or was already, for a retry with the same clientMsgId). */
    @JsonTypeName("chat.ack")
    record ChatAck(String meetingId, String clientMsgId, String messageId, long sentAt) implements ServerMessage {
    }

    /** A new message in a meeting the recipient belongs to. */
    @JsonTypeName("chat.message")
    record ChatMessageEvent(String meetingId, ChatMessage message) implements ServerMessage {
    }

    /** Someone is typing in a meeting (sent to the other members only; not stored). */
    @JsonTypeName("chat.typing")
    record ChatTyping(String meetingId, String userId, String displayName) implements ServerMessage {
    }

    /** A meeting's details or members changed: fetch it again. */
    @JsonTypeName("meeting.updated")
    record MeetingUpdated(String meetingId) implements ServerMessage {
    }

    /** The recipient is no longer a member of this meeting. */
    @JsonTypeName("meeting.removed")
    record MeetingRemoved(String meetingId) implements ServerMessage {
    }
}
