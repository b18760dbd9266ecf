package dev.parley.signaling.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;

import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A WebSocket client for tests with full control: it can stop answering pings, send binary or oversized frames,
 * and it records the close code the server sent.
 */
public final class WsClient implements AutoCloseable {

    private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.util.concurrent.atomic.AtomicInteger ASKED = new java.util.concurrent.atomic.AtomicInteger();

    private final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
    private final java.util.List<JsonNode> backlog = new java.util.ArrayList<>();
    private final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    private final CompletableFuture<Void> disconnected = new CompletableFuture<>();
    private volatile boolean answerPings = true;
    private volatile int pingsSeen;
    private volatile int pongsSeen;
    private Channel channel;
    private io.netty.channel.ChannelFuture lastWrite;

    public static WsClient connect(int port) throws Exception {
        return connect(port, new DefaultHttpHeaders());
    }

    /** Connects with these extra handshake headers (an Origin, say); fails if the upgrade is refused. */
    public static WsClient connect(int port, HttpHeaders headers) throws Exception {
        WsClient client = new WsClient();
        client.open(port, headers);
        return client;
    }

    private void open(int port, HttpHeaders headers) throws Exception {
        URI uri = URI.create("ws://127.0.0.1:" + port + "/ws");
        WebSocketClientHandshaker handshaker = WebSocketClientHandshakerFactory.newHandshaker(uri,
                WebSocketVersion.V13, null, false, headers, 4 * 1024 * 1024);
        CompletableFuture<Void> handshaken = new CompletableFuture<>();
        channel = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                new SimpleChannelInboundHandler<Object>() {
                                    @Override
                                    public void channelActive(ChannelHandlerContext ctx) {
                                        handshaker.handshake(ctx.channel());
                                    }

                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, Object msg) throws Exception {
                                        if (!handshaker.isHandshakeComplete()) {
                                            handshaker.finishHandshake(ctx.channel(), (FullHttpResponse) msg);
                                            handshaken.complete(null);
                                            return;
                                        }
                                        onFrame(ctx, (WebSocketFrame) msg);
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        closeCode.complete(-1);
                                        disconnected.complete(null);
                                        handshaken.completeExceptionally(new IllegalStateException("closed"));
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        ctx.close();
                                    }
                                });
                    }
                }).connect("127.0.0.1", port).sync().channel();
        handshaken.get(10, TimeUnit.SECONDS);
    }

    private void onFrame(ChannelHandlerContext ctx, WebSocketFrame frame) throws Exception {
        if (frame instanceof TextWebSocketFrame text) {
            messages.add(JSON.readTree(text.text()));
        } else if (frame instanceof PingWebSocketFrame ping) {
            pingsSeen++;
            if (answerPings) {
                ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
            }
        } else if (frame instanceof PongWebSocketFrame) {
            pongsSeen++;
        } else if (frame instanceof CloseWebSocketFrame close) {
            closeCode.complete(close.statusCode());
            ctx.close();
        }
    }

    public void send(String text) {
        channel.writeAndFlush(new TextWebSocketFrame(text)).awaitUninterruptibly();
    }

    public void send(Object message) throws Exception {
        send(JSON.writeValueAsString(message));
    }

    public void sendBinary(byte[] bytes) {
        channel.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes))).awaitUninterruptibly();
    }

    /** Sends a hello and returns the first reply. */
    public JsonNode hello(String token, String resume) throws Exception {
        var hello = JSON.createObjectNode().put("type", "hello").put("token", token);
        if (resume != null) {
            hello.put("resume", resume);
        }
        send(JSON.writeValueAsString(hello));
        return next();
    }

    /** Sends a request under a fresh id and waits for its answer (whatever else comes meanwhile is kept). */
    public JsonNode ask(com.fasterxml.jackson.databind.node.ObjectNode request) throws Exception {
        String id = "t" + ASKED.incrementAndGet();
        send(request.put("id", id));
        return next(m -> id.equals(m.path("re").asText(null)), 10_000);
    }

    public JsonNode next() throws InterruptedException {
        if (!backlog.isEmpty()) {
            return backlog.remove(0);
        }
        JsonNode message = messages.poll(10, TimeUnit.SECONDS);
        if (message == null) {
            throw new AssertionError("no message from the server within 10 s");
        }
        return message;
    }

    /**
     * The first message matching, earliest first; others are kept (in order) for later calls, so waiting for one
     * kind of message never loses another. Fails after the timeout.
     */
    public JsonNode next(Predicate<JsonNode> wanted, long timeoutMillis) throws InterruptedException {
        for (int i = 0; i < backlog.size(); i++) {
            if (wanted.test(backlog.get(i))) {
                return backlog.remove(i);
            }
        }
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            JsonNode message = left <= 0 ? null : messages.poll(left, TimeUnit.MILLISECONDS);
            if (message == null) {
                throw new AssertionError("no matching message within " + timeoutMillis + " ms");
            }
            if (wanted.test(message)) {
                return message;
            }
            backlog.add(message);
        }
    }

    public JsonNode poll(long millis) throws InterruptedException {
        if (!backlog.isEmpty()) {
            return backlog.remove(0);
        }
        return messages.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** Sends a ping with this payload (at most 125 bytes); without waiting when {@code flushNow} is false. */
    public void sendPing(byte[] payload, boolean flushNow) {
        write(new PingWebSocketFrame(Unpooled.wrappedBuffer(payload)), flushNow);
    }

    /** Sends a pong nobody asked for, with this payload. */
    public void sendPong(byte[] payload, boolean flushNow) {
        write(new PongWebSocketFrame(Unpooled.wrappedBuffer(payload)), flushNow);
    }

    private void write(WebSocketFrame frame, boolean flushNow) {
        if (flushNow) {
            channel.writeAndFlush(frame).awaitUninterruptibly();
        } else {
            lastWrite = channel.write(frame);
        }
    }

    /** Flushes what was written without flushing, and waits until it is on the wire. */
    public void flush() {
        channel.flush();
        if (lastWrite != null) {
            lastWrite.awaitUninterruptibly();
        }
    }

    /** Stops reading from the socket, as a client that never reads what the server sends. */
    public void stopReading() {
        channel.config().setAutoRead(false);
    }

    public void resumeReading() {
        channel.config().setAutoRead(true);
        channel.read();
    }

    public int pongsSeen() {
        return pongsSeen;
    }

    public void stopAnsweringPings() {
        answerPings = false;
    }

    public int pingsSeen() {
        return pingsSeen;
    }

    /** The close code the server sent (-1 if the connection ended without one), waiting up to the timeout. */
    public int awaitClose(long millis) throws Exception {
        return closeCode.get(millis, TimeUnit.MILLISECONDS);
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    /** Drops the TCP connection without a close frame, as a crashed browser would. */
    public void drop() throws Exception {
        channel.close().sync();
        disconnected.get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (channel.isActive()) {
            channel.writeAndFlush(new CloseWebSocketFrame(1000, "bye"));
            channel.close().awaitUninterruptibly(2000);
        }
    }
}
