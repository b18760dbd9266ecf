package dev.parley.signaling.routing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.call.CallPeer;
import dev.parley.signaling.call.Calls;
import dev.parley.signaling.meeting.MeetingStore;
import dev.parley.signaling.store.RedisEvents;
import dev.parley.signaling.ws.LiveSessions;
import dev.parley.signaling.protocol.ServerMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends each participant's call signaling to the gateway hosting the meeting's call: straight to this node's
 * {@code call.CallService} when it hosts it, else over Redis to the host, which answers the participant through
 * cross-gateway delivery. So a meeting has one conference however many gateways its members are connected to.
 */
public final class CallRouter implements Calls {

    private static final Logger log = LoggerFactory.getLogger(CallRouter.class);

    /** A call operation forwarded to the hosting node. */
    record Forwarded(String op, String userId, String sessionId, String requestId, Account account,
                     String meetingId, String sdp, long version, boolean audioMuted, boolean videoMuted,
                     boolean screenSharing) {
    }

    private final Calls local;
    private final CallPlacement placement;
    private final MeetingStore meetings;
    private final RedisEvents events;
    private final LiveSessions sessions;
    private final ObjectMapper json;
    /** userId → the remote node hosting the call this node's participant is in. */
    private final Map<String, String> remoteHosts = new ConcurrentHashMap<>();

    public CallRouter(Calls local, CallPlacement placement, MeetingStore meetings, RedisEvents events,
                      LiveSessions sessions, ObjectMapper json) {
        this.local = local;
        this.placement = placement;
        this.meetings = meetings;
        this.events = events;
        this.sessions = sessions;
        this.json = json;
        events.subscribe(channel(placement.nodeId()), this::onForwarded);
    }

    private static String channel(String nodeId) {
        return "parley:node:" + nodeId;
    }

    @Override
    public CompletionStage<Void> join(CallPeer peer, Account account, String meetingId, String requestId) {
        return meetings.findForMember(meetingId, account.userId())
                .thenCompose(meeting -> placement.hostFor(meetingId))
                .thenCompose(host -> {
                    String previous = remoteHosts.remove(account.userId());
                    if (host.equals(placement.nodeId())) {
                        if (previous != null) {
                            forward(previous, op("leave", peer, account, meetingId, null));
                        }
                        return local.join(peer, account, meetingId, requestId);
                    }
                    remoteHosts.put(account.userId(), host);
                    return forward(host, op("join", peer, account, meetingId, requestId));
                });
    }

    @Override
    public CompletionStage<Void> publish(CallPeer peer, String meetingId, String sdp, String requestId) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            return local.publish(peer, meetingId, sdp, requestId);
        }
        return forward(host, new Forwarded("publish", peer.userId(), peer.sessionId(), requestId, null, meetingId,
                sdp, 0, false, false, false));
    }

    @Override
    public CompletionStage<Void> subscribeAnswer(CallPeer peer, String meetingId, String sdp, long version,
                                                 String requestId) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            return local.subscribeAnswer(peer, meetingId, sdp, version, requestId);
        }
        return forward(host, new Forwarded("answer", peer.userId(), peer.sessionId(), requestId, null, meetingId,
                sdp, version, false, false, false));
    }

    @Override
    public CompletionStage<Void> updateMedia(CallPeer peer, String meetingId, boolean audioMuted, boolean videoMuted,
                                             boolean screenSharing, String requestId) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            return local.updateMedia(peer, meetingId, audioMuted, videoMuted, screenSharing, requestId);
        }
        return forward(host, new Forwarded("media", peer.userId(), peer.sessionId(), requestId, null, meetingId,
                null, 0, audioMuted, videoMuted, screenSharing));
    }

    @Override
    public CompletionStage<Void> leave(CallPeer peer, String meetingId, String requestId) {
        String host = remoteHosts.remove(peer.userId());
        if (host == null) {
            return local.leave(peer, meetingId, requestId);
        }
        return forward(host, new Forwarded("leave", peer.userId(), peer.sessionId(), requestId, null, meetingId,
                null, 0, false, false, false));
    }

    /** The participant's socket closed: the host keeps its place for the reconnect grace. */
    @Override
    public void peerClosed(CallPeer peer) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            local.peerClosed(peer);
        } else {
            forward(host, new Forwarded("closed", peer.userId(), peer.sessionId(), null, null, null, null, 0, false,
                    false, false));
        }
    }

    private static Forwarded op(String op, CallPeer peer, Account account, String meetingId, String requestId) {
        return new Forwarded(op, peer.userId(), peer.sessionId(), requestId, account, meetingId, null, 0, false,
                false, false);
    }

    private CompletionStage<Void> forward(String host, Forwarded message) {
        try {
            return events.publish(channel(host), json.writeValueAsString(message)).thenApply(receivers -> {
                if (receivers == 0) {
                    throw new ApiException(ErrorCode.CALL_FAILED, "The gateway hosting this call is gone; join again");
                }
                return null;
            });
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** An operation from a participant connected to another gateway; answers reach them by delivery. */
    private void onForwarded(String text) {
        Forwarded message;
        try {
            message = json.readValue(text, Forwarded.class);
        } catch (JsonProcessingException e) {
            log.warn("dropped a malformed forwarded call message");
            return;
        }
        CallPeer peer = new RemotePeer(message.userId(), message.sessionId(), sessions);
        CompletionStage<Void> done;
        try {
            done = switch (message.op()) {
                case "join" -> local.join(peer, message.account(), message.meetingId(), message.requestId());
                case "publish" -> local.publish(peer, message.meetingId(), message.sdp(), message.requestId());
                case "answer" -> local.subscribeAnswer(peer, message.meetingId(), message.sdp(), message.version(),
                        message.requestId());
                case "media" -> local.updateMedia(peer, message.meetingId(), message.audioMuted(),
                        message.videoMuted(), message.screenSharing(), message.requestId());
                case "leave" -> local.leave(peer, message.meetingId(), message.requestId());
                case "closed" -> {
                    local.peerClosed(peer);
                    yield CompletableFuture.completedFuture(null);
                }
                default -> CompletableFuture.completedFuture(null);
            };
        } catch (RuntimeException e) {
            done = CompletableFuture.failedFuture(e);
        }
        done.whenComplete((ok, failure) -> {
            if (failure != null) {
                ApiException error = ApiException.from(failure);
                sessions.deliver(List.of(message.userId()), new ServerMessage.Error(error.code().wire(),
                        error.getMessage()), message.requestId());
            }
        });
    }

    /** A participant connected to another gateway, reached through cross-gateway delivery. */
    record RemotePeer(String userId, String sessionId, LiveSessions sessions) implements CallPeer {
        @Override
        public void push(ServerMessage message) {
            sessions.deliver(List.of(userId), message);
        }

        @Override
        public void answer(String requestId, ServerMessage message) {
            if (requestId != null || !(message instanceof ServerMessage.Ok)) {
                sessions.deliver(List.of(userId), message, requestId);
            }
        }
    }
}
