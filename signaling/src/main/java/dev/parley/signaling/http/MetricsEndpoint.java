package dev.parley.signaling.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.time.Duration;

/**
 * The metrics listener's pipeline and its one route, {@code GET /metrics} (Prometheus text). It listens apart from
 * the public port, on loopback unless configured otherwise, so the numbers are not for anyone on the internet.
 */
public final class MetricsEndpoint extends ChannelInitializer<SocketChannel> {

    private static final Duration IDLE = Duration.ofSeconds(60);

    private final GatewayMetrics metrics;
    private final ObjectMapper json;
    private final SecurityHeaders headers;

    public MetricsEndpoint(GatewayMetrics metrics, ObjectMapper json) {
        this.metrics = metrics;
        this.json = json;
        this.headers = new SecurityHeaders("default-src 'none'; frame-ancestors 'none'");
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        channel.pipeline()
                .addLast("http", new HttpServerCodec(4096, 8192, 8192))
                .addLast("headers", headers)
                .addLast("body", new HttpObjectAggregator(4096))
                .addLast("idle", new IdleConnectionTimeout(IDLE, metrics))
                .addLast("metrics", new Scrape());
    }

    private final class Scrape extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
            String path = new QueryStringDecoder(request.uri()).path();
            if (!path.equals("/metrics")) {
                HttpResponses.error(ctx, keepAlive, ErrorCode.NOT_FOUND, "This listener serves only /metrics", json);
            } else if (!request.method().equals(HttpMethod.GET)) {
                HttpResponses.error(ctx, keepAlive, ErrorCode.METHOD_NOT_ALLOWED, "GET /metrics", json);
            } else {
                HttpResponses.write(ctx, keepAlive, HttpResponseStatus.OK, HttpResponses.utf8(metrics.scrape()),
                        "text/plain; version=0.0.4; charset=utf-8");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
