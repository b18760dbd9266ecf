package dev.parley.signaling.store;

import dev.parley.signaling.config.GatewayConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's two Redis connections: one for commands (shared by every request, Lettuce pipelines them) and one
 * for pub/sub. While Redis is unreachable commands fail at once instead of queueing, so callers answer 503 quickly;
 * Lettuce reconnects in the background and work resumes when Redis returns.
 */
public final class RedisConnections implements AutoCloseable {

    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> pubSub;

    private RedisConnections(ClientResources resources, RedisClient client,
                             StatefulRedisConnection<String, String> commands,
                             StatefulRedisPubSubConnection<String, String> pubSub) {
        this.resources = resources;
        this.client = client;
        this.commands = commands;
        this.pubSub = pubSub;
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
            return new RedisConnections(resources, client, commands, pubSub);
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            resources.shutdown(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot reach Redis at " + config.uri().getHost() + ":"
                    + config.uri().getPort() + " (parley.redis.uri / PARLEY_REDIS_URI): " + e.getMessage(), e);
        }
    }

    public RedisAsyncCommands<String, String> async() {
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
        pubSub.close();
        commands.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
