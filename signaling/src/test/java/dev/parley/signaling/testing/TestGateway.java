package dev.parley.signaling.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.signaling.ParleyServer;
import dev.parley.signaling.config.GatewayConfig;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A gateway in this JVM on a free loopback port, wired exactly as in production but with test settings. */
public final class TestGateway implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final ParleyServer server;

    private TestGateway(ParleyServer server) {
        this.server = server;
    }

    /** The settings every test gateway uses, over the documented defaults: loopback, free port, cheap hashing. */
    public static Map<String, Object> testSettings(RedisServer redis) {
        return testSettings(redis.uri());
    }

    /** {@link #testSettings(RedisServer)} for any Redis URI, a {@code redis-sentinel://} one included. */
    public static Map<String, Object> testSettings(String redisUri) {
        Map<String, Object> settings = new HashMap<>();
        settings.put("parley.http.host", "127.0.0.1");
        settings.put("parley.http.port", 0);
        settings.put("parley.metrics.port", 0);
        settings.put("parley.redis.uri", redisUri);
        settings.put("parley.auth.argon2-memory-kib", 1024);
        settings.put("parley.auth.argon2-iterations", 1);
        // Every test user registers from 127.0.0.1; the per-address limit has its own test.
        settings.put("parley.auth.max-registrations-per-address", 1_000_000);
        // Calls need the embedded media server; tests of calls turn it on (callSettings).
        settings.put("parley.calls.enabled", false);
        settings.put("parley.media.udp-port", 0);
        settings.put("parley.media.http-port", 0);
        settings.put("parley.media.addresses", "127.0.0.1");
        settings.put("parley.media.allowed-remote-networks", "127.0.0.0/8");
        return settings;
    }

    public static Config config(Map<String, Object> settings) {
        return ConfigFactory.parseMap(settings).withFallback(ConfigFactory.parseResources("parley.conf"))
                .withFallback(ConfigFactory.parseResources("reference.conf")).resolve().getConfig("parley");
    }

    public static TestGateway start(RedisServer redis) throws Exception {
        return start(testSettings(redis));
    }

    public static TestGateway start(Map<String, Object> settings) throws Exception {
        return new TestGateway(ParleyServer.start(GatewayConfig.from(config(settings))));
    }

    public int port() {
        return server.httpPort();
    }

    public int metricsPort() {
        return server.metricsPort();
    }

    /** The gateway's Prometheus text, from its metrics listener. */
    public String metrics() throws Exception {
        Response response = request(metricsPort(), "GET", "/metrics", null, null);
        if (response.status() != 200) {
            throw new AssertionError("/metrics answered " + response.status());
        }
        return response.raw();
    }

    /** One series of {@link #metrics()} without labels or with them written out, e.g. {@code parley_ws_sockets}. */
    public double metric(String series) throws Exception {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(metrics());
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** The embedded media server (calls enabled), for tests that look at what it holds. */
    public dev.parley.media.MediaServer mediaServer() {
        return server.mediaServer().orElseThrow(() -> new IllegalStateException("calls are not enabled"));
    }

    public WsClient ws() throws Exception {
        return WsClient.connect(port());
    }

    /** A socket signed in as this user (the answer to register), welcomed. */
    public WsClient signedIn(JsonNode user) throws Exception {
        WsClient ws = ws();
        JsonNode welcome = ws.hello(user.get("token").asText(), null);
        if (!"welcome".equals(welcome.path("type").asText())) {
            ws.close();
            throw new AssertionError("not welcomed: " + welcome);
        }
        return ws;
    }

    /** Registers a user and returns the sign-in answer (userId, token, ...). */
    public JsonNode register(String username) throws Exception {
        Response response = post("/api/auth/register", Map.of("username", username, "password", "correct horse",
                "displayName", "User " + username), null);
        if (response.status() != 201) {
            throw new AssertionError("register failed: " + response);
        }
        return response.body();
    }

    public Response post(String path, Object body, String token) throws Exception {
        return send("POST", path, JSON.writeValueAsString(body), token);
    }

    public Response get(String path, String token) throws Exception {
        return send("GET", path, null, token);
    }

    public Response send(String method, String path, String body, String token) throws Exception {
        return TestGateway.request(port(), method, path, body, token);
    }

    public static Response request(int port, String method, String path, String body, String token)
            throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = HTTP.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = response.body().isEmpty() ? null : parseOrNull(response.body());
        return new Response(response.statusCode(), json, response.body());
    }

    private static JsonNode parseOrNull(String body) {
        try {
            return JSON.readTree(body);
        } catch (Exception e) {
            return null;
        }
    }

    /** An HTTP answer. */
    public record Response(int status, JsonNode body, String raw) {
        public String errorCode() {
            return body == null ? null : body.path("error").path("code").asText(null);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
