package dev.parley.signaling.block;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.auth.AccountStore;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;

/**
 * Who blocked whom. A block between two people, whichever of them made it, means no new direct chat between them,
 * no messages in the one they have and no calls either way; and the person blocked sees the one who blocked them as
 * offline. Chats in shared meetings are not affected. Stored in Redis as the set of people each user blocked, so
 * every gateway sees a block at once.
 */
public final class Blocks {

    /** How a block stands between two people, seen from the first. */
    public enum Between {
        NONE,
        /** The first blocked the second (perhaps both). */
        BY_ME,
        /** The second blocked the first. */
        BY_THEM
    }

    /** The most people one user may block. */
    public static final int MAX_BLOCKED = 1_000;

    // KEYS[1] my blocks; ARGV[1] their id, ARGV[2] the limit. 1 added, 0 already there, -1 full.
    private static final String ADD = """
            if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
            if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
            redis.call('SADD', KEYS[1], ARGV[1])
            return 1
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final AccountStore accounts;
    private volatile BiConsumer<String, String> onBlocked = (blocker, blocked) -> { };
    private volatile BiConsumer<String, String> onUnblocked = (blocker, blocked) -> { };

    public Blocks(RedisClusterAsyncCommands<String, String> redis, AccountStore accounts) {
        this.redis = redis;
        this.accounts = accounts;
    }

    static String key(String userId) {
        return "parley:user:{" + userId + "}:blocks";
    }

    /** Told after each new block and each block lifted (blocker, blocked), so presence can follow. */
    public void listen(BiConsumer<String, String> blocked, BiConsumer<String, String> unblocked) {
        this.onBlocked = blocked;
        this.onUnblocked = unblocked;
    }

    /** Whether either blocked the other: two reads, each in its own user's slot, asked at once. */
    public CompletionStage<Between> between(String me, String them) {
        return redis.sismember(key(me), them).thenCombine(redis.sismember(key(them), me),
                (mine, theirs) -> mine ? Between.BY_ME : theirs ? Between.BY_THEM : Between.NONE);
    }

    /** Refuses, with {@code blocked}, anything between two people when either blocked the other. */
    public CompletionStage<Void> requireNone(String me, String them) {
        return between(me, them).thenAccept(found -> {
            switch (found) {
                case BY_ME -> throw new ApiException(ErrorCode.BLOCKED,
                        "You blocked this person; unblock them to chat or call");
                case BY_THEM -> throw new ApiException(ErrorCode.BLOCKED,
                        "This person is not taking chats or calls from you");
                default -> { }
            }
        });
    }

    /** Those of {@code candidates} who did not block {@code viewer}, in the order given. */
    public CompletionStage<List<String>> notBlocking(String viewer, List<String> candidates) {
        if (candidates.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        List<CompletableFuture<Boolean>> checks = new ArrayList<>(candidates.size());
        for (String candidate : candidates) {
            checks.add(redis.sismember(key(candidate), viewer).toCompletableFuture());
        }
        return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<String> kept = new ArrayList<>(candidates.size());
            for (int i = 0; i < candidates.size(); i++) {
                if (!checks.get(i).join()) {
                    kept.add(candidates.get(i));
                }
            }
            return kept;
        });
    }

    public CompletionStage<Void> block(String me, String them) {
        if (me.equals(them)) {
            throw ApiException.badRequest("userId must be someone else's: you cannot block yourself");
        }
        return accounts.findById(them).thenCompose(found -> {
            if (found.isEmpty()) {
                throw new ApiException(ErrorCode.NOT_FOUND, "No such user");
            }
            return redis.<Long>eval(ADD, ScriptOutputType.INTEGER, new String[]{key(me)}, them,
                    Integer.toString(MAX_BLOCKED));
        }).thenAccept(added -> {
            if (added == -1L) {
                throw ApiException.badRequest("You have blocked " + MAX_BLOCKED + " people, the most allowed");
            }
            if (added == 1L) {
                onBlocked.accept(me, them);
            }
        });
    }

    public CompletionStage<Void> unblock(String me, String them) {
        return redis.srem(key(me), them).thenAccept(removed -> {
            if (removed > 0) {
                onUnblocked.accept(me, them);
            }
        });
    }

    /** The people this user blocked, by name. */
    public CompletionStage<List<Account>> blockedBy(String me) {
        return redis.smembers(key(me)).thenCompose(ids -> {
            List<CompletableFuture<Optional<Account>>> lookups = ids.stream()
                    .map(id -> accounts.findById(id).toCompletableFuture()).toList();
            return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(done ->
                    lookups.stream().map(CompletableFuture::join).flatMap(Optional::stream)
                            .sorted(Comparator.comparing(Account::displayName, String.CASE_INSENSITIVE_ORDER))
                            .toList());
        });
    }
}
