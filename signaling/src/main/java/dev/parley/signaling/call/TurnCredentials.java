package dev.parley.signaling.call;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * ICE servers for clients: TURN URIs with time-limited credentials in the TURN REST API scheme that coturn's
 * {@code use-auth-secret} checks (username {@code expiry:userId}, password base64 HMAC-SHA1 of it with the shared
 * secret).
 */
public final class TurnCredentials {

    private final List<String> uris;
    private final byte[] secret;
    private final Duration lifetime;
    private final Clock clock;

    public TurnCredentials(List<String> uris, String secret, Duration lifetime, Clock clock) {
        this.uris = List.copyOf(uris);
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.lifetime = lifetime;
        this.clock = clock;
    }

    /** The RTCPeerConnection iceServers entries for this user; empty when no TURN server is configured. */
    public List<Map<String, Object>> iceServersFor(String userId) {
        if (uris.isEmpty()) {
            return List.of();
        }
        long expiry = clock.instant().plus(lifetime).getEpochSecond();
        String username = expiry + ":" + userId;
        return List.of(Map.of("urls", uris, "username", username, "credential", sign(username)));
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
