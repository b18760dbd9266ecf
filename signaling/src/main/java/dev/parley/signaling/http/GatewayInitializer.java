package dev.parley.signaling.http;

import dev.parley.signaling.config.GatewayConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;

import java.util.function.Supplier;

/**
 * The gateway's pipeline, top to bottom: the per-address connection cap, HTTP codec, security headers on every
 * response, body limit, the Origin check and WebSocket at /ws, the idle timeout, then our handlers.
 */
public final class GatewayInitializer extends ChannelInitializer<SocketChannel> {

    private static final int MAX_HEADER_BYTES = 16 * 1024;
    private static final String WEBSOCKET_PATH = "/ws";

    private final GatewayConfig config;
    private final HttpRequestHandler.Services http;
    private final Supplier<ChannelHandler> webSocketConnection;
    private final ConnectionsPerAddress connectionsPerAddress;
    private final SecurityHeaders securityHeaders;
    private final WebSocketOriginCheck originCheck;

    /** {@code webSocketConnection} makes the handler of one WebSocket's messages (one per connection). */
    public GatewayInitializer(GatewayConfig config, HttpRequestHandler.Services http,
                              Supplier<ChannelHandler> webSocketConnection) {
        this.config = config;
        this.http = http;
        this.webSocketConnection = webSocketConnection;
        this.connectionsPerAddress = new ConnectionsPerAddress(config.http().maxConnectionsPerAddress(),
                config.http().trustedProxies(), http.metrics());
        this.securityHeaders = SecurityHeaders.from(config.auth());
        this.originCheck = new WebSocketOriginCheck(WEBSOCKET_PATH, config.ws().allowedOrigins(), http.metrics(),
                http.json());
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        int maxFrame = config.ws().maxFrameSize();
        WebSocketServerProtocolConfig wsConfig = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(WEBSOCKET_PATH)
                .checkStartsWith(false)
                .dropPongFrames(false)
                .handshakeTimeoutMillis(10_000)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(maxFrame)
                        .allowExtensions(false)
                        .build())
                .build();
        channel.pipeline()
                .addLast("connections-per-address", connectionsPerAddress)
                .addLast("http", new HttpServerCodec(4096, MAX_HEADER_BYTES, 8192))
                .addLast("security-headers", securityHeaders)
                .addLast("body", new BoundedBodyAggregator(config.http().maxBodySize(), http.metrics(), http.json()))
                .addLast("origin", originCheck)
                .addLast("websocket", new WebSocketProtocol(wsConfig))
                .addLast("idle", new IdleConnectionTimeout(config.http().idleTimeout(), http.metrics()))
                .addLast("ws-messages", new WebSocketFrameAggregator(maxFrame))
                .addLast("ws-connection", webSocketConnection.get())
                .addLast("requests", new HttpRequestHandler(http));
    }
}
