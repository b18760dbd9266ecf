package dev.parley.signaling.session;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.protocol.ClientMessage;
import dev.parley.signaling.protocol.ServerMessage;
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

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The session capability: the hello signs a connection in and takes the user's session lock, the heartbeat renews it
 * once per interval while the client answers the server's pings, and it is released when the connection ends. A
 * resumed session closes the socket of the one it replaces, on whichever gateway holds it.
 */
public final class SessionHandler implements Capability, ConnectionListener {

    private static final Logger log = LoggerFactory.getLogger(SessionHandler.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String KICK_CHANNEL = "parley:session-kick";
    /** How soon a renewal that failed (Redis unreachable) is tried again. */
    private static final long RENEW_RETRY_MILLIS = 1_000;
    private static final AttributeKey<State> STATE = AttributeKey.valueOf("parley.session");

    /** This capability's part of one connection; touched only on its event loop. */
    private static final class State {
        boolean helloSeen;
        boolean lockHeld;
        boolean awaitingPong;
        ScheduledFuture<?> heartbeat;
    }

    private final GatewayConfig.Session config;
    private final AuthService auth;
    private final SessionLock lock;
    private final LiveSessions sessions;
    private final RedisEvents events;
    private final GatewayMetrics metrics;
    private final Consumer<String> signedOut;

    /** {@code signedOut} hears of each user whose lock this gateway released (presence shows them offline). */
    public SessionHandler(GatewayConfig.Session config, AuthService auth, SessionLock lock, LiveSessions sessions,
                          RedisEvents events, GatewayMetrics metrics, Consumer<String> signedOut) {
        this.config = config;
        this.auth = auth;
        this.lock = lock;
        this.sessions = sessions;
        this.events = events;
        this.metrics = metrics;
        this.signedOut = signedOut;
        events.subscribe(KICK_CHANNEL, sessionId -> sessions.find(sessionId).ifPresent(this::replaced));
    }

    @Override
    public void register(MessageDispatcher dispatcher) {
        dispatcher.beforeSignIn(ClientMessage.Hello.class, this::hello).listen(this);
    }

    private static State state(Connection connection) {
        State state = connection.attr(STATE).get();
        if (state == null) {
            state = new State();
            connection.attr(STATE).set(state);
        }
        return state;
    }

    private void hello(Connection connection, ClientMessage.Hello hello, String re) {
        State state = state(connection);
        if (state.helloSeen || connection.isLive()) {
            connection.reject(re, ApiException.badRequest("hello was already sent on this connection"));
            return;
        }
        state.helloSeen = true;
        String newSessionId = newSessionId();
        CompletableFuture<AuthService.Authenticated> authenticated;
        try {
            authenticated = auth.authenticateSession(hello.token()).toCompletableFuture();
        } catch (RuntimeException e) {
            authenticated = CompletableFuture.failedFuture(e);
        }
        authenticated.thenCompose(signedIn -> {
            String userId = signedIn.account().userId();
            var taken = hello.resume() != null
                    ? lock.resume(userId, hello.resume(), newSessionId)
                    : lock.acquire(userId, newSessionId);
            return taken.thenApply(ok -> ok ? signedIn : null);
        }).whenComplete((signedIn, failure) -> connection.executor().execute(() -> afterHello(connection, hello, re,
                newSessionId, signedIn, failure)));
    }

    private void afterHello(Connection connection, ClientMessage.Hello hello, String re, String newSessionId,
                            AuthService.Authenticated signedIn, Throwable failure) {
        if (failure != null) {
            ApiException error = ApiException.from(failure);
            connection.fail(error.code(), error.getMessage(),
                    error.code() == ErrorCode.AUTH_INVALID ? CloseCodes.AUTH : CloseCodes.TRY_LATER, re);
            return;
        }
        if (signedIn == null) {
            metrics.sessionRefused();
            connection.fail(ErrorCode.SESSION_ACTIVE, "You already have an active session", CloseCodes.SESSION, re);
            return;
        }
        if (!connection.isOpen()) {
            // The socket went away while the lock was being taken: give it straight back.
            release(signedIn.account().userId(), newSessionId);
            return;
        }
        Account user = signedIn.account();
        state(connection).lockHeld = true;
        connection.attr(TokenLifetime.CLAIMS).set(signedIn.claims());
        // Queued on the event loop ahead of anything the capabilities send when the connection goes live.
        connection.answer(re, new ServerMessage.Welcome(newSessionId, user));
        connection.goLive(user, newSessionId);
        if (hello.resume() != null && !hello.resume().equals(newSessionId)) {
            events.publish(KICK_CHANNEL, hello.resume()).exceptionally(e -> 0L);
        }
        log.info("session {} opened for user {}", newSessionId, user.userId());
    }

    @Override
    public void live(Connection connection) {
        sessions.add(connection);
        long beat = config.heartbeat().toMillis();
        // The first ping comes after a random part of the interval, so clients that connected together (after a
        // restart, say) do not ping and renew their locks in bursts forever after.
        long firstBeat = beat / 2 + ThreadLocalRandom.current().nextLong(beat / 2 + 1);
        state(connection).heartbeat = connection.executor().scheduleAtFixedRate(() -> heartbeat(connection),
                firstBeat, beat, TimeUnit.MILLISECONDS);
    }

    private void heartbeat(Connection connection) {
        if (!connection.isLive()) {
            return;
        }
        State state = state(connection);
        if (state.awaitingPong) {
            metrics.heartbeatTimeout();
            log.info("session {} stopped answering pings", connection.sessionId());
            connection.close(CloseCodes.HEARTBEAT, "no pong to the last ping");
            return;
        }
        // The client answered the previous ping (or this is the first beat): the lock lives another ttl. Renewing
        // here, not on the pong, keeps Redis at one script per socket and interval whatever the client sends.
        renew(connection);
        state.awaitingPong = true;
        connection.ping();
    }

    @Override
    public void pong(Connection connection) {
        state(connection).awaitingPong = false;
    }

    private void renew(Connection connection) {
        renew(connection, config.heartbeat().toMillis() / RENEW_RETRY_MILLIS - 1);
    }

    private void renew(Connection connection, long retriesLeft) {
        String owner = connection.sessionId();
        lock.renew(connection.userId(), owner).whenComplete((renewal, failure) -> connection.executor().execute(() -> {
            if (failure != null) {
                log.warn("could not renew session {}: {}", owner, failure.toString());
                // A renewal lost to a Redis outage (a Sentinel failover, say) goes again soon: the lock outlives a
                // beat by only ttl - heartbeat, so waiting for the next beat would let it expire and a second device
                // take it while this session lives. The retries stop before the next beat renews anyway.
                if (retriesLeft > 0 && connection.isLive()) {
                    connection.executor().schedule(() -> renew(connection, retriesLeft - 1), RENEW_RETRY_MILLIS,
                            TimeUnit.MILLISECONDS);
                }
            } else if (renewal == SessionLock.Renewal.REPLACED) {
                replaced(connection);
            }
        }));
    }

    /** Another session took this user's lock: this one ends. */
    private void replaced(Connection connection) {
        connection.executor().execute(() -> {
            if (connection.isLive()) {
                state(connection).lockHeld = false;
                metrics.sessionReplaced();
                connection.fail(ErrorCode.SESSION_REPLACED, "This session was replaced by a newer one",
                        CloseCodes.SESSION, null);
            }
        });
    }

    @Override
    public void closed(Connection connection) {
        sessions.remove(connection);
    }

    @Override
    public CompletableFuture<Void> ending(Connection connection) {
        State state = state(connection);
        if (state.heartbeat != null) {
            state.heartbeat.cancel(false);
        }
        if (!state.lockHeld) {
            return CompletableFuture.completedFuture(null);
        }
        state.lockHeld = false;
        return release(connection.userId(), connection.sessionId());
    }

    private CompletableFuture<Void> release(String userId, String owner) {
        try {
            return lock.release(userId, owner).thenAccept(released -> {
                if (released) {
                    signedOut.accept(userId);
                }
            }).exceptionally(e -> {
                log.warn("could not release session {}; it expires by itself: {}", owner, e.toString());
                return null;
            }).toCompletableFuture();
        } catch (RuntimeException e) {
            log.warn("could not release session {}; it expires by itself: {}", owner, e.toString());
            return CompletableFuture.completedFuture(null);
        }
    }

    private String newSessionId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return sessions.newSessionId(HexFormat.of().formatHex(bytes));
    }
}
