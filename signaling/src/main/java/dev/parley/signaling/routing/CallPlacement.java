package dev.parley.signaling.routing;

import dev.parley.signaling.call.CallHosting;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Which gateway (with its embedded media server) hosts each meeting's call, kept in Redis so every gateway sends a
 * meeting's participants to the same conference. Gateways with calls enabled register with their load; a new call
 * goes to the least-loaded live one. The host keeps its claim alive while the call runs; if it dies, the claim
 * expires (or is taken over once the host stops reporting) and the next join starts the call elsewhere.
 */
public final class CallPlacement implements CallHosting {

    private static final String NODES = "parley:media-nodes";

    /** How often a gateway hosting calls reports its load (and so that it is alive). */
    public static final Duration REPORT_INTERVAL = Duration.ofSeconds(1);
    /**
     * A host whose last report is older than this is taken for gone: the next join takes its calls over. Five missed
     * reports, so a Redis failover's pause does not pass for a death; a host that was only slow learns on its next
     * refresh that its claim is gone and moves its calls to the new host.
     */
    static final Duration LIVENESS = Duration.ofSeconds(5);

    // KEYS[1] owner key; ARGV[1] candidate node, ARGV[2] ttl ms. Returns the owner.
    private static final String CLAIM = """
            local owner = redis.call('GET', KEYS[1])
            if owner then return owner end
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            return ARGV[1]
            """;

    // KEYS[1] owner key; ARGV[1] expected owner, ARGV[2] new owner, ARGV[3] ttl ms. Returns the owner.
    private static final String TAKE_OVER = """
            local owner = redis.call('GET', KEYS[1])
            if owner and owner ~= ARGV[1] then return owner end
            redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
            return ARGV[2]
            """;

    // KEYS[1] owner key; ARGV[1] this node, ARGV[2] ttl ms. 1: the claim is this node's (kept alive, or taken again
    // when it was lost with no one else holding it, e.g. to a Redis failover); 0: another node holds it now.
    private static final String REFRESH = """
            local owner = redis.call('GET', KEYS[1])
            if owner and owner ~= ARGV[1] then return 0 end
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            return 1
            """;

    private static final String RELEASE = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
            return 0
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final String nodeId;
    private final Duration ttl;
    private final Clock clock;

    public CallPlacement(RedisClusterAsyncCommands<String, String> redis, String nodeId, Duration ttl, Clock clock) {
        this.redis = redis;
        this.nodeId = nodeId;
        this.ttl = ttl;
        this.clock = clock;
    }

    public String nodeId() {
        return nodeId;
    }

    private static String ownerKey(String meetingId) {
        return "parley:call-owner:{" + meetingId + "}";
    }

    /** Reports this node as a live media host carrying {@code endpoints} endpoints. */
    @Override
    public CompletionStage<Void> register(int endpoints) {
        return redis.hset(NODES, nodeId, endpoints + "|" + clock.millis()).thenApply(r -> null);
    }

    public CompletionStage<Void> unregister() {
        return redis.hdel(NODES, nodeId).thenApply(r -> null);
    }

    /** The node hosting the meeting's call, placing a new call on the least-loaded live node. */
    public CompletionStage<String> hostFor(String meetingId) {
        return redis.hgetall(NODES).thenCompose(nodes -> {
            String candidate = leastLoaded(nodes);
            return redis.<String>eval(CLAIM, ScriptOutputType.VALUE, new String[]{ownerKey(meetingId)}, candidate,
                    Long.toString(ttl.toMillis())).thenCompose(owner -> {
                if (owner.equals(candidate) || isLive(nodes.get(owner))) {
                    return java.util.concurrent.CompletableFuture.completedFuture(owner);
                }
                // The host stopped reporting (crashed): start the call afresh on a live node.
                return redis.<String>eval(TAKE_OVER, ScriptOutputType.VALUE, new String[]{ownerKey(meetingId)},
                        owner, candidate, Long.toString(ttl.toMillis()));
            });
        });
    }

    /** The node hosting the meeting's call, if one claims it; places nothing. */
    public CompletionStage<java.util.Optional<String>> currentHost(String meetingId) {
        return redis.get(ownerKey(meetingId)).thenApply(java.util.Optional::ofNullable);
    }

    /** Keeps this node's claim on a running call alive; false when another node holds it now. */
    @Override
    public CompletionStage<Boolean> refresh(String meetingId) {
        return redis.<Long>eval(REFRESH, ScriptOutputType.INTEGER, new String[]{ownerKey(meetingId)}, nodeId,
                Long.toString(ttl.toMillis())).thenApply(r -> r == 1L);
    }

    @Override
    public CompletionStage<Boolean> release(String meetingId) {
        return redis.<Long>eval(RELEASE, ScriptOutputType.INTEGER, new String[]{ownerKey(meetingId)}, nodeId)
                .thenApply(r -> r == 1L);
    }

    private static String viewKey(String meetingId) {
        return "parley:call-view:{" + meetingId + "}";
    }

    /** Publishes who is in a running call, for members asking any gateway; lives twice the claim's TTL. */
    @Override
    public CompletionStage<Void> saveView(String meetingId, String viewJson) {
        return redis.set(viewKey(meetingId), viewJson, io.lettuce.core.SetArgs.Builder.px(ttl.toMillis() * 2))
                .thenApply(r -> null);
    }

    @Override
    public CompletionStage<java.util.Optional<String>> view(String meetingId) {
        return redis.get(viewKey(meetingId)).thenApply(java.util.Optional::ofNullable);
    }

    @Override
    public CompletionStage<Void> clearView(String meetingId) {
        return redis.del(viewKey(meetingId)).thenApply(r -> null);
    }

    private String leastLoaded(Map<String, String> nodes) {
        String best = nodeId;
        long bestLoad = nodes.containsKey(nodeId) ? load(nodes.get(nodeId)) : Long.MAX_VALUE;
        for (Map.Entry<String, String> node : nodes.entrySet()) {
            if (isLive(node.getValue()) && load(node.getValue()) < bestLoad) {
                best = node.getKey();
                bestLoad = load(node.getValue());
            }
        }
        return best;
    }

    private boolean isLive(String entry) {
        if (entry == null) {
            return false;
        }
        long reportedAt = Long.parseLong(entry.substring(entry.indexOf('|') + 1));
        return clock.millis() - reportedAt < LIVENESS.toMillis();
    }

    private static long load(String entry) {
        return Long.parseLong(entry.substring(0, entry.indexOf('|')));
    }
}
