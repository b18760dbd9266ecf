package dev.parley.signaling.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** Boots the gateway's listeners: the public HTTP/WebSocket port and the metrics port. */
public final class GatewayServer implements AutoCloseable {

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel listener;
    private final Channel metricsListener;

    private GatewayServer(EventLoopGroup boss, EventLoopGroup workers, Channel listener, Channel metricsListener) {
        this.boss = boss;
        this.workers = workers;
        this.listener = listener;
        this.metricsListener = metricsListener;
    }

    public static GatewayServer start(String host, int port, GatewayInitializer initializer, String metricsHost,
                                      int metricsPort, MetricsEndpoint metrics, EventLoopGroup workers)
            throws InterruptedException {
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Channel listener = null;
        try {
            listener = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    // A client that stops reading is cut off once this much waits for it (WebSocketConnection).
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                    .childHandler(initializer)
                    .bind(host, port).sync().channel();
            Channel metricsListener;
            try {
                metricsListener = new ServerBootstrap()
                        .group(boss, workers)
                        .channel(NioServerSocketChannel.class)
                        .childHandler(metrics)
                        .bind(metricsHost, metricsPort).sync().channel();
            } catch (Exception e) {
                if (e instanceof InterruptedException interrupted) {
                    throw interrupted;
                }
                throw new IllegalStateException("cannot listen for /metrics on " + metricsHost + ":" + metricsPort
                        + " (parley.metrics.host/port, PARLEY_METRICS_HOST/PORT): " + e.getMessage(), e);
            }
            return new GatewayServer(boss, workers, listener, metricsListener);
        } catch (Exception e) {
            if (listener != null) {
                listener.close().syncUninterruptibly();
            }
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    public int metricsPort() {
        return ((InetSocketAddress) metricsListener.localAddress()).getPort();
    }

    /** Stops accepting new connections; open ones stay until closed. Metrics stay readable until the end. */
    public void stopAccepting() {
        listener.close().syncUninterruptibly();
    }

    @Override
    public void close() {
        stopAccepting();
        metricsListener.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
