package dev.parley.signaling.session;

import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.auth.TokenService;
import dev.parley.signaling.auth.TokenService.Revocation;
import dev.parley.signaling.auth.TokenService.TokenClaims;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.protocol.ClientMessage;
import dev.parley.signaling.store.RedisEvents;
import dev.parley.signaling.ws.Capability;
import dev.parley.signaling.ws.CloseCodes;
import dev.parley.signaling.ws.Connection;
import dev.parley.signaling.ws.ConnectionListener;
import dev.parley.signaling.ws.LiveSessions;
import dev.parley.signaling.ws.MessageDispatcher;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A socket lives no longer than the token it signed in with: it is closed (4410) when that token expires, unless the
 * client renewed it first ({@code session.renew}), and as soon as the token is revoked, on whichever gateway the
 * revocation happened (announced on {@link TokenService#REVOCATIONS}).
 */
public final class TokenLifetime implements Capability, ConnectionListener {

    private static final Logger log = LoggerFactory.getLogger(TokenLifetime.class);
    /** The claims of the token a connection signed in with; set by the hello before the connection goes live. */
    public static final AttributeKey<TokenClaims> CLAIMS = AttributeKey.valueOf("parley.token");
    private static final AttributeKey<ScheduledFuture<?>> EXPIRY = AttributeKey.valueOf("parley.token.expiry");

    private final AuthService auth;
    private final TokenService tokens;
    private final LiveSessions sessions;
    private final GatewayMetrics metrics;
    private final Clock clock;

    public TokenLifetime(AuthService auth, TokenService tokens, LiveSessions sessions, RedisEvents events,
                         GatewayMetrics metrics, Clock clock) {
        this.auth = auth;
        this.tokens = tokens;
        this.sessions = sessions;
        this.metrics = metrics;
        this.clock = clock;
        events.subscribe(TokenService.REVOCATIONS, text -> Revocation.decode(text).ifPresent(this::revoked));
    }

    @Override
    public void register(MessageDispatcher dispatcher) {
        dispatcher.on(ClientMessage.SessionRenew.class, this::renew).listen(this);
    }

    @Override
    public void live(Connection connection) {
        TokenClaims claims = connection.attr(CLAIMS).get();
        if (claims == null) {
            return;
        }
        scheduleExpiry(connection, claims);
        // A revocation announced between the hello's check and now found no socket to close: check once more.
        tokens.stillValid(claims).whenComplete((valid, failure) -> {
            if (failure == null && !valid) {
                connection.executor().execute(() -> {
                    if (connection.attr(CLAIMS).get() == claims) {
                        signOut(connection, false, "You were signed out; sign in again");
                    }
                });
            }
        });
    }

    @Override
    public CompletableFuture<Void> ending(Connection connection) {
        ScheduledFuture<?> expiry = connection.attr(EXPIRY).getAndSet(null);
        if (expiry != null) {
            expiry.cancel(false);
        }
        return CompletableFuture.completedFuture(null);
    }

    private void renew(Connection connection, ClientMessage.SessionRenew renew, String re) {
        String userId = connection.userId();
        connection.answerWith(re, () -> auth.authenticateSession(renew.token()).thenApply(signedIn -> {
            if (!signedIn.account().userId().equals(userId)) {
                throw new ApiException(ErrorCode.FORBIDDEN, "session.renew needs a token of the signed-in user");
            }
            connection.executor().execute(() -> {
                if (connection.isLive()) {
                    connection.attr(CLAIMS).set(signedIn.claims());
                    scheduleExpiry(connection, signedIn.claims());
                }
            });
            return null;
        }));
    }

    private void scheduleExpiry(Connection connection, TokenClaims claims) {
        ScheduledFuture<?> previous = connection.attr(EXPIRY).getAndSet(null);
        if (previous != null) {
            previous.cancel(false);
        }
        long millis = Math.max(0, Duration.between(clock.instant(), claims.expiresAt()).toMillis());
        connection.attr(EXPIRY).set(connection.executor().schedule(() -> {
            if (connection.isLive() && connection.attr(CLAIMS).get() == claims) {
                signOut(connection, true, claims.provider() == TokenService.Provider.FIREBASE
                        ? "Your sign-in has expired (it could not be renewed with Firebase); sign in again"
                        : "Your sign-in has expired; sign in again");
            }
        }, millis, TimeUnit.MILLISECONDS));
    }

    /** Runs on Redis's thread: each of the user's sockets here checks the revocation on its own event loop. */
    private void revoked(Revocation revocation) {
        for (Connection connection : sessions.ofUser(revocation.userId())) {
            connection.executor().execute(() -> {
                TokenClaims claims = connection.attr(CLAIMS).get();
                if (!connection.isLive() || claims == null) {
                    return;
                }
                if (revocation.ends(claims, connection.sessionId())) {
                    signOut(connection, false, revocation.tokenId() != null
                            ? "You signed out; sign in again"
                            : "You were signed out everywhere (or your password was changed); sign in again");
                } else if (revocation.tokenId() == null && claims.generation() < revocation.minGeneration()) {
                    // The caller of a password change keeps this socket; it now belongs to the new generation.
                    connection.attr(CLAIMS).set(new TokenClaims(claims.userId(), claims.tokenId(),
                            revocation.minGeneration(), claims.expiresAt(), claims.provider()));
                }
            });
        }
    }

    private void signOut(Connection connection, boolean expired, String message) {
        if (expired) {
            metrics.sessionExpired();
        } else {
            metrics.sessionRevoked();
        }
        log.info("session {} signed out: {}", connection.sessionId(), expired ? "token expired" : "token revoked");
        connection.fail(ErrorCode.SESSION_ENDED, message, CloseCodes.SIGNED_OUT, null);
    }
}
