package dev.parley.signaling.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.parley.signaling.store.RedisEvents;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Signed, expiring session tokens (HS256 JWTs, keys from {@link SigningKeys}). Each token carries its user's token
 * generation: bumping it ("sign out everywhere", a password change) invalidates every older token at once, on every
 * gateway, because each verify compares it with the one in Redis. Logout revokes a single token by its id. Every
 * revocation is announced on {@link #REVOCATIONS}, so the gateway holding a socket opened with that token closes it.
 */
public final class TokenService {

    /** How a user signed in: a token from Firebase lives no longer than the Firebase sign-in it came from. */
    public enum Provider { LOCAL, FIREBASE }

    /** What a valid token says. */
    public record TokenClaims(String userId, String tokenId, long generation, Instant expiresAt, Provider provider) {
    }

    /** A freshly issued token and its claims. */
    public record Issued(String token, TokenClaims claims) {
    }

    /**
     * A revocation as announced to every gateway: one token ({@code tokenId}), or every token of the user below
     * {@code minGeneration}, except on the socket of session {@code keepSessionId} (the caller of a password change).
     */
    public record Revocation(String userId, String tokenId, long minGeneration, String keepSessionId) {

        /** Whether a socket opened with these claims, in this session, must close. */
        public boolean ends(TokenClaims claims, String sessionId) {
            if (!userId.equals(claims.userId())) {
                return false;
            }
            if (tokenId != null) {
                return tokenId.equals(claims.tokenId());
            }
            return claims.generation() < minGeneration && !sessionId.equals(keepSessionId);
        }

        String encode() {
            return userId + "|" + (tokenId == null ? "" : tokenId) + "|" + minGeneration + "|"
                    + (keepSessionId == null ? "" : keepSessionId);
        }

        /** Reads an announcement; empty for anything malformed. */
        public static Optional<Revocation> decode(String text) {
            String[] parts = text.split("\\|", -1);
            if (parts.length != 4 || parts[0].isEmpty()) {
                return Optional.empty();
            }
            try {
                return Optional.of(new Revocation(parts[0], parts[1].isEmpty() ? null : parts[1],
                        Long.parseLong(parts[2]), parts[3].isEmpty() ? null : parts[3]));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
    }

    /** The channel every revocation is announced on. */
    public static final String REVOCATIONS = "parley:auth:revocations";

    private static final String ISSUER = "parley";
    private static final String GENERATION = "gen";
    private static final String PROVIDER = "prv";
    private static final int MAX_TOKEN = 4096;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final RedisEvents events;
    private final SigningKeys keys;
    private final Duration ttl;
    private final Clock clock;

    public TokenService(RedisClusterAsyncCommands<String, String> redis, RedisEvents events, SigningKeys keys, Duration ttl,
                        Clock clock) {
        this.redis = redis;
        this.events = events;
        this.keys = keys;
        this.ttl = ttl;
        this.clock = clock;
    }

    /** A token of the user's current generation, valid for the configured lifetime. */
    public CompletionStage<Issued> issue(String userId) {
        return issue(userId, Provider.LOCAL, null);
    }

    /** A token of the user's current generation that expires at {@code notAfter} at the latest (if not null). */
    public CompletionStage<Issued> issue(String userId, Provider provider, Instant notAfter) {
        return generation(userId).thenApply(generation -> sign(userId, generation, provider, notAfter));
    }

    /** Completes with the claims of a well-signed, unexpired, unrevoked token, or empty for anything else. */
    public CompletionStage<Optional<TokenClaims>> verify(String token) {
        Optional<SignedJWT> jwt = parse(token);
        if (jwt.isEmpty()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        Optional<TokenClaims> claims = verifySignature(jwt.get());
        if (claims.isPresent()) {
            return stillValid(claims.get()).thenApply(valid -> valid ? claims : Optional.empty());
        }
        String kid = kidOf(jwt.get());
        if (keys.verifying(kid).isPresent() || kid.equals(keys.current().kid())) {
            return CompletableFuture.completedFuture(Optional.empty()); // a known key, so a bad signature or claims
        }
        // A kid this gateway has not heard of yet may come from a rotation announced a moment ago.
        return keys.reloadSoon().thenCompose(reloaded -> verifySignature(jwt.get())
                .map(again -> stillValid(again).thenApply(valid -> valid ? Optional.of(again)
                        : Optional.<TokenClaims>empty()))
                .orElseGet(() -> CompletableFuture.completedFuture(Optional.empty())));
    }

    /** Whether a token with these (already verified) claims has not been revoked since; they may be old. */
    public CompletionStage<Boolean> stillValid(TokenClaims claims) {
        if (!claims.expiresAt().isAfter(clock.instant())) {
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Long> revoked = redis.exists(revokedKey(claims.tokenId())).toCompletableFuture();
        CompletableFuture<Long> generation = generation(claims.userId()).toCompletableFuture();
        return revoked.thenCombine(generation, (r, g) -> r == 0 && claims.generation() >= g);
    }

    /** Revokes one token until it would have expired, and closes the socket opened with it. */
    public CompletionStage<Void> revoke(TokenClaims claims) {
        long remaining = Duration.between(clock.instant(), claims.expiresAt()).toMillis();
        if (remaining <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return redis.set(revokedKey(claims.tokenId()), "1", SetArgs.Builder.px(remaining))
                .thenCompose(ok -> announce(new Revocation(claims.userId(), claims.tokenId(), 0, null)));
    }

    /**
     * Revokes every token of the user issued so far and closes their sockets, except the socket of session
     * {@code keepSessionId} (may be null). Completes with the new generation.
     */
    public CompletionStage<Long> revokeAll(String userId, String keepSessionId) {
        return redis.incr(generationKey(userId)).thenCompose(generation ->
                announceGeneration(userId, generation, keepSessionId).thenApply(done -> generation));
    }

    /** Closes the sockets of tokens below this generation, which was bumped elsewhere (a password change). */
    public CompletionStage<Void> announceGeneration(String userId, long generation, String keepSessionId) {
        return announce(new Revocation(userId, null, generation, keepSessionId));
    }

    /** A token of exactly this generation (after {@link #revokeAll}, for the caller who keeps signed in). */
    public Issued issueForGeneration(String userId, long generation) {
        return sign(userId, generation, Provider.LOCAL, null);
    }

    private CompletionStage<Void> announce(Revocation revocation) {
        return events.publish(REVOCATIONS, revocation.encode()).thenApply(n -> null);
    }

    private CompletionStage<Long> generation(String userId) {
        return redis.get(generationKey(userId)).thenApply(value -> value == null ? 0L : Long.parseLong(value));
    }

    private Issued sign(String userId, long generation, Provider provider, Instant notAfter) {
        Instant now = clock.instant();
        Instant expiry = now.plus(ttl);
        if (notAfter != null && notAfter.isBefore(expiry)) {
            expiry = notAfter;
        }
        String tokenId = UUID.randomUUID().toString();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject(userId)
                .jwtID(tokenId)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(expiry))
                .claim(GENERATION, generation)
                .claim(PROVIDER, provider.name().toLowerCase(java.util.Locale.ROOT))
                .build();
        SigningKeys.Key key = keys.current();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(key.kid()).build(), claims);
        try {
            jwt.sign(key.signer());
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a session token", e);
        }
        // The expiry as the token carries it: whole seconds.
        Instant carried = Instant.ofEpochSecond(expiry.getEpochSecond());
        return new Issued(jwt.serialize(), new TokenClaims(userId, tokenId, generation, carried, provider));
    }

    private static Optional<SignedJWT> parse(String token) {
        if (token == null || token.length() > MAX_TOKEN) {
            return Optional.empty();
        }
        try {
            SignedJWT jwt = SignedJWT.parse(token);
            return JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm()) ? Optional.of(jwt) : Optional.empty();
        } catch (ParseException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String kidOf(SignedJWT jwt) {
        String kid = jwt.getHeader().getKeyID();
        return kid == null ? SigningKeys.FIRST_KID : kid;
    }

    private Optional<TokenClaims> verifySignature(SignedJWT jwt) {
        Optional<SigningKeys.Key> key = keys.verifying(kidOf(jwt));
        if (key.isEmpty()) {
            return Optional.empty();
        }
        try {
            if (!jwt.verify(key.get().verifier())) {
                return Optional.empty();
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            Date expiry = claims.getExpirationTime();
            if (!ISSUER.equals(claims.getIssuer()) || expiry == null || claims.getSubject() == null
                    || claims.getJWTID() == null || !expiry.toInstant().isAfter(clock.instant())) {
                return Optional.empty();
            }
            Long generation = claims.getLongClaim(GENERATION);
            Provider provider = "firebase".equals(claims.getStringClaim(PROVIDER)) ? Provider.FIREBASE : Provider.LOCAL;
            return Optional.of(new TokenClaims(claims.getSubject(), claims.getJWTID(),
                    generation == null ? 0 : generation, expiry.toInstant(), provider));
        } catch (ParseException | JOSEException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String revokedKey(String tokenId) {
        return "parley:auth:revoked:" + tokenId;
    }

    /** The Redis key of a user's token generation (a counter; absent means 0), beside the user's other keys. */
    public static String generationKey(String userId) {
        return "parley:user:{" + userId + "}:generation";
    }
}
