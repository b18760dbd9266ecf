package dev.parley.signaling.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import static dev.parley.signaling.http.ConnectionLimitsTest.readHead;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The web app's browser protections: security headers, who may open the WebSocket, where /metrics is served. */
class SecurityHeadersTest {

    private static RedisServer redis;
    private static TestGateway gateway;
    private static Path web;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        web = Files.createTempDirectory("parley-web");
        Files.writeString(web.resolve("index.html"), "<!doctype html><title>Parley</title>"
                + "<script type=\"module\" src=\"/assets/app.js\"></script>");
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.http.static-dir", web.toString());
        settings.put("parley.ws.allowed-origins", "https://meet.example.org");
        gateway = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
        Files.deleteIfExists(web.resolve("index.html"));
        Files.deleteIfExists(web);
    }

    @Test
    void everyResponseCarriesTheSecurityHeaders() throws Exception {
        for (String request : new String[]{"GET / ", "GET /meetings/abc ", "GET /api/me ", "GET /healthz ",
                "GET /nothing.png ", "DELETE / ", "GET /ws "}) {
            String head = exchange(request + "HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            String lower = head.toLowerCase(Locale.ROOT);
            String csp = header(head, "Content-Security-Policy");
            assertTrue(csp.contains("script-src 'self'"), request + ": " + csp);
            assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval"), request + ": " + csp);
            assertTrue(csp.contains("frame-ancestors 'none'"), request + ": " + csp);
            assertTrue(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"), csp);
            assertTrue(lower.contains("x-frame-options: deny"), request + ": " + head);
            assertTrue(lower.contains("referrer-policy: no-referrer"), request + ": " + head);
            assertTrue(lower.contains("x-content-type-options: nosniff"), request + ": " + head);
        }
    }

    @Test
    void thePolicyLetsThePageReachFirebaseOnlyWhenItIsOn() {
        GatewayConfig local = GatewayConfig.from(TestGateway.config(TestGateway.testSettings(redis)));
        String localPolicy = SecurityHeaders.contentSecurityPolicy(local.auth());
        assertTrue(localPolicy.contains("connect-src 'self';"), localPolicy);
        assertTrue(localPolicy.contains("frame-src 'none'"), localPolicy);

        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.auth.providers", "local,firebase");
        settings.put("parley.auth.firebase.project-id", "demo-parley");
        settings.put("parley.auth.firebase.auth-domain", "demo-parley.firebaseapp.com");
        settings.put("parley.auth.firebase.emulator-host", "127.0.0.1:9099");
        String policy = SecurityHeaders.contentSecurityPolicy(GatewayConfig.from(TestGateway.config(settings)).auth());
        assertTrue(policy.contains("connect-src 'self' https://identitytoolkit.googleapis.com"
                + " https://securetoken.googleapis.com"), policy);
        assertTrue(policy.contains("http://127.0.0.1:9099"), policy);
        assertTrue(policy.contains("frame-src https://demo-parley.firebaseapp.com"), policy);
        assertTrue(policy.contains("script-src 'self' https://apis.google.com;"), policy);
    }

    @Test
    void aWebSocketFromAnotherSiteIsRefusedWith403AndCounted() throws Exception {
        double before = gateway.metric("parley_ws_origins_refused_total");
        String head = exchange(upgrade("http://evil.example"));
        assertTrue(head.startsWith("HTTP/1.1 403"), head);
        assertTrue(head.contains("\"forbidden\""), head);
        assertEquals(before + 1, gateway.metric("parley_ws_origins_refused_total"));
        assertTrue(gateway.metric("parley_errors_total{code=\"forbidden\",transport=\"http\"}") >= 1);

        String null_ = exchange(upgrade("null"));
        assertTrue(null_.startsWith("HTTP/1.1 403"), "a sandboxed page's opaque origin: " + null_);
        String lookalike = exchange(upgrade("http://127.0.0.1:" + gateway.port() + ".evil.example"));
        assertTrue(lookalike.startsWith("HTTP/1.1 403"), lookalike);
    }

    @Test
    void theAppsOwnOriginAConfiguredOneAndProgramsWithoutOriginMayConnect() throws Exception {
        assertTrue(exchange(upgrade("http://127.0.0.1:" + gateway.port())).startsWith("HTTP/1.1 101"),
                "the origin the page was served from");
        assertTrue(exchange(upgrade("https://meet.example.org")).startsWith("HTTP/1.1 101"), "a configured origin");
        assertTrue(exchange(upgrade(null)).startsWith("HTTP/1.1 101"), "no Origin: not a browser");

        DefaultHttpHeaders headers = new DefaultHttpHeaders();
        headers.set("Origin", "https://MEET.example.org");
        JsonNode user = gateway.register("from-the-site");
        try (WsClient ws = WsClient.connect(gateway.port(), headers)) {
            assertEquals("welcome", ws.hello(user.get("token").asText(), null).get("type").asText());
        }
    }

    @Test
    void sameOriginComparesHostAndPortAsBrowsersSendThem() {
        assertTrue(WebSocketOriginCheck.sameOrigin("https://meet.example.org", "meet.example.org"));
        assertTrue(WebSocketOriginCheck.sameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assertTrue(WebSocketOriginCheck.sameOrigin("https://meet.example.org", "MEET.example.org"));
        assertTrue(WebSocketOriginCheck.sameOrigin("http://[::1]:8080", "[::1]:8080"));
        assertFalse(WebSocketOriginCheck.sameOrigin("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assertFalse(WebSocketOriginCheck.sameOrigin("https://meet.example.org:8443", "meet.example.org"));
        assertFalse(WebSocketOriginCheck.sameOrigin("https://evil.example", "meet.example.org"));
        assertFalse(WebSocketOriginCheck.sameOrigin("https://meet.example.org", null));
    }

    @Test
    void metricsAreServedOnlyOnTheirOwnLoopbackListener() throws Exception {
        String publicPort = exchange("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertFalse(publicPort.contains("parley_ws_sockets") || publicPort.contains("jvm_"),
                "the public port serves no metrics: " + publicPort);
        assertTrue(gateway.metrics().contains("parley_ws_sockets"));
        GatewayConfig defaults = GatewayConfig.from(TestGateway.config(Map.of("parley.redis.uri", redis.uri())));
        assertTrue(InetAddress.getByName(defaults.metrics().host()).isLoopbackAddress(),
                "by default /metrics listens on loopback: " + defaults.metrics().host());
    }

    private static String upgrade(String origin) {
        return "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port() + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + (origin == null ? "" : "Origin: " + origin + "\r\n") + "\r\n";
    }

    /** Sends one raw request and returns the response head, plus the body when the server closes after it. */
    private static String exchange(String request) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            String head = readHead(in);
            if (head.startsWith("HTTP/1.1 101")) {
                return head;
            }
            return head + new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String header(String head, String name) {
        return head.lines().filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                .map(l -> l.substring(name.length() + 1).trim()).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in " + head));
    }
}
