package dev.parley.signaling.ring;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.block.Blocks;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.meeting.MeetingChat;
import dev.parley.signaling.meeting.MeetingService;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.presence.PresenceService;
import dev.parley.signaling.protocol.ServerMessage;
import dev.parley.signaling.store.RedisRateLimit;
import dev.parley.signaling.ws.LiveSessions;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Direct calls that ring: a caller rings a person, who sees an incoming call until they accept or decline it, the
 * caller cancels, or nobody answers within the ring timeout. The ring lives in Redis ({@link RingStore}), so any
 * gateway may take the answer, and changes state once: whoever ends it first tells both people, on whichever
 * gateways hold their one session, and records what happened in their direct chat. Accepted, both join the direct
 * chat's call like any meeting call.
 *
 * <p>The deadline is kept by a timer on the gateway that started the ring; should that gateway die first, Redis still
 * refuses an answer after the deadline (it ends the ring as missed) and the people's slots expire with it.
 */
public final class RingService {

    public static final String RINGING = "ringing";
    public static final String ACCEPTED = "accepted";
    public static final String DECLINED = "declined";
    public static final String CANCELLED = "cancelled";
    public static final String MISSED = "missed";
    public static final String BUSY = "busy";
    public static final String UNAVAILABLE = "unavailable";

    /** How long an ended ring stays readable, so a late or repeated answer still learns how it ended. */
    private static final Duration KEEP_AFTER = Duration.ofMinutes(5);
    private static final Logger log = LoggerFactory.getLogger(RingService.class);

    private final RingStore store;
    private final Blocks blocks;
    private final MeetingService meetings;
    private final MeetingChat chat;
    private final LiveSessions sessions;
    private final PresenceService presence;
    private final RedisRateLimit rateLimit;
    private final ScheduledExecutorService timers;
    private final GatewayMetrics metrics;
    private final Clock clock;
    private final Duration timeout;
    private final SecureRandom random = new SecureRandom();
    /** The deadline timers of the rings started on this gateway, by ring id. */
    private final Map<String, ScheduledFuture<?>> deadlines = new ConcurrentHashMap<>();

    public RingService(RedisClusterAsyncCommands<String, String> redis, MeetingService meetings, MeetingChat chat,
                       LiveSessions sessions, PresenceService presence, RedisRateLimit rateLimit,
                       ScheduledExecutorService timers, GatewayMetrics metrics, Clock clock, Duration timeout,
                       Blocks blocks) {
        this.blocks = blocks;
        this.store = new RingStore(redis);
        this.meetings = meetings;
        this.chat = chat;
        this.sessions = sessions;
        this.presence = presence;
        this.rateLimit = rateLimit;
        this.timers = timers;
        this.metrics = metrics;
        this.clock = clock;
        this.timeout = timeout;
    }

    /**
     * Rings {@code calleeId} for a call in {@code media}; completes with the ring as the caller should see it:
     * ringing, or at once busy (in a call) or unavailable (offline, or Do not disturb); those are recorded as a missed
     * call in the chat. Ringing the same
     * person again while it rings gives the same ring back.
     */
    public CompletionStage<ServerMessage.RingState> start(Account caller, String calleeId, String media,
                                                          String meetingId) {
        if (calleeId.equals(caller.userId())) {
            throw ApiException.badRequest("userId must be someone else's: you cannot call yourself");
        }
        return rateLimit.tryAcquire(caller.userId()).thenCompose(allowed -> {
            if (!allowed) {
                throw new ApiException(ErrorCode.RATE_LIMITED, "You have started too many calls in the last "
                        + rateLimit.window().toSeconds() + " s; wait a moment");
            }
            return blocks.between(caller.userId(), calleeId);
        }).thenCompose(between -> {
            if (between == Blocks.Between.BY_ME) {
                throw new ApiException(ErrorCode.BLOCKED, "You blocked this person; unblock them to call");
            }
            if (between == Blocks.Between.BY_THEM) {
                // Answered as if they were away from Parley; nothing reaches them, nothing is recorded.
                metrics.ring(UNAVAILABLE);
                return CompletableFuture.completedFuture(new ServerMessage.RingState(newRingId(),
                        meetingId != null ? meetingId : MeetingService.directChatId(caller.userId(), calleeId),
                        caller.userId(), caller.displayName(), calleeId, "", media, UNAVAILABLE, 0));
            }
            return callIn(caller, calleeId, meetingId).thenCompose(place -> presence.statuses(List.of(calleeId))
                    .thenCompose(statuses -> ring(caller, calleeId, place.calleeName(), place.meetingId(), media,
                            statuses.get(calleeId))));
        });
    }

    /** Where a ring's call takes place, and the callee's name there. */
    private record Place(String meetingId, String calleeName) {
    }

    /** Their direct chat (made on first use), or a meeting both belong to. */
    private CompletionStage<Place> callIn(Account caller, String calleeId, String meetingId) {
        if (meetingId == null) {
            return meetings.openDirect(caller, calleeId).thenApply(chat -> new Place(chat.meetingId(), chat.title()));
        }
        return meetings.get(caller.userId(), meetingId).thenApply(meeting -> {
            if (meeting.archived()) {
                throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived");
            }
            return meeting.members().stream().filter(member -> member.userId().equals(calleeId)).findFirst()
                    .map(callee -> new Place(meetingId, callee.displayName()))
                    .orElseThrow(() -> ApiException.badRequest("userId must be a member of the meeting to ring"));
        });
    }

    /** Rings the callee of a status in their direct chat, unless that status or another ring makes it impossible. */
    private CompletionStage<ServerMessage.RingState> ring(Account caller, String calleeId, String calleeName,
                                                         String meetingId, String media, String status) {
        String ringId = newRingId();
        if (PresenceService.OFFLINE.equals(status) || PresenceService.DND.equals(status)) {
            return refused(ringId, caller, calleeId, calleeName, meetingId, media, UNAVAILABLE);
        }
        if (PresenceService.IN_CALL.equals(status)) {
            return refused(ringId, caller, calleeId, calleeName, meetingId, media, BUSY);
        }
        long now = clock.millis();
        return store.start(ringId, caller.userId(), caller.displayName(), calleeId, calleeName, meetingId, media,
                now, now + timeout.toMillis(), timeout.plus(KEEP_AFTER).toMillis()).thenCompose(started -> {
                    if (started instanceof RingStore.Started.Ringing ringing) {
                        return ringing.fresh() ? rang(ringing.ring())
                                : CompletableFuture.completedFuture(view(ringing.ring()));
                    }
                    if (started instanceof RingStore.Started.CallerRinging) {
                        throw new ApiException(ErrorCode.RING_ACTIVE,
                                "You are already in a ringing call; cancel or answer it first");
                    }
                    return refused(ringId, caller, calleeId, calleeName, meetingId, media, BUSY);
                });
    }

    /** The callee takes the call; the answer says how the ring ended (a cancel may have come first). */
    public CompletionStage<ServerMessage.RingState> accept(String userId, String ringId) {
        return end(userId, ringId, ACCEPTED);
    }

    public CompletionStage<ServerMessage.RingState> decline(String userId, String ringId) {
        return end(userId, ringId, DECLINED);
    }

    public CompletionStage<ServerMessage.RingState> cancel(String userId, String ringId) {
        return end(userId, ringId, CANCELLED);
    }

    private CompletionStage<ServerMessage.RingState> end(String userId, String ringId, String state) {
        return store.end(ringId, userId, state, clock.millis()).handle((ring, failure) -> {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException wrapped
                    && wrapped.getCause() != null ? wrapped.getCause() : failure;
            if (cause instanceof IllegalStateException) {
                throw new ApiException(ErrorCode.FORBIDDEN, state.equals(CANCELLED)
                        ? "Only the caller can cancel a call" : "Only the person called can answer a call");
            }
            if (cause != null) {
                throw new java.util.concurrent.CompletionException(cause);
            }
            if (ring == null) {
                throw new ApiException(ErrorCode.NOT_FOUND, "No such call");
            }
            if (ring.changed()) {
                ended(ring);
            }
            return view(ring);
        });
    }

    /** A ring that started: the callee's card, the deadline's timer. */
    private CompletionStage<ServerMessage.RingState> rang(RingStore.Ring ring) {
        metrics.ring(RINGING);
        long left = Math.max(0, ring.deadline() - clock.millis());
        deadlines.put(ring.ringId(), timers.schedule(() -> expire(ring.ringId()), left, TimeUnit.MILLISECONDS));
        ServerMessage.RingState state = view(ring);
        return sessions.deliver(List.of(ring.calleeId()), state).thenApply(delivered -> state);
    }

    private void expire(String ringId) {
        deadlines.remove(ringId);
        store.end(ringId, "", MISSED, clock.millis()).thenAccept(ring -> {
            if (ring != null && ring.changed()) {
                ended(ring);
            }
        }).exceptionally(e -> {
            log.warn("could not end ring {} at its deadline: {}", ringId, e.toString());
            return null;
        });
    }

    /** Once, for whoever ended the ring: both people are told, and the chat records what happened. */
    private void ended(RingStore.Ring ring) {
        metrics.ring(ring.state());
        ScheduledFuture<?> deadline = deadlines.remove(ring.ringId());
        if (deadline != null) {
            deadline.cancel(false);
        }
        sessions.deliver(List.of(ring.callerId(), ring.calleeId()), view(ring));
        String call = ring.media().equals("audio") ? "audio call" : "video call";
        String record = switch (ring.state()) {
            case DECLINED -> ring.calleeName() + " declined " + (ring.media().equals("audio") ? "an " : "a ") + call
                    + " from " + ring.callerName();
            case MISSED, CANCELLED -> "Missed " + call + " from " + ring.callerName();
            default -> null;
        };
        if (record != null) {
            announce(ring.meetingId(), record, ring.callerId(), ring.calleeId());
        }
    }

    /** Busy or unavailable before it rang: the caller is told, the callee finds a missed call in the chat. */
    private CompletionStage<ServerMessage.RingState> refused(String ringId, Account caller, String calleeId,
                                                             String calleeName, String meetingId, String media,
                                                             String state) {
        metrics.ring(state);
        String call = media.equals("audio") ? "audio call" : "video call";
        announce(meetingId, "Missed " + call + " from " + caller.displayName(), caller.userId(), calleeId);
        return CompletableFuture.completedFuture(new ServerMessage.RingState(ringId, meetingId, caller.userId(),
                caller.displayName(), calleeId, calleeName, media, state, 0));
    }

    private void announce(String meetingId, String text, String callerId, String calleeId) {
        chat.announce(meetingId, text, List.of(callerId, calleeId)).exceptionally(e -> {
            log.warn("could not record a call in its chat: {}", e.toString());
            return null;
        });
    }

    private ServerMessage.RingState view(RingStore.Ring ring) {
        long left = ring.state().equals(RINGING) ? Math.max(0, ring.deadline() - clock.millis()) : 0;
        return new ServerMessage.RingState(ring.ringId(), ring.meetingId(), ring.callerId(), ring.callerName(),
                ring.calleeId(), ring.calleeName(), ring.media(), ring.state(), left);
    }

    private String newRingId() {
        byte[] bytes = new byte[10];
        random.nextBytes(bytes);
        return "r" + HexFormat.of().formatHex(bytes);
    }
}
