package dev.parley.signaling.medianode;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The media nodes registered in Redis: one hash per node that expires unless the node reports again within its ttl,
 * and a set of their ids. Both keys share the hash tag {@code {media-nodes}}, so the scripts touch one slot.
 */
public final class MediaNodeRegistry {

    static final String IDS = "parley:{media-nodes}:ids";

    // KEYS[1] the node's hash, KEYS[2] the id set; ARGV[1] ttl ms, ARGV[2] id, ARGV[3..] field, value, ...
    private static final String REPORT = """
            redis.call('DEL', KEYS[1])
            redis.call('HSET', KEYS[1], unpack(ARGV, 3))
            redis.call('PEXPIRE', KEYS[1], ARGV[1])
            redis.call('SADD', KEYS[2], ARGV[2])
            return 1
            """;

    // KEYS[1] the node's hash, KEYS[2] the id set; ARGV[1] id. Drops the id only if the hash is still gone.
    private static final String PRUNE = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], ARGV[1]) end
            return 0
            """;

    private final RedisClusterAsyncCommands<String, String> redis;

    public MediaNodeRegistry(RedisClusterAsyncCommands<String, String> redis) {
        this.redis = redis;
    }

    static String nodeKey(String id) {
        return "parley:{media-nodes}:node:" + id;
    }

    /** Writes the node's report; it stays visible for {@code ttl} unless written again. */
    public CompletionStage<Void> report(MediaNodeReport report, Duration ttl) {
        List<String> args = new ArrayList<>(List.of(Long.toString(ttl.toMillis()), report.id()));
        report.toHash().forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        return redis.<Long>eval(REPORT, ScriptOutputType.INTEGER, new String[]{nodeKey(report.id()), IDS},
                args.toArray(String[]::new)).thenApply(r -> null);
    }

    /** Takes the node out at once (its clean exit). */
    public CompletionStage<Void> remove(String id) {
        return redis.del(nodeKey(id)).thenCompose(n -> redis.srem(IDS, id)).thenApply(n -> null);
    }

    /** Every node whose registration has not expired, draining ones included; ids whose hash expired are pruned. */
    public CompletionStage<List<MediaNodeReport>> nodes() {
        return redis.smembers(IDS).thenCompose(ids -> {
            List<String> ordered = new ArrayList<>(ids);
            List<CompletableFuture<Map<String, String>>> reads = ordered.stream()
                    .map(id -> redis.hgetall(nodeKey(id)).toCompletableFuture()).toList();
            return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(done -> {
                List<MediaNodeReport> nodes = new ArrayList<>();
                for (int i = 0; i < ordered.size(); i++) {
                    Map<String, String> hash = reads.get(i).join();
                    MediaNodeReport report = hash.isEmpty() ? null : MediaNodeReport.fromHash(hash);
                    if (hash.isEmpty()) {
                        // Expired: the node stopped reporting.
                        String id = ordered.get(i);
                        redis.eval(PRUNE, ScriptOutputType.INTEGER, new String[]{nodeKey(id), IDS}, id);
                    }
                    if (report != null) {
                        nodes.add(report);
                    }
                }
                return nodes;
            });
        });
    }
}
