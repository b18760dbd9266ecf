package dev.parley.signaling.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Signed, expiring session tokens (HS256 JWTs). The signing key is created once and kept in Redis, so every gateway
 * sharing that Redis accepts the same tokens and they survive restarts. Logout revokes a token by its id until the
 * moment it would have expired anyway.
 */
public final class TokenService {

    /** What a valid token says. */
    public record TokenClaims(String userId, String tokenId, Instant expiresAt) {
    }

    private static final String KEY = "parley:auth:token-key";
    private static final String ISSUER = "parley";

    private final RedisAsyncCommands<String, String> redis;
    private final Duration ttl;
    private final Clock clock;
    private final MACSigner signer;
    private final MACVerifier verifier;

    private TokenService(RedisAsyncCommands<String, String> redis, Duration ttl, Clock clock, byte[] secret)
            throws JOSEException {
        this.redis = redis;
        this.ttl = ttl;
        this.clock = clock;
        this.signer = new MACSigner(secret);
        this.verifier = new MACVerifier(secret);
    }

    /** Loads the shared signing key from Redis, creating it on the very first start. Called once at start-up. */
    public static TokenService create(RedisAsyncCommands<String, String> redis, Duration ttl, Clock clock)
            throws ExecutionException, InterruptedException, TimeoutException, JOSEException {
        byte[] fresh = new byte[32];
        new SecureRandom().nextBytes(fresh);
        redis.set(KEY, Base64.getEncoder().encodeToString(fresh), SetArgs.Builder.nx()).get(10, TimeUnit.SECONDS);
        String stored = redis.get(KEY).get(10, TimeUnit.SECONDS);
        return new TokenService(redis, ttl, clock, Base64.getDecoder().decode(stored));
    }

    public String issue(String userId) {
        Instant now = clock.instant();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject(userId)
                .jwtID(UUID.randomUUID().toString())
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a session token", e);
        }
        return jwt.serialize();
    }

    /** Completes with the claims of a well-signed, unexpired, unrevoked token, or empty for anything else. */
    public CompletionStage<Optional<TokenClaims>> verify(String token) {
        Optional<TokenClaims> claims = parse(token);
        if (claims.isEmpty()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return redis.exists(revokedKey(claims.get().tokenId()))
                .thenApply(revoked -> revoked > 0 ? Optional.<TokenClaims>empty() : claims);
    }

    /** Revokes the token until it would have expired. */
    public CompletionStage<Void> revoke(TokenClaims claims) {
        long remaining = Duration.between(clock.instant(), claims.expiresAt()).toMillis();
        if (remaining <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return redis.set(revokedKey(claims.tokenId()), "1", SetArgs.Builder.px(remaining)).thenApply(ok -> null);
    }

    private Optional<TokenClaims> parse(String token) {
        if (token == null || token.length() > 4096) {
            return Optional.empty();
        }
        try {
            SignedJWT jwt = SignedJWT.parse(token);
            if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm()) || !jwt.verify(verifier)) {
                return Optional.empty();
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            Date expiry = claims.getExpirationTime();
            if (!ISSUER.equals(claims.getIssuer()) || expiry == null || claims.getSubject() == null
                    || claims.getJWTID() == null || !expiry.toInstant().isAfter(clock.instant())) {
                return Optional.empty();
            }
            return Optional.of(new TokenClaims(claims.getSubject(), claims.getJWTID(), expiry.toInstant()));
        } catch (ParseException | JOSEException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String revokedKey(String tokenId) {
        return "parley:auth:revoked:" + tokenId;
    }
}
