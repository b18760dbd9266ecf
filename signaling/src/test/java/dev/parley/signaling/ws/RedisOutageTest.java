package dev.parley.signaling.ws;

import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import java.util.Map;

import static dev.parley.signaling.ws.WebSocketGatewayTest.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RedisOutageTest {

    @Test
    void whileRedisIsDownRequestsGetClearErrorsAndServiceReturnsWithIt(@TempDir Path data) throws Exception {
        try (RedisServer redis = RedisServer.startPersistent(data); TestGateway gateway = TestGateway.start(redis)) {
            String token = gateway.register("patient").get("token").asText();
            redis.stopProcess();

            Response health = gateway.get("/healthz", null);
            assertEquals(503, health.status());
            Response login = gateway.post("/api/auth/login", Map.of("username", "patient", "password", "correct horse"),
                    null);
            assertEquals(503, login.status());
            assertEquals("unavailable", login.errorCode());
            try (WsClient ws = gateway.ws()) {
                assertEquals("unavailable", ws.hello(token, null).get("code").asText());
                assertEquals(1013, ws.awaitClose(5000));
            }

            redis.startProcess();
            waitUntil(() -> gateway.get("/healthz", null).status() == 200, 15_000);
            assertEquals(200, gateway.get("/api/me", token).status());
            try (WsClient ws = gateway.ws()) {
                assertEquals("welcome", ws.hello(token, null).get("type").asText());
            }
        }
    }
}
