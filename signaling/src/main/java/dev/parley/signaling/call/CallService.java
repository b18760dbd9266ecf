package dev.parley.signaling.call;

import dev.parley.media.api.MediaApi;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.chat.ChatService;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.protocol.CallView;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.meeting.Meeting;
import dev.parley.signaling.meeting.MeetingStore;
import dev.parley.signaling.presence.PresenceService;
import dev.parley.signaling.ws.LiveSessions;
import dev.parley.signaling.protocol.ServerMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Meetings' calls on the media server: joining creates an endpoint in the meeting's conference (created with the
 * first participant, closed with the last), SDP flows between the participant and the media server, and every member
 * is told who is in the call. All call state belongs to one thread, {@code owner}; media server calls run there too
 * (they are in-process and quick). A participant whose socket drops keeps its place for a grace period, so a
 * reconnecting client's media carries on. Without a media server ({@code media} null) calls are refused.
 */
public final class CallService implements Calls {

    private static final Logger log = LoggerFactory.getLogger(CallService.class);

    private static final class Call {
        final String meetingId;
        final String conferenceId;
        final long startedAt;
        final Map<String, Participant> participants = new LinkedHashMap<>();
        AutoCloseable events;

        Call(String meetingId, String conferenceId, long startedAt) {
            this.meetingId = meetingId;
            this.conferenceId = conferenceId;
            this.startedAt = startedAt;
        }
    }

    private static final class Participant {
        final Account account;
        final String endpointId;
        CallPeer peer;
        boolean audioMuted;
        boolean videoMuted;
        boolean screenSharing;
        long offeredVersion;
        long answeredVersion;
        SubscribeOffer lastOffer;
        ScheduledFuture<?> removal;

        Participant(Account account, String endpointId, CallPeer peer) {
            this.account = account;
            this.endpointId = endpointId;
            this.peer = peer;
        }
    }

    private final MediaApi media;
    private final MeetingStore meetings;
    private final ChatService chat;
    private final LiveSessions sessions;
    private final PresenceService presence;
    private final TurnCredentials turn;
    private final ScheduledExecutorService owner;
    private final Duration reconnectGrace;
    private final Clock clock;
    private final CallHosting placement;
    private final com.fasterxml.jackson.databind.ObjectMapper json;
    private final Map<String, Call> calls = new HashMap<>();
    private final Map<String, Call> callOfUser = new HashMap<>();
    private final Map<String, CallView> lastViews = new java.util.concurrent.ConcurrentHashMap<>();

    public CallService(MediaApi media, MeetingStore meetings, ChatService chat, LiveSessions sessions,
                       PresenceService presence, TurnCredentials turn, ScheduledExecutorService owner,
                       Duration reconnectGrace, Clock clock, CallHosting placement,
                       com.fasterxml.jackson.databind.ObjectMapper json) {
        this.placement = placement;
        this.json = json;
        this.media = media;
        this.meetings = meetings;
        this.chat = chat;
        this.sessions = sessions;
        this.presence = presence;
        this.turn = turn;
        this.owner = owner;
        this.reconnectGrace = reconnectGrace;
        this.clock = clock;
    }

    /** Joins the meeting's call (starting it if nobody is in it), or takes a kept place back after a reconnect. */
    @Override
    public CompletionStage<Void> join(CallPeer peer, Account account, String meetingId, String requestId) {
        if (media == null) {
            throw new ApiException(ErrorCode.UNAVAILABLE, "Calls are not enabled on this server");
        }
        return memberMeeting(meetingId, account.userId()).thenCompose(meeting -> onOwner(() -> {
            if (meeting.archived()) {
                throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived");
            }
            Call current = callOfUser.get(account.userId());
            if (current != null && current.meetingId.equals(meetingId)) {
                rejoin(current, current.participants.get(account.userId()), peer, requestId);
                return null;
            }
            if (current != null) {
                remove(current, current.participants.get(account.userId()), "joined another call", null);
            }
            boolean starting = !calls.containsKey(meetingId);
            Call call = starting ? startCall(meetingId) : calls.get(meetingId);
            String endpointId = mediaCall(() -> media.createEndpoint(call.conferenceId, null).endpointId());
            Participant participant = new Participant(account, endpointId, peer);
            call.participants.put(account.userId(), participant);
            callOfUser.put(account.userId(), call);
            presence.setStatus(account.userId(), PresenceService.IN_CALL);
            peer.answer(requestId, new ServerMessage.CallJoined(meetingId, endpointId, false,
                    turn.iceServersFor(account.userId())));
            if (starting) {
                chat.announce(meetingId, account.displayName() + " started a call", meeting.memberIds());
            }
            offerSubscription(call, participant);
            broadcast(call);
            log.info("user {} joined the call of meeting {} as endpoint {}", account.userId(), meetingId, endpointId);
            return null;
        }));
    }

    @Override
    public CompletionStage<Void> publish(CallPeer peer, String meetingId, String sdpOffer, String requestId) {
        return onOwner(() -> {
            Call call = callOf(peer, meetingId);
            Participant participant = call.participants.get(peer.userId());
            String answer = mediaCall(() -> media.publish(call.conferenceId, participant.endpointId, sdpOffer));
            peer.answer(requestId, new ServerMessage.CallPublishAnswer(meetingId, answer));
            return null;
        });
    }

    @Override
    public CompletionStage<Void> subscribeAnswer(CallPeer peer, String meetingId, String sdpAnswer, long version,
                                                 String requestId) {
        return onOwner(() -> {
            Call call = callOf(peer, meetingId);
            Participant participant = call.participants.get(peer.userId());
            if (version != participant.offeredVersion) {
                // An answer to an offer that has since been replaced: the newer offer is on its way or was sent.
                peer.answer(requestId, new ServerMessage.Ok());
                return null;
            }
            mediaCall(() -> {
                media.subscribeAnswer(call.conferenceId, participant.endpointId, sdpAnswer);
                return null;
            });
            participant.answeredVersion = version;
            peer.answer(requestId, new ServerMessage.Ok());
            return null;
        });
    }

    @Override
    public CompletionStage<Void> updateMedia(CallPeer peer, String meetingId, boolean audioMuted, boolean videoMuted,
                                             boolean screenSharing, String requestId) {
        return onOwner(() -> {
            Call call = callOf(peer, meetingId);
            Participant participant = call.participants.get(peer.userId());
            participant.audioMuted = audioMuted;
            participant.videoMuted = videoMuted;
            participant.screenSharing = screenSharing;
            broadcast(call);
            peer.answer(requestId, new ServerMessage.Ok());
            return null;
        });
    }

    @Override
    public CompletionStage<Void> leave(CallPeer peer, String meetingId, String requestId) {
        return onOwner(() -> {
            Call call = callOf(peer, meetingId);
            remove(call, call.participants.get(peer.userId()), "left", requestId);
            return null;
        });
    }

    /** The socket of a participant closed: keep the place for the grace period, then leave for them. */
    @Override
    public void peerClosed(CallPeer peer) {
        owner.execute(() -> {
            Call call = callOfUser.get(peer.userId());
            if (call == null) {
                return;
            }
            Participant participant = call.participants.get(peer.userId());
            if (participant == null || !samePeer(participant.peer, peer)) {
                return;
            }
            participant.peer = null;
            participant.removal = owner.schedule(() -> {
                if (call.participants.get(peer.userId()) == participant && participant.peer == null) {
                    remove(call, participant, "disconnected", null);
                }
            }, reconnectGrace.toMillis(), TimeUnit.MILLISECONDS);
        });
    }

    /** The meeting's call as its members see it, wherever it is hosted; non-members get not_found. */
    public CompletionStage<CallView> view(String userId, String meetingId) {
        return memberMeeting(meetingId, userId).thenCompose(meeting -> placement.view(meetingId))
                .thenApply(stored -> stored.map(this::parseView).orElse(CallView.idle(meetingId)));
    }

    private CallView parseView(String text) {
        try {
            return json.readValue(text, CallView.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("unreadable call view", e);
        }
    }

    private void saveView(CallView view) {
        try {
            placement.saveView(view.meetingId(), json.writeValueAsString(view)).exceptionally(e -> null);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            log.warn("could not encode a call view: {}", e.toString());
        }
    }

    /** Tells the other gateways this node is alive with its load, and keeps its calls' claims alive. */
    public void heartbeat() {
        owner.execute(() -> {
            if (media == null) {
                return;
            }
            int endpoints = calls.values().stream().mapToInt(c -> c.participants.size()).sum();
            placement.register(endpoints).exceptionally(e -> null);
            for (String meetingId : calls.keySet()) {
                placement.refresh(meetingId).exceptionally(e -> false);
                CallView view = lastViews.get(meetingId);
                if (view != null) {
                    saveView(view);
                }
            }
        });
    }

    /** For shutdown: every call ends. */
    public void closeAll() {
        try {
            onOwner(() -> {
                for (Call call : new ArrayList<>(calls.values())) {
                    for (Participant participant : new ArrayList<>(call.participants.values())) {
                        remove(call, participant, "server shutting down", null);
                    }
                }
                return null;
            }).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("calls did not all close in time: {}", e.toString());
        }
    }

    private void rejoin(Call call, Participant participant, CallPeer peer, String requestId) {
        if (participant.removal != null) {
            participant.removal.cancel(false);
            participant.removal = null;
        }
        participant.peer = peer;
        peer.answer(requestId, new ServerMessage.CallJoined(call.meetingId, participant.endpointId, true,
                turn.iceServersFor(peer.userId())));
        peer.push(new ServerMessage.CallState(viewOf(call)));
        if (participant.lastOffer != null && participant.offeredVersion != participant.answeredVersion) {
            peer.push(new ServerMessage.CallSubscribeOffer(call.meetingId, participant.lastOffer.sdp(),
                    participant.lastOffer.version()));
        }
    }

    private Call startCall(String meetingId) {
        String conferenceId = mediaCall(() -> media.createConference(null).conferenceId());
        Call call = new Call(meetingId, conferenceId, clock.millis());
        call.events = media.onEvent(conferenceId, event -> owner.execute(() -> onMediaEvent(call, event)));
        calls.put(meetingId, call);
        return call;
    }

    private void onMediaEvent(Call call, TrackEvent event) {
        if (calls.get(call.meetingId) != call) {
            return;
        }
        if (event instanceof TrackEvent.SubscriptionChanged changed) {
            participantByEndpoint(call, changed.endpointId()).ifPresent(p -> offerSubscription(call, p));
        } else if (event instanceof TrackEvent.TrackAdded || event instanceof TrackEvent.TrackRemoved) {
            broadcast(call);
        } else if (event instanceof TrackEvent.EndpointClosed closed) {
            participantByEndpoint(call, closed.endpointId()).ifPresent(p -> {
                log.info("media of user {} in meeting {} ended: {}", p.account.userId(), call.meetingId,
                        closed.reason());
                remove(call, p, "media connection lost: " + closed.reason(), null);
            });
        }
    }

    private java.util.Optional<Participant> participantByEndpoint(Call call, String endpointId) {
        return call.participants.values().stream().filter(p -> p.endpointId.equals(endpointId)).findFirst();
    }

    private void offerSubscription(Call call, Participant participant) {
        SubscribeOffer offer;
        try {
            offer = media.subscribeOffer(call.conferenceId, participant.endpointId).orElse(null);
        } catch (MediaException e) {
            log.warn("no subscribe offer for endpoint {}: {}", participant.endpointId, e.getMessage());
            return;
        }
        if (offer == null || offer.version() == participant.offeredVersion) {
            return;
        }
        participant.lastOffer = offer;
        participant.offeredVersion = offer.version();
        if (participant.peer != null) {
            participant.peer.push(new ServerMessage.CallSubscribeOffer(call.meetingId, offer.sdp(), offer.version()));
        }
    }

    /** Takes a participant out; {@code requestId} is their call.leave's, when that is why. */
    private void remove(Call call, Participant participant, String reason, String requestId) {
        if (participant == null || call.participants.get(participant.account.userId()) != participant) {
            return;
        }
        if (participant.removal != null) {
            participant.removal.cancel(false);
        }
        call.participants.remove(participant.account.userId());
        callOfUser.remove(participant.account.userId(), call);
        log.info("user {} left the call of meeting {}: {}", participant.account.userId(), call.meetingId, reason);
        try {
            media.closeEndpoint(call.conferenceId, participant.endpointId);
        } catch (MediaException e) {
            // Already gone (expired): nothing to free.
        }
        presence.setStatus(participant.account.userId(), PresenceService.ONLINE);
        if (participant.peer != null) {
            participant.peer.answer(requestId, new ServerMessage.CallLeft(call.meetingId, reason));
        }
        if (call.participants.isEmpty()) {
            endCall(call);
        } else {
            broadcast(call);
        }
    }

    private void endCall(Call call) {
        calls.remove(call.meetingId);
        placement.release(call.meetingId).exceptionally(e -> false);
        try {
            call.events.close();
        } catch (Exception ignored) {
            // the subscription only unregisters a listener
        }
        try {
            media.closeConference(call.conferenceId);
        } catch (MediaException e) {
            // already closed
        }
        lastViews.remove(call.meetingId);
        placement.clearView(call.meetingId).exceptionally(e -> null);
        meetings.memberIds(call.meetingId).thenCompose(members -> {
            sessions.deliver(members, new ServerMessage.CallState(CallView.idle(call.meetingId)));
            return chat.announce(call.meetingId, "The call ended", members);
        }).exceptionally(e -> {
            log.warn("could not announce the end of a call: {}", e.toString());
            return null;
        });
    }

    private void broadcast(Call call) {
        CallView view = viewOf(call);
        lastViews.put(call.meetingId, view);
        saveView(view);
        meetings.memberIds(call.meetingId).thenCompose(members ->
                sessions.deliver(members, new ServerMessage.CallState(view))).exceptionally(e -> null);
    }

    private CallView viewOf(Call call) {
        List<TrackInfo> tracks;
        try {
            tracks = media.tracks(call.conferenceId);
        } catch (MediaException e) {
            tracks = List.of();
        }
        List<CallView.Participant> people = new ArrayList<>();
        for (Participant p : call.participants.values()) {
            List<CallView.Track> theirs = tracks.stream().filter(t -> t.publisherEndpointId().equals(p.endpointId))
                    .map(t -> new CallView.Track(t.trackId(), t.kind(), t.streamId(), t.mediaStreamTrackId()))
                    .toList();
            people.add(new CallView.Participant(p.account.userId(), p.account.displayName(), p.endpointId,
                    p.audioMuted, p.videoMuted, p.screenSharing, theirs));
        }
        return new CallView(call.meetingId, true, call.startedAt, people);
    }

    private Call callOf(CallPeer peer, String meetingId) {
        Call call = callOfUser.get(peer.userId());
        if (call == null || !call.meetingId.equals(meetingId)
                || !samePeer(call.participants.get(peer.userId()).peer, peer)) {
            throw new ApiException(ErrorCode.CALL_NOT_JOINED, "Join the meeting's call first");
        }
        return call;
    }

    private static boolean samePeer(CallPeer a, CallPeer b) {
        return a != null && b != null && a.userId().equals(b.userId()) && a.sessionId().equals(b.sessionId());
    }

    private CompletionStage<Meeting> memberMeeting(String meetingId, String userId) {
        return meetings.findForMember(meetingId, userId);
    }

    private <T> CompletionStage<T> onOwner(Supplier<T> work) {
        return CompletableFuture.supplyAsync(work, owner);
    }

    /** Runs a media API operation, turning its errors into the gateway's codes. */
    private static <T> T mediaCall(Supplier<T> operation) {
        try {
            return operation.get();
        } catch (MediaException e) {
            throw switch (e.code()) {
                case INVALID_SDP, INVALID_REQUEST -> ApiException.badRequest("the media server refused the SDP: "
                        + e.getMessage());
                case CAPACITY_CONFERENCES, CAPACITY_ENDPOINTS -> new ApiException(ErrorCode.UNAVAILABLE,
                        "The media server is full; try again later");
                default -> new ApiException(ErrorCode.CALL_FAILED, "The media server could not do that: "
                        + e.getMessage());
            };
        }
    }
}
