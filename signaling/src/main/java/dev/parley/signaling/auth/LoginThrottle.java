package dev.parley.signaling.auth;

import dev.parley.signaling.config.GatewayConfig;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Slows password guessing without letting anyone lock an owner out, with counts in Redis so the limits hold across
 * gateways. Every attempt is counted, atomically and before the password is checked, as a failure; a success takes it
 * back. Three limits, checked in one script:
 * <ul>
 *   <li>per username and client address: {@code backoff-after} attempts freely, then each further one only after
 *   {@code backoff-base} × 2^k (k = 0, 1, ...), at most {@code backoff-max}; a success resets it;</li>
 *   <li>per client address ({@link AddressBucket}: IPv6 per /64), across usernames: {@code max-failures-per-address}
 *   per {@code failure-window};</li>
 *   <li>per username, across addresses the user has not signed in from within {@link #KNOWN_ADDRESS_TTL}:
 *   {@code max-failures-per-user} per {@code failure-window}. Addresses the owner signed in from are exempt, so a
 *   distributed attack slows guessing but does not lock the owner out of their usual places.</li>
 * </ul>
 */
public final class LoginThrottle {

    /** How long an address a user signed in from stays exempt from that user's across-addresses limit. */
    public static final Duration KNOWN_ADDRESS_TTL = Duration.ofDays(30);

    /** Which limit refused an attempt; {@code NONE} when it was admitted. */
    public enum Limit { NONE, BACKOFF, ADDRESS, USER }

    /** The answer for one attempt: admitted, or refused by {@code limit} for {@code retryAfter}. */
    public record Admission(Limit limit, Duration retryAfter, boolean countedForUser) {
        public boolean admitted() {
            return limit == Limit.NONE;
        }
    }

    // KEYS[1] the address's counter; ARGV: window ms, max per address. Counts the attempt unless the address is at its
    // limit: 0, or how long until it may try again (ms).
    private static final String ADDRESS_ATTEMPT = """
            if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[2]) then
              return math.max(redis.call('PTTL', KEYS[1]), 1)
            end
            if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
            return 0
            """;

    // KEYS[1] a counter. Takes one count back.
    private static final String GIVE_BACK = """
            if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
            return 1
            """;

    // KEYS: 1 back-off hash (f: attempts, n: next allowed ms) of user+address, 2 user counter, 3 known-address
    // marker, all tagged with the username. ARGV: backoff-after, base ms, max ms, window ms, max per user.
    // Returns {admitted 0/1, retry-after ms, limit, counted for user 0/1}.
    private static final String USER_ATTEMPT = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local after, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
            local window = tonumber(ARGV[4])
            local nextAt = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
            if now < nextAt then return {0, nextAt - now, 'BACKOFF', 0} end
            local known = redis.call('EXISTS', KEYS[3]) == 1
            if not known and tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[5]) then
              return {0, math.max(redis.call('PTTL', KEYS[2]), 1), 'USER', 0}
            end
            local attempts = redis.call('HINCRBY', KEYS[1], 'f', 1)
            local delay = 0
            if attempts >= after then
              delay = math.min(base * 2 ^ math.min(attempts - after, 40), max)
              redis.call('HSET', KEYS[1], 'n', now + delay)
            end
            redis.call('PEXPIRE', KEYS[1], delay + window)
            if known then return {1, 0, 'NONE', 0} end
            if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], window) end
            return {1, 0, 'NONE', 1}
            """;

    // KEYS as for USER_ATTEMPT. ARGV: known ttl ms, counted for user 0/1. The attempt was no failure: take its
    // counts back, and the address is known for the user from now on.
    private static final String USER_SUCCEEDED = """
            redis.call('DEL', KEYS[1])
            if ARGV[2] == '1' and tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
            redis.call('SET', KEYS[3], '1', 'PX', ARGV[1])
            return 1
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final GatewayConfig.LoginLimits limits;

    public LoginThrottle(RedisClusterAsyncCommands<String, String> redis, GatewayConfig.LoginLimits limits) {
        this.redis = redis;
        this.limits = limits;
    }

    /**
     * Counts one attempt by {@code username} from {@code address}, unless a limit refuses it. The address is counted
     * first, then the username (each in its own Redis Cluster slot); when the username's limits refuse, the address's
     * count is taken back, so only admitted attempts count.
     */
    public CompletionStage<Admission> attempt(String username, String address) {
        String addressKey = addressKey(address);
        return redis.<Long>eval(ADDRESS_ATTEMPT, ScriptOutputType.INTEGER, new String[]{addressKey},
                Long.toString(limits.failureWindow().toMillis()), Integer.toString(limits.maxFailuresPerAddress()))
                .thenCompose(wait -> wait > 0
                        ? CompletableFuture.completedFuture(new Admission(Limit.ADDRESS, Duration.ofMillis(wait), false))
                        : redis.<List<Object>>eval(USER_ATTEMPT, ScriptOutputType.MULTI, userKeys(username, address),
                                        Integer.toString(limits.backoffAfter()),
                                        Long.toString(limits.backoffBase().toMillis()),
                                        Long.toString(limits.backoffMax().toMillis()),
                                        Long.toString(limits.failureWindow().toMillis()),
                                        Integer.toString(limits.maxFailuresPerUser()))
                                .thenCompose(result -> {
                                    Admission admission = new Admission(Limit.valueOf((String) result.get(2)),
                                            Duration.ofMillis((Long) result.get(1)), ((Long) result.get(3)) == 1L);
                                    return admission.admitted() ? CompletableFuture.completedFuture(admission)
                                            : giveBack(addressKey).thenApply(done -> admission);
                                }));
    }

    /** The admitted attempt had the right password: it was no failure, and its address is now known for the user. */
    public CompletionStage<Void> succeeded(String username, String address, Admission admission) {
        return redis.<Long>eval(USER_SUCCEEDED, ScriptOutputType.INTEGER, userKeys(username, address),
                        Long.toString(KNOWN_ADDRESS_TTL.toMillis()), admission.countedForUser() ? "1" : "0")
                .thenCompose(done -> giveBack(addressKey(address)));
    }

    private CompletionStage<Void> giveBack(String counter) {
        return redis.<Long>eval(GIVE_BACK, ScriptOutputType.INTEGER, new String[]{counter}).thenApply(r -> null);
    }

    private static String addressKey(String address) {
        return "parley:login:failures:addr:" + AddressBucket.of(address);
    }

    /** The username's keys, sharing its hash tag (an empty name tagged '-', so the tag is never empty). */
    private static String[] userKeys(String username, String address) {
        String bucket = AddressBucket.of(address);
        String user = "parley:login:{" + (username.isEmpty() ? "-" : username) + "}:";
        return new String[]{user + "backoff:" + bucket, user + "failures", user + "known:" + bucket};
    }
}
