package dev.parley.signaling.protocol;

import java.util.List;

/** Every message a client may send over the WebSocket (docs/protocol.md). */
public sealed interface ClientMessage {

    /** The first frame: who this is, and optionally the session it resumes after a dropped connection. */
    record Hello(String token, String resume) implements ClientMessage {
    }

    /** A fresh token for this live session (before its current one expires); the socket then lives as long as it. */
    record SessionRenew(String token) implements ClientMessage {
    }

    /** Watch these users' presence: their current status now, then every change. */
    record PresenceSubscribe(List<String> userIds) implements ClientMessage {
    }

    /** Stop watching these users. */
    record PresenceUnsubscribe(List<String> userIds) implements ClientMessage {
    }

    /** The user's own choice of status, kept across sessions: "available" or "dnd" (Do not disturb). */
    record PresenceSet(String status) implements ClientMessage {
    }

    /** What the user chose for themselves (answered with presence.choice). */
    record PresenceMine() implements ClientMessage {
    }

    /** The user's session became idle (no activity for a while, or the app hidden) or active again. */
    record PresenceIdle(boolean idle) implements ClientMessage {
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

    /** Join (or, after a reconnect, take back one's place in) the meeting's call. */
    record CallJoin(String meetingId) implements ClientMessage {
    }

    record CallLeave(String meetingId) implements ClientMessage {
    }

    /** Fresh TURN credentials for a participant of the meeting's call (before opening a peer connection late). */
    record CallTurn(String meetingId) implements ClientMessage {
    }

    /** The publish connection's offer (again whenever the published tracks change). */
    record CallPublish(String meetingId, String sdp) implements ClientMessage {
    }

    /** The answer to a call.subscribe.offer of this version. */
    record CallSubscribeAnswer(String meetingId, String sdp, long version) implements ClientMessage {
    }

    /** A trickled ICE candidate; accepted, though the media server learns clients' addresses from their checks. */
    record CallIce(String meetingId, String candidate) implements ClientMessage {
    }

    /** Microphone, camera and screen-share state, shown to the others. */
    record CallMedia(String meetingId, boolean audioMuted, boolean videoMuted, boolean screenSharing)
            implements ClientMessage {
    }

    /**
     * What this participant's tiles show of each remote video: whether it is visible and its size in device pixels
     * (the full current list each time); the media server picks each track's layer from it.
     */
    record CallReceive(String meetingId, List<Video> videos) implements ClientMessage {
        public CallReceive {
            videos = List.copyOf(videos);
        }

        /**
         * One remote video: the server's track id (from call.state), and its tile; a pinned tile gets video even
         * when its publisher is not among the last-N speakers.
         */
        public record Video(String trackId, boolean visible, int width, int height, boolean pinned) {
        }
    }

    /**
     * Ring this person for a call, in {@code media} "video" or "audio" (how the caller starts): the call of their
     * direct chat, or, with {@code meetingId}, of that meeting (both must be members: a direct call grown to a group).
     */
    record RingStart(String userId, String media, String meetingId) implements ClientMessage {
    }

    /** The person rung takes the call (then joins the direct chat's call). */
    record RingAccept(String ringId) implements ClientMessage {
    }

    /** The person rung turns the call down. */
    record RingDecline(String ringId) implements ClientMessage {
    }

    /** The caller stops ringing. */
    record RingCancel(String ringId) implements ClientMessage {
    }
}
