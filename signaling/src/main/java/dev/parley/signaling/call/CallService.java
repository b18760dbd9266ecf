package dev.parley.signaling.call;

import dev.parley.media.api.MediaException;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoReceive;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.chat.ChatService;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.protocol.CallView;
import dev.parley.signaling.protocol.ClientMessage;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.meeting.Meeting;
import dev.parley.signaling.meeting.MeetingCalls;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * Meetings' calls on the media server: joining creates an endpoint in the meeting's conference (created with the
 * first participant, closed with the last), SDP flows between the participant and the media server, and every member
 * is told who is in the call. A participant whose socket drops keeps its place for a grace period, so a reconnecting
 * client's media carries on. Without a media server ({@code media} null) calls are refused.
 *
 * <p>Threads: which calls exist and who is in which ({@code calls}, {@code callOfUser}) belong to {@code directory},
 * one thread that only looks things up. Each call's own state belongs to that call's {@link SerialExecutor} over a
 * shared pool, where its media server operations run too: calls go side by side, and one slow media operation holds
 * up only its own call. A call's lane tells the directory when someone leaves or the call ends.
 */
public final class CallService implements Calls {

    private static final Logger log = LoggerFactory.getLogger(CallService.class);

    /** Operations one call may have waiting; beyond it requests are refused as unavailable. */
    static final int CALL_QUEUE_LIMIT = 1_000;

    /** How long a call that moved off a lost media server waits for its people to join it again. */
    static final Duration MOVE_WINDOW = Duration.ofSeconds(30);

    /** What a call that lost its media server carries into its next start, so members see one call. */
    private record Moved(long startedAt, long pairedAt, int peak, boolean direct) {
    }

    /** One meeting's call; everything but the final fields belongs to {@code lane}. */
    private static final class Call {
        final String meetingId;
        final long startedAt;
        final SerialExecutor lane;
        final Map<String, Participant> participants = new LinkedHashMap<>();
        /** The media server its conference is on, chosen when it starts. */
        CallMedia media;
        String conferenceId;
        AutoCloseable events;
        boolean ended;
        /**
         * A direct chat's call: its caller waits in it while the other person is rung, so its chat records it only
         * once two people were in it (the ring records the rest).
         */
        boolean direct;
        /** The most people in it at once. */
        int peak;
        /** When a second person first joined it: a direct call's length counts from there, not from the ringing. */
        long pairedAt;
        /** It goes on from a call whose media server was lost: its start was announced already. */
        boolean movedIn;

        Call(String meetingId, long startedAt, SerialExecutor lane) {
            this.meetingId = meetingId;
            this.startedAt = startedAt;
            this.lane = lane;
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
        /** The latest layers wanted of each of the participant's simulcast tracks, by mid, to repeat on a resume. */
        final Map<String, List<String>> layersWanted = new LinkedHashMap<>();
        /**
         * The latest of what last-N and the participant's downlink keep from it, to repeat on a resume (also when it
         * is all clear: the socket may have missed that); null until the media server has said anything.
         */
        ServerMessage.CallWithheld withheld;
        ScheduledFuture<?> removal;

        Participant(Account account, String endpointId, CallPeer peer) {
            this.account = account;
            this.endpointId = endpointId;
            this.peer = peer;
        }
    }

    private final MediaPlacement media;
    private final MeetingStore meetings;
    private final ChatService chat;
    private final LiveSessions sessions;
    private final PresenceService presence;
    private final TurnCredentials turn;
    private final ScheduledExecutorService directory;
    private final Executor callWork;
    private final AtomicInteger endpoints = new AtomicInteger();
    private final Duration reconnectGrace;
    private final Clock clock;
    private final CallHosting placement;
    private final com.fasterxml.jackson.databind.ObjectMapper json;
    private final CallPlaces places;
    private final Map<String, Call> calls = new HashMap<>();
    private final Map<String, Call> callOfUser = new HashMap<>();
    private final Map<String, CallView> lastViews = new java.util.concurrent.ConcurrentHashMap<>();
    /** Calls that lost their media server, by meeting, until their people join again. */
    private final Map<String, Moved> moved = new java.util.concurrent.ConcurrentHashMap<>();

    public CallService(MediaPlacement media, MeetingStore meetings, ChatService chat, LiveSessions sessions,
                       PresenceService presence, TurnCredentials turn, ScheduledExecutorService directory,
                       Executor callWork, Duration reconnectGrace, Clock clock, CallHosting placement,
                       com.fasterxml.jackson.databind.ObjectMapper json, CallPlaces places) {
        this.placement = placement;
        this.places = places;
        this.json = json;
        this.media = media;
        this.meetings = meetings;
        this.chat = chat;
        this.sessions = sessions;
        this.presence = presence;
        this.turn = turn;
        this.directory = directory;
        this.callWork = callWork;
        this.reconnectGrace = reconnectGrace;
        this.clock = clock;
    }

    /** Joins the meeting's call (starting it if nobody is in it), or takes a kept place back after a reconnect. */
    @Override
    public CompletionStage<Void> join(CallPeer peer, Account account, String meetingId, String requestId) {
        if (media == null) {
            throw new ApiException(ErrorCode.UNAVAILABLE, "Calls are not enabled on this server");
        }
        return memberMeeting(meetingId, account.userId()).thenCompose(meeting -> {
            if (meeting.archived()) {
                throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived");
            }
            return places.take(account.userId(), meetingId).thenApply(placed -> {
                if (!placed) {
                    throw new ApiException(ErrorCode.CALL_LIMIT, "You are in " + places.limit()
                            + " calls already; leave one first");
                }
                return meeting;
            });
        }).thenCompose(meeting -> {
            String userId = account.userId();
            return turn.admit(userId).thenCompose(admitted -> onDirectory(() -> {
                Call current = callOfUser.get(userId);
                Call target = calls.computeIfAbsent(meetingId, this::newCall);
                callOfUser.put(userId, target);
                if (current != null && current != target) {
                    onCall(current, () -> {
                        remove(current, current.participants.get(userId), "joined another call", null);
                        return null;
                    });
                }
                return target;
            })).thenCompose(call -> onCall(call, () -> joinHere(call, peer, account, meeting, requestId)))
                    .thenCompose(again -> again);
        });
    }

    /** On the directory thread: a meeting's new call, or the same call going on after its media server was lost. */
    private Call newCall(String meetingId) {
        Moved carried = moved.remove(meetingId);
        Call call = new Call(meetingId, carried == null ? clock.millis() : carried.startedAt(),
                new SerialExecutor(callWork, CALL_QUEUE_LIMIT));
        if (carried != null) {
            call.movedIn = true;
            call.pairedAt = carried.pairedAt();
            call.peak = carried.peak();
        }
        return call;
    }

    /** On the call's lane. Returns what is left to do: nothing, or a new join if the call ended meanwhile. */
    private CompletionStage<Void> joinHere(Call call, CallPeer peer, Account account, Meeting meeting,
                                           String requestId) {
        String userId = account.userId();
        if (call.ended) {
            // The last participant left between the directory's answer and now: join the meeting's next call.
            return join(peer, account, meeting.meetingId(), requestId);
        }
        Participant kept = call.participants.get(userId);
        if (kept != null) {
            rejoin(call, kept, peer, requestId);
            return CompletableFuture.completedFuture(null);
        }
        boolean starting = call.conferenceId == null;
        String endpointId;
        try {
            if (starting) {
                startConference(call);
            }
            endpointId = mediaCall(call, () -> call.media.createEndpoint(call.conferenceId));
        } catch (RuntimeException e) {
            directory.execute(() -> callOfUser.remove(userId, call));
            places.release(userId, call.meetingId).exceptionally(failure -> null);
            if (call.participants.isEmpty()) {
                endCall(call, false);
            }
            throw e;
        }
        Participant participant = new Participant(account, endpointId, peer);
        call.participants.put(userId, participant);
        call.direct = meeting.direct();
        call.peak = Math.max(call.peak, call.participants.size());
        if (call.pairedAt == 0 && call.participants.size() >= 2) {
            call.pairedAt = clock.millis();
        }
        endpoints.incrementAndGet();
        presence.setStatus(userId, PresenceService.IN_CALL);
        peer.answer(requestId, new ServerMessage.CallJoined(call.meetingId, endpointId, false,
                turn.iceServersFor(userId)));
        if (starting && !call.direct && !call.movedIn) {
            chat.announce(call.meetingId, account.displayName() + " started a call", meeting.memberIds());
        }
        offerSubscription(call, participant);
        broadcast(call);
        log.info("user {} joined the call of meeting {} as endpoint {}", userId, call.meetingId, endpointId);
        evictIfNoLongerMember(call.meetingId, userId);
        return CompletableFuture.completedFuture(null);
    }

    /**
     * A removal or archive that ran while this join was on its way found no place to end; the join checked
     * membership before that change was stored, so look again now that the place exists.
     */
    private void evictIfNoLongerMember(String meetingId, String userId) {
        meetings.find(meetingId).thenAccept(found -> {
            if (found.isEmpty() || !found.get().hasMember(userId)) {
                evict(meetingId, userId, MeetingCalls.REMOVED);
            } else if (found.get().archived()) {
                end(meetingId, MeetingCalls.ARCHIVED);
            }
        }).exceptionally(e -> {
            log.warn("could not re-check the membership of a new participant: {}", e.toString());
            return null;
        });
    }

    /** Ends the user's place in the meeting's call if this node hosts it; they are told why in call.left. */
    @Override
    public CompletionStage<Void> evict(String meetingId, String userId, String reason) {
        return onDirectory(() -> calls.get(meetingId)).thenCompose(call -> call == null
                ? CompletableFuture.completedFuture(null)
                : onCall(call, () -> {
                    remove(call, call.participants.get(userId), reason, null);
                    return null;
                }));
    }

    /** Ends the meeting's call for everyone if this node hosts it. */
    @Override
    public CompletionStage<Void> end(String meetingId, String reason) {
        return onDirectory(() -> calls.get(meetingId)).thenCompose(call -> call == null
                ? CompletableFuture.completedFuture(null)
                : onCall(call, () -> {
                    for (Participant participant : new ArrayList<>(call.participants.values())) {
                        remove(call, participant, reason, null);
                    }
                    return null;
                }));
    }

    @Override
    public CompletionStage<Void> publish(CallPeer peer, String meetingId, String sdpOffer, String requestId) {
        return inCallOf(peer, meetingId, (call, participant) -> {
            String answer = mediaCall(call, () -> call.media.publish(call.conferenceId, participant.endpointId,
                    sdpOffer));
            peer.answer(requestId, new ServerMessage.CallPublishAnswer(meetingId, answer));
            return null;
        });
    }

    @Override
    public CompletionStage<Void> subscribeAnswer(CallPeer peer, String meetingId, String sdpAnswer, long version,
                                                 String requestId) {
        return inCallOf(peer, meetingId, (call, participant) -> {
            if (version != participant.offeredVersion) {
                // An answer to an offer that has since been replaced: the newer offer is on its way or was sent.
                peer.answer(requestId, new ServerMessage.Ok());
                return null;
            }
            mediaCall(call, () -> {
                call.media.subscribeAnswer(call.conferenceId, participant.endpointId, sdpAnswer);
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
        return inCallOf(peer, meetingId, (call, participant) -> {
            participant.audioMuted = audioMuted;
            participant.videoMuted = videoMuted;
            participant.screenSharing = screenSharing;
            broadcast(call);
            peer.answer(requestId, new ServerMessage.Ok());
            return null;
        });
    }

    @Override
    public CompletionStage<Void> receiveVideo(CallPeer peer, String meetingId,
                                              List<ClientMessage.CallReceive.Video> videos, String requestId) {
        List<VideoReceive> receives = videos.stream()
                .map(v -> new VideoReceive(v.trackId(), v.visible(), v.width(), v.height(), v.pinned())).toList();
        return inCallOf(peer, meetingId, (call, participant) -> {
            try {
                call.media.receiveVideo(call.conferenceId, participant.endpointId, receives);
            } catch (CallMedia.Unreachable e) {
                throw unreachable(call, e);
            } catch (MediaException e) {
                if (e.code() == dev.parley.media.api.ErrorCode.INVALID_REQUEST) {
                    throw ApiException.badRequest("the media server refused the videos: " + e.getMessage());
                }
                throw new ApiException(ErrorCode.CALL_FAILED, "The media server could not do that: "
                        + e.getMessage());
            }
            peer.answer(requestId, new ServerMessage.Ok());
            return null;
        });
    }

    @Override
    public CompletionStage<Void> leave(CallPeer peer, String meetingId, String requestId) {
        return inCallOf(peer, meetingId, (call, participant) -> {
            remove(call, participant, "left", requestId);
            return null;
        });
    }

    /** The socket of a participant closed: keep the place for the grace period, then leave for them. */
    @Override
    public void peerClosed(CallPeer peer) {
        onDirectory(() -> callOfUser.get(peer.userId())).thenAccept(call -> {
            if (call == null) {
                return;
            }
            onCall(call, () -> {
                Participant participant = call.participants.get(peer.userId());
                if (participant == null || !samePeer(participant.peer, peer)) {
                    return null;
                }
                participant.peer = null;
                participant.removal = directory.schedule(() -> onCall(call, () -> {
                    if (call.participants.get(peer.userId()) == participant && participant.peer == null) {
                        remove(call, participant, "disconnected", null);
                    }
                    return null;
                }), reconnectGrace.toMillis(), TimeUnit.MILLISECONDS);
                return null;
            });
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

    /** The media server conference of the meeting's call while this gateway hosts it (media tokens name it). */
    public CompletionStage<Optional<Hosted>> conferenceOf(String meetingId) {
        return onDirectory(() -> calls.get(meetingId)).thenCompose(call -> call == null
                ? CompletableFuture.completedFuture(Optional.<Hosted>empty())
                : onCall(call, () -> Optional.ofNullable(call.ended || call.conferenceId == null ? null
                        : new Hosted(call.conferenceId, call.media.httpUri()))));
    }

    /** A running call's conference and the HTTP API (null: none offered) of the media server it is on. */
    public record Hosted(String conferenceId, java.net.URI httpUri) {
    }

    /** Tells the other gateways this node is alive with its load (every {@code CallPlacement.REPORT_INTERVAL}). */
    public void reportLoad() {
        if (media == null) {
            return;
        }
        try {
            placement.register(endpoints.get()).exceptionally(e -> null);
        } catch (RuntimeException e) {
            // A periodic task that throws is never run again; the next report may reach Redis.
            log.warn("could not report this gateway's load: {}", e.toString());
        }
    }

    /**
     * Keeps its calls' claims and places alive; a call whose claim another gateway holds now moves there
     * ({@link #claimLost}).
     */
    public void heartbeat() {
        directory.execute(() -> {
            if (media == null) {
                return;
            }
            callOfUser.forEach((userId, call) -> places.renew(userId, call.meetingId).exceptionally(e -> null));
            for (Map.Entry<String, Call> running : calls.entrySet()) {
                String meetingId = running.getKey();
                Call call = running.getValue();
                placement.refresh(meetingId).thenAccept(kept -> {
                    if (!kept) {
                        try {
                            call.lane.execute(() -> claimLost(call));
                        } catch (RejectedExecutionException e) {
                            log.warn("call of meeting {} is overloaded; its lost claim waits", meetingId);
                        }
                    }
                }).exceptionally(e -> null);
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
            onDirectory(() -> new ArrayList<>(calls.values())).thenCompose(all -> CompletableFuture.allOf(
                    all.stream().map(call -> onCall(call, () -> {
                        for (Participant participant : new ArrayList<>(call.participants.values())) {
                            remove(call, participant, "server shutting down", null);
                        }
                        return null;
                    }).toCompletableFuture()).toArray(CompletableFuture[]::new)))
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
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
        participant.layersWanted.forEach((mid, rids) ->
                peer.push(new ServerMessage.CallLayers(call.meetingId, mid, rids)));
        if (participant.withheld != null) {
            peer.push(participant.withheld);
        }
    }

    /** On the call's lane: its conference on the media server, and the media server's events about it. */
    private void startConference(Call call) {
        CallMedia chosen;
        try {
            chosen = media.place(call.meetingId);
        } catch (CallMedia.Unreachable e) {
            throw new ApiException(ErrorCode.UNAVAILABLE, "No media server is available; try again shortly");
        } catch (MediaException e) {
            throw new ApiException(ErrorCode.UNAVAILABLE, "The media server is full; try again later");
        }
        call.media = chosen;
        call.conferenceId = mediaCall(call, chosen::createConference);
        call.events = chosen.onEvent(call.conferenceId, event -> {
            try {
                call.lane.execute(() -> onMediaEvent(call, event));
            } catch (RejectedExecutionException e) {
                log.warn("call of meeting {} is overloaded; dropped a media event: {}", call.meetingId, event);
            }
        }, () -> {
            try {
                call.lane.execute(() -> mediaLost(call, chosen));
            } catch (RejectedExecutionException e) {
                log.warn("call of meeting {} is overloaded; its media server's loss waits", call.meetingId);
            }
        });
        log.info("call of meeting {} on media server {}", call.meetingId, chosen.nodeId());
    }

    /**
     * On the call's lane: the media server the call is on went away (its event stream broke or fell silent and it
     * cannot be reached). No new call goes there for a while; everyone in the call is told {@code call.moved} and
     * their places end quietly (no call.left, no "call ended"); their clients join again, and the first join starts
     * the call on another media server as the same call (its start, peak and chat record carry over, see
     * {@link Moved}). If nobody comes back within {@link #MOVE_WINDOW}, the call ends as any call does.
     */
    private void mediaLost(Call call, CallMedia lost) {
        media.lost(lost.nodeId());
        if (call.ended || call.media != lost) {
            return;
        }
        log.warn("media server {} of meeting {}'s call is gone; the call moves", lost.nodeId(), call.meetingId);
        Moved carried = new Moved(call.startedAt, call.pairedAt, call.peak, call.direct);
        moved.put(call.meetingId, carried);
        // Its conference went with the server: nothing to close there.
        call.conferenceId = null;
        moveAway(call);
        directory.schedule(() -> {
            if (!calls.containsKey(call.meetingId) && moved.remove(call.meetingId, carried)) {
                announceEnd(call.meetingId, carried.direct(), carried.peak(),
                        carried.direct() ? carried.pairedAt() : carried.startedAt());
            }
        }, MOVE_WINDOW.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * On the call's lane: another gateway holds this call's claim now (it thought this one gone: its load reports
     * stopped reaching Redis for {@code CallPlacement.LIVENESS}). The call goes on there: everyone here is told
     * {@code call.moved} and joins again, which reaches the new host; this gateway's conference is closed.
     */
    private void claimLost(Call call) {
        if (call.ended) {
            return;
        }
        log.warn("another gateway took over the call of meeting {}; it moves there", call.meetingId);
        moveAway(call);
    }

    /** Tells everyone in the call {@code call.moved} to the same meeting, ends their places quietly and the call. */
    private void moveAway(Call call) {
        for (Participant participant : new ArrayList<>(call.participants.values())) {
            release(call, participant);
            if (participant.peer != null) {
                participant.peer.push(ServerMessage.CallMoved.mediaServerLost(call.meetingId));
            }
        }
        endCall(call, false);
    }

    private void onMediaEvent(Call call, TrackEvent event) {
        if (call.ended) {
            return;
        }
        if (event instanceof TrackEvent.SubscriptionChanged changed) {
            participantByEndpoint(call, changed.endpointId()).ifPresent(p -> offerSubscription(call, p));
        } else if (event instanceof TrackEvent.LayersWanted wanted) {
            participantByEndpoint(call, wanted.endpointId()).ifPresent(p -> {
                p.layersWanted.put(wanted.mid(), wanted.rids());
                if (p.peer != null) {
                    p.peer.push(new ServerMessage.CallLayers(call.meetingId, wanted.mid(), wanted.rids()));
                }
            });
        } else if (event instanceof TrackEvent.VideosWithheld withheld) {
            participantByEndpoint(call, withheld.endpointId()).ifPresent(p -> {
                p.withheld = ServerMessage.CallWithheld.of(call.meetingId, withheld);
                if (p.peer != null) {
                    p.peer.push(p.withheld);
                }
            });
        } else if (event instanceof TrackEvent.TrackAdded || event instanceof TrackEvent.TrackRemoved) {
            broadcast(call);
        } else if (event instanceof TrackEvent.SpeakersChanged speakers) {
            String dominant = speakers.dominantEndpointId() == null ? null
                    : participantByEndpoint(call, speakers.dominantEndpointId()).map(p -> p.account.userId())
                            .orElse(null);
            List<String> speaking = speakers.speaking().stream()
                    .map(endpoint -> participantByEndpoint(call, endpoint).map(p -> p.account.userId()))
                    .flatMap(java.util.Optional::stream).toList();
            ServerMessage message = new ServerMessage.CallSpeakers(call.meetingId, dominant, speaking);
            for (Participant participant : call.participants.values()) {
                if (participant.peer != null) {
                    participant.peer.push(message);
                }
            }
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
            offer = call.media.subscribeOffer(call.conferenceId, participant.endpointId).orElse(null);
        } catch (MediaException | CallMedia.Unreachable e) {
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

    /**
     * On the call's lane: the bookkeeping of a participant's place ending, however it ends: out of the call, the
     * gateway's endpoint count, the directory and the user's places across gateways, and back to online.
     */
    private void release(Call call, Participant participant) {
        String userId = participant.account.userId();
        if (participant.removal != null) {
            participant.removal.cancel(false);
        }
        call.participants.remove(userId);
        endpoints.decrementAndGet();
        directory.execute(() -> callOfUser.remove(userId, call));
        places.release(userId, call.meetingId).exceptionally(e -> null);
        presence.setStatus(userId, PresenceService.ONLINE);
    }

    /** Takes a participant out; {@code requestId} is their call.leave's, when that is why. */
    private void remove(Call call, Participant participant, String reason, String requestId) {
        if (participant == null || call.participants.get(participant.account.userId()) != participant) {
            return;
        }
        release(call, participant);
        log.info("user {} left the call of meeting {}: {}", participant.account.userId(), call.meetingId, reason);
        try {
            call.media.closeEndpoint(call.conferenceId, participant.endpointId);
        } catch (MediaException e) {
            // Already gone (expired): nothing to free.
        } catch (CallMedia.Unreachable e) {
            // The media server went away with everything on it.
        }
        if (participant.peer != null) {
            participant.peer.answer(requestId, new ServerMessage.CallLeft(call.meetingId, reason));
        }
        if (call.participants.isEmpty()) {
            endCall(call, true);
        } else {
            broadcast(call);
        }
    }

    /** On the call's lane; {@code announce}: it had started (someone was in it), so members hear it ended. */
    private void endCall(Call call, boolean announce) {
        call.ended = true;
        directory.execute(() -> calls.remove(call.meetingId, call));
        placement.release(call.meetingId).exceptionally(e -> false);
        if (call.events != null) {
            try {
                call.events.close();
            } catch (Exception ignored) {
                // the subscription only unregisters a listener
            }
        }
        if (call.conferenceId != null) {
            try {
                call.media.closeConference(call.conferenceId);
            } catch (MediaException e) {
                // already closed
            } catch (CallMedia.Unreachable e) {
                // gone with its media server
            }
        }
        lastViews.remove(call.meetingId);
        placement.clearView(call.meetingId).exceptionally(e -> null);
        if (!announce) {
            return;
        }
        announceEnd(call.meetingId, call.direct, call.peak, call.direct ? call.pairedAt : call.startedAt);
    }

    /** Tells the meeting's members its call is over and records it in the chat (a direct call: once two were in). */
    private void announceEnd(String meetingId, boolean direct, int peak, long from) {
        boolean record = !direct || peak >= 2;
        meetings.memberIds(meetingId).thenCompose(members -> {
            sessions.deliver(members, new ServerMessage.CallState(CallView.idle(meetingId)));
            return record ? chat.announce(meetingId, "The call ended after "
                    + lasting(Duration.ofMillis(clock.millis() - from)), members)
                    : CompletableFuture.completedFuture(null);
        }).exceptionally(e -> {
            log.warn("could not announce the end of a call: {}", e.toString());
            return null;
        });
    }

    /** A call's length as its chat records it: "45 s", "2 min 5 s", "1 h 3 min". */
    static String lasting(Duration length) {
        long seconds = Math.max(1, length.toSeconds());
        if (seconds < 60) {
            return seconds + " s";
        }
        if (seconds < 3600) {
            return seconds / 60 + " min " + seconds % 60 + " s";
        }
        return seconds / 3600 + " h " + seconds % 3600 / 60 + " min";
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
            tracks = call.media.tracks(call.conferenceId);
        } catch (MediaException | CallMedia.Unreachable e) {
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

    /** Runs {@code work} on the lane of the call {@code peer} is in, if that is the meeting's call. */
    private <T> CompletionStage<T> inCallOf(CallPeer peer, String meetingId, BiFunction<Call, Participant, T> work) {
        return onDirectory(() -> callOfUser.get(peer.userId())).thenCompose(call -> {
            if (call == null || !call.meetingId.equals(meetingId)) {
                throw notJoined();
            }
            return onCall(call, () -> {
                Participant participant = call.participants.get(peer.userId());
                if (call.ended || participant == null || !samePeer(participant.peer, peer)) {
                    throw notJoined();
                }
                return work.apply(call, participant);
            });
        });
    }

    private static ApiException notJoined() {
        return new ApiException(ErrorCode.CALL_NOT_JOINED, "Join the meeting's call first");
    }

    private static boolean samePeer(CallPeer a, CallPeer b) {
        return a != null && b != null && a.userId().equals(b.userId()) && a.sessionId().equals(b.sessionId());
    }

    private CompletionStage<Meeting> memberMeeting(String meetingId, String userId) {
        return meetings.findForMember(meetingId, userId);
    }

    private <T> CompletionStage<T> onDirectory(Supplier<T> work) {
        return CompletableFuture.supplyAsync(work, directory);
    }

    private static <T> CompletionStage<T> onCall(Call call, Supplier<T> work) {
        try {
            return CompletableFuture.supplyAsync(work, call.lane);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new ApiException(ErrorCode.UNAVAILABLE,
                    "This call is too busy right now; try again"));
        }
    }

    /** The call's media server failed a request: no new call goes there for a while; the caller is told. */
    private ApiException unreachable(Call call, CallMedia.Unreachable e) {
        log.warn("media server {} of meeting {}'s call cannot be reached: {}", call.media.nodeId(), call.meetingId,
                e.getMessage());
        media.lost(call.media.nodeId());
        return new ApiException(ErrorCode.UNAVAILABLE, "The media server cannot be reached; try again shortly");
    }

    /**
     * Runs a media API operation, turning its errors into the gateway's codes; a media server that cannot be reached
     * is reported lost, so no new call goes there.
     */
    private <T> T mediaCall(Call call, Supplier<T> operation) {
        try {
            return operation.get();
        } catch (CallMedia.Unreachable e) {
            throw unreachable(call, e);
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
