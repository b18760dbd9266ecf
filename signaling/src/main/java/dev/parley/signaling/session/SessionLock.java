package dev.parley.signaling.session;

import dev.parley.signaling.store.DurableWrites;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The rule that one user has one live session: a Redis key per user holding the owning session's id, set only if
 * absent and expiring {@code ttl} after the last renewal, so a crashed gateway never locks anyone out for good.
 * Renewal and release compare the owner first, so a stale socket can neither extend nor delete a newer session's
 * lock. The user's presence key lives and dies with the lock.
 *
 * <p>Taking, resuming and renewing the lock wait for {@code parley.redis.durable-replicas} (Redis WAIT), so a lock
 * the gateway acted on is still there after a Sentinel failover; otherwise a second device could take a lock the
 * new primary never saw, and two sessions would live until the next renewal. When replicas do not answer in time the
 * session goes on (a dead replica must not stop sign-in) and the shortfall is counted.
 */
public final class SessionLock {

    /** What a renewal found. */
    public enum Renewal {
        /** The lock was ours and now lives another ttl. */
        RENEWED,
        /** The lock had expired and nobody held it: we took it again. */
        REACQUIRED,
        /** Another session holds it: this one must close. */
        REPLACED
    }

    // KEYS[1] lock, KEYS[2] presence; ARGV[1] session id, ARGV[2] ttl ms
    private static final String RENEW = """
            local owner = redis.call('GET', KEYS[1])
            if owner == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              local status = redis.call('GET', KEYS[2]) or 'online'
              redis.call('SET', KEYS[2], status, 'PX', ARGV[2])
              return 1
            elseif not owner then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              redis.call('SET', KEYS[2], 'online', 'PX', ARGV[2])
              return 2
            end
            return 0
            """;

    // KEYS[1] lock, KEYS[2] presence; ARGV[1] session id
    private static final String RELEASE = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              redis.call('DEL', KEYS[1], KEYS[2])
              return 1
            end
            return 0
            """;

    // KEYS[1] lock, KEYS[2] presence; ARGV[1] previous session id, ARGV[2] new session id, ARGV[3] ttl ms
    private static final String RESUME = """
            local owner = redis.call('GET', KEYS[1])
            if owner == ARGV[1] or not owner then
              redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
              redis.call('SET', KEYS[2], 'online', 'PX', ARGV[3])
              return 1
            end
            return 0
            """;

    // KEYS[1] lock, KEYS[2] presence; ARGV[1] session id, ARGV[2] ttl ms
    private static final String ACQUIRE = """
            if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
              redis.call('SET', KEYS[2], 'online', 'PX', ARGV[2])
              return 1
            end
            return 0
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final DurableWrites durable;
    private final Duration ttl;

    public SessionLock(RedisClusterAsyncCommands<String, String> redis, DurableWrites durable, Duration ttl) {
        this.redis = redis;
        this.durable = durable;
        this.ttl = ttl;
    }

    public static String lockKey(String userId) {
        return "parley:session:{" + userId + "}";
    }

    public static String presenceKey(String userId) {
        return "parley:presence:{" + userId + "}";
    }

    /** Takes the lock if nobody holds it; completes with false when another session does. */
    public CompletionStage<Boolean> acquire(String userId, String sessionId) {
        return this.<Long>eval(ACQUIRE, userId, sessionId, Long.toString(ttl.toMillis())).thenApply(r -> r == 1L);
    }

    /**
     * Takes the lock for {@code newSessionId} if it is free or still held by {@code previousSessionId}: a reconnecting
     * client gets its own lock back at once, while a different tab or device (which cannot know the id) cannot.
     */
    public CompletionStage<Boolean> resume(String userId, String previousSessionId, String newSessionId) {
        return this.<Long>eval(RESUME, userId, previousSessionId, newSessionId, Long.toString(ttl.toMillis()))
                .thenApply(r -> r == 1L);
    }

    public CompletionStage<Renewal> renew(String userId, String sessionId) {
        return this.<Long>eval(RENEW, userId, sessionId, Long.toString(ttl.toMillis()))
                .thenApply(r -> switch (r.intValue()) {
                    case 1 -> Renewal.RENEWED;
                    case 2 -> Renewal.REACQUIRED;
                    default -> Renewal.REPLACED;
                });
    }

    /** Releases the lock if this session still owns it; completes with whether it did. */
    public CompletionStage<Boolean> release(String userId, String sessionId) {
        String[] keys = {lockKey(userId), presenceKey(userId)};
        return redis.<Long>eval(RELEASE, ScriptOutputType.INTEGER, keys, sessionId).thenApply(r -> r == 1L);
    }

    /** The session holding each user's lock ({@code null} where none does), in the order asked. */
    public CompletionStage<List<String>> owners(List<String> userIds) {
        String[] keys = userIds.stream().map(SessionLock::lockKey).toArray(String[]::new);
        return redis.mget(keys).thenApply(values -> values.stream().map(v -> v.getValueOrElse(null)).toList());
    }

    public Duration ttl() {
        return ttl;
    }

    private <T> CompletionStage<T> eval(String script, String userId, String... args) {
        String[] keys = {lockKey(userId), presenceKey(userId)};
        return durable.eval("session-lock", DurableWrites.Shortfall.COUNT, script, ScriptOutputType.INTEGER, keys,
                args);
    }

}
