package dev.parley.signaling.store;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.RedisClusterPubSubAdapter;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Messages between gateway nodes over Redis pub/sub: each capability subscribes to its own channel once, and
 * publishes to reach every node (this one included). One Redis or Sentinel uses plain SUBSCRIBE and PUBLISH, which
 * Redis 6 has.
 *
 * <p>On a Redis Cluster the channels are shard channels (SSUBSCRIBE, SPUBLISH, Redis 7+): a message goes only to the
 * shard owning the channel's slot instead of over the cluster bus to every node. Lettuce sends each SSUBSCRIBE over
 * its connection to the master owning that slot (as it does a command with a key) and hands what arrives there to
 * the cluster connection's listeners. What it does not do is follow a channel to another master, so this class does:
 * <ul>
 *   <li>when a slot moves, its old master ends the subscription (SUNSUBSCRIBE) and the channel is subscribed again,
 *   which Lettuce routes to the new master;</li>
 *   <li>after any topology change (a master failed and a replica took over) every channel is subscribed again where
 *   it now lives; subscribing twice on one master changes nothing;</li>
 *   <li>a shard's replicas get its messages too, and Lettuce subscribes again on any connection that reconnects,
 *   even to a failed master that came back as a replica: messages from a node that is not a master serving slots
 *   are dropped and the channel is unsubscribed there, so each message is handled once.</li>
 * </ul>
 */
public final class RedisEvents {

    private static final Logger log = LoggerFactory.getLogger(RedisEvents.class);

    private final RedisClusterAsyncCommands<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final boolean sharded;
    private final Map<String, Consumer<String>> handlers = new ConcurrentHashMap<>();

    public RedisEvents(RedisConnections redis) {
        this.commands = redis.async();
        this.pubSub = redis.pubSub();
        this.sharded = redis.cluster();
        if (sharded) {
            listenToShards((StatefulRedisClusterPubSubConnection<String, String>) pubSub);
            redis.onTopologyChange(() -> handlers.keySet().forEach(this::resubscribe));
        } else {
            pubSub.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    deliver(channel, message);
                }
            });
        }
    }

    /** Subscribes this node to a channel; Lettuce re-subscribes by itself after a reconnect. */
    public void subscribe(String channel, Consumer<String> handler) {
        if (handlers.putIfAbsent(channel, handler) != null) {
            throw new IllegalStateException("channel " + channel + " already has a handler");
        }
        if (sharded) {
            pubSub.sync().ssubscribe(channel);
        } else {
            pubSub.sync().subscribe(channel);
        }
    }

    public CompletionStage<Long> publish(String channel, String message) {
        return sharded ? commands.spublish(channel, message) : commands.publish(channel, message);
    }

    private void listenToShards(StatefulRedisClusterPubSubConnection<String, String> cluster) {
        cluster.addListener(new RedisClusterPubSubAdapter<>() {
            @Override
            public void smessage(RedisClusterNode node, String shardChannel, String message) {
                if (servesSlots(node)) {
                    deliver(shardChannel, message);
                } else {
                    unsubscribeOn(cluster, node, shardChannel);
                }
            }

            @Override
            public void sunsubscribed(RedisClusterNode node, String shardChannel, long count) {
                // This class only unsubscribes from nodes that are not masters; any other end is the cluster's.
                if (handlers.containsKey(shardChannel)) {
                    resubscribe(shardChannel);
                }
            }
        });
    }

    /** Whether a message from this node counts: a master serving slots, or a node the topology does not know yet. */
    private static boolean servesSlots(RedisClusterNode node) {
        return node == null || node.is(RedisClusterNode.NodeFlag.UPSTREAM) && !node.getSlots().isEmpty();
    }

    private void unsubscribeOn(StatefulRedisClusterPubSubConnection<String, String> cluster, RedisClusterNode node,
                               String shardChannel) {
        log.info("shard channel {} is subscribed on {}, which serves no slots (a replica): unsubscribing there",
                shardChannel, node.getUri());
        cluster.getConnectionAsync(node.getUri().getHost(), node.getUri().getPort())
                .thenCompose(connection -> connection.async().sunsubscribe(shardChannel))
                .exceptionally(failure -> {
                    log.warn("could not unsubscribe shard channel {} on {}: {}", shardChannel, node.getUri(),
                            failure.toString());
                    return null;
                });
    }

    private void deliver(String channel, String message) {
        Consumer<String> handler = handlers.get(channel);
        if (handler != null) {
            handler.accept(message);
        }
    }

    /** One channel per SSUBSCRIBE: channels in different slots in one command would be refused (CROSSSLOT). */
    private void resubscribe(String shardChannel) {
        pubSub.async().ssubscribe(shardChannel).exceptionally(failure -> {
            log.warn("could not subscribe again to shard channel {}: {}", shardChannel, failure.toString());
            return null;
        });
    }
}
