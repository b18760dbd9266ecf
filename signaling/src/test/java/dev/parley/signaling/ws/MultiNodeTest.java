package dev.parley.signaling.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.session.SessionLock;
import dev.parley.signaling.testing.GatewayProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.parley.signaling.ws.WebSocketGatewayTest.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several gateways sharing one Redis, in this JVM and as separate processes that crash or are stopped. */
class MultiNodeTest {

    private static final Map<String, String> SHORT_LOCKS = Map.of(
            "PARLEY_SESSION_LOCK_TTL", "3s", "PARLEY_SESSION_HEARTBEAT", "1s");

    private static RedisServer redis;
    private static TestGateway nodeA;
    private static TestGateway nodeB;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.session.lock-ttl", "3s");
        settings.put("parley.session.heartbeat", "1s");
        nodeA = TestGateway.start(settings);
        nodeB = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        nodeA.close();
        nodeB.close();
        redis.close();
    }

    @Test
    void theOneSessionRuleHoldsAcrossGateways() throws Exception {
        String token = nodeA.register("roamer").get("token").asText();
        try (WsClient onA = nodeA.ws(); WsClient onB = nodeB.ws()) {
            assertEquals("welcome", onA.hello(token, null).get("type").asText());
            JsonNode refused = onB.hello(token, null);
            assertEquals("session.active", refused.get("code").asText());
            assertEquals(4409, onB.awaitClose(5000));
        }
    }

    @Test
    void presenceChangesReachWatchersOnOtherGateways() throws Exception {
        WebSocketGatewayTest.assertPresenceFollows(nodeA, nodeB, "farwatcher", "farmover");
    }

    @Test
    void resumingOnAnotherGatewayClosesTheOldSocketThere() throws Exception {
        String token = nodeA.register("hopper").get("token").asText();
        try (WsClient onA = nodeA.ws(); WsClient onB = nodeB.ws()) {
            String sessionId = onA.hello(token, null).get("sessionId").asText();
            assertEquals("welcome", onB.hello(token, sessionId).get("type").asText());
            onA.next(m -> m.path("code").asText().equals("session.replaced"), 5000);
            assertEquals(4409, onA.awaitClose(5000));
        }
    }

    @Test
    void afterAGatewayIsKilledANewSessionSucceedsWithinTheLockTtl() throws Exception {
        JsonNode user = nodeA.register("survivor");
        String token = user.get("token").asText();
        try (GatewayProcess doomed = GatewayProcess.start(redis, SHORT_LOCKS)) {
            WsClient onDoomed = WsClient.connect(doomed.port());
            assertEquals("welcome", onDoomed.hello(token, null).get("type").asText());
            doomed.kill();
            long killedAt = System.currentTimeMillis();
            String userId = user.get("userId").asText();
            assertTrue(redis.inspect().get(SessionLock.lockKey(userId)) != null, "the dead node's lock is still there");
            try (WsClient early = nodeB.ws()) {
                assertEquals("session.active", early.hello(token, null).get("code").asText());
            }
            waitUntil(() -> redis.inspect().get(SessionLock.lockKey(userId)) == null, 5000);
            assertTrue(System.currentTimeMillis() - killedAt <= 3500, "the lock expired within its TTL");
            try (WsClient again = nodeB.ws()) {
                assertEquals("welcome", again.hello(token, null).get("type").asText());
            }
        }
    }

    @Test
    void sigtermClosesSocketsWith1001ReleasesLocksAndExitsZero() throws Exception {
        JsonNode user = nodeA.register("graceful");
        String userId = user.get("userId").asText();
        GatewayProcess node = GatewayProcess.start(redis, SHORT_LOCKS);
        WsClient ws = WsClient.connect(node.port());
        assertEquals("welcome", ws.hello(user.get("token").asText(), null).get("type").asText());
        assertEquals(0, node.terminate(), node.output());
        assertEquals(1001, ws.awaitClose(5000));
        assertNull(redis.inspect().get(SessionLock.lockKey(userId)), "the lock was released, not left to expire");
        try (WsClient again = nodeA.ws()) {
            assertEquals("welcome", again.hello(user.get("token").asText(), null).get("type").asText());
        }
    }
}
