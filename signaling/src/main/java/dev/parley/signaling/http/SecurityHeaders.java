package dev.parley.signaling.http;

import dev.parley.signaling.config.GatewayConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * Adds the browser security headers to every HTTP response the gateway writes, whoever writes it: a
 * Content-Security-Policy that runs only the app's own script files (no inline script, no eval) and lets the page
 * connect only to its own origin (its WebSocket included) and, when Firebase sign-in is on, to Firebase; no framing
 * by other sites; no Referer; no MIME sniffing.
 */
@ChannelHandler.Sharable
final class SecurityHeaders extends ChannelOutboundHandlerAdapter {

    /** Where the Firebase JS SDK connects (sign-in, token refresh) and what it loads for Google's popup sign-in. */
    private static final List<String> FIREBASE_CONNECT = List.of("https://identitytoolkit.googleapis.com",
            "https://securetoken.googleapis.com", "https://www.googleapis.com");
    private static final String FIREBASE_SCRIPT = "https://apis.google.com";

    private final String contentSecurityPolicy;

    SecurityHeaders(String contentSecurityPolicy) {
        this.contentSecurityPolicy = contentSecurityPolicy;
    }

    static SecurityHeaders from(GatewayConfig.Auth auth) {
        return new SecurityHeaders(contentSecurityPolicy(auth));
    }

    /**
     * The policy for this configuration. {@code 'self'} in connect-src covers the page's own ws:/wss: origin in
     * every current browser (CSP Level 3).
     */
    static String contentSecurityPolicy(GatewayConfig.Auth auth) {
        List<String> script = new ArrayList<>(List.of("'self'"));
        List<String> connect = new ArrayList<>(List.of("'self'"));
        List<String> frames = new ArrayList<>();
        if (auth.providers().contains("firebase")) {
            GatewayConfig.Firebase firebase = auth.firebase();
            script.add(FIREBASE_SCRIPT);
            connect.addAll(FIREBASE_CONNECT);
            if (!firebase.authDomain().isEmpty()) {
                // The SDK's hidden iframe on the auth domain carries Google's popup sign-in.
                frames.add("https://" + firebase.authDomain());
            }
            if (!firebase.emulatorHost().isEmpty()) {
                connect.add("http://" + firebase.emulatorHost());
                frames.add("http://" + firebase.emulatorHost());
            }
        }
        return String.join("; ",
                "default-src 'self'",
                "script-src " + String.join(" ", script),
                "style-src 'self'",
                "img-src 'self' data: blob:",
                "font-src 'self'",
                "media-src 'self' blob:",
                "connect-src " + String.join(" ", connect),
                "frame-src " + (frames.isEmpty() ? "'none'" : String.join(" ", frames)),
                "worker-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'");
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse response) {
            response.headers()
                    .set("Content-Security-Policy", contentSecurityPolicy)
                    .set("X-Frame-Options", "DENY")
                    .set("Referrer-Policy", "no-referrer")
                    .set("X-Content-Type-Options", "nosniff");
        }
        super.write(ctx, msg, promise);
    }
}
