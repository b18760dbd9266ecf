package dev.parley.signaling.auth;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sign-in throttling through a real gateway and Redis, with clients on different loopback addresses (127.0.0.2,
 * 127.0.0.3, ...: Linux routes all of 127/8 to lo) or behind a trusted proxy's X-Forwarded-For.
 */
class LoginThrottleTest {

    private static final String PASSWORD = "correct horse";

    private static Map<String, Object> settings(RedisServer redis) {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.auth.backoff-after", 5);
        // Long enough that no test's burst outlives the first back-off.
        settings.put("parley.auth.backoff-base", "1m");
        // 300 concurrent sign-ins come from one address: above the per-address connection cap (256) otherwise.
        settings.put("parley.http.max-connections-per-address", 1000);
        return settings;
    }

    @Test
    void concurrentWrongPasswordsReachThePasswordCheckAtMostBackoffAfterTimes() throws Exception {
        try (RedisServer redis = RedisServer.start(); TestGateway gateway = TestGateway.start(settings(redis))) {
            gateway.register("victim");
            double verifiedBefore = metric(gateway, "parley_auth_password_verifications_total");
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            List<CompletableFuture<HttpResponse<String>>> attempts = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                attempts.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                                + "/api/auth/login")).timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"username\":\"victim\",\"password\":\"guess-" + i + "\"}")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            int wrong = 0;
            int limited = 0;
            for (CompletableFuture<HttpResponse<String>> attempt : attempts) {
                int status = attempt.get().statusCode();
                wrong += status == 401 ? 1 : 0;
                limited += status == 429 ? 1 : 0;
            }
            double verified = metric(gateway, "parley_auth_password_verifications_total") - verifiedBefore;
            assertTrue(wrong >= 1 && wrong <= 5, "guesses checked and answered 401: " + wrong);
            assertEquals(300 - wrong, limited, "every other guess is refused before the password check");
            assertTrue(verified <= 5, "passwords verified: " + verified);
        }
    }

    @Test
    void anAttackersFailuresFromOneAddressDoNotStopTheOwnerSigningInFromAnother() throws Exception {
        try (RedisServer redis = RedisServer.start(); TestGateway gateway = TestGateway.start(settings(redis))) {
            gateway.register("owner");
            int refused = 0;
            for (int i = 0; i < 12; i++) {
                int status = loginFrom("127.0.0.2", gateway.port(), "owner", "guess-" + i, null);
                assertTrue(status == 401 || status == 429, "attacker gets " + status);
                refused += status == 429 ? 1 : 0;
            }
            assertEquals(7, refused, "after five failures the attacker's address must wait");
            assertEquals(429, loginFrom("127.0.0.2", gateway.port(), "owner", PASSWORD, null),
                    "the attacker's address waits even with the right password");
            assertEquals(200, loginFrom("127.0.0.3", gateway.port(), "owner", PASSWORD, null),
                    "the owner signs in from their own address");
        }
    }

    @Test
    void addressesTheOwnerSignedInFromAreExemptFromTheLimitAcrossAddresses() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            Map<String, Object> settings = settings(redis);
            settings.put("parley.auth.max-failures-per-user", 3);
            try (TestGateway gateway = TestGateway.start(settings)) {
                gateway.register("mara");
                assertEquals(200, loginFrom("127.0.0.3", gateway.port(), "mara", PASSWORD, null));
                for (String attacker : List.of("127.0.0.4", "127.0.0.5", "127.0.0.6")) {
                    assertEquals(401, loginFrom(attacker, gateway.port(), "mara", "wrong-guess", null));
                }
                assertEquals(429, loginFrom("127.0.0.7", gateway.port(), "mara", "wrong-guess", null),
                        "the distributed attack is slowed");
                assertEquals(200, loginFrom("127.0.0.3", gateway.port(), "mara", PASSWORD, null),
                        "but the owner's known address still signs in");
            }
        }
    }

    @Test
    void ipv6ClientsBehindATrustedProxyAreCountedPerSlash64() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            Map<String, Object> settings = settings(redis);
            settings.put("parley.http.trusted-proxies", "127.0.0.1");
            try (TestGateway gateway = TestGateway.start(settings)) {
                gateway.register("ivy");
                for (int i = 1; i <= 5; i++) {
                    assertEquals(401, loginFrom("127.0.0.1", gateway.port(), "ivy", "wrong-guess",
                            "2001:db8:1:2::" + Integer.toHexString(i)));
                }
                assertEquals(429, loginFrom("127.0.0.1", gateway.port(), "ivy", "wrong-guess",
                        "2001:db8:1:2:ffff:1234:5678:9abc"), "another address in the same /64 shares the back-off");
                assertEquals(200, loginFrom("127.0.0.1", gateway.port(), "ivy", PASSWORD, "2001:db8:1:3::1"),
                        "the next /64 does not");
            }
        }
    }

    @Test
    void forwardedForFromAnUntrustedPeerIsIgnoredWarnedOnceAndCounted() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger("dev.parley.signaling.http");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try (RedisServer redis = RedisServer.start(); TestGateway gateway = TestGateway.start(settings(redis))) {
            gateway.register("una");
            for (int i = 1; i <= 5; i++) {
                assertEquals(401, loginFrom("127.0.0.8", gateway.port(), "una", "wrong-guess", "198.51.100." + i));
            }
            assertEquals(429, loginFrom("127.0.0.8", gateway.port(), "una", "wrong-guess", "198.51.100.99"),
                    "a header from an untrusted peer does not make it a new client");
            assertEquals(6.0, metric(gateway, "parley_http_forwarded_untrusted_total"));
            List<String> warnings = logged.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.contains("127.0.0.8")).toList();
            assertEquals(1, warnings.size(), "one warning per peer: " + warnings);
            assertTrue(warnings.get(0).contains("parley.http.trusted-proxies"), warnings.get(0));
        } finally {
            logger.detachAppender(logged);
        }
    }

    /** A login over a socket bound to {@code source}; returns the HTTP status. */
    static int loginFrom(String source, int port, String username, String password, String forwardedFor)
            throws IOException {
        String body = "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout(10_000);
            String head = "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n"
                    + (forwardedFor == null ? "" : "X-Forwarded-For: " + forwardedFor + "\r\n") + "\r\n";
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            Matcher status = Pattern.compile("^HTTP/1\\.1 (\\d{3})").matcher(answer);
            if (!status.find()) {
                throw new IOException("no HTTP answer: " + answer);
            }
            return Integer.parseInt(status.group(1));
        }
    }

    static double metric(TestGateway gateway, String name) throws Exception {
        String text = gateway.metrics();
        Matcher value = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})? (\\S+)$").matcher(text);
        return value.find() ? Double.parseDouble(value.group(1)) : 0;
    }
}
