package dev.parley.signaling.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A socket lives as long as its token: closed when the token expires, kept open by renewing it in time. */
class TokenExpiryTest {

    private static final long TTL_MILLIS = 3_000;

    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.auth.token-ttl", TTL_MILLIS + "ms");
        gateway = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    @Test
    void aSocketIsClosedWhenItsTokenExpires() throws Exception {
        String token = gateway.register("shortlived").get("token").asText();
        long start = System.currentTimeMillis();
        try (WsClient ws = gateway.ws()) {
            assertEquals("welcome", ws.hello(token, null).get("type").asText());
            JsonNode error = ws.next(m -> m.path("code").asText().equals("session.ended"), TTL_MILLIS + 3_000);
            assertTrue(error.get("message").asText().contains("expired"), error.toString());
            assertEquals(4410, ws.awaitClose(5000));
        }
        long lived = System.currentTimeMillis() - start;
        // Tokens carry whole seconds, so the socket may end up to a second early.
        assertTrue(lived >= TTL_MILLIS - 1_000 && lived < TTL_MILLIS + 3_000, "closed after " + lived + " ms");
        assertEquals(401, gateway.get("/api/me", token).status());
    }

    @Test
    void renewingTheTokenInTimeKeepsTheSocketOpen() throws Exception {
        String token = gateway.register("renewer").get("token").asText();
        try (WsClient ws = gateway.ws()) {
            assertEquals("welcome", ws.hello(token, null).get("type").asText());
            for (int i = 0; i < 3; i++) {
                Thread.sleep(TTL_MILLIS / 2);
                Response refreshed = gateway.post("/api/auth/refresh", Map.of(), token);
                assertEquals(200, refreshed.status(), refreshed.raw());
                token = refreshed.body().get("token").asText();
                String id = "renew" + i;
                ws.send(Map.of("type", "session.renew", "id", id, "token", token));
                assertEquals("ok", ws.next(m -> id.equals(m.path("re").asText()), 5000)
                        .get("type").asText());
            }
            // Well past the first token's life, the socket is still there; then the last token runs out too.
            assertTrue(ws.isOpen());
            ws.next(m -> m.path("code").asText().equals("session.ended"), TTL_MILLIS + 3_000);
            assertEquals(4410, ws.awaitClose(5000));
        }
    }

    @Test
    void aRenewalWithAnotherUsersOrABadTokenIsRefusedAndChangesNothing() throws Exception {
        String token = gateway.register("keeper").get("token").asText();
        String stranger = gateway.register("stranger").get("token").asText();
        try (WsClient ws = gateway.ws()) {
            assertEquals("welcome", ws.hello(token, null).get("type").asText());
            ws.send(Map.of("type", "session.renew", "id", "a", "token", stranger));
            assertEquals("forbidden", ws.next(m -> "a".equals(m.path("re").asText()), 5000).get("code").asText());
            ws.send(Map.of("type", "session.renew", "id", "b", "token", "not.a.token"));
            assertEquals("auth.invalid", ws.next(m -> "b".equals(m.path("re").asText()), 5000).get("code").asText());
            // The socket still ends with its own token.
            ws.next(m -> m.path("code").asText().equals("session.ended"), TTL_MILLIS + 3_000);
            assertEquals(4410, ws.awaitClose(5000));
        }
    }
}
