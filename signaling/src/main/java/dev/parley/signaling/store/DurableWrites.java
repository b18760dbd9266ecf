package dev.parley.signaling.store;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Scripts whose writes must outlive the Redis primary: each runs on one of a few connections of its own and is
 * followed there by {@code WAIT replicas timeout}, which answers once that many replicas hold every write this
 * connection made (the script's, and whatever went before it). Redis replicates asynchronously, so without it a
 * write acknowledged just before the primary dies can be missing on the replica that Sentinel promotes.
 *
 * <p>WAIT holds its connection until it answers, so these writes do not share the connection every other command
 * uses: a slow replica delays only them, never a read or a presence update. With {@code replicas} 0 nothing waits
 * and the scripts run on the shared connection.
 */
public final class DurableWrites {

    /** What a write does when fewer replicas than asked answer in time. */
    public enum Shortfall {
        /** Fail with {@link NotReplicatedException}: the caller must not promise the write to anyone. */
        FAIL,
        /** Go on with the result, counted: the write is on the primary, only not yet on enough replicas. */
        COUNT
    }

    /** A write the primary holds but fewer than the asked-for replicas confirmed within the timeout. */
    public static final class NotReplicatedException extends RuntimeException {
        public NotReplicatedException(long confirmed, int asked) {
            super(confirmed + " of " + asked + " Redis replicas confirmed the write in time");
        }
    }

    /** Connections of their own: enough that one slow WAIT does not queue every other durable write behind it. */
    static final int CONNECTIONS = 4;

    private final RedisClusterAsyncCommands<String, String> shared;
    private final List<StatefulRedisConnection<String, String>> own;
    private final int replicas;
    private final long timeoutMillis;
    private final AtomicInteger next = new AtomicInteger();
    private final Consumer<String> onShortfall;

    DurableWrites(RedisClusterAsyncCommands<String, String> shared, List<StatefulRedisConnection<String, String>> own,
                  int replicas, long timeoutMillis, Consumer<String> onShortfall) {
        this.shared = shared;
        this.own = own;
        this.replicas = replicas;
        this.timeoutMillis = timeoutMillis;
        this.onShortfall = onShortfall;
    }

    /** How many replicas each write waits for; 0 when none. */
    public int replicas() {
        return replicas;
    }

    /**
     * Runs the script; with replicas to wait for, completes once they hold its writes, or as {@code shortfall} says
     * when they do not answer in time. {@code what} names the write in the shortfall counter.
     */
    public <T> CompletionStage<T> eval(String what, Shortfall shortfall, String script, ScriptOutputType type,
                                       String[] keys, String... args) {
        if (replicas == 0) {
            return shared.eval(script, type, keys, args);
        }
        RedisAsyncCommands<String, String> commands =
                own.get(Math.floorMod(next.getAndIncrement(), own.size())).async();
        // Both go out back to back on one connection: the WAIT covers the script's writes whatever else is queued.
        CompletionStage<T> result = commands.eval(script, type, keys, args);
        CompletionStage<Long> confirmed = commands.waitForReplication(replicas, timeoutMillis);
        return result.thenCombine(confirmed.handle((count, failure) -> failure != null ? -1L : count),
                (value, count) -> {
                    if (count >= replicas) {
                        return value;
                    }
                    onShortfall.accept(what);
                    if (shortfall == Shortfall.FAIL) {
                        throw new NotReplicatedException(Math.max(0, count), replicas);
                    }
                    return value;
                });
    }

    /** A failed stage's cause, unwrapped, is a shortfall. */
    public static boolean isShortfall(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause instanceof NotReplicatedException;
    }
}
