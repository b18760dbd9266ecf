package dev.parley.signaling.routing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.call.CallPeer;
import dev.parley.signaling.call.Calls;
import dev.parley.signaling.meeting.MeetingCalls;
import dev.parley.signaling.meeting.MeetingStore;
import dev.parley.signaling.store.RedisEvents;
import dev.parley.signaling.ws.LiveSessions;
import dev.parley.signaling.protocol.ClientMessage;
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
public final class CallRouter implements Calls, MeetingCalls {

    private static final Logger log = LoggerFactory.getLogger(CallRouter.class);

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
                            forward(previous, new CrossGatewayCall.Leave(peer.userId(), peer.sessionId(), null, meetingId));
                        }
                        return local.join(peer, account, meetingId, requestId);
                    }
                    remoteHosts.put(account.userId(), host);
                    return forward(host, new CrossGatewayCall.Join(peer.userId(), peer.sessionId(), requestId, account,
                            meetingId));
                });
    }

    @Override
    public CompletionStage<Void> publish(CallPeer peer, String meetingId, String sdp, String requestId) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            return local.publish(peer, meetingId, sdp, requestId);
        }
        return forward(host, new CrossGatewayCall.Publish(peer.userId(), peer.sessionId(), requestId, meetingId, sdp));
    }

    @Override
    public CompletionStage<Void> subscribeAnswer(CallPeer peer, String meetingId, String sdp, long version,
                                                 String requestId) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            return local.subscribeAnswer(peer, meetingId, sdp, version, requestId);
        }
        return forward(host, new CrossGatewayCall.SubscribeAnswer(peer.userId(), peer.sessionId(), requestId,
                meetingId, sdp, version));
    }

    @Override
    public CompletionStage<Void> updateMedia(CallPeer peer, String meetingId, boolean audioMuted, boolean videoMuted,
                                             boolean screenSharing, String requestId) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            return local.updateMedia(peer, meetingId, audioMuted, videoMuted, screenSharing, requestId);
        }
        return forward(host, new CrossGatewayCall.Media(peer.userId(), peer.sessionId(), requestId, meetingId,
                audioMuted, videoMuted, screenSharing));
    }

    @Override
    public CompletionStage<Void> receiveVideo(CallPeer peer, String meetingId,
                                              List<ClientMessage.CallReceive.Video> videos, String requestId) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            return local.receiveVideo(peer, meetingId, videos, requestId);
        }
        return forward(host, new CrossGatewayCall.Receive(peer.userId(), peer.sessionId(), requestId, meetingId,
                videos));
    }

    @Override
    public CompletionStage<Void> leave(CallPeer peer, String meetingId, String requestId) {
        String host = remoteHosts.remove(peer.userId());
        if (host == null) {
            return local.leave(peer, meetingId, requestId);
        }
        return forward(host, new CrossGatewayCall.Leave(peer.userId(), peer.sessionId(), requestId, meetingId));
    }

    /** The participant's socket closed: the host keeps its place for the reconnect grace. */
    @Override
    public void peerClosed(CallPeer peer) {
        String host = remoteHosts.get(peer.userId());
        if (host == null) {
            local.peerClosed(peer);
        } else {
            forward(host, new CrossGatewayCall.PeerClosed(peer.userId(), peer.sessionId()));
        }
    }

    /** On the hosting node's call service, which forwards it nowhere further. */
    @Override
    public CompletionStage<Void> evict(String meetingId, String userId, String reason) {
        return local.evict(meetingId, userId, reason);
    }

    @Override
    public CompletionStage<Void> end(String meetingId, String reason) {
        return local.end(meetingId, reason);
    }

    /** Sends the removal to the gateway hosting the meeting's call, this one or another. */
    @Override
    public CompletionStage<Void> removeFromCall(String meetingId, String userId, String reason) {
        remoteHosts.remove(userId);
        return toHost(meetingId, () -> local.evict(meetingId, userId, reason),
                new CrossGatewayCall.Evict(userId, null, meetingId, reason));
    }

    @Override
    public CompletionStage<Void> endCall(String meetingId, String reason) {
        return toHost(meetingId, () -> local.end(meetingId, reason),
                new CrossGatewayCall.End(null, null, meetingId, reason));
    }

    /** Runs {@code here} when this node hosts the meeting's call, else forwards {@code message} to the host. */
    private CompletionStage<Void> toHost(String meetingId, java.util.function.Supplier<CompletionStage<Void>> here,
                                         CrossGatewayCall message) {
        return placement.currentHost(meetingId).thenCompose(host -> {
            if (host.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            if (host.get().equals(placement.nodeId())) {
                return here.get();
            }
            // A host nobody hears is gone, and its call with it: nothing is left to end.
            return publish(host.get(), message).thenApply(receivers -> null);
        });
    }

    private CompletionStage<Long> publish(String host, CrossGatewayCall message) {
        try {
            return events.publish(channel(host), json.writerFor(CrossGatewayCall.class).writeValueAsString(message));
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private CompletionStage<Void> forward(String host, CrossGatewayCall message) {
        return publish(host, message).thenApply(receivers -> {
            if (receivers == 0) {
                throw new ApiException(ErrorCode.CALL_FAILED, "The gateway hosting this call is gone; join again");
            }
            return null;
        });
    }

    /** An operation from a participant connected to another gateway; answers reach them by delivery. */
    private void onForwarded(String text) {
        CrossGatewayCall message;
        try {
            message = json.readValue(text, CrossGatewayCall.class);
        } catch (JsonProcessingException e) {
            log.warn("dropped a malformed forwarded call message");
            return;
        }
        CallPeer peer = new RemotePeer(message.userId(), message.sessionId(), sessions);
        CompletionStage<Void> done;
        String requestId = null;
        try {
            // Java 17 has no pattern switch: the sealed interface keeps this chain exhaustive by review.
            if (message instanceof CrossGatewayCall.Join join) {
                requestId = join.requestId();
                done = local.join(peer, join.account(), join.meetingId(), requestId);
            } else if (message instanceof CrossGatewayCall.Publish publish) {
                requestId = publish.requestId();
                done = local.publish(peer, publish.meetingId(), publish.sdp(), requestId);
            } else if (message instanceof CrossGatewayCall.SubscribeAnswer answer) {
                requestId = answer.requestId();
                done = local.subscribeAnswer(peer, answer.meetingId(), answer.sdp(), answer.version(), requestId);
            } else if (message instanceof CrossGatewayCall.Media media) {
                requestId = media.requestId();
                done = local.updateMedia(peer, media.meetingId(), media.audioMuted(), media.videoMuted(),
                        media.screenSharing(), requestId);
            } else if (message instanceof CrossGatewayCall.Receive receive) {
                requestId = receive.requestId();
                done = local.receiveVideo(peer, receive.meetingId(), receive.videos() == null ? List.of()
                        : receive.videos(), requestId);
            } else if (message instanceof CrossGatewayCall.Leave leave) {
                requestId = leave.requestId();
                done = local.leave(peer, leave.meetingId(), requestId);
            } else if (message instanceof CrossGatewayCall.Evict evict) {
                done = local.evict(evict.meetingId(), evict.userId(), evict.reason());
            } else if (message instanceof CrossGatewayCall.End end) {
                done = local.end(end.meetingId(), end.reason());
            } else {
                local.peerClosed(peer);
                done = CompletableFuture.completedFuture(null);
            }
        } catch (RuntimeException e) {
            done = CompletableFuture.failedFuture(e);
        }
        String re = requestId;
        done.whenComplete((ok, failure) -> {
            if (failure != null && (message instanceof CrossGatewayCall.Evict
                    || message instanceof CrossGatewayCall.End)) {
                // Nobody waits for an answer to these: the membership change is already stored.
                log.warn("could not carry out a forwarded {}: {}", message.getClass().getSimpleName(),
                        failure.toString());
            } else if (failure != null) {
                ApiException error = ApiException.from(failure);
                sessions.deliver(List.of(message.userId()), new ServerMessage.Error(error.code().wire(),
                        error.getMessage()), re);
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
