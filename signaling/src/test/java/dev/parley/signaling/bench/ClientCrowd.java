package dev.parley.signaling.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Many benchmark WebSockets to one gateway on loopback, opened asynchronously with a bounded number of handshakes in
 * flight. Each connection leaves from one of several loopback source addresses (127.0.0.1, 127.0.0.2, ...), so the
 * ~28k ephemeral ports of one address do not cap the count.
 */
final class ClientCrowd implements AutoCloseable {

    /** What opening a batch produced: the sockets that completed the handshake, and why the others did not. */
    record Opened(List<BenchSocket> sockets, List<Throwable> failures) {
    }

    private static final int MAX_HANDSHAKES_IN_FLIGHT = 200;

    private final EventLoopGroup group;
    private final Bootstrap bootstrap;
    private final URI uri;
    private final InetSocketAddress gateway;
    private final List<InetAddress> sources;
    private final ConcurrentLinkedQueue<BenchSocket> all = new ConcurrentLinkedQueue<>();
    private int next;

    ClientCrowd(int gatewayPort, int sourceAddresses, int threads) throws UnknownHostException {
        this.group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        this.bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
        this.uri = URI.create("ws://127.0.0.1:" + gatewayPort + "/ws");
        this.gateway = new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), gatewayPort);
        this.sources = new ArrayList<>();
        for (int i = 1; i <= sourceAddresses; i++) {
            sources.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) i}));
        }
    }

    /** Opens {@code count} sockets, waiting at most {@code timeout} in all. */
    Opened open(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Semaphore inFlight = new Semaphore(MAX_HANDSHAKES_IN_FLIGHT);
        List<CompletableFuture<BenchSocket>> pending = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !inFlight.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                pending.add(CompletableFuture.failedFuture(new IllegalStateException("not started: out of time")));
                continue;
            }
            CompletableFuture<BenchSocket> opening = connectOne();
            opening.whenComplete((socket, failure) -> inFlight.release());
            pending.add(opening);
        }
        List<BenchSocket> sockets = new ArrayList<>(count);
        List<Throwable> failures = new ArrayList<>();
        for (CompletableFuture<BenchSocket> opening : pending) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                sockets.add(opening.get(left, TimeUnit.NANOSECONDS));
            } catch (ExecutionException e) {
                failures.add(e.getCause());
            } catch (TimeoutException e) {
                failures.add(new IllegalStateException("handshake not done within " + timeout.toSeconds() + " s"));
            }
        }
        return new Opened(sockets, failures);
    }

    private CompletableFuture<BenchSocket> connectOne() {
        BenchSocket socket = new BenchSocket(WebSocketClientHandshakerFactory.newHandshaker(uri,
                WebSocketVersion.V13, null, false, new DefaultHttpHeaders(), 64 * 1024));
        all.add(socket);
        InetAddress source = sources.get(next++ % sources.size());
        bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024), socket);
            }
        }).connect(gateway, new InetSocketAddress(source, 0)).addListener(connected -> {
            if (!connected.isSuccess()) {
                socket.opened().completeExceptionally(connected.cause());
            }
        });
        return socket.opened().orTimeout(15, TimeUnit.SECONDS).whenComplete((s, failure) -> {
            if (failure != null) {
                socket.abort();
            }
        });
    }

    /** Closes the given sockets politely and waits, bounded, until their connections are gone. */
    static void closeAll(List<BenchSocket> sockets, Duration timeout) {
        sockets.forEach(BenchSocket::close);
        CompletableFuture<?>[] gone = sockets.stream().map(BenchSocket::closedFuture)
                .toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(gone).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            sockets.forEach(BenchSocket::abort);
        }
    }

    @Override
    public void close() {
        all.forEach(BenchSocket::abort);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
