package dev.parley.signaling.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ErrorCode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Writes responses: JSON bodies, the one error body shape, and keep-alive handling. */
final class HttpResponses {

    private HttpResponses() {
    }

    static void json(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, Object body,
                     ObjectMapper json) {
        byte[] bytes;
        try {
            bytes = body == null ? new byte[0] : json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode response", e);
        }
        write(ctx, keepAlive, status, bytes, "application/json; charset=utf-8");
    }

    static void error(ChannelHandlerContext ctx, boolean keepAlive, ErrorCode code, String message,
                      ObjectMapper json) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(code.httpStatus());
        json(ctx, keepAlive, status, Map.of("error", Map.of("code", code.wire(), "message", message)), json);
    }

    static void write(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, byte[] body,
                      String contentType) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (body.length > 0 || status.code() != 204) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        send(ctx, keepAlive, response);
    }

    static void send(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ChannelFuture written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
