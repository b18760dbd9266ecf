package dev.parley.signaling.store;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Moves the keys of installs older than schema 2 to their hash-tagged names, so that every key of one user or one
 * meeting lands in one Redis Cluster slot: {@code parley:meeting:m1:chat} becomes {@code parley:meeting:{m1}:chat},
 * {@code parley:user:u1:meetings} becomes {@code parley:user:{u1}:meetings}, a user's token generation moves beside
 * their other keys, and an invite link's hash moves into its meeting's slot, leaving at the old name a pointer from
 * the token to the meeting that expires with the link.
 * <p>
 * Runs once, at a gateway's start, before it serves anyone, on a standalone or Sentinel Redis (a cluster install never
 * had the old names). Each key moves in one script, so gateways starting side by side can all run it: a key is moved
 * by whichever gets to it first, and a gateway serves only after its own pass found no old key left. Gateways of the
 * older version must be stopped first: they would keep writing old names.
 */
public final class KeyMigration {

    private static final Logger log = LoggerFactory.getLogger(KeyMigration.class);

    /** Holds the schema version this data is in; absent before version 2. */
    static final String SCHEMA_KEY = "parley:schema";
    static final int SCHEMA = 2;

    private static final int BATCH = 500;
    private static final long STEP_TIMEOUT_SECONDS = 30;

    private static final List<String> PATTERNS = List.of("parley:meeting:*", "parley:user:*", "parley:invite:*",
            "parley:auth:generation:*", "parley:call-owner:*", "parley:call-view:*");

    /** Old name and the new one, the id group in braces. */
    private record Rule(Pattern old, String replacement) {
    }

    private static final String ID = "([^:{}]+)";

    private static final List<Rule> RULES = List.of(
            new Rule(Pattern.compile("parley:meeting:" + ID + "(:(?!invite:).*)?"), "parley:meeting:{$1}$2"),
            new Rule(Pattern.compile("parley:user:" + ID + "(:(?:meetings|search|calls))?"), "parley:user:{$1}$2"),
            new Rule(Pattern.compile("parley:auth:generation:" + ID), "parley:user:{$1}:generation"),
            new Rule(Pattern.compile("parley:call-(owner|view):" + ID), "parley:call-$1:{$2}"));

    private static final Pattern INVITE = Pattern.compile("parley:invite:" + ID);

    // KEYS[1] old name, KEYS[2] new name. 1 moved, 0 gone already, -1 both exist (left for the operator).
    private static final String MOVE = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
            redis.call('RENAME', KEYS[1], KEYS[2])
            return 1
            """;

    // KEYS[1] an invite link's old hash; ARGV[1] its token. Moves the hash into its meeting's slot and leaves a
    // pointer to the meeting, living as long as the link. 1 moved, 0 nothing to move (a pointer already).
    private static final String MOVE_INVITE = """
            if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
            local meetingId = redis.call('HGET', KEYS[1], 'meetingId')
            if not meetingId then return 0 end
            local ttl = redis.call('PTTL', KEYS[1])
            redis.call('RENAME', KEYS[1], 'parley:meeting:{' .. meetingId .. '}:invite:' .. ARGV[1])
            if ttl > 0 then
              redis.call('SET', KEYS[1], meetingId, 'PX', ttl)
            else
              redis.call('SET', KEYS[1], meetingId)
            end
            return 1
            """;

    private KeyMigration() {
    }

    /** The key's schema-2 name, if it is a schema-1 name that moves by a plain rename. */
    static Optional<String> newName(String key) {
        for (Rule rule : RULES) {
            Matcher matcher = rule.old().matcher(key);
            if (matcher.matches()) {
                return Optional.of(matcher.replaceFirst(rule.replacement()));
            }
        }
        return Optional.empty();
    }

    /**
     * Brings the data to schema 2 unless it is there; completes when done. Blocks the caller (start-up only), each
     * step bounded by a timeout. Returns how many keys moved.
     */
    public static long toHashTags(RedisClusterAsyncCommands<String, String> redis) throws Exception {
        String schema = redis.get(SCHEMA_KEY).get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (schema != null && Integer.parseInt(schema) >= SCHEMA) {
            return 0;
        }
        long moved = 0;
        long conflicts = 0;
        for (String pattern : PATTERNS) {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches(pattern).limit(BATCH))
                        .get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                List<CompletableFuture<Long>> steps = new ArrayList<>();
                for (String key : page.getKeys()) {
                    Optional<String> renamed = newName(key);
                    if (renamed.isPresent()) {
                        steps.add(redis.<Long>eval(MOVE, ScriptOutputType.INTEGER, new String[]{key, renamed.get()})
                                .toCompletableFuture());
                    } else {
                        Matcher invite = INVITE.matcher(key);
                        if (invite.matches()) {
                            steps.add(redis.<Long>eval(MOVE_INVITE, ScriptOutputType.INTEGER, new String[]{key},
                                    invite.group(1)).toCompletableFuture());
                        }
                    }
                }
                CompletableFuture.allOf(steps.toArray(CompletableFuture[]::new))
                        .get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                for (CompletableFuture<Long> step : steps) {
                    long result = step.join();
                    moved += result == 1L ? 1 : 0;
                    conflicts += result == -1L ? 1 : 0;
                }
                cursor = page;
            } while (!cursor.isFinished());
        }
        if (conflicts > 0) {
            // Both names exist only if an older gateway wrote after a newer one moved the key: say so, move on.
            log.warn("{} keys exist under both their old and their hash-tagged names; the old ones were left in place"
                    + " (was a gateway of an older version still running?)", conflicts);
        }
        redis.set(SCHEMA_KEY, Integer.toString(SCHEMA)).get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (moved > 0) {
            log.info("moved {} Redis keys to their hash-tagged names (schema {})", moved, SCHEMA);
        }
        return moved;
    }
}
