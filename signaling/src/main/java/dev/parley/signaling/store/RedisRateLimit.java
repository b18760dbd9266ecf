package dev.parley.signaling.store;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/** A fixed-window counter in Redis, shared by every gateway: at most {@code max} actions per key per window. */
public final class RedisRateLimit {

    // KEYS[1] counter; ARGV[1] window ms. Counts this action and returns the count in the current window.
    private static final String COUNT = """
            local n = redis.call('INCR', KEYS[1])
            if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
            return n
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final String name;
    private final int max;
    private final Duration window;

    public RedisRateLimit(RedisClusterAsyncCommands<String, String> redis, String name, int max, Duration window) {
        this.redis = redis;
        this.name = name;
        this.max = max;
        this.window = window;
    }

    /** Counts one action for {@code who}; completes with false once the window's allowance is used up. */
    public CompletionStage<Boolean> tryAcquire(String who) {
        return redis.<Long>eval(COUNT, ScriptOutputType.INTEGER, new String[]{"parley:rate:" + name + ":" + who},
                Long.toString(window.toMillis())).thenApply(count -> count <= max);
    }

    public Duration window() {
        return window;
    }
}
