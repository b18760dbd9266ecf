package dev.parley.signaling.auth;

import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.store.RedisConnections;
import dev.parley.signaling.store.RedisEvents;

import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.concurrent.TimeUnit;

/**
 * The operator's command that rotates the token signing key ({@code scripts/rotate-token-key}): a new key signs from
 * now on, the old one still verifies for the rotation window (default: the token lifetime, so nobody is signed out;
 * shorter after a leak), then its tokens are refused. Every gateway on the same Redis picks the new key up at once.
 */
public final class TokenKeyRotation {

    private TokenKeyRotation() {
    }

    public static void main(String[] args) {
        GatewayConfig config;
        Duration window;
        try {
            config = GatewayConfig.load();
            window = args.length == 0 ? config.auth().tokenTtl() : window(args);
        } catch (IllegalArgumentException | GatewayConfig.InvalidConfigException e) {
            System.err.println("rotate-token-key: " + e.getMessage());
            System.exit(2);
            return;
        }
        try (RedisConnections redis = RedisConnections.connect(config.redis())) {
            String previous = SigningKeys.rotate(redis.async(), new RedisEvents(redis), Clock.systemUTC(), window)
                    .toCompletableFuture().get(10, TimeUnit.SECONDS);
            System.out.println("rotated the token signing key; tokens signed with key " + previous
                    + " are accepted for " + window.toString().substring(2).toLowerCase(java.util.Locale.ROOT)
                    + " more");
            System.exit(0);
        } catch (Exception e) {
            System.err.println("rotate-token-key: " + e.getMessage());
            System.exit(1);
        }
    }

    private static Duration window(String[] args) {
        if (args.length != 2 || !args[0].equals("--window")) {
            throw new IllegalArgumentException("usage: rotate-token-key [--window DURATION], e.g. --window 1h "
                    + "(default: parley.auth.token-ttl)");
        }
        String raw = args[1].trim().toUpperCase(java.util.Locale.ROOT);
        try {
            Duration window = raw.endsWith("D") ? Duration.parse("P" + raw) : Duration.parse("PT" + raw);
            if (window.isNegative()) {
                throw new IllegalArgumentException("--window must not be negative");
            }
            return window;
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--window must be a duration such as 0s, 30m, 1h or 7d, got '"
                    + args[1] + "'");
        }
    }
}
