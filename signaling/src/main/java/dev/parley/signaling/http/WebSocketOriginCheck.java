package dev.parley.signaling.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;

import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Lets a browser open the WebSocket only from the page's own origin (the one whose host is the request's Host
 * header) or a configured one; any other gets 403 before the upgrade. A page elsewhere could otherwise drive a
 * visitor's browser into a session with a token it got hold of. Requests without an Origin header pass: browsers
 * always send it on a WebSocket handshake, so its absence means a program (a test client, a bot), which can set any
 * header it likes and authenticates with its token in the hello like everyone else.
 */
@ChannelHandler.Sharable
final class WebSocketOriginCheck extends ChannelInboundHandlerAdapter {

    private final String path;
    private final Set<String> allowed;
    private final GatewayMetrics metrics;
    private final ObjectMapper json;

    WebSocketOriginCheck(String path, Set<String> allowed, GatewayMetrics metrics, ObjectMapper json) {
        this.path = path;
        this.allowed = allowed;
        this.metrics = metrics;
        this.json = json;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof FullHttpRequest request && new QueryStringDecoder(request.uri()).path().equals(path)) {
            String origin = request.headers().get(HttpHeaderNames.ORIGIN);
            if (origin != null && !allowed(origin, request.headers().get(HttpHeaderNames.HOST))) {
                ReferenceCountUtil.release(request);
                metrics.originRefused();
                metrics.error(GatewayMetrics.Transport.HTTP, ErrorCode.FORBIDDEN);
                String shown = origin.length() > 100 ? origin.substring(0, 100) : origin;
                HttpResponses.error(ctx, false, ErrorCode.FORBIDDEN, "WebSocket connections from " + shown
                        + " are not allowed (parley.ws.allowed-origins)", json);
                return;
            }
        }
        super.channelRead(ctx, msg);
    }

    boolean allowed(String origin, String host) {
        String normalized = origin.trim().toLowerCase(Locale.ROOT);
        return allowed.contains(normalized) || sameOrigin(normalized, host);
    }

    /** Whether the origin names the host (and port) the request was sent to; a missing port is the scheme's. */
    static boolean sameOrigin(String origin, String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        URI originUri;
        URI hostUri;
        try {
            originUri = new URI(origin);
            hostUri = new URI("http://" + host.trim().toLowerCase(Locale.ROOT));
        } catch (Exception e) {
            return false;
        }
        String scheme = originUri.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme) || originUri.getHost() == null
                || hostUri.getHost() == null || originUri.getRawPath() != null && !originUri.getRawPath().isEmpty()) {
            return false;
        }
        int defaultPort = scheme.equals("https") ? 443 : 80;
        int originPort = originUri.getPort() == -1 ? defaultPort : originUri.getPort();
        // Behind a TLS-terminating proxy the Host carries no port while the Origin is https: either default matches.
        boolean portMatches = hostUri.getPort() == -1 ? originUri.getPort() == -1 : hostUri.getPort() == originPort;
        return originUri.getHost().equalsIgnoreCase(hostUri.getHost()) && portMatches;
    }
}
