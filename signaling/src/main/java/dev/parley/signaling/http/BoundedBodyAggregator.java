package dev.parley.signaling.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpObjectAggregator;

/** Aggregates request bodies up to the limit, answering a larger one with the usual JSON error and closing. */
final class BoundedBodyAggregator extends HttpObjectAggregator {

    private final int maxBody;
    private final GatewayMetrics metrics;
    private final ObjectMapper json;

    BoundedBodyAggregator(int maxBody, GatewayMetrics metrics, ObjectMapper json) {
        super(maxBody);
        this.maxBody = maxBody;
        this.metrics = metrics;
        this.json = json;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        metrics.error(GatewayMetrics.Transport.HTTP, ErrorCode.PAYLOAD_TOO_LARGE);
        // Keep a keep-alive connection open (the aggregator discards the rest of the body) so the client reads the
        // answer instead of a reset; close only when the body cannot be skipped.
        boolean keepOpen = !(oversized instanceof FullHttpMessage) && HttpUtil.isKeepAlive(oversized);
        HttpResponses.error(ctx, keepOpen, ErrorCode.PAYLOAD_TOO_LARGE,
                "request body is larger than " + maxBody + " bytes", json);
    }
}
