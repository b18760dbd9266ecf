package dev.parley.signaling.auth;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Accounts in Redis: a hash per user, a unique username index, and a set of every user ordered by sign-up time.
 * Registration is one script, so a username is never half-taken.
 */
public final class AccountStore {

    /** An account with its stored password hash (null for accounts of external providers). */
    public record StoredAccount(Account account, String passwordHash) {
    }

    // KEYS[1] username index, KEYS[2] user hash, KEYS[3] all users; ARGV: userId, username, displayName, hash, now
    private static final String REGISTER = """
            if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
              redis.call('HSET', KEYS[2], 'username', ARGV[2], 'displayName', ARGV[3], 'passwordHash', ARGV[4],
                         'createdAt', ARGV[5])
              redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
              return 1
            end
            return 0
            """;

    // KEYS[1] user hash, KEYS[2] the user's token generation; ARGV[1] the new hash. One step, so no token can be
    // issued against the old password once the new one is stored. Returns the new generation (0: no such user).
    private static final String REPLACE_PASSWORD = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            redis.call('HSET', KEYS[1], 'passwordHash', ARGV[1])
            return redis.call('INCR', KEYS[2])
            """;

    private static final String ALL_USERS = "parley:users";
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /** A fresh user id; every account, local or from an external provider, gets one of this form. */
    public static String newUserId() {
        byte[] bytes = new byte[10];
        RANDOM.nextBytes(bytes);
        return "u" + java.util.HexFormat.of().formatHex(bytes);
    }

    private final RedisAsyncCommands<String, String> redis;

    public AccountStore(RedisAsyncCommands<String, String> redis) {
        this.redis = redis;
    }

    private static String usernameKey(String username) {
        return "parley:username:" + username;
    }

    private static String userKey(String userId) {
        return "parley:user:" + userId;
    }

    /** Creates the account; fails with username.taken if the name is in use. */
    public CompletionStage<Account> create(Account account, String passwordHash) {
        String[] keys = {usernameKey(account.username()), userKey(account.userId()), ALL_USERS};
        return redis.<Long>eval(REGISTER, ScriptOutputType.INTEGER, keys, account.userId(), account.username(),
                account.displayName(), passwordHash, Long.toString(System.currentTimeMillis())).thenApply(created -> {
            if (created != 1L) {
                throw new ApiException(ErrorCode.USERNAME_TAKEN, "The username '" + account.username()
                        + "' is already taken");
            }
            return account;
        });
    }

    /** Updates what an external provider says about a user: name, email and picture. */
    public CompletionStage<Void> updateProfile(Account account, String email, String pictureUrl) {
        java.util.Map<String, String> fields = new java.util.HashMap<>();
        fields.put("displayName", account.displayName());
        fields.put("email", email == null ? "" : email);
        fields.put("picture", pictureUrl == null ? "" : pictureUrl);
        return redis.hset(userKey(account.userId()), fields).thenApply(r -> null);
    }

    public CompletionStage<Optional<StoredAccount>> findByUsername(String username) {
        return redis.get(usernameKey(username)).thenCompose(userId -> userId == null
                ? CompletableFuture.completedFuture(Optional.empty())
                : findStored(userId));
    }

    /**
     * Stores a new password hash and, in the same step, bumps the user's token generation (every token issued so far
     * becomes invalid). Completes with the new generation.
     */
    public CompletionStage<Long> replacePassword(String userId, String passwordHash, String generationKey) {
        return redis.<Long>eval(REPLACE_PASSWORD, ScriptOutputType.INTEGER,
                new String[]{userKey(userId), generationKey}, passwordHash).thenApply(generation -> {
            if (generation == 0L) {
                throw new ApiException(ErrorCode.NOT_FOUND, "This account no longer exists");
            }
            return generation;
        });
    }

    public CompletionStage<Optional<Account>> findById(String userId) {
        return findStored(userId).thenApply(found -> found.map(StoredAccount::account));
    }

    public CompletionStage<Optional<StoredAccount>> findStored(String userId) {
        return redis.hgetall(userKey(userId)).thenApply(fields -> toStored(userId, fields));
    }

    /** Up to {@code limit} accounts, oldest first. */
    public CompletionStage<List<Account>> list(int limit) {
        return redis.zrange(ALL_USERS, 0, limit - 1).thenCompose(ids -> {
            List<CompletableFuture<Optional<Account>>> lookups = new ArrayList<>();
            for (String id : ids) {
                lookups.add(findById(id).toCompletableFuture());
            }
            return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(done -> lookups.stream()
                    .map(CompletableFuture::join).flatMap(Optional::stream).toList());
        });
    }

    private static Optional<StoredAccount> toStored(String userId, Map<String, String> fields) {
        if (fields == null || fields.isEmpty() || fields.get("username") == null) {
            return Optional.empty();
        }
        Account account = new Account(userId, fields.get("username"), fields.get("displayName"));
        return Optional.of(new StoredAccount(account, fields.get("passwordHash")));
    }

}
