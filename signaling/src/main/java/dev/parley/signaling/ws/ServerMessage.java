package dev.parley.signaling.ws;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import dev.parley.signaling.auth.Account;

/** Every message the gateway sends over the WebSocket; the {@code type} field names the record. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(ServerMessage.Welcome.class),
        @JsonSubTypes.Type(ServerMessage.Error.class),
        @JsonSubTypes.Type(ServerMessage.Presence.class)
})
public sealed interface ServerMessage {

    @JsonTypeName("welcome")
    record Welcome(String sessionId, Account user) implements ServerMessage {
    }

    @JsonTypeName("error")
    record Error(String code, String message) implements ServerMessage {
    }

    @JsonTypeName("presence")
    record Presence(String userId, String status) implements ServerMessage {
    }
}
