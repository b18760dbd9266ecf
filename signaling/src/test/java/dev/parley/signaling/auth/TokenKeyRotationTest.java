package dev.parley.signaling.auth;

import com.nimbusds.jwt.SignedJWT;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The operator's rotation command: two keys accepted during the window, the old one refused after it. */
class TokenKeyRotationTest {

    private static RedisServer redis;
    private static TestGateway nodeA;
    private static TestGateway nodeB;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        nodeA = TestGateway.start(redis);
        nodeB = TestGateway.start(redis);
    }

    @AfterAll
    static void stop() throws Exception {
        nodeA.close();
        nodeB.close();
        redis.close();
    }

    /** Runs the rotation command as an operator would, against the test Redis. */
    private static String rotate(String... args) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new java.util.ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"), "-cp", classpath,
                "dev.parley.signaling.auth.TokenKeyRotation"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PARLEY_REDIS_URI", redis.uri());
        Process process = builder.start();
        String output;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            output = in.lines().collect(Collectors.joining("\n"));
        }
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the rotation command did not finish");
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    private static String kid(String token) throws Exception {
        return SignedJWT.parse(token).getHeader().getKeyID();
    }

    @Test
    void oldTokensWorkDuringTheRotationWindowAndFailAfterIt() throws Exception {
        String before = nodeA.register("rotated").get("token").asText();
        long windowMillis = 3_000;
        String said = rotate("--window", windowMillis / 1000 + "s");
        assertTrue(said.contains("rotated the token signing key"), said);

        // Both gateways sign with the new key at once, without a restart, and accept each other's new tokens.
        String afterA = nodeA.post("/api/auth/login", Map.of("username", "rotated", "password", "correct horse"),
                null).body().get("token").asText();
        String afterB = nodeB.post("/api/auth/login", Map.of("username", "rotated", "password", "correct horse"),
                null).body().get("token").asText();
        assertNotEquals(kid(before), kid(afterA));
        assertEquals(kid(afterA), kid(afterB));
        for (TestGateway gateway : new TestGateway[]{nodeA, nodeB}) {
            assertEquals(200, gateway.get("/api/me", before).status());
            assertEquals(200, gateway.get("/api/me", afterA).status());
            assertEquals(200, gateway.get("/api/me", afterB).status());
        }

        Thread.sleep(windowMillis + 500);
        for (TestGateway gateway : new TestGateway[]{nodeA, nodeB}) {
            assertEquals(401, gateway.get("/api/me", before).status());
            assertEquals(200, gateway.get("/api/me", afterA).status());
        }
        try (WsClient ws = nodeB.ws()) {
            assertEquals("auth.invalid", ws.hello(before, null).get("code").asText());
        }
    }

    @Test
    void aBadWindowIsRefusedWithAClearMessage() throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                classpath, "dev.parley.signaling.auth.TokenKeyRotation", "--window", "soon")
                .redirectErrorStream(true);
        builder.environment().put("PARLEY_REDIS_URI", redis.uri());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, process.exitValue(), output);
        assertTrue(output.contains("--window must be a duration"), output);
    }
}
