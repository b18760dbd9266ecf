package dev.parley.signaling.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;

import java.util.concurrent.CompletableFuture;

/**
 * One benchmark client's WebSocket, as a browser tab would hold it: handshake, one hello, the moment its welcome
 * arrived, and a pong for every ping so the session stays live. Timestamps are {@link System#nanoTime()}.
 */
final class BenchSocket extends SimpleChannelInboundHandler<Object> {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final WebSocketClientHandshaker handshaker;
    private final CompletableFuture<BenchSocket> open = new CompletableFuture<>();
    private final CompletableFuture<Long> welcome = new CompletableFuture<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private volatile Channel channel;
    private volatile long helloWrittenNanos;
    private volatile int closeCode = -1;
    private volatile String closeReason = "";

    BenchSocket(WebSocketClientHandshaker handshaker) {
        this.handshaker = handshaker;
    }

    /** Completes when the WebSocket handshake is done. */
    CompletableFuture<BenchSocket> opened() {
        return open;
    }

    /** Completes with the arrival time of the welcome, or fails with the error or close that came instead. */
    CompletableFuture<Long> welcomed() {
        return welcome;
    }

    /** Completes with the close code once the connection is gone (-1 when it ended without a close frame). */
    CompletableFuture<Integer> closedFuture() {
        return closed;
    }

    /** Sends the hello; the send time is taken when the frame has been written to the socket. */
    void sendHello(String helloJson) {
        channel.writeAndFlush(new TextWebSocketFrame(helloJson)).addListener(written -> {
            if (written.isSuccess()) {
                helloWrittenNanos = System.nanoTime();
            } else {
                welcome.completeExceptionally(written.cause());
            }
        });
    }

    long helloWrittenNanos() {
        return helloWrittenNanos;
    }

    boolean isOpen() {
        Channel ch = channel;
        return ch != null && ch.isActive();
    }

    /** A polite close: a close frame, then the TCP connection. */
    void close() {
        Channel ch = channel;
        if (ch != null && ch.isActive()) {
            ch.writeAndFlush(new CloseWebSocketFrame(1000, "bye")).addListener(f -> ch.close());
        }
    }

    void abort() {
        Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        handshaker.handshake(ctx.channel());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (!handshaker.isHandshakeComplete()) {
            try {
                handshaker.finishHandshake(ctx.channel(), (FullHttpResponse) msg);
                open.complete(this);
            } catch (RuntimeException e) {
                open.completeExceptionally(e);
                ctx.close();
            }
            return;
        }
        if (msg instanceof TextWebSocketFrame text) {
            onText(text.text());
        } else if (msg instanceof PingWebSocketFrame ping) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
        } else if (msg instanceof CloseWebSocketFrame close) {
            closeCode = close.statusCode();
            closeReason = close.reasonText();
            ctx.close();
        }
    }

    private void onText(String text) throws Exception {
        if (welcome.isDone()) {
            return;
        }
        long now = System.nanoTime();
        JsonNode message = JSON.readTree(text);
        String type = message.path("type").asText();
        if (type.equals("welcome")) {
            welcome.complete(now);
        } else if (type.equals("error")) {
            welcome.completeExceptionally(new IllegalStateException("error instead of welcome: " + text));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        String why = "connection closed (code " + closeCode + (closeReason.isEmpty() ? "" : ", " + closeReason) + ")";
        open.completeExceptionally(new IllegalStateException(why + " during the handshake"));
        welcome.completeExceptionally(new IllegalStateException(why + " before the welcome"));
        closed.complete(closeCode);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        open.completeExceptionally(cause);
        welcome.completeExceptionally(cause);
        ctx.close();
    }
}
