package dev.parley.signaling.store;

import dev.parley.signaling.config.GatewayConfig;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The gateway's Redis connections: one for commands (shared by every request, Lettuce pipelines them), one for
 * pub/sub, and, when writes wait for replicas, a few for those ({@link DurableWrites}). While Redis is unreachable
 * commands fail at once instead of queueing, so callers answer 503 quickly; Lettuce reconnects in the background
 * and work resumes when Redis returns. Given a {@code redis-sentinel://} URI, every connection and reconnection asks
 * the sentinels for the current primary, so the gateway follows a failover by itself; Sentinel closes the clients of
 * a demoted primary, so nothing stays on it.
 *
 * <p>Given a {@code redis-cluster://} URI, the two connections are Lettuce's cluster connections: each command goes
 * to the master owning its key's slot, over one connection per master, and the topology is read again every
 * {@link #TOPOLOGY_REFRESH}, and whenever a node answers MOVED or ASK or a connection keeps failing, at most once per
 * {@link #TOPOLOGY_HINT_GAP}. Lettuce opens a master's connection when the first command for it comes, and, with
 * commands rejected while not connected, would reject that command; so every master's connections are opened at
 * start and whenever the topology changes.
 */
public final class RedisConnections implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RedisConnections.class);

    /** How long the first connection to Redis may take at start-up. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** How often a cluster's topology is read again even when nothing hinted at a change. */
    static final Duration TOPOLOGY_REFRESH = Duration.ofSeconds(30);

    /**
     * The least time between two readings of the topology on hints (MOVED, ASK, failing reconnects). Lettuce's 30 s
     * default made a killed master's shard unavailable for 9 s after its replica had taken over (the first hint
     * came before the failover, the next was ignored); with 1 s it is back 3 s after the kill (RedisClusterTest).
     */
    static final Duration TOPOLOGY_HINT_GAP = Duration.ofSeconds(1);

    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final StatefulConnection<String, String> commands;
    private final RedisClusterAsyncCommands<String, String> async;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final List<StatefulRedisConnection<String, String>> durable;
    private final GatewayConfig.Redis config;
    private final List<Runnable> topologyListeners = new CopyOnWriteArrayList<>();
    private volatile Disposable topologyEvents;

    private RedisConnections(ClientResources resources, AbstractRedisClient client,
                             StatefulConnection<String, String> commands,
                             RedisClusterAsyncCommands<String, String> async,
                             StatefulRedisPubSubConnection<String, String> pubSub,
                             List<StatefulRedisConnection<String, String>> durable, GatewayConfig.Redis config) {
        this.resources = resources;
        this.client = client;
        this.commands = commands;
        this.async = async;
        this.pubSub = pubSub;
        this.durable = durable;
        this.config = config;
    }

    /** Connects, failing with a clear exception when Redis cannot be reached at start-up. */
    public static RedisConnections connect(GatewayConfig.Redis config) {
        ClientResources resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2)
                .build();
        try {
            return config.cluster() ? connectCluster(resources, config) : connectOne(resources, config);
        } catch (RuntimeException e) {
            resources.shutdown(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot reach Redis at " + config.where()
                    + " (parley.redis.uri / PARLEY_REDIS_URI): " + e.getMessage(), e);
        }
    }

    private static RedisConnections connectOne(ClientResources resources, GatewayConfig.Redis config) {
        RedisClient client = RedisClient.create(resources, withConnectTimeout(RedisURI.create(config.uri()), config));
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
            return new RedisConnections(resources, client, commands, commands.async(), pubSub, List.copyOf(durable),
                    config);
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            throw e;
        }
    }

    private static RedisConnections connectCluster(ClientResources resources, GatewayConfig.Redis config) {
        List<RedisURI> seeds = config.clusterSeeds().stream()
                .map(seed -> withConnectTimeout(RedisURI.create(seed), config)).toList();
        RedisClusterClient client = RedisClusterClient.create(resources, seeds);
        client.setOptions(ClusterClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.commandTimeout()))
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                        .enableAllAdaptiveRefreshTriggers()
                        .adaptiveRefreshTriggersTimeout(TOPOLOGY_HINT_GAP)
                        .enablePeriodicRefresh(TOPOLOGY_REFRESH)
                        .build())
                .build());
        try {
            StatefulRedisClusterConnection<String, String> commands = client.connect();
            StatefulRedisClusterPubSubConnection<String, String> pubSub = client.connectPubSub();
            // WAIT counts one shard's replicas only; the configuration refuses durable-replicas with a cluster.
            RedisConnections connections = new RedisConnections(resources, client, commands, commands.async(), pubSub,
                    List.of(), config);
            openEveryMaster(client, commands, pubSub).toCompletableFuture()
                    .get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            connections.topologyEvents = resources.eventBus().get()
                    .filter(ClusterTopologyChangedEvent.class::isInstance)
                    .subscribe(changed -> openEveryMaster(client, commands, pubSub)
                            .whenComplete((opened, failure) -> connections.topologyChanged(failure)));
            return connections;
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            throw e;
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            throw new IllegalStateException("could not connect to every master: " + e, e);
        }
    }

    /** Opens the command and the pub/sub connection to every master the client knows, completing once all are up. */
    private static CompletionStage<Void> openEveryMaster(RedisClusterClient client,
                                                         StatefulRedisClusterConnection<String, String> commands,
                                                         StatefulRedisClusterPubSubConnection<String, String> pubSub) {
        List<CompletableFuture<?>> opening = new ArrayList<>();
        for (RedisClusterNode node : client.getPartitions()) {
            if (node.is(RedisClusterNode.NodeFlag.UPSTREAM) && !node.getSlots().isEmpty()) {
                RedisURI at = node.getUri();
                opening.add(commands.getConnectionAsync(at.getHost(), at.getPort()));
                opening.add(pubSub.getConnectionAsync(at.getHost(), at.getPort()));
            }
        }
        return CompletableFuture.allOf(opening.toArray(CompletableFuture[]::new));
    }

    private void topologyChanged(Throwable failure) {
        if (failure != null) {
            log.warn("Redis Cluster topology changed; could not connect to every master: {}", failure.toString());
        }
        topologyListeners.forEach(Runnable::run);
    }

    private static RedisURI withConnectTimeout(RedisURI uri, GatewayConfig.Redis config) {
        // The URI's timeout bounds the first connection too: a cold JVM on a busy host can take longer than one
        // command may (seen: 2 s not enough while other builds ran), so connecting gets at least CONNECT_TIMEOUT.
        // Commands keep their own limit through the timeout options.
        uri.setTimeout(config.commandTimeout().compareTo(CONNECT_TIMEOUT) > 0 ? config.commandTimeout()
                : CONNECT_TIMEOUT);
        return uri;
    }

    /** Whether this is a Redis Cluster ({@code redis-cluster://}). */
    public boolean cluster() {
        return config.cluster();
    }

    /**
     * Runs {@code listener} after a cluster's topology changed (a master failed over, slots moved), once the
     * connections to every master are open; never for one Redis.
     */
    public void onTopologyChange(Runnable listener) {
        topologyListeners.add(listener);
    }

    /** Writes that wait for {@code parley.redis.durable-replicas}; each shortfall is reported by what it wrote. */
    public DurableWrites durableWrites(Consumer<String> onShortfall) {
        return new DurableWrites(async, durable, config.durableReplicas(),
                config.durableTimeout().toMillis(), onShortfall);
    }

    public RedisClusterAsyncCommands<String, String> async() {
        return async;
    }

    /** The pub/sub connection; on a cluster, a {@link StatefulRedisClusterPubSubConnection}. */
    public StatefulRedisPubSubConnection<String, String> pubSub() {
        return pubSub;
    }

    /** Completes with true when Redis answers PING (on a cluster, the node the commands connection started on). */
    public CompletionStage<Boolean> ping() {
        try {
            return async.ping().thenApply("PONG"::equals).exceptionally(e -> false);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(false);
        }
    }

    @Override
    public void close() {
        Disposable events = topologyEvents;
        if (events != null) {
            events.dispose();
        }
        durable.forEach(StatefulRedisConnection::close);
        pubSub.close();
        commands.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
