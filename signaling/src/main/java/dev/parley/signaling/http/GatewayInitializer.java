package dev.parley.signaling.http;

import dev.parley.signaling.config.GatewayConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

import java.util.function.Supplier;

/** The gateway's pipeline, top to bottom: HTTP codec, body limit, WebSocket at /ws, then our handlers. */
public final class GatewayInitializer extends ChannelInitializer<SocketChannel> {

    private static final int MAX_HEADER_BYTES = 16 * 1024;

    private final GatewayConfig config;
    private final HttpRequestHandler.Services http;
    private final Supplier<ChannelHandler> webSocketConnection;

    /** {@code webSocketConnection} makes the handler of one WebSocket's messages (one per connection). */
    public GatewayInitializer(GatewayConfig config, HttpRequestHandler.Services http,
                              Supplier<ChannelHandler> webSocketConnection) {
        this.config = config;
        this.http = http;
        this.webSocketConnection = webSocketConnection;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        int maxFrame = config.ws().maxFrameSize();
        WebSocketServerProtocolConfig wsConfig = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/ws")
                .checkStartsWith(false)
                .dropPongFrames(false)
                .handshakeTimeoutMillis(10_000)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(maxFrame)
                        .allowExtensions(false)
                        .build())
                .build();
        channel.pipeline()
                .addLast("http", new HttpServerCodec(4096, MAX_HEADER_BYTES, 8192))
                .addLast("body", new BoundedBodyAggregator(config.http().maxBodySize(), http.metrics(), http.json()))
                .addLast("websocket", new WebSocketServerProtocolHandler(wsConfig))
                .addLast("ws-messages", new WebSocketFrameAggregator(maxFrame))
                .addLast("ws-connection", webSocketConnection.get())
                .addLast("requests", new HttpRequestHandler(http));
    }
}
