package dev.parley.signaling.store;

import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.testing.Eventually;
import dev.parley.signaling.testing.RedisCluster;
import dev.parley.signaling.testing.TestGateway;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.ClusterPartitionParser;
import io.lettuce.core.cluster.models.partitions.Partitions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway's Redis connections and pub/sub on a real Redis Cluster of three masters ({@code redis-cluster://}):
 * keys land on every master, multi-key commands and scripts work within their rules, and two gateways exchange
 * sharded pub/sub messages on channels owned by every master, also after a channel's slot moved and after a master
 * was killed and replaced by its replica.
 */
class RedisClusterTest {

    private static RedisCluster cluster;
    private static RedisClient inspector;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = RedisCluster.start();
        inspector = RedisClient.create();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        inspector.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        cluster.close();
    }

    private static GatewayConfig.Redis config(String uri) {
        return GatewayConfig.from(TestGateway.config(TestGateway.testSettings(uri))).redis();
    }

    @Test
    void keysLandOnEveryMasterAndMultiKeyCommandsAndScriptsWork() throws Exception {
        try (RedisConnections redis = RedisConnections.connect(config(cluster.uri()))) {
            assertTrue(redis.cluster());
            Map<String, String> written = new LinkedHashMap<>();
            for (int i = 0; i < 30; i++) {
                written.put("parley:cluster-test:key-" + i, "value-" + i);
            }
            // Commands are rejected on a connection not open yet: the first one for each master must not be.
            for (Map.Entry<String, String> entry : written.entrySet()) {
                assertEquals("OK", redis.async().set(entry.getKey(), entry.getValue()).toCompletableFuture()
                        .get(5, TimeUnit.SECONDS));
            }
            for (Map.Entry<String, String> entry : written.entrySet()) {
                assertEquals(entry.getValue(), redis.async().get(entry.getKey()).toCompletableFuture()
                        .get(5, TimeUnit.SECONDS));
            }
            for (int port : cluster.ports()) {
                assertTrue(keysOn(port, "parley:cluster-test:*") > 0, "the master on " + port + " holds some keys");
            }

            List<String> keys = List.copyOf(written.keySet());
            List<KeyValue<String, String>> read = redis.async().mget(keys.toArray(String[]::new))
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(keys.size(), read.size());
            for (int i = 0; i < keys.size(); i++) {
                assertEquals(keys.get(i), read.get(i).getKey(), "MGET across slots answers in the asked order");
                assertEquals(written.get(keys.get(i)), read.get(i).getValue());
            }

            String swap = "local a = redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], ARGV[1])"
                    + " redis.call('SET', KEYS[2], a) return a";
            String[] tagged = {"parley:{meeting-1}:a", "parley:{meeting-1}:b"};
            assertEquals(SlotHash.getSlot(tagged[0]), SlotHash.getSlot(tagged[1]));
            redis.async().set(tagged[0], "first").toCompletableFuture().get(5, TimeUnit.SECONDS);
            Object before = redis.async().eval(swap, ScriptOutputType.VALUE, tagged, "second").toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertEquals("first", before);
            assertEquals("second", redis.async().get(tagged[0]).toCompletableFuture().get(5, TimeUnit.SECONDS));
            assertEquals("first", redis.async().get(tagged[1]).toCompletableFuture().get(5, TimeUnit.SECONDS));

            assertTrue(redis.ping().toCompletableFuture().get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void twoGatewaysExchangeShardedMessagesOnChannelsOfEveryMasterEachDeliveredOnce() throws Exception {
        Map<Integer, List<String>> channelsByMaster = channelsOnEveryMaster("parley:cluster-test:events:", 2);
        List<String> channels = channelsByMaster.values().stream().flatMap(List::stream).toList();
        try (RedisConnections a = RedisConnections.connect(config(cluster.uri()));
             RedisConnections b = RedisConnections.connect(config(cluster.uri()))) {
            Received atA = new Received();
            Received atB = new Received();
            RedisEvents eventsA = new RedisEvents(a);
            RedisEvents eventsB = new RedisEvents(b);
            for (String channel : channels) {
                eventsA.subscribe(channel, atA.on(channel));
                eventsB.subscribe(channel, atB.on(channel));
            }
            for (Map.Entry<Integer, List<String>> owned : channelsByMaster.entrySet()) {
                try (StatefulRedisConnection<String, String> node = cluster.nodeClient(inspector, owned.getKey())) {
                    assertEquals(new TreeSet<>(owned.getValue()), new TreeSet<>(node.sync().pubsubShardChannels()),
                            "each SSUBSCRIBE went to the master owning its channel's slot, and only there");
                    node.sync().pubsubShardNumsub(owned.getValue().toArray(String[]::new)).forEach((channel, n) ->
                            assertEquals(2L, n, "both gateways subscribe " + channel));
                }
            }

            for (String channel : channels) {
                assertEquals(2L, eventsA.publish(channel, "from a on " + channel).toCompletableFuture()
                        .get(5, TimeUnit.SECONDS), "SPUBLISH reached both gateways");
                assertEquals(2L, eventsB.publish(channel, "from b on " + channel).toCompletableFuture()
                        .get(5, TimeUnit.SECONDS));
            }
            for (Received received : List.of(atA, atB)) {
                Eventually.await(() -> received.total() >= channels.size() * 2, Duration.ofSeconds(5),
                        "every message arrives: " + received.byChannel);
            }
            Thread.sleep(300);
            for (Received received : List.of(atA, atB)) {
                for (String channel : channels) {
                    assertEquals(List.of("from a on " + channel, "from b on " + channel),
                            received.byChannel.get(channel).stream().sorted().toList(),
                            "each message exactly once on " + channel);
                }
            }
        }
    }

    @Test
    void aChannelWhoseSlotMovesToAnotherMasterKeepsItsSubscribers() throws Exception {
        String channel = channelsOnEveryMaster("parley:cluster-test:moving:", 1).values().iterator().next().get(0);
        try (RedisConnections a = RedisConnections.connect(config(cluster.uri()));
             RedisConnections b = RedisConnections.connect(config(cluster.uri()))) {
            Received atA = new Received();
            RedisEvents eventsA = new RedisEvents(a);
            RedisEvents eventsB = new RedisEvents(b);
            eventsA.subscribe(channel, atA.on(channel));
            eventsB.publish(channel, "before").toCompletableFuture().get(5, TimeUnit.SECONDS);
            Eventually.await(() -> atA.total() == 1, Duration.ofSeconds(5), "the first message arrives");

            int from = ownerPort(SlotHash.getSlot(channel));
            int to = cluster.ports().stream().filter(port -> port != from).findFirst().orElseThrow();
            moveSlot(SlotHash.getSlot(channel), from, to);
            Eventually.await(() -> shardChannelsOn(to).contains(channel), Duration.ofSeconds(10),
                    "the gateway subscribed again on the channel's new master");

            assertEquals(1L, eventsB.publish(channel, "after").toCompletableFuture().get(5, TimeUnit.SECONDS));
            Eventually.await(() -> atA.total() == 2, Duration.ofSeconds(5), "the message after the move arrives");
            assertEquals(List.of("before", "after"), atA.byChannel.get(channel));
            assertFalse(shardChannelsOn(from).contains(channel));
        }
    }

    @Test
    void aKilledMasterIsReplacedByItsReplicaAndEachMessageStillArrivesOnce() throws Exception {
        try (RedisCluster replicated = RedisCluster.start(1);
             RedisConnections a = RedisConnections.connect(config(replicated.uri()));
             RedisConnections b = RedisConnections.connect(config(replicated.uri()))) {
            String channel = "parley:cluster-test:failover";
            int master = ClusterPartitionParser.parse(clusterNodes(replicated, replicated.ports().get(0)))
                    .getMasterBySlot(SlotHash.getSlot(channel)).getUri().getPort();
            Received atA = new Received();
            RedisEvents eventsA = new RedisEvents(a);
            RedisEvents eventsB = new RedisEvents(b);
            eventsA.subscribe(channel, atA.on(channel));

            replicated.kill(master);
            long killed = System.nanoTime();
            List<String> sent = new ArrayList<>();
            Eventually.await(() -> {
                String message = "during " + sent.size();
                try {
                    if (eventsB.publish(channel, message).toCompletableFuture().get(2, TimeUnit.SECONDS) > 0) {
                        sent.add(message);
                    }
                } catch (Exception e) {
                    return false;
                }
                return atA.total() > 0;
            }, Duration.ofSeconds(20), "messages arrive again after the failover");
            System.out.printf("pub/sub on the killed master's shard was back %d ms after the kill%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));

            // Back as a replica, the old master gets the shard's messages too, and Lettuce subscribes there again.
            replicated.restart(master);
            Eventually.await(() -> clusterNodes(replicated, master).contains("myself,slave"), Duration.ofSeconds(20),
                    "the old master rejoined as a replica");
            Eventually.await(() -> shardChannelsOn(replicated, master).contains(channel), Duration.ofSeconds(20),
                    "Lettuce subscribed again on the old master's reconnected connection");
            atA.byChannel.get(channel).clear();
            List<String> after = List.of("after 0", "after 1", "after 2", "after 3", "after 4");
            for (String message : after) {
                assertEquals(1L, eventsB.publish(channel, message).toCompletableFuture().get(5, TimeUnit.SECONDS));
            }
            Eventually.await(() -> atA.total() >= after.size(), Duration.ofSeconds(5), "the messages arrive");
            Thread.sleep(500);
            assertEquals(after, atA.byChannel.get(channel), "each message once, not again from the replica");
            Eventually.await(() -> !shardChannelsOn(replicated, master).contains(channel), Duration.ofSeconds(5),
                    "the replica's subscription was ended");
        }
    }

    @Test
    void pingAnswersFalseOnceTheClusterIsGone() throws Exception {
        RedisCluster doomed = RedisCluster.start();
        try (RedisConnections redis = RedisConnections.connect(config(doomed.uri()))) {
            assertTrue(redis.ping().toCompletableFuture().get(5, TimeUnit.SECONDS));
            doomed.close();
            assertFalse(redis.ping().toCompletableFuture().get(5, TimeUnit.SECONDS));
        } finally {
            doomed.close();
        }
    }

    /** Messages one gateway's handlers got, by channel. */
    private static final class Received {
        final Map<String, List<String>> byChannel = new ConcurrentHashMap<>();

        java.util.function.Consumer<String> on(String channel) {
            List<String> messages = byChannel.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>());
            return messages::add;
        }

        int total() {
            return byChannel.values().stream().mapToInt(List::size).sum();
        }
    }

    /** At least {@code perMaster} channel names with {@code prefix} for each master, by its port. */
    private static Map<Integer, List<String>> channelsOnEveryMaster(String prefix, int perMaster) {
        Partitions partitions = partitions();
        Map<Integer, List<String>> byMaster = new HashMap<>();
        for (int i = 0; byMaster.size() < cluster.ports().size()
                || byMaster.values().stream().anyMatch(owned -> owned.size() < perMaster); i++) {
            String channel = prefix + i;
            int port = partitions.getMasterBySlot(SlotHash.getSlot(channel)).getUri().getPort();
            byMaster.computeIfAbsent(port, p -> new ArrayList<>()).add(channel);
        }
        return byMaster;
    }

    private static Partitions partitions() {
        return ClusterPartitionParser.parse(clusterNodes(cluster, cluster.ports().get(0)));
    }

    /** CLUSTER NODES as one node sees it; empty while that node does not answer. */
    private static String clusterNodes(RedisCluster of, int port) {
        try (StatefulRedisConnection<String, String> node = of.nodeClient(inspector, port)) {
            return node.sync().clusterNodes();
        } catch (RuntimeException e) {
            return "";
        }
    }

    private static int ownerPort(int slot) {
        return partitions().getMasterBySlot(slot).getUri().getPort();
    }

    /** Moves an empty slot between masters the way redis-cli --cluster reshard does, one slot at a time. */
    private static void moveSlot(int slot, int fromPort, int toPort) {
        try (StatefulRedisConnection<String, String> from = cluster.nodeClient(inspector, fromPort);
             StatefulRedisConnection<String, String> to = cluster.nodeClient(inspector, toPort)) {
            String fromId = from.sync().clusterMyId();
            String toId = to.sync().clusterMyId();
            to.sync().clusterSetSlotImporting(slot, fromId);
            from.sync().clusterSetSlotMigrating(slot, toId);
            to.sync().clusterSetSlotNode(slot, toId);
            from.sync().clusterSetSlotNode(slot, toId);
        }
    }

    private static Set<String> shardChannelsOn(int port) {
        return shardChannelsOn(cluster, port);
    }

    private static Set<String> shardChannelsOn(RedisCluster of, int port) {
        try (StatefulRedisConnection<String, String> node = of.nodeClient(inspector, port)) {
            return Set.copyOf(node.sync().pubsubShardChannels());
        } catch (RuntimeException e) {
            return Set.of();
        }
    }

    private static long keysOn(int port, String pattern) {
        try (StatefulRedisConnection<String, String> node = cluster.nodeClient(inspector, port)) {
            return node.sync().keys(pattern).size();
        }
    }
}
