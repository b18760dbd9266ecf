package dev.parley.signaling.routing;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.protocol.ClientMessage;

import java.util.List;

/**
 * A call operation a gateway forwards to the gateway hosting the call, on Redis channel {@code parley:node:{host}}.
 * On the wire each is a flat JSON object named by {@code op} (join, publish, answer, media, receive, leave,
 * closed, evict, end), the shape
 * the single forwarded record had before, so gateways of both versions understand each other during an upgrade.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "op")
@JsonSubTypes({
        @JsonSubTypes.Type(CrossGatewayCall.Join.class),
        @JsonSubTypes.Type(CrossGatewayCall.Publish.class),
        @JsonSubTypes.Type(CrossGatewayCall.SubscribeAnswer.class),
        @JsonSubTypes.Type(CrossGatewayCall.Media.class),
        @JsonSubTypes.Type(CrossGatewayCall.Receive.class),
        @JsonSubTypes.Type(CrossGatewayCall.Leave.class),
        @JsonSubTypes.Type(CrossGatewayCall.PeerClosed.class),
        @JsonSubTypes.Type(CrossGatewayCall.Evict.class),
        @JsonSubTypes.Type(CrossGatewayCall.End.class)
})
// An older gateway sends every field with every op; the ones an op does not use are ignored.
@JsonIgnoreProperties(ignoreUnknown = true)
public sealed interface CrossGatewayCall {

    /** The participant: its user and the session (on the sending gateway) its answers go to. */
    String userId();

    String sessionId();

    @JsonTypeName("join")
    record Join(String userId, String sessionId, String requestId, Account account, String meetingId)
            implements CrossGatewayCall {
    }

    @JsonTypeName("publish")
    record Publish(String userId, String sessionId, String requestId, String meetingId, String sdp)
            implements CrossGatewayCall {
    }

    @JsonTypeName("answer")
    record SubscribeAnswer(String userId, String sessionId, String requestId, String meetingId, String sdp,
                           long version) implements CrossGatewayCall {
    }

    @JsonTypeName("media")
    record Media(String userId, String sessionId, String requestId, String meetingId, boolean audioMuted,
                 boolean videoMuted, boolean screenSharing) implements CrossGatewayCall {
    }

    /** A call.receive; a gateway of an older version drops the op it does not know (the client gets no answer). */
    @JsonTypeName("receive")
    record Receive(String userId, String sessionId, String requestId, String meetingId,
                   List<ClientMessage.CallReceive.Video> videos) implements CrossGatewayCall {
    }

    @JsonTypeName("leave")
    record Leave(String userId, String sessionId, String requestId, String meetingId) implements CrossGatewayCall {
    }

    /** The participant's socket closed; the host keeps its place for the reconnect grace. */
    @JsonTypeName("closed")
    record PeerClosed(String userId, String sessionId) implements CrossGatewayCall {
    }

    /** The user is no longer a member: the host ends their place in the call (no session: it ends every one). */
    @JsonTypeName("evict")
    record Evict(String userId, String sessionId, String meetingId, String reason) implements CrossGatewayCall {
    }

    /** The meeting was archived: the host ends its call for everyone ({@code userId} names who asked). */
    @JsonTypeName("end")
    record End(String userId, String sessionId, String meetingId, String reason) implements CrossGatewayCall {
    }
}
