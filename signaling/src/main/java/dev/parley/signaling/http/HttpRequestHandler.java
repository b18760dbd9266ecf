package dev.parley.signaling.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.store.RedisConnections;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Every plain HTTP request: REST under /api, /healthz, and the web client's files (/metrics has its own listener).
 * REST handlers complete asynchronously; the response is written whenever they finish, never blocking the event
 * loop.
 */
public final class HttpRequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(HttpRequestHandler.class);

    /** What every request handler on a gateway shares. */
    public record Services(RestRouter router, StaticFiles files, RedisConnections redis, GatewayMetrics metrics,
                           ObjectMapper json, ClientAddresses clientAddresses) {
    }

    private final Services services;

    public HttpRequestHandler(Services services) {
        this.services = services;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        services.metrics().request();
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (!request.decoderResult().isSuccess()) {
            error(ctx, false, ApiException.badRequest("malformed HTTP request"));
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path = uri.path();
        if (path.equals("/api") || path.startsWith("/api/")) {
            api(ctx, keepAlive, request, uri);
        } else if (path.equals("/healthz")) {
            health(ctx, keepAlive);
        } else {
            staticFile(ctx, keepAlive, request.method(), path);
        }
    }

    private void api(ChannelHandlerContext ctx, boolean keepAlive, FullHttpRequest request, QueryStringDecoder uri) {
        CompletionStage<RestResponse> response;
        try {
            RestRouter.Match match = services.router().match(request.method().name(), uri.path());
            RestRequest rest = new RestRequest(request.method().name(), uri.path(), match.params(), uri.parameters(),
                    bearer(request), ByteBufUtil.getBytes(request.content()),
                    services.clientAddresses().of(ctx.channel().remoteAddress(), request.headers()),
                    services.json());
            response = match.handler().handle(rest);
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        response.whenComplete((result, failure) -> {
            if (failure != null) {
                ApiException error = ApiException.from(failure);
                if (error.code() == ErrorCode.INTERNAL) {
                    log.error("request {} {} failed", request.method(), uri.path(), failure);
                }
                error(ctx, keepAlive, error);
            } else {
                HttpResponses.json(ctx, keepAlive, result.status(), result.body(), services.json());
            }
        });
    }

    private void health(ChannelHandlerContext ctx, boolean keepAlive) {
        services.redis().ping().whenComplete((up, failure) -> {
            if (Boolean.TRUE.equals(up)) {
                HttpResponses.json(ctx, keepAlive, HttpResponseStatus.OK, Map.of("status", "ok"), services.json());
            } else {
                HttpResponses.json(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE,
                        Map.of("status", "unavailable", "redis", "down"), services.json());
            }
        });
    }

    private void staticFile(ChannelHandlerContext ctx, boolean keepAlive, HttpMethod method, String path) {
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            error(ctx, keepAlive,
                    new ApiException(ErrorCode.METHOD_NOT_ALLOWED, method + " is not allowed on " + path));
            return;
        }
        var file = services.files().find(path);
        if (file.isEmpty()) {
            error(ctx, keepAlive, new ApiException(ErrorCode.NOT_FOUND, "No such file: " + path));
            return;
        }
        byte[] body = method.equals(HttpMethod.HEAD) ? new byte[0] : file.get().bytes();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, file.get().contentType())
                .set(HttpHeaderNames.CONTENT_LENGTH, file.get().bytes().length)
                .set(HttpHeaderNames.CACHE_CONTROL, file.get().immutable()
                        ? "public, max-age=31536000, immutable" : "no-cache");
        HttpResponses.send(ctx, keepAlive, response);
    }

    private void error(ChannelHandlerContext ctx, boolean keepAlive, ApiException error) {
        services.metrics().error(GatewayMetrics.Transport.HTTP, error.code());
        HttpResponses.error(ctx, keepAlive, error.code(), error.getMessage(), services.json());
    }

    private static String bearer(FullHttpRequest request) {
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).trim();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection error: {}", cause.toString());
        ctx.close();
    }
}
