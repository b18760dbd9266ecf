package dev.parley.signaling.presence;

import dev.parley.signaling.session.SessionLock;
import dev.parley.signaling.store.RedisEvents;
import io.lettuce.core.KeyValue;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Who is online, and how. A user's status is worked out from three keys in Redis: their presence beside the session
 * lock (online or in-call, with the lock's time to live: none means offline), their own choice (Do not disturb, kept
 * across sessions) and whether their session is idle (away). In that order of precedence: offline, in a call (busy),
 * Do not disturb, away, online (available). Changes are published to every gateway, and each gateway also re-reads
 * the statuses its sockets watch every few seconds, so a crashed gateway's users still turn offline once their keys
 * expire and a change published out of order is put right.
 */
public final class PresenceService {

    /** Receives status changes of the users it watches. */
    public interface Watcher {
        void presenceChanged(String userId, String status);
    }

    /** Told, on every gateway, that a user and others have come to share a meeting. */
    public interface CoMembersJoined {
        void joined(String userId, List<String> others);
    }

    public static final String ONLINE = "online";
    public static final String OFFLINE = "offline";
    public static final String IN_CALL = "in-call";
    /** Do not disturb: the user's own choice; calls do not ring them. */
    public static final String DND = "dnd";
    /** No activity for a while, or the app is hidden. */
    public static final String AWAY = "away";
    /** What a user may choose (presence.set): the status that follows activity, or Do not disturb. */
    public static final String AVAILABLE = "available";
    private static final String CHANNEL = "parley:presence";
    /** "userId other1,other2,...": these people now share a meeting with the user. */
    private static final String JOINED_CHANNEL = "parley:presence:joined";
    /** "viewer target": the viewer may no longer see the target's presence (the target blocked them). */
    private static final String HIDDEN_CHANNEL = "parley:presence:hidden";
    private static final Logger log = LoggerFactory.getLogger(PresenceService.class);

    private final RedisClusterAsyncCommands<String, String> redis;
    private final RedisEvents events;
    private final Map<String, Set<Watcher>> watchersByUser = new ConcurrentHashMap<>();
    private final Map<String, String> lastKnown = new ConcurrentHashMap<>();
    private volatile CoMembersJoined coMembersJoined = (userId, others) -> { };
    private volatile java.util.function.BiConsumer<String, String> hidden = (viewer, target) -> { };

    public PresenceService(RedisClusterAsyncCommands<String, String> redis, RedisEvents events,
                           ScheduledExecutorService scheduler, long sweepMillis) {
        this.redis = redis;
        this.events = events;
        events.subscribe(CHANNEL, pair(this::deliver));
        events.subscribe(JOINED_CHANNEL, pair((userId, others) -> coMembersJoined.joined(userId,
                List.of(others.split(",")))));
        events.subscribe(HIDDEN_CHANNEL, pair((viewer, target) -> hidden.accept(viewer, target)));
        scheduler.scheduleWithFixedDelay(this::sweep, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
    }

    /** Current statuses, in the order asked. */
    public CompletionStage<Map<String, String>> statuses(List<String> userIds) {
        if (userIds.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        String[] keys = new String[userIds.size() * 3];
        for (int i = 0; i < userIds.size(); i++) {
            keys[3 * i] = SessionLock.presenceKey(userIds.get(i));
            keys[3 * i + 1] = choiceKey(userIds.get(i));
            keys[3 * i + 2] = awayKey(userIds.get(i));
        }
        return redis.mget(keys).thenApply(values -> {
            Map<String, String> result = new LinkedHashMap<>();
            for (int i = 0; i < userIds.size(); i++) {
                result.put(userIds.get(i), statusOf(values.get(3 * i), values.get(3 * i + 1), values.get(3 * i + 2)));
            }
            return result;
        });
    }

    /** The user's own choice, kept across sessions: {@link #AVAILABLE} or {@link #DND}. */
    public static String choiceKey(String userId) {
        return "parley:presence:{" + userId + "}:choice";
    }

    /** Set while the user's session reports no activity. */
    public static String awayKey(String userId) {
        return "parley:presence:{" + userId + "}:away";
    }

    /** The user's own choice: {@link #AVAILABLE} unless they chose Do not disturb. */
    public CompletionStage<String> choice(String userId) {
        return redis.get(choiceKey(userId)).thenApply(value -> DND.equals(value) ? DND : AVAILABLE);
    }

    /** Keeps the user's choice ({@link #AVAILABLE} or {@link #DND}) and tells everyone their new status. */
    public CompletionStage<String> choose(String userId, String choice) {
        CompletionStage<?> stored = DND.equals(choice) ? redis.set(choiceKey(userId), DND) : redis.del(choiceKey(userId));
        return stored.thenApply(done -> {
            refresh(userId);
            return DND.equals(choice) ? DND : AVAILABLE;
        });
    }

    /** The user's session became idle (no activity, or hidden) or active again. */
    public CompletionStage<Void> idle(String userId, boolean idle) {
        CompletionStage<?> stored = idle ? redis.set(awayKey(userId), "1") : redis.del(awayKey(userId));
        return stored.thenAccept(done -> refresh(userId));
    }

    /** A session went live: it starts active (an idle mark left by a crashed gateway goes) and is announced. */
    public void sessionStarted(String userId) {
        redis.del(awayKey(userId)).whenComplete((done, failure) -> refresh(userId));
    }

    /** Reads the user's status as it now stands and tells every gateway. */
    public void refresh(String userId) {
        try {
            statuses(List.of(userId)).thenAccept(now -> announce(userId, now.get(userId))).exceptionally(e -> {
                log.warn("could not read presence: {}", e.toString());
                return null;
            });
        } catch (RuntimeException e) {
            log.warn("could not read presence: {}", e.toString());
        }
    }

    public void watch(Watcher watcher, List<String> userIds) {
        for (String userId : userIds) {
            watchersByUser.computeIfAbsent(userId, id -> ConcurrentHashMap.newKeySet()).add(watcher);
        }
    }

    public void unwatchAll(Watcher watcher, Set<String> userIds) {
        for (String userId : userIds) {
            watchersByUser.computeIfPresent(userId, (id, set) -> {
                set.remove(watcher);
                return set.isEmpty() ? null : set;
            });
            if (!watchersByUser.containsKey(userId)) {
                lastKnown.remove(userId);
            }
        }
    }

    /**
     * Changes a signed-in user's presence (online, in-call); the key keeps the session lock's expiry, and everyone
     * is told the status that follows from it.
     */
    public void setStatus(String userId, String status) {
        redis.set(SessionLock.presenceKey(userId), status, io.lettuce.core.SetArgs.Builder.xx().keepttl())
                .thenAccept(ok -> {
                    if ("OK".equals(ok)) {
                        refresh(userId);
                    }
                }).exceptionally(e -> {
                    log.warn("could not change presence: {}", e.toString());
                    return null;
                });
    }

    /** Tells every gateway that this user's status changed (after the Redis key was written). */
    public void announce(String userId, String status) {
        events.publish(CHANNEL, userId + " " + status).exceptionally(e -> {
            log.warn("could not publish presence change: {}", e.toString());
            return 0L;
        });
    }

    /** Told, on every gateway, that a viewer may no longer see a target's presence. */
    public void onHidden(java.util.function.BiConsumer<String, String> listener) {
        hidden = listener;
    }

    /** Tells every gateway that {@code viewer} may no longer see {@code target}'s presence. */
    public void hide(String viewer, String target) {
        events.publish(HIDDEN_CHANNEL, viewer + " " + target).exceptionally(e -> {
            log.warn("could not publish a hidden presence: {}", e.toString());
            return 0L;
        });
    }

    public void onCoMembersJoined(CoMembersJoined listener) {
        coMembersJoined = listener;
    }

    /** Tells every gateway that the user now shares a meeting with {@code others}, so they see each other. */
    public void coMembersJoined(String userId, List<String> others) {
        if (others.isEmpty()) {
            return;
        }
        events.publish(JOINED_CHANNEL, userId + " " + String.join(",", others)).exceptionally(e -> {
            log.warn("could not publish new co-members: {}", e.toString());
            return 0L;
        });
    }

    /** Every channel here carries "first rest": a user id, a space, then what the channel says of them. */
    private static java.util.function.Consumer<String> pair(java.util.function.BiConsumer<String, String> handler) {
        return message -> {
            int space = message.indexOf(' ');
            if (space > 0) {
                handler.accept(message.substring(0, space), message.substring(space + 1));
            }
        };
    }

    private void deliver(String userId, String status) {
        Set<Watcher> watchers = watchersByUser.get(userId);
        if (watchers == null) {
            return;
        }
        String previous = lastKnown.put(userId, status);
        if (status.equals(previous)) {
            return;
        }
        for (Watcher watcher : watchers) {
            watcher.presenceChanged(userId, status);
        }
    }

    private void sweep() {
        List<String> watched = List.copyOf(watchersByUser.keySet());
        if (watched.isEmpty()) {
            return;
        }
        try {
            statuses(watched).thenAccept(current -> current.forEach(this::deliver)).exceptionally(e -> null);
        } catch (RuntimeException e) {
            // Redis is down: statuses stay as last known until it returns.
        }
    }

    /** Seeds the node's view so the sweep only reports real changes. */
    public void remember(Map<String, String> statuses) {
        statuses.forEach((userId, status) -> {
            if (watchersByUser.containsKey(userId)) {
                lastKnown.putIfAbsent(userId, status);
            }
        });
    }

    private static String statusOf(KeyValue<String, String> presence, KeyValue<String, String> choice,
                                   KeyValue<String, String> away) {
        if (!presence.hasValue()) {
            return OFFLINE;
        }
        if (IN_CALL.equals(presence.getValue())) {
            return IN_CALL;
        }
        if (choice.hasValue() && DND.equals(choice.getValue())) {
            return DND;
        }
        return away.hasValue() ? AWAY : ONLINE;
    }

}
