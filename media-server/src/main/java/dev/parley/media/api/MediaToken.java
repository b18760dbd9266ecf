package dev.parley.media.api;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Locale;
import java.util.UUID;

/**
 * What a caller of the HTTP API, WHIP or WHEP may do, as a short-lived HS256 JWT signed with the shared
 * {@code auth-secret} (LiveKit's model): one conference ({@code *} only for admin), optionally one endpoint (the
 * publisher's own endpoint, or the publisher a player may play), one grant, and an expiry at most
 * {@link #MAX_LIFETIME} away. Whoever mints it (the gateway, after its own membership check; an operator with
 * {@link MediaTokenMain}) decides; the media server only checks.
 *
 * @param conference the conference id, or {@code *} (admin only: the whole server)
 * @param endpoint the endpoint or publisher id it is limited to, or null
 */
public record MediaToken(String conference, String endpoint, Grant grant, Instant expiry) {
    /** Longest lifetime accepted: a leaked token stops working soon, so none is minted for longer. */
    public static final Duration MAX_LIFETIME = Duration.ofHours(1);
    /** Tolerated clock difference between minter and server. */
    private static final Duration CLOCK_SKEW = Duration.ofSeconds(30);
    private static final String AUDIENCE = "parley-media";

    /** What the holder may do within its conference. */
    public enum Grant {
        /** Publish: WHIP into the conference, or the publish route of its endpoint. */
        PUBLISH,
        /** Play: WHEP of its publisher (or any, without one), or the subscribe routes of its endpoint. */
        PLAY,
        /** Everything in its conference (with {@code *}: every conference, stats, listing). */
        ADMIN;

        static Grant parse(String text) {
            return text == null ? null : switch (text.toLowerCase(Locale.ROOT)) {
                case "publish" -> PUBLISH;
                case "play" -> PLAY;
                case "admin" -> ADMIN;
                default -> null;
            };
        }
    }

    /** A token that is not signed with the secret, malformed, expired or too long-lived. */
    public static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    /** Signs a token for {@code lifetime} (at most {@link #MAX_LIFETIME}). */
    public static String mint(String secret, String conference, String endpoint, Grant grant, Duration lifetime) {
        if (lifetime.isNegative() || lifetime.isZero() || lifetime.compareTo(MAX_LIFETIME) > 0) {
            throw new IllegalArgumentException("lifetime must be positive and at most " + MAX_LIFETIME);
        }
        if ("*".equals(conference) && grant != Grant.ADMIN) {
            throw new IllegalArgumentException("only an admin token may name every conference (*)");
        }
        Instant now = Instant.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().audience(AUDIENCE).jwtID(UUID.randomUUID().toString())
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(lifetime)))
                .claim("conference", conference).claim("grant", grant.name().toLowerCase(Locale.ROOT));
        if (endpoint != null) {
            claims.claim("endpoint", endpoint);
        }
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
            jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalArgumentException("cannot sign with this secret: " + e.getMessage(), e);
        }
    }

    /** Checks the signature, audience, expiry and claims; the token's scope is the result. */
    public static MediaToken verify(String secret, String token, Instant now) throws Invalid {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            throw new Invalid("not a JWT");
        }
        try {
            if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())
                    || !jwt.verify(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8)))) {
                throw new Invalid("bad signature");
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            Date expiry = claims.getExpirationTime();
            Date issued = claims.getIssueTime();
            if (claims.getAudience() == null || !claims.getAudience().contains(AUDIENCE)) {
                throw new Invalid("not a media server token");
            }
            if (expiry == null || issued == null || !expiry.toInstant().isAfter(now.minus(CLOCK_SKEW))) {
                throw new Invalid("expired");
            }
            if (Duration.between(issued.toInstant(), expiry.toInstant()).compareTo(MAX_LIFETIME) > 0
                    || issued.toInstant().isAfter(now.plus(CLOCK_SKEW))) {
                throw new Invalid("lifetime over " + MAX_LIFETIME.toMinutes() + " minutes");
            }
            String conference = claims.getStringClaim("conference");
            Grant grant = Grant.parse(claims.getStringClaim("grant"));
            if (conference == null || conference.isEmpty() || grant == null
                    || "*".equals(conference) && grant != Grant.ADMIN) {
                throw new Invalid("bad claims");
            }
            return new MediaToken(conference, claims.getStringClaim("endpoint"), grant, expiry.toInstant());
        } catch (JOSEException | ParseException e) {
            throw new Invalid("unreadable token");
        }
    }

    /** Whether this token may act with {@code needed} on {@code conference} (and {@code endpoint}, if not null). */
    public boolean allows(Grant needed, String conferenceId, String endpointId) {
        if (grant == Grant.ADMIN) {
            return conference.equals("*") || conference.equals(conferenceId);
        }
        return grant == needed && conference.equals(conferenceId)
                && (endpoint == null || endpointId == null || endpoint.equals(endpointId));
    }
}
