package dev.parley.signaling.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.protocol.ClientMessageParser;
import dev.parley.signaling.protocol.ClientRequest;
import dev.parley.signaling.protocol.ServerMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One WebSocket: frames in (rate and size limits, parsing) handed to the dispatcher, messages out (with the
 * request's id, cut off when the client stops reading), the hello deadline and the connection's life. What each
 * message means is the capabilities' business. All state is touched only on the channel's event loop.
 */
public final class WebSocketConnection extends SimpleChannelInboundHandler<WebSocketFrame> implements Connection {

    private enum State { OPEN, LIVE, CLOSED }

    private static final Logger log = LoggerFactory.getLogger(WebSocketConnection.class);
    private static final SecureRandom PING_PAYLOADS = new SecureRandom();

    /** What every connection on a gateway shares. */
    public record Services(GatewayConfig config, ClientMessageParser parser, ObjectWriter writer,
                           GatewayMetrics metrics, MessageDispatcher dispatcher) {
    }

    private final Services services;
    private final FrameRateLimiter rateLimiter;
    private ChannelHandlerContext ctx;
    private State state = State.OPEN;
    private boolean ended;
    private CompletableFuture<Void> endingDone;
    private Account account;
    private String sessionId;
    private ScheduledFuture<?> helloTimeout;
    private boolean closing;
    private boolean pingOutstanding;
    private long outstandingPing;

    /** How long a connection the server closes waits for the client's answer to its close frame. */
    static final long CLOSE_GRACE_MILLIS = 2_000;

    public WebSocketConnection(Services services) {
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
                if (state == State.OPEN) {
                    fail(ErrorCode.AUTH_INVALID, "No hello received in time; send hello with your token first",
                            CloseCodes.AUTH, null);
                }
            }, helloMillis, TimeUnit.MILLISECONDS);
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (state == State.CLOSED) {
            return; // closing: what the client still sends is read and dropped (see close)
        }
        // Every frame counts, control frames too: a flood of pings or pongs costs as much as one of messages.
        if (!rateLimiter.tryAcquire(System.nanoTime())) {
            services.metrics().floodClosed();
            close(CloseCodes.FLOOD, "message rate limit exceeded");
            return;
        }
        if (frame instanceof PingWebSocketFrame ping) {
            pong(ping);
            return;
        }
        if (frame instanceof PongWebSocketFrame pong) {
            pongReceived(pong);
            return;
        }
        if (frame instanceof CloseWebSocketFrame) {
            return; // the protocol handler answers close frames and closes; none reaches here
        }
        if (frame instanceof BinaryWebSocketFrame) {
            reject(null, ApiException.badRequest("binary frames are not supported; send JSON text"));
            return;
        }
        if (!(frame instanceof TextWebSocketFrame text)) {
            reject(null, ApiException.badRequest("unsupported frame"));
            return;
        }
        if (text.content().readableBytes() > services.config().ws().maxMessageSize()) {
            reject(null, ApiException.badRequest("message is larger than " + services.config().ws().maxMessageSize()
                    + " bytes"));
            return;
        }
        ClientRequest request;
        try {
            request = services.parser().parse(text.text());
        } catch (ClientMessageParser.Rejected e) {
            reject(e.requestId(), e.error());
            return;
        }
        services.dispatcher().dispatch(this, request);
    }

    @Override
    public Account account() {
        return account;
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
    public boolean isLive() {
        return state == State.LIVE;
    }

    @Override
    public EventExecutor executor() {
        return ctx.executor();
    }

    @Override
    public <T> Attribute<T> attr(AttributeKey<T> key) {
        return ctx.channel().attr(key);
    }

    @Override
    public void goLive(Account account, String sessionId) {
        this.account = account;
        this.sessionId = sessionId;
        state = State.LIVE;
        helloTimeout.cancel(false);
        services.metrics().liveSessions().incrementAndGet();
        services.dispatcher().live(this);
    }

    @Override
    public boolean isOpen() {
        return state == State.OPEN && ctx.channel().isActive();
    }

    @Override
    public void push(ServerMessage message) {
        ctx.executor().execute(() -> {
            if (state == State.LIVE) {
                answerNow(null, message);
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
    public void ping() {
        // A random payload that only a client reading our frames can echo: a pong sent blind answers nothing.
        outstandingPing = PING_PAYLOADS.nextLong();
        pingOutstanding = true;
        ctx.writeAndFlush(new PingWebSocketFrame(Unpooled.copyLong(outstandingPing)));
    }

    /** Answers the client's ping, unless it does not read what we send (then it is cut off like any such client). */
    private void pong(PingWebSocketFrame ping) {
        if (ctx.channel().isActive() && keepsUp()) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
        }
    }

    /** Only the pong that answers the outstanding ping counts; any other did nothing but use up the rate limit. */
    private void pongReceived(PongWebSocketFrame pong) {
        ByteBuf payload = pong.content();
        if (state == State.LIVE && pingOutstanding && payload.readableBytes() == Long.BYTES
                && payload.getLong(payload.readerIndex()) == outstandingPing) {
            pingOutstanding = false;
            services.dispatcher().pong(this);
        } else {
            services.metrics().unsolicitedPong();
        }
    }

    /** For shutdown: the capabilities finish (the lock is released), then the goodbye with 1001. */
    CompletableFuture<Void> shutdown() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        ctx.executor().execute(() -> {
            if (state != State.LIVE) {
                done.complete(null);
                return;
            }
            markClosed();
            CompletableFuture<Void> said = new CompletableFuture<>();
            ctx.writeAndFlush(new CloseWebSocketFrame(CloseCodes.GOING_AWAY, "server shutting down"))
                    .addListener(written -> ctx.close().addListener(closed -> said.complete(null)));
            // Done once the lock is released and the goodbye is on the wire, before the event loops stop.
            end().thenCombine(said, (r, s) -> r).whenComplete((r, e) -> done.complete(null));
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
        if (sessionId != null) {
            services.dispatcher().closed(this);
        }
        markClosed();
        end();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("socket error: {}", cause.toString());
        ctx.close();
    }

    @Override
    public void reject(String requestId, ApiException error) {
        services.metrics().error(GatewayMetrics.Transport.WS, error.code());
        answerNow(requestId, new ServerMessage.Error(error.code().wire(), error.getMessage()));
    }

    @Override
    public void fail(ErrorCode code, String message, int closeCode, String requestId) {
        services.metrics().error(GatewayMetrics.Transport.WS, code);
        answerNow(requestId, new ServerMessage.Error(code.wire(), message));
        close(closeCode, message);
    }

    @Override
    public void close(int code, String reason) {
        markClosed();
        end();
        if (closing) {
            return;
        }
        closing = true;
        String shortReason = reason.length() > 120 ? reason.substring(0, 120) : reason;
        // Closing the connection at once, with the client's frames (a flood, say) still unread, makes the kernel reset
        // it, and the client may lose the close frame and its code. So: the close frame, then our half of the
        // connection (the client sees the end after the frame, and nothing more is written: no second close frame
        // when the client answers), reading and dropping what still comes until the client closes or a grace ends.
        ctx.writeAndFlush(new CloseWebSocketFrame(code, shortReason)).addListener(written -> {
            if (written.isSuccess() && ctx.channel() instanceof DuplexChannel duplex && duplex.isActive()) {
                duplex.shutdownOutput();
            } else {
                ctx.close();
            }
        });
        // The grace runs from now: a client that reads nothing never lets the close frame out, and must not keep the
        // connection (and what is queued for it) beyond it either.
        ctx.executor().schedule(() -> {
            ctx.close();
        }, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Tells the capabilities once that this connection ends. */
    private CompletableFuture<Void> end() {
        if (!ended) {
            ended = true;
            endingDone = services.dispatcher().ending(this);
        }
        return endingDone;
    }

    private void markClosed() {
        if (state == State.LIVE) {
            services.metrics().liveSessions().decrementAndGet();
        }
        state = State.CLOSED;
    }

    /** A client that stops reading fills our write buffer; past its high mark it is cut off, not buffered forever. */
    private boolean keepsUp() {
        if (ctx.channel().isWritable()) {
            return true;
        }
        services.metrics().error(GatewayMetrics.Transport.WS, ErrorCode.RATE_LIMITED);
        close(CloseCodes.FLOOD, "client is not reading its messages");
        return false;
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
}
