package dev.parley.signaling.auth;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * Counts failed logins per username and per client address in Redis (so the limit holds across gateways) and
 * refuses further attempts once either count reaches its limit within the window.
 */
public final class LoginThrottle {

    // KEYS: counters; ARGV[1] window ms. Increments each and starts its window on the first failure.
    private static final String RECORD_FAILURE = """
            for i, key in ipairs(KEYS) do
              if redis.call('INCR', key) == 1 then
                redis.call('PEXPIRE', key, ARGV[1])
              end
            end
            return 1
            """;

    private final RedisAsyncCommands<String, String> redis;
    private final int maxPerUser;
    private final int maxPerAddress;
    private final Duration window;

    public LoginThrottle(RedisAsyncCommands<String, String> redis, int maxPerUser, int maxPerAddress,
                         Duration window) {
        this.redis = redis;
        this.maxPerUser = maxPerUser;
        this.maxPerAddress = maxPerAddress;
        this.window = window;
    }

    /** Completes with true when this username or address has failed too often recently. */
    public CompletionStage<Boolean> isBlocked(String username, String address) {
        return redis.mget(userKey(username), addressKey(address)).thenApply(values ->
                count(values.get(0).getValueOrElse(null)) >= maxPerUser
                        || count(values.get(1).getValueOrElse(null)) >= maxPerAddress);
    }

    public CompletionStage<Void> recordFailure(String username, String address) {
        String[] keys = {userKey(username), addressKey(address)};
        return redis.<Long>eval(RECORD_FAILURE, ScriptOutputType.INTEGER, keys, Long.toString(window.toMillis()))
                .thenApply(r -> null);
    }

    /** A successful login clears the username's count (not the address's: one address may try many names). */
    public CompletionStage<Void> recordSuccess(String username) {
        return redis.del(userKey(username)).thenApply(r -> null);
    }

    public Duration window() {
        return window;
    }

    private static long count(String value) {
        return value == null ? 0 : Long.parseLong(value);
    }

    private static String userKey(String username) {
        return "parley:login-failures:user:" + username;
    }

    private static String addressKey(String address) {
        return "parley:login-failures:addr:" + address;
    }
}
