package dev.parley.signaling.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One meeting member's WebSocket in the chat benchmark: signs in with a hello, sends chat.send frames handed to it, and
 * passes every frame it receives to the {@link ChatLedger} with its arrival time, taken before any decoding.
 */
final class ChatMember extends SimpleChannelInboundHandler<Object> {

    private final int index;
    private final String meetingId;
    private final String token;
    private final ChatLedger ledger;
    private final WebSocketClientHandshaker handshaker;
    private final CompletableFuture<ChatMember> welcomed = new CompletableFuture<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private volatile Channel channel;
    private volatile int closeCode = -1;

    private ChatMember(int index, String meetingId, String token, ChatLedger ledger, int gatewayPort) {
        this.index = index;
        this.meetingId = meetingId;
        this.token = token;
        this.ledger = ledger;
        this.handshaker = WebSocketClientHandshakerFactory.newHandshaker(
                URI.create("ws://127.0.0.1:" + gatewayPort + "/ws"), WebSocketVersion.V13, null, false,
                new DefaultHttpHeaders(), 1 << 20);
    }

    /** Connects to the gateway on loopback and signs in; the future completes at the welcome. */
    static CompletableFuture<ChatMember> signIn(EventLoopGroup group, int index, String meetingId, String token,
                                                ChatLedger ledger, int gatewayPort) {
        ChatMember member = new ChatMember(index, meetingId, token, ledger, gatewayPort);
        new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20), member);
                    }
                })
                .connect("127.0.0.1", gatewayPort).addListener(connected -> {
                    if (!connected.isSuccess()) {
                        member.welcomed.completeExceptionally(connected.cause());
                    }
                });
        return member.welcomed.orTimeout(20, TimeUnit.SECONDS);
    }

    int index() {
        return index;
    }

    String meetingId() {
        return meetingId;
    }

    /** Sends a chat.send; called from the pacing thread, Netty hands the write to this socket's event loop. */
    void send(String chatSendJson) {
        channel.writeAndFlush(new TextWebSocketFrame(chatSendJson), channel.voidPromise());
    }

    boolean isOpen() {
        Channel ch = channel;
        return ch != null && ch.isActive();
    }

    int closeCode() {
        return closeCode;
    }

    CompletableFuture<Integer> closedFuture() {
        return closed;
    }

    void close() {
        Channel ch = channel;
        if (ch != null && ch.isActive()) {
            ch.writeAndFlush(new CloseWebSocketFrame(1000, "bye")).addListener(f -> ch.close());
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        handshaker.handshake(ctx.channel());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof TextWebSocketFrame frame) {
            long now = System.nanoTime();
            String text = frame.text();
            if (welcomed.isDone()) {
                ledger.onArrival(index, text, now);
            } else if (text.startsWith("{\"type\":\"welcome\"")) {
                welcomed.complete(this);
            } else {
                welcomed.completeExceptionally(new IllegalStateException("instead of a welcome: " + text));
            }
        } else if (msg instanceof PingWebSocketFrame ping) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
        } else if (msg instanceof CloseWebSocketFrame close) {
            closeCode = close.statusCode();
            ctx.close();
        } else if (msg instanceof FullHttpResponse response && !handshaker.isHandshakeComplete()) {
            try {
                handshaker.finishHandshake(ctx.channel(), response);
                ctx.writeAndFlush(new TextWebSocketFrame("{\"type\":\"hello\",\"token\":\"" + token + "\"}"));
            } catch (RuntimeException e) {
                welcomed.completeExceptionally(e);
                ctx.close();
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        welcomed.completeExceptionally(new IllegalStateException("closed before the welcome (code " + closeCode + ")"));
        closed.complete(closeCode);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        welcomed.completeExceptionally(cause);
        ctx.close();
    }
}
