package dev.parley.signaling.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import dev.parley.signaling.store.RedisEvents;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The keys session tokens are signed with, shared by every gateway through one Redis hash: the current key, which
 * signs, and after a rotation the previous one, which still verifies until the end of the rotation window. A rotation
 * (by {@link TokenKeyRotation}) is announced on {@link #CHANNEL}; gateways also re-read the hash when a token names a
 * key they do not know, and every {@link #RELOAD_INTERVAL} in case an announcement was missed.
 */
public final class SigningKeys {

    /** One key: its id (the token's {@code kid}), and the signer and verifier made from its secret. */
    record Key(String kid, MACSigner signer, MACVerifier verifier) {
    }

    /** What this gateway currently knows; replaced as a whole, never changed. */
    private record KeySet(Key current, Key previous, Instant previousUntil) {
    }

    /** Where rotations are announced. */
    public static final String CHANNEL = "parley:auth:signing-keys";
    /** The safety net for a missed announcement: a gateway re-reads the keys at least this often. */
    public static final Duration RELOAD_INTERVAL = Duration.ofSeconds(30);
    /** Tokens issued before keys had ids carry none; they are checked against the key that was there then. */
    static final String FIRST_KID = "k0";

    static final String HASH = "parley:auth:signing-keys";
    /** The single key of versions before rotation; it becomes the first key so their tokens stay valid. */
    private static final String LEGACY_KEY = "parley:auth:token-key";
    /** An unknown kid re-reads Redis at most this often, so forged kids cannot turn every request into a read. */
    private static final long MIN_RELOAD_GAP_NANOS = TimeUnit.SECONDS.toNanos(1);

    // KEYS[1] the hash; ARGV[1] kid, ARGV[2] its secret. Creates the first key once.
    private static final String INIT = """
            if redis.call('HEXISTS', KEYS[1], 'current') == 0 then
              redis.call('HSET', KEYS[1], 'current', ARGV[1], 'secret:' .. ARGV[1], ARGV[2])
            end
            return 1
            """;

    // KEYS[1] the hash; ARGV[1] new kid, ARGV[2] its secret, ARGV[3] end of the window (epoch ms).
    // The current key becomes the previous one; the one before it is deleted.
    private static final String ROTATE = """
            local current = redis.call('HGET', KEYS[1], 'current')
            if not current then
              return redis.error_reply('no signing key yet: start a gateway once before rotating')
            end
            local previous = redis.call('HGET', KEYS[1], 'previous')
            if previous and previous ~= current then
              redis.call('HDEL', KEYS[1], 'secret:' .. previous)
            end
            redis.call('HSET', KEYS[1], 'previous', current, 'previous-until', ARGV[3], 'current', ARGV[1],
                       'secret:' .. ARGV[1], ARGV[2])
            return current
            """;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final RedisClusterAsyncCommands<String, String> redis;
    private final Clock clock;
    private volatile KeySet keys;
    private volatile long lastReloadNanos;

    private SigningKeys(RedisClusterAsyncCommands<String, String> redis, Clock clock, KeySet keys) {
        this.redis = redis;
        this.clock = clock;
        this.keys = keys;
        this.lastReloadNanos = System.nanoTime();
    }

    /**
     * Reads the keys, creating the first one on the very first start (from the legacy key when there is one). Called
     * once at start-up. The legacy key is read apart from the script, which touches only the hash (one Redis Cluster
     * slot); the script still creates the first key only once, whoever starts first.
     */
    public static SigningKeys load(RedisClusterAsyncCommands<String, String> redis, Clock clock) throws Exception {
        String legacy = redis.get(LEGACY_KEY).get(10, TimeUnit.SECONDS);
        redis.<Long>eval(INIT, ScriptOutputType.INTEGER, new String[]{HASH}, FIRST_KID,
                legacy != null ? legacy : newSecret()).get(10, TimeUnit.SECONDS);
        return new SigningKeys(redis, clock, parse(redis.hgetall(HASH).get(10, TimeUnit.SECONDS)));
    }

    /**
     * Makes a new key current; the current one keeps verifying for {@code window}. Completes with the kid that
     * became the previous key. Used by the operator's rotation command; announced through {@code events}, which
     * publishes the way gateways subscribe (sharded on a Redis Cluster).
     */
    static CompletionStage<String> rotate(RedisClusterAsyncCommands<String, String> redis, RedisEvents events,
                                          Clock clock, Duration window) {
        byte[] id = new byte[6];
        RANDOM.nextBytes(id);
        String kid = "k" + HexFormat.of().formatHex(id);
        String until = Long.toString(clock.instant().plus(window).toEpochMilli());
        return redis.<String>eval(ROTATE, ScriptOutputType.VALUE, new String[]{HASH}, kid, newSecret(), until)
                .thenCompose(previous -> events.publish(CHANNEL, kid).thenApply(n -> previous));
    }

    /** The key new tokens are signed with. */
    Key current() {
        return keys.current();
    }

    /** The key with this id if it may still verify tokens: the current one, or the previous one within its window. */
    Optional<Key> verifying(String kid) {
        KeySet set = keys;
        if (set.current().kid().equals(kid)) {
            return Optional.of(set.current());
        }
        if (set.previous() != null && set.previous().kid().equals(kid) && clock.instant().isBefore(set.previousUntil())) {
            return Optional.of(set.previous());
        }
        return Optional.empty();
    }

    /** Re-reads the keys, unless that was done within the last second (for kids this gateway does not know). */
    CompletionStage<Void> reloadSoon() {
        long now = System.nanoTime();
        if (now - lastReloadNanos < MIN_RELOAD_GAP_NANOS) {
            return CompletableFuture.completedFuture(null);
        }
        return reload();
    }

    /** Re-reads the keys from Redis (after an announced rotation, and periodically). */
    public CompletionStage<Void> reload() {
        lastReloadNanos = System.nanoTime();
        return redis.hgetall(HASH).thenAccept(fields -> {
            if (fields != null && fields.containsKey("current")) {
                keys = parse(fields);
            }
        });
    }

    private static KeySet parse(Map<String, String> fields) {
        Key current = key(fields, fields.get("current"));
        if (current == null) {
            throw new IllegalStateException(HASH + " has no secret for its current key");
        }
        Key previous = key(fields, fields.get("previous"));
        String until = fields.get("previous-until");
        Instant previousUntil = until == null ? Instant.EPOCH : Instant.ofEpochMilli(Long.parseLong(until));
        return new KeySet(current, previous, previousUntil);
    }

    private static Key key(Map<String, String> fields, String kid) {
        String secret = kid == null ? null : fields.get("secret:" + kid);
        if (secret == null) {
            return null;
        }
        byte[] bytes = Base64.getDecoder().decode(secret);
        try {
            return new Key(kid, new MACSigner(bytes), new MACVerifier(bytes));
        } catch (JOSEException e) {
            throw new IllegalStateException("signing key " + kid + " is unusable: " + e.getMessage(), e);
        }
    }

    private static String newSecret() {
        byte[] fresh = new byte[32];
        RANDOM.nextBytes(fresh);
        return Base64.getEncoder().encodeToString(fresh);
    }
}
