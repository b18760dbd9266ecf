package dev.parley.signaling.call;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ZAddArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * The calls each user holds a place in, across every gateway, so one user cannot hold endpoints in more than the
 * configured number of calls. A place is a sorted-set entry (the meeting) scored with its expiry: the hosting
 * gateway renews its participants' places on its heartbeat, so a crashed host's places lapse by themselves.
 */
public final class CallPlaces {

    // KEYS[1] the user's places; ARGV[1] meetingId, ARGV[2] now, ARGV[3] expiry, ARGV[4] limit. 1 taken, 0 refused.
    private static final String TAKE = """
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
            if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
              return 0
            end
            redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
            redis.call('PEXPIREAT', KEYS[1], ARGV[3])
            return 1
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final Clock clock;
    private final Duration lifetime;
    private final int limit;

    public CallPlaces(RedisClusterAsyncCommands<String, String> redis, Clock clock, Duration lifetime, int limit) {
        this.redis = redis;
        this.clock = clock;
        this.lifetime = lifetime;
        this.limit = limit;
    }

    private static String key(String userId) {
        return "parley:user:{" + userId + "}:calls";
    }

    public int limit() {
        return limit;
    }

    /** Takes (or keeps) a place in the meeting's call; false when the user holds as many places as allowed. */
    public CompletionStage<Boolean> take(String userId, String meetingId) {
        long now = clock.millis();
        return redis.<Long>eval(TAKE, ScriptOutputType.INTEGER, new String[]{key(userId)}, meetingId,
                Long.toString(now), Long.toString(now + lifetime.toMillis()), Integer.toString(limit))
                .thenApply(r -> r == 1L);
    }

    /** Keeps a held place alive (never creates one). */
    public CompletionStage<Void> renew(String userId, String meetingId) {
        long expiry = clock.millis() + lifetime.toMillis();
        return redis.zadd(key(userId), ZAddArgs.Builder.xx(), (double) expiry, meetingId)
                .thenCompose(r -> redis.pexpireat(key(userId), expiry)).thenApply(r -> null);
    }

    /** Whether the user holds a live place in the meeting's call (on whichever gateway hosts it). */
    public CompletionStage<Boolean> holds(String userId, String meetingId) {
        long now = clock.millis();
        return redis.zscore(key(userId), meetingId).thenApply(expiry -> expiry != null && expiry > now);
    }

    public CompletionStage<Void> release(String userId, String meetingId) {
        return redis.zrem(key(userId), meetingId).thenApply(r -> null);
    }
}
