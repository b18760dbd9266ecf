package dev.parley.signaling.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.call.CallPeer;
import dev.parley.signaling.call.CallRouter;
import dev.parley.signaling.chat.ChatService;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.meeting.MeetingService;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.presence.PresenceService;
import dev.parley.signaling.session.SessionLock;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One WebSocket: waits for the hello, takes the user's session lock, renews it on every pong to the server's ping,
 * and releases it when the socket closes. All of its state is touched only on the channel's event loop; Redis
 * completions hop back onto it.
 */
public final class WebSocketSession extends SimpleChannelInboundHandler<WebSocketFrame>
        implements PresenceService.Watcher, CallPeer {

    /** Close codes, documented in docs/protocol.md. */
    public static final int CLOSE_AUTH = 4401;
    public static final int CLOSE_SESSION = 4409;
    public static final int CLOSE_HEARTBEAT = 4408;
    public static final int CLOSE_FLOOD = 1008;
    public static final int CLOSE_GOING_AWAY = 1001;
    public static final int CLOSE_TRY_LATER = 1013;
    private static final int MAX_WATCHED = 2000;

    private enum State { AWAITING_HELLO, AUTHENTICATING, LIVE, CLOSED }

    private static final Logger log = LoggerFactory.getLogger(WebSocketSession.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What every session on a gateway shares. */
    public record Services(GatewayConfig config, ClientMessageParser parser, ObjectWriter writer, AuthService auth,
                           SessionLock lock, PresenceService presence, LiveSessions sessions,
                           GatewayMetrics metrics, ChatService chat, MeetingService meetings, CallRouter calls) {
    }

    private final Services services;
    private final FrameRateLimiter rateLimiter;
    private final Set<String> watched = new HashSet<>();
    private ChannelHandlerContext ctx;
    private State state = State.AWAITING_HELLO;
    private Account account;
    private String sessionId;
    private boolean lockHeld;
    private boolean awaitingPong;
    private ScheduledFuture<?> helloTimeout;
    private ScheduledFuture<?> heartbeat;

    public WebSocketSession(Services services) {
        this.services = services;
        this.rateLimiter = new FrameRateLimiter(services.config().ws().messagesPerSecond(),
                services.config().ws().messageBurst());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            this.ctx = ctx;
            services.metrics().openSockets().incrementAndGet();
            long helloMillis = services.config().session().helloTimeout().toMillis();
            helloTimeout = ctx.executor().schedule(() -> {
                if (state == State.AWAITING_HELLO || state == State.AUTHENTICATING) {
                    fail(ErrorCode.AUTH_INVALID, "No hello received in time; send hello with your token first",
                            CLOSE_AUTH, null);
                }
            }, helloMillis, TimeUnit.MILLISECONDS);
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof PongWebSocketFrame) {
            onPong();
            return;
        }
        if (frame instanceof PingWebSocketFrame || frame instanceof CloseWebSocketFrame) {
            return;
        }
        if (!rateLimiter.tryAcquire(System.nanoTime())) {
            services.metrics().floodClosed();
            close(CLOSE_FLOOD, "message rate limit exceeded");
            return;
        }
        if (frame instanceof BinaryWebSocketFrame) {
            reject(ApiException.badRequest("binary frames are not supported; send JSON text"), null);
            return;
        }
        if (!(frame instanceof TextWebSocketFrame text)) {
            reject(ApiException.badRequest("unsupported frame"), null);
            return;
        }
        if (text.content().readableBytes() > services.config().ws().maxMessageSize()) {
            reject(ApiException.badRequest("message is larger than " + services.config().ws().maxMessageSize()
                    + " bytes"), null);
            return;
        }
        ClientRequest request;
        try {
            request = services.parser().parse(text.text());
        } catch (ClientMessageParser.Rejected e) {
            reject(e.error(), e.requestId());
            return;
        }
        dispatch(request.message(), request.id());
    }

    // Java 17 has no pattern switch: the sealed interface keeps this chain exhaustive by review.
    private void dispatch(ClientMessage message, String re) {
        if (message instanceof ClientMessage.Hello hello) {
            onHello(hello, re);
        } else if (!requireLive(re)) {
            return;
        } else if (message instanceof ClientMessage.PresenceSubscribe subscribe) {
            onPresenceSubscribe(subscribe.userIds(), re);
        } else if (message instanceof ClientMessage.PresenceUnsubscribe unsubscribe) {
            Set<String> ids = Set.copyOf(unsubscribe.userIds());
            watched.removeAll(ids);
            services.presence().unwatchAll(this, ids);
            answer(re, new ServerMessage.Ok());
        } else if (message instanceof ClientMessage.ChatSend send) {
            reply(() -> services.chat().send(account, send.meetingId(), send.clientMsgId(), send.text()), re);
        } else if (message instanceof ClientMessage.ChatTyping typing) {
            reply(() -> services.chat().typing(account, typing.meetingId()).thenApply(done -> null), re);
        } else if (message instanceof ClientMessage.ChatRead read) {
            reply(() -> services.chat().markRead(account.userId(), read.meetingId(), read.messageId())
                    .thenApply(done -> null), re);
        } else if (message instanceof ClientMessage.CallJoin join) {
            // Call operations answer through this peer themselves, in order with the call's other messages.
            refuseOnFailure(() -> services.calls().join(this, account, join.meetingId(), re), re);
        } else if (message instanceof ClientMessage.CallPublish publish) {
            refuseOnFailure(() -> services.calls().publish(this, publish.meetingId(), publish.sdp(), re), re);
        } else if (message instanceof ClientMessage.CallSubscribeAnswer sub) {
            refuseOnFailure(() -> services.calls().subscribeAnswer(this, sub.meetingId(), sub.sdp(), sub.version(),
                    re), re);
        } else if (message instanceof ClientMessage.CallMedia state) {
            refuseOnFailure(() -> services.calls().updateMedia(this, state.meetingId(), state.audioMuted(),
                    state.videoMuted(), state.screenSharing(), re), re);
        } else if (message instanceof ClientMessage.CallLeave leave) {
            refuseOnFailure(() -> services.calls().leave(this, leave.meetingId(), re), re);
        } else if (message instanceof ClientMessage.CallIce ignored) {
            // The media server learns each client's addresses from its connectivity checks (peer-reflexive).
            answer(re, new ServerMessage.Ok());
        }
    }

    /** Answers a request with what it completes with ({@code ok} for nothing), or with its error. */
    private void reply(java.util.function.Supplier<CompletionStage<? extends ServerMessage>> request, String re) {
        started(request).whenComplete((message, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                reject(ApiException.from(failure), re);
            } else {
                answer(re, message == null ? new ServerMessage.Ok() : message);
            }
        }));
    }

    /** For operations that send their own answer: only a failure is answered here. */
    private void refuseOnFailure(java.util.function.Supplier<CompletionStage<Void>> request, String re) {
        started(request).whenComplete((ok, failure) -> {
            if (failure != null) {
                ctx.executor().execute(() -> reject(ApiException.from(failure), re));
            }
        });
    }

    private static <T> CompletionStage<? extends T> started(
            java.util.function.Supplier<? extends CompletionStage<? extends T>> request) {
        try {
            return request.get();
        } catch (RuntimeException e) {
            // A request refused at once (busy, disabled) is answered like any other failure; the socket stays.
            return CompletableFuture.failedFuture(e);
        }
    }

    private boolean requireLive(String re) {
        if (state != State.LIVE) {
            reject(ApiException.badRequest("send hello and wait for welcome first"), re);
            return false;
        }
        return true;
    }

    private void onHello(ClientMessage.Hello hello, String re) {
        if (state != State.AWAITING_HELLO) {
            reject(ApiException.badRequest("hello was already sent on this connection"), re);
            return;
        }
        state = State.AUTHENTICATING;
        String newSessionId = newSessionId();
        CompletableFuture<Account> authenticated;
        try {
            authenticated = services.auth().authenticate(hello.token()).toCompletableFuture();
        } catch (RuntimeException e) {
            authenticated = CompletableFuture.failedFuture(e);
        }
        authenticated.thenCompose(user -> {
            var taken = hello.resume() != null
                    ? services.lock().resume(user.userId(), hello.resume(), newSessionId)
                    : services.lock().acquire(user.userId(), newSessionId);
            return taken.thenApply(ok -> ok ? user : null);
        }).whenComplete((user, failure) -> ctx.executor().execute(() -> afterHello(hello, re, newSessionId,
                user, failure)));
    }

    private void afterHello(ClientMessage.Hello hello, String re, String newSessionId, Account user,
                            Throwable failure) {
        if (failure != null) {
            ApiException error = ApiException.from(failure);
            fail(error.code(), error.getMessage(),
                    error.code() == ErrorCode.AUTH_INVALID ? CLOSE_AUTH : CLOSE_TRY_LATER, re);
            return;
        }
        if (user == null) {
            services.metrics().sessionRefused();
            fail(ErrorCode.SESSION_ACTIVE, "You already have an active session", CLOSE_SESSION, re);
            return;
        }
        account = user;
        sessionId = newSessionId;
        lockHeld = true;
        if (state == State.CLOSED || !ctx.channel().isActive()) {
            // The socket went away while the lock was being taken: give it straight back.
            releaseLock();
            return;
        }
        state = State.LIVE;
        helloTimeout.cancel(false);
        services.sessions().add(sessionId, account.userId(), this);
        services.metrics().liveSessions().incrementAndGet();
        if (hello.resume() != null && !hello.resume().equals(newSessionId)) {
            services.sessions().kick(hello.resume());
        }
        answer(re, new ServerMessage.Welcome(sessionId, account));
        services.presence().announce(account.userId(), PresenceService.ONLINE);
        watchCoMembers();
        long beat = services.config().session().heartbeat().toMillis();
        // The first ping comes after a random part of the interval, so clients that connected together (after a
        // restart, say) do not ping and renew their locks in bursts forever after.
        long firstBeat = beat / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(beat / 2 + 1);
        heartbeat = ctx.executor().scheduleAtFixedRate(this::onHeartbeat, firstBeat, beat, TimeUnit.MILLISECONDS);
        log.info("session {} opened for user {}", sessionId, account.userId());
    }

    private void onHeartbeat() {
        if (state != State.LIVE) {
            return;
        }
        if (awaitingPong) {
            services.metrics().heartbeatTimeout();
            log.info("session {} stopped answering pings", sessionId);
            close(CLOSE_HEARTBEAT, "no pong to the last ping");
            return;
        }
        awaitingPong = true;
        ctx.writeAndFlush(new PingWebSocketFrame());
    }

    private void onPong() {
        if (state != State.LIVE) {
            return;
        }
        awaitingPong = false;
        String owner = sessionId;
        services.lock().renew(account.userId(), owner).whenComplete((renewal, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                log.warn("could not renew session {}: {}", owner, failure.toString());
            } else if (renewal == SessionLock.Renewal.REPLACED) {
                replaced();
            }
        }));
    }

    /** Another session took this user's lock: this one ends. */
    void replaced() {
        ctx.executor().execute(() -> {
            if (state == State.LIVE) {
                lockHeld = false;
                services.metrics().sessionReplaced();
                fail(ErrorCode.SESSION_REPLACED, "This session was replaced by a newer one", CLOSE_SESSION, null);
            }
        });
    }

    private void onPresenceSubscribe(List<String> userIds, String re) {
        if (watched.size() + userIds.size() > MAX_WATCHED) {
            reject(ApiException.badRequest("at most " + MAX_WATCHED + " users can be watched on one connection"), re);
            return;
        }
        watched.addAll(userIds);
        services.presence().watch(this, userIds);
        services.presence().statuses(userIds).whenComplete((statuses, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                reject(ApiException.from(failure), re);
                return;
            }
            services.presence().remember(statuses);
            statuses.forEach((userId, status) -> send(new ServerMessage.Presence(userId, status)));
            answer(re, new ServerMessage.Ok());
        }));
    }

    /** People who share a meeting with this user see each other's presence without asking. */
    private void watchCoMembers() {
        services.meetings().coMembers(account.userId()).whenComplete((ids, failure) -> ctx.executor().execute(() -> {
            if (failure == null && state == State.LIVE && !ids.isEmpty()) {
                List<String> fresh = ids.stream().filter(id -> !watched.contains(id))
                        .limit(Math.max(0, MAX_WATCHED - watched.size())).toList();
                onPresenceSubscribe(fresh, null);
            }
        }));
    }

    @Override
    public String userId() {
        return account.userId();
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public void push(ServerMessage message) {
        ctx.executor().execute(() -> {
            if (state == State.LIVE) {
                send(message);
            }
        });
    }

    @Override
    public void answer(String requestId, ServerMessage message) {
        ctx.executor().execute(() -> {
            if (state == State.LIVE) {
                answerNow(requestId, message);
            }
        });
    }

    /** Sends an already-encoded message (from cross-gateway delivery); takes ownership of the buffer. */
    void sendEncoded(ByteBuf utf8Json) {
        ctx.executor().execute(() -> {
            if (state == State.LIVE && ctx.channel().isActive() && keepsUp()) {
                ctx.writeAndFlush(new TextWebSocketFrame(utf8Json));
            } else {
                utf8Json.release();
            }
        });
    }

    @Override
    public void presenceChanged(String userId, String status) {
        ctx.executor().execute(() -> {
            if (state == State.LIVE && watched.contains(userId)) {
                send(new ServerMessage.Presence(userId, status));
            }
        });
    }

    /** For shutdown: releases the lock first, then says goodbye with 1001. */
    CompletableFuture<Void> shutdown() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        ctx.executor().execute(() -> {
            if (state != State.LIVE) {
                done.complete(null);
                return;
            }
            markClosed();
            CompletableFuture<Void> said = new CompletableFuture<>();
            ctx.writeAndFlush(new CloseWebSocketFrame(CLOSE_GOING_AWAY, "server shutting down"))
                    .addListener(written -> ctx.close().addListener(closed -> said.complete(null)));
            // Done once the lock is released and the goodbye is on the wire, before the event loops stop.
            releaseLock().thenCombine(said, (r, s) -> r).whenComplete((r, e) -> done.complete(null));
        });
        return done;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (this.ctx != null) {
            services.metrics().openSockets().decrementAndGet();
        }
        if (helloTimeout != null) {
            helloTimeout.cancel(false);
        }
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        if (sessionId != null) {
            services.sessions().remove(sessionId, account.userId(), this);
            services.presence().unwatchAll(this, watched);
            if (account != null) {
                services.calls().peerClosed(this);
            }
        }
        markClosed();
        releaseLock();
        super.channelInactive(ctx);
    }

    private CompletableFuture<Void> releaseLock() {
        if (!lockHeld) {
            return CompletableFuture.completedFuture(null);
        }
        lockHeld = false;
        String userId = account.userId();
        String owner = sessionId;
        try {
            return services.lock().release(userId, owner).thenAccept(released -> {
                if (released) {
                    services.presence().announce(userId, PresenceService.OFFLINE);
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

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("socket error: {}", cause.toString());
        ctx.close();
    }

    private void reject(ApiException error, String re) {
        services.metrics().error(GatewayMetrics.Transport.WS, error.code());
        answerNow(re, new ServerMessage.Error(error.code().wire(), error.getMessage()));
    }

    private void fail(ErrorCode code, String message, int closeCode, String re) {
        services.metrics().error(GatewayMetrics.Transport.WS, code);
        answerNow(re, new ServerMessage.Error(code.wire(), message));
        close(closeCode, message);
    }

    private void markClosed() {
        if (state == State.LIVE) {
            services.metrics().liveSessions().decrementAndGet();
        }
        state = State.CLOSED;
    }

    private void close(int code, String reason) {
        markClosed();
        releaseLock();
        String shortReason = reason.length() > 120 ? reason.substring(0, 120) : reason;
        ctx.writeAndFlush(new CloseWebSocketFrame(code, shortReason)).addListener(ChannelFutureListener.CLOSE);
    }

    /** A client that stops reading fills our write buffer; past its high mark it is cut off, not buffered forever. */
    private boolean keepsUp() {
        if (ctx.channel().isWritable()) {
            return true;
        }
        services.metrics().error(GatewayMetrics.Transport.WS, ErrorCode.RATE_LIMITED);
        close(CLOSE_FLOOD, "client is not reading its messages");
        return false;
    }

    private void send(ServerMessage message) {
        answerNow(null, message);
    }

    /** Sends a message; with a request id it is that request's answer. A request without an id gets no bare ok. */
    private void answerNow(String requestId, ServerMessage message) {
        if (requestId == null && message instanceof ServerMessage.Ok) {
            return;
        }
        if (!ctx.channel().isActive() || !keepsUp()) {
            return;
        }
        try {
            ctx.writeAndFlush(new TextWebSocketFrame(ServerMessage.answering(requestId,
                    services.writer().writeValueAsString(message))));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + message.getClass().getSimpleName(), e);
        }
    }

    private String newSessionId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return services.sessions().newSessionId(HexFormat.of().formatHex(bytes));
    }
}
