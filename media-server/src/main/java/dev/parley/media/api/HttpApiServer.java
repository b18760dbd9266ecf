package dev.parley.media.api;

import dev.parley.media.MediaConfig;
import dev.parley.media.metrics.MediaCounters;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/** The media server's HTTP port: control API, WHIP, WHEP, health, stats and metrics. */
public final class HttpApiServer implements AutoCloseable {
    private static final int MAX_BODY = 256 * 1024;
    /** Error codes the HTTP layer answers with besides {@link ErrorCode}'s. */
    public static final List<String> OTHER_ERROR_CODES = List.of("method.not_allowed", "unavailable", "internal");
    /** A connection that sends nothing for this long is closed (slow or abandoned clients hold no socket). */
    private static final int IDLE_SECONDS = 60;

    private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Channel channel;

    /**
     * @param authSecret the HS256 secret of {@link MediaToken}s; empty: no authentication (loopback only)
     * @param corsOrigins origins answered with CORS headers
     * @param work where API operations run, so the event loop never waits on a conference lock
     * @param metrics the Prometheus text for /metrics
     * @param iceServers the STUN/TURN servers offered to WHIP and WHEP clients in Link headers
     * @param counters where refused requests are counted, by error code
     */
    public HttpApiServer(InetSocketAddress bind, MediaApi api, String authSecret, List<String> corsOrigins,
                         ExecutorService work, Supplier<String> metrics, MediaConfig.IceServers iceServers,
                         MediaCounters counters)
            throws IOException, InterruptedException {
        IceServerLinks links = new IceServerLinks(iceServers);
        ChannelFuture bound = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new ReadTimeoutHandler(IDLE_SECONDS))
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(MAX_BODY))
                                .addLast(new HttpApiHandler(api, authSecret, corsOrigins, work, metrics, links,
                                        counters));
                    }
                })
                .bind(bind).await();
        if (!bound.isSuccess()) {
            // A taken port: let go of the threads, so that the caller can fail cleanly.
            boss.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
            throw new IOException("cannot listen on " + bind + ": " + bound.cause().getMessage(), bound.cause());
        }
        channel = bound.channel();
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS);
    }
}
