package dev.parley.signaling.call;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.store.RedisRateLimit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * ICE servers for call participants: TURN URIs with time-limited credentials in the TURN REST API scheme that coturn's
 * {@code use-auth-secret} checks (username {@code expiry:userId}, password base64 HMAC-SHA1 of it with the shared
 * secret).
 *
 * <p>The expiry is rounded up to a multiple of the lifetime, so a credential is valid for one to two lifetimes and
 * every credential one user gets within one lifetime-long window has the same username: coturn's {@code user-quota}
 * (allocations per username) then limits the user, not each credential. coturn checks the expiry only when an
 * allocation is created; refreshes and permissions of an existing allocation keep working after it, so a call never
 * loses its relay to expiry (TurnServerConfigTest shows this with the real coturn).
 */
public final class TurnCredentials {

    private final List<String> uris;
    private final byte[] secret;
    private final long lifetimeSeconds;
    private final Clock clock;
    private final RedisRateLimit issuing;
    private final GatewayMetrics metrics;

    /** @param issuing how many credentials one user may be handed per window */
    public TurnCredentials(List<String> uris, String secret, Duration lifetime, Clock clock, RedisRateLimit issuing,
                           GatewayMetrics metrics) {
        this.uris = List.copyOf(uris);
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.lifetimeSeconds = Math.max(1, lifetime.toSeconds());
        this.clock = clock;
        this.issuing = issuing;
        this.metrics = metrics;
    }

    /** Counts one credential for {@code userId}; fails with rate_limited beyond the allowance (nothing without TURN). */
    public CompletionStage<Void> admit(String userId) {
        return admit(userId, "You have joined calls too often");
    }

    /** As {@link #admit(String)}, the refusal starting with {@code refusal}. */
    public CompletionStage<Void> admit(String userId, String refusal) {
        if (uris.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return issuing.tryAcquire(userId).thenApply(allowed -> {
            if (!allowed) {
                throw new ApiException(ErrorCode.RATE_LIMITED, refusal + "; try again within "
                        + Math.max(1, issuing.window().toMinutes()) + " minutes");
            }
            return null;
        });
    }

    /** The RTCPeerConnection iceServers entries for this user; empty when no TURN server is configured. */
    public List<Map<String, Object>> iceServersFor(String userId) {
        if (uris.isEmpty()) {
            return List.of();
        }
        String username = usernameAt(clock.instant().getEpochSecond(), userId);
        metrics.turnCredentialsIssued();
        return List.of(Map.of("urls", uris, "username", username, "credential", sign(username)));
    }

    /** {@code expiry:userId}, the expiry at least one lifetime after {@code now}, rounded up to a multiple of it. */
    String usernameAt(long nowSeconds, String userId) {
        long expiry = Math.floorDiv(nowSeconds + 2 * lifetimeSeconds - 1, lifetimeSeconds) * lifetimeSeconds;
        return expiry + ":" + userId;
    }

    String sign(String username) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret, "HmacSHA1"));
            return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 is not available", e);
        }
    }
}
