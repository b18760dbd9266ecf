package dev.parley.signaling.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.parley.media.api.TrackEvent;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.protocol.CallView;
import dev.parley.signaling.protocol.ChatMessage;

import java.util.List;
import java.util.Map;

/** Every message the gateway sends over the WebSocket; the {@code type} field names the record. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(ServerMessage.Welcome.class),
        @JsonSubTypes.Type(ServerMessage.Error.class),
        @JsonSubTypes.Type(ServerMessage.Ok.class),
        @JsonSubTypes.Type(ServerMessage.Presence.class),
        @JsonSubTypes.Type(ServerMessage.ChatAck.class),
        @JsonSubTypes.Type(ServerMessage.ChatMessageEvent.class),
        @JsonSubTypes.Type(ServerMessage.ChatTyping.class),
        @JsonSubTypes.Type(ServerMessage.MeetingUpdated.class),
        @JsonSubTypes.Type(ServerMessage.MeetingRemoved.class),
        @JsonSubTypes.Type(ServerMessage.CallJoined.class),
        @JsonSubTypes.Type(ServerMessage.CallTurn.class),
        @JsonSubTypes.Type(ServerMessage.CallState.class),
        @JsonSubTypes.Type(ServerMessage.CallPublishAnswer.class),
        @JsonSubTypes.Type(ServerMessage.CallSubscribeOffer.class),
        @JsonSubTypes.Type(ServerMessage.CallLayers.class),
        @JsonSubTypes.Type(ServerMessage.CallLeft.class),
        @JsonSubTypes.Type(ServerMessage.CallSpeakers.class),
        @JsonSubTypes.Type(ServerMessage.CallWithheld.class),
        @JsonSubTypes.Type(ServerMessage.RingState.class),
        @JsonSubTypes.Type(ServerMessage.PresenceChoice.class),
        @JsonSubTypes.Type(ServerMessage.CallMoved.class)
})
public sealed interface ServerMessage {

    @JsonTypeName("welcome")
    record Welcome(String sessionId, Account user) implements ServerMessage {
    }

    /**
     * Adds the id of the request a message answers, as {@code re}, to its encoded form. Request ids are checked to
     * need no JSON escaping ({@link ClientMessageParser}), and every encoded message is an object.
     */
    public static String answering(String requestId, String encoded) {
        if (requestId == null) {
            return encoded;
        }
        return "{\"re\":\"" + requestId + "\"," + encoded.substring(1);
    }

    /** A failure: a request refused (its answer carries the request's id) or a connection-wide problem. */
    @JsonTypeName("error")
    record Error(String code, String message) implements ServerMessage {
    }

    /** The answer to a request that has no other answer (chat.typing, call.media and the like). */
    @JsonTypeName("ok")
    record Ok() implements ServerMessage {
    }

    /** A user's status: online (available), in-call (busy), dnd (Do not disturb), away, or offline. */
    @JsonTypeName("presence")
    record Presence(String userId, String status) implements ServerMessage {
    }

    /**
     * The user's own choice of status, "available" or "dnd": the answer to presence.mine and presence.set (their
     * status as others see it comes as presence, like anyone's).
     */
    @JsonTypeName("presence.choice")
    record PresenceChoice(String status) implements ServerMessage {
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

    /** The sender is in the call as this media endpoint; {@code resumed} when it took a kept place back. */
    @JsonTypeName("call.joined")
    record CallJoined(String meetingId, String endpointId, boolean resumed, List<Map<String, Object>> iceServers)
            implements ServerMessage {
    }

    /** The answer to call.turn: fresh ICE servers, the same shape as call.joined's. */
    @JsonTypeName("call.turn")
    record CallTurn(String meetingId, List<Map<String, Object>> iceServers) implements ServerMessage {
    }

    /** Who is in a meeting's call now (sent to every member on every change; {@code active} false when it ended). */
    @JsonTypeName("call.state")
    record CallState(@JsonUnwrapped CallView call) implements ServerMessage {
    }

    /** The media server's answer to the sender's publish offer. */
    @JsonTypeName("call.publish.answer")
    record CallPublishAnswer(String meetingId, String sdp) implements ServerMessage {
    }

    /** The media server's offer for the sender's subscribe connection; answer with the same version. */
    @JsonTypeName("call.subscribe.offer")
    record CallSubscribeOffer(String meetingId, String sdp, long version) implements ServerMessage {
    }

    /**
     * Which simulcast layers (by rid) of the sender's published track (its section {@code mid} in the sender's publish
     * offer) someone currently receives; the sender may stop encoding the others until a later message lists them.
     */
    @JsonTypeName("call.layers")
    record CallLayers(String meetingId, String mid, List<String> rids) implements ServerMessage {
        public CallLayers {
            rids = List.copyOf(rids);
        }
    }

    /** The sender is no longer in the call, and why. */
    @JsonTypeName("call.left")
    record CallLeft(String meetingId, String reason) implements ServerMessage {
    }

    /**
     * Who speaks in the call now (user ids, most active first) and who is the dominant speaker (null until someone
     * has spoken), as the media server hears them; sent to the call's participants when either changes.
     */
    @JsonTypeName("call.speakers")
    record CallSpeakers(String meetingId, String dominantUserId, List<String> speakingUserIds)
            implements ServerMessage {
    }

    /**
     * The remote video tracks (track ids from call.state) the sender does not receive, and whether its own downlink
     * limits what it gets. {@code trackIds}: withheld because more people send video than the media server's last-N
     * (neither among the last-N most recent speakers nor pinned). {@code lowBandwidth}: paused because the sender's
     * downlink, as the media server estimates it, does not carry even their lowest layer after the more important
     * videos (none of {@code trackIds}). The tiles of both show the person without video. {@code linkLimited}: some
     * video comes in a lower layer than its tile asks for, or is paused, because the downlink carries no more. The
     * full state each time any of it changes; empty lists and false once every video comes as asked again.
     */
    @JsonTypeName("call.withheld")
    record CallWithheld(String meetingId, List<String> trackIds, List<String> lowBandwidth, boolean linkLimited)
            implements ServerMessage {
        public CallWithheld {
            trackIds = List.copyOf(trackIds);
            lowBandwidth = List.copyOf(lowBandwidth);
        }

        /** What the media server said about one receiver, as that receiver's client is told it. */
        public static CallWithheld of(String meetingId, TrackEvent.VideosWithheld event) {
            return new CallWithheld(meetingId, event.trackIds(), event.lowBandwidthTrackIds(), event.linkLimited());
        }
    }

    /**
     * A direct call ringing, and what became of it: sent to the callee when it starts ringing (their incoming-call
     * card), to the caller as the answer to ring.start, and to both on every change. {@code state}: ringing, accepted,
     * declined, cancelled, missed (nobody answered in time), busy (the callee is in a call or being rung),
     * unavailable (offline, or Do not disturb). {@code media}: how the caller starts, "video" or "audio".
     * {@code timeoutMs}: while ringing, how long it still rings; 0 otherwise. Once accepted, both join the call of
     * {@code meetingId}, their direct chat.
     */
    @JsonTypeName("ring.state")
    record RingState(String ringId, String meetingId, String callerId, String callerName, String calleeId,
                     String calleeName, String media, String state, long timeoutMs) implements ServerMessage {
    }

    /**
     * The call of {@code meetingId} moved. Reason {@link #GROWN}: to a group meeting ({@code to}) that {@code byName}
     * made by adding a third person to a direct chat; whoever is in the call leaves it and joins the call of
     * {@code to}. Reason {@link #MEDIA_SERVER_LOST}: {@code to} is the same meeting, whose call goes on on another
     * media server because its own was lost; whoever was in it joins it again (nobody made that happen: no by).
     */
    @JsonTypeName("call.moved")
    record CallMoved(String meetingId, String to, String byUserId, String byName, String reason)
            implements ServerMessage {
        public static final String GROWN = "grown";
        public static final String MEDIA_SERVER_LOST = "media-server-lost";

        /** The call of a meeting whose media server was lost, going on on another. */
        public static CallMoved mediaServerLost(String meetingId) {
            return new CallMoved(meetingId, meetingId, null, null, MEDIA_SERVER_LOST);
        }
    }
}
