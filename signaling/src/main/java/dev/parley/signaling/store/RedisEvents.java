package dev.parley.signaling.store;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Messages between gateway nodes over Redis pub/sub: each capability subscribes to its own channel once, and
 * publishes to reach every node (this one included).
 */
public final class RedisEvents {

    private final RedisClusterAsyncCommands<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final Map<String, Consumer<String>> handlers = new ConcurrentHashMap<>();

    public RedisEvents(RedisConnections redis) {
        this.commands = redis.async();
        this.pubSub = redis.pubSub();
        pubSub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                Consumer<String> handler = handlers.get(channel);
                if (handler != null) {
                    handler.accept(message);
                }
            }
        });
    }

    /** Subscribes this node to a channel; Lettuce re-subscribes by itself after a reconnect. */
    public void subscribe(String channel, Consumer<String> handler) {
        if (handlers.putIfAbsent(channel, handler) != null) {
            throw new IllegalStateException("channel " + channel + " already has a handler");
        }
        pubSub.sync().subscribe(channel);
    }

    public CompletionStage<Long> publish(String channel, String message) {
        return commands.publish(channel, message);
    }
}
