package dev.parley.signaling.metrics;

import dev.parley.signaling.error.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** The gateway's Prometheus metrics: every error by code and transport, sockets, sessions, lock outcomes. */
public final class GatewayMetrics {

    /** Where an error was reported. */
    public enum Transport { HTTP, WS }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<ErrorCode, Counter> httpErrors = new EnumMap<>(ErrorCode.class);
    private final Map<ErrorCode, Counter> wsErrors = new EnumMap<>(ErrorCode.class);
    private final AtomicInteger openSockets = new AtomicInteger();
    private final AtomicInteger liveSessions = new AtomicInteger();
    private final Counter requests;
    private final Counter sessionsRefused;
    private final Counter sessionsReplaced;
    private final Counter heartbeatTimeouts;
    private final Counter floodsClosed;
    private final Counter unsolicitedPongs;
    private final Counter connectionsRefused;
    private final Counter idleClosed;
    private final Counter originsRefused;
    private final Counter sessionsRevoked;
    private final Counter sessionsExpired;
    private final Counter passwordVerifications;
    private final Counter forwardedFromUntrusted;
    private final Counter turnCredentialsIssued;
    private final Map<String, Counter> rings = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Counter> loginsThrottled = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Counter> shortfalls = new java.util.concurrent.ConcurrentHashMap<>();

    public GatewayMetrics() {
        for (ErrorCode code : ErrorCode.values()) {
            httpErrors.put(code, errorCounter(code, "http"));
            wsErrors.put(code, errorCounter(code, "ws"));
        }
        requests = Counter.builder("parley.http.requests").description("HTTP requests served").register(registry);
        sessionsRefused = Counter.builder("parley.sessions.refused")
                .description("hellos refused because the user already had a live session").register(registry);
        sessionsReplaced = Counter.builder("parley.sessions.replaced")
                .description("sessions closed because another session took the user's lock").register(registry);
        heartbeatTimeouts = Counter.builder("parley.ws.heartbeat.timeouts")
                .description("sockets closed because they stopped answering pings").register(registry);
        floodsClosed = Counter.builder("parley.ws.floods")
                .description("sockets closed for sending faster than the message rate limit").register(registry);
        unsolicitedPongs = Counter.builder("parley.ws.pongs.unsolicited")
                .description("pongs that answered no outstanding ping (ignored)").register(registry);
        connectionsRefused = Counter.builder("parley.http.connections.refused")
                .description("connections closed on accept: their address already held the most allowed")
                .register(registry);
        idleClosed = Counter.builder("parley.http.idle.closed")
                .description("connections closed for completing no request within the idle timeout")
                .register(registry);
        originsRefused = Counter.builder("parley.ws.origins.refused")
                .description("WebSocket upgrades refused with 403 for their Origin").register(registry);
        sessionsRevoked = Counter.builder("parley.sessions.signed.out").tag("why", "revoked")
                .description("sockets closed because their token ended").register(registry);
        sessionsExpired = Counter.builder("parley.sessions.signed.out").tag("why", "expired")
                .description("sockets closed because their token ended").register(registry);
        passwordVerifications = Counter.builder("parley.auth.password.verifications")
                .description("passwords checked against a hash (sign-in attempts the throttle let through)")
                .register(registry);
        forwardedFromUntrusted = Counter.builder("parley.http.forwarded.untrusted")
                .description("requests carrying X-Forwarded-For from a peer not in parley.http.trusted-proxies")
                .register(registry);
        turnCredentialsIssued = Counter.builder("parley.turn.credentials.issued")
                .description("TURN credentials handed to call participants").register(registry);
        Gauge.builder("parley.ws.sockets", openSockets, AtomicInteger::get)
                .description("open WebSockets on this gateway").register(registry);
        Gauge.builder("parley.sessions.live", liveSessions, AtomicInteger::get)
                .description("signed-in sessions on this gateway").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        // Open files are the first limit a busy gateway meets (one per socket).
        new FileDescriptorMetrics().bindTo(registry);
    }

    private Counter errorCounter(ErrorCode code, String transport) {
        return Counter.builder("parley.errors").tag("code", code.wire()).tag("transport", transport)
                .description("errors answered, by code").register(registry);
    }

    public void error(Transport transport, ErrorCode code) {
        (transport == Transport.HTTP ? httpErrors : wsErrors).get(code).increment();
    }

    public void request() {
        requests.increment();
    }

    public AtomicInteger openSockets() {
        return openSockets;
    }

    public AtomicInteger liveSessions() {
        return liveSessions;
    }

    public void sessionRefused() {
        sessionsRefused.increment();
    }

    public void sessionReplaced() {
        sessionsReplaced.increment();
    }

    public void heartbeatTimeout() {
        heartbeatTimeouts.increment();
    }

    public void floodClosed() {
        floodsClosed.increment();
    }

    public void unsolicitedPong() {
        unsolicitedPongs.increment();
    }

    public void connectionRefused() {
        connectionsRefused.increment();
    }

    public void idleClosed() {
        idleClosed.increment();
    }

    public void originRefused() {
        originsRefused.increment();
    }

    /** A socket closed because its token was revoked (logout, sign-out everywhere, password change). */
    public void sessionRevoked() {
        sessionsRevoked.increment();
    }

    /** A socket closed because its token expired without being renewed. */
    public void sessionExpired() {
        sessionsExpired.increment();
    }

    public void passwordVerified() {
        passwordVerifications.increment();
    }

    public void forwardedFromUntrustedPeer() {
        forwardedFromUntrusted.increment();
    }

    public void turnCredentialsIssued() {
        turnCredentialsIssued.increment();
    }

    /** A sign-in attempt refused by the throttle; {@code limit} names which limit (backoff, address, user). */
    public void loginThrottled(String limit) {
        loginsThrottled.computeIfAbsent(limit, name -> Counter.builder("parley.auth.login.throttled").tag("limit", name)
                .description("sign-in attempts refused by the throttle, by limit").register(registry)).increment();
    }

    /** A direct call's ring started ({@code ringing}) or ended, by how: accepted, declined, missed, busy... */
    public void ring(String outcome) {
        rings.computeIfAbsent(outcome, name -> Counter.builder("parley.rings").tag("outcome", name)
                .description("direct-call rings started (ringing) and ended, by outcome").register(registry))
                .increment();
    }

    /**
     * A write that fewer Redis replicas confirmed than {@code parley.redis.durable-replicas} asks, by what it wrote
     * (chat, session-lock).
     */
    public void replicationShortfall(String write) {
        shortfalls.computeIfAbsent(write, name -> Counter.builder("parley.redis.replication.shortfalls")
                .tag("write", name).description("writes fewer Redis replicas confirmed in time than asked, by write")
                .register(registry)).increment();
    }

    public String scrape() {
        return registry.scrape();
    }
}
