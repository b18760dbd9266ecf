package dev.parley.signaling.store;

import dev.parley.signaling.config.GatewayConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The gateway's Redis connections: one for commands (shared by every request, Lettuce pipelines them), one for
 * pub/sub, and, when writes wait for replicas, a few for those ({@link DurableWrites}). While Redis is unreachable
 * commands fail at once instead of queueing, so callers answer 503 quickly; Lettuce reconnects in the background
 * and work resumes when Redis returns. Given a {@code redis-sentinel://} URI, every connection and reconnection asks
 * the sentinels for the current primary, so the gateway follows a failover by itself; Sentinel closes the clients of
 * a demoted primary, so nothing stays on it.
 */
public final class RedisConnections implements AutoCloseable {

    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final List<StatefulRedisConnection<String, String>> durable;
    private final GatewayConfig.Redis config;

    private RedisConnections(ClientResources resources, RedisClient client,
                             StatefulRedisConnection<String, String> commands,
                             StatefulRedisPubSubConnection<String, String> pubSub,
                             List<StatefulRedisConnection<String, String>> durable, GatewayConfig.Redis config) {
        this.resources = resources;
        this.client = client;
        this.commands = commands;
        this.pubSub = pubSub;
        this.durable = durable;
        this.config = config;
    }

    /** How long the first connection to Redis may take at start-up. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** Connects, failing with a clear exception when Redis cannot be reached at start-up. */
    public static RedisConnections connect(GatewayConfig.Redis config) {
        ClientResources resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2)
                .build();
        RedisURI uri = RedisURI.create(config.uri());
        // The URI's timeout bounds the first connection too: a cold JVM on a busy host can take longer than one
        // command may (seen: 2 s not enough while other builds ran), so connecting gets at least CONNECT_TIMEOUT.
        // Commands keep their own limit through the timeout options below.
        uri.setTimeout(config.commandTimeout().compareTo(CONNECT_TIMEOUT) > 0 ? config.commandTimeout()
                : CONNECT_TIMEOUT);
        RedisClient client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.commandTimeout()))
                .build());
        try {
            StatefulRedisConnection<String, String> commands = client.connect();
            StatefulRedisPubSubConnection<String, String> pubSub = client.connectPubSub();
            List<StatefulRedisConnection<String, String>> durable = new ArrayList<>();
            for (int i = 0; config.durableReplicas() > 0 && i < DurableWrites.CONNECTIONS; i++) {
                durable.add(client.connect());
            }
            return new RedisConnections(resources, client, commands, pubSub, List.copyOf(durable), config);
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            resources.shutdown(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot reach Redis at " + config.where()
                    + " (parley.redis.uri / PARLEY_REDIS_URI): " + e.getMessage(), e);
        }
    }

    /** Writes that wait for {@code parley.redis.durable-replicas}; each shortfall is reported by what it wrote. */
    public DurableWrites durableWrites(Consumer<String> onShortfall) {
        return new DurableWrites(commands.async(), durable, config.durableReplicas(),
                config.durableTimeout().toMillis(), onShortfall);
    }

    public RedisClusterAsyncCommands<String, String> async() {
        return commands.async();
    }

    public StatefulRedisPubSubConnection<String, String> pubSub() {
        return pubSub;
    }

    /** Completes with true when Redis answers PING. */
    public CompletionStage<Boolean> ping() {
        try {
            return commands.async().ping().thenApply("PONG"::equals).exceptionally(e -> false);
        } catch (RuntimeException e) {
            return java.util.concurrent.CompletableFuture.completedFuture(false);
        }
    }

    @Override
    public void close() {
        durable.forEach(StatefulRedisConnection::close);
        pubSub.close();
        commands.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
