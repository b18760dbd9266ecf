package dev.parley.signaling.http;

import dev.parley.signaling.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes an HTTP connection that neither completes a request nor receives an answer for the timeout: an idle
 * keep-alive, a client that connects and says nothing, one that trickles a request in byte by byte. It sits behind
 * the body aggregator, so only whole requests count as reading; a slow download counts as activity. Once the
 * connection becomes a WebSocket it steps aside: the hello timeout and the session heartbeat watch that.
 */
final class IdleConnectionTimeout extends IdleStateHandler {

    private final GatewayMetrics metrics;

    IdleConnectionTimeout(Duration timeout, GatewayMetrics metrics) {
        super(true, 0, 0, timeout.toMillis(), TimeUnit.MILLISECONDS);
        this.metrics = metrics;
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
        metrics.idleClosed();
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            ctx.pipeline().remove(this);
        }
        super.userEventTriggered(ctx, event);
    }
}
