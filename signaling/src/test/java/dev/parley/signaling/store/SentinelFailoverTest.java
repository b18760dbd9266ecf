package dev.parley.signaling.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.signaling.testing.SentinelRedis;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A gateway on a Redis primary watched by Sentinel ({@code redis-sentinel://}, one replica, three sentinels, all real
 * processes): the primary is killed with kill -9 while a member keeps chatting, and sign-in, the session lock,
 * presence and chat go on against the promoted replica, with every acknowledged message stored exactly once.
 */
class SentinelFailoverTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Map<String, Object> settings(SentinelRedis redis) {
        Map<String, Object> settings = TestGateway.testSettings(redis.uri());
        settings.put("parley.redis.durable-replicas", 1);
        // Renewals every 2 s, so several run across the failover; a lock outlives a few missed ones.
        settings.put("parley.session.heartbeat", "2s");
        settings.put("parley.session.lock-ttl", "10s");
        return settings;
    }

    @Test
    void signInTheSessionLockPresenceAndChatSurviveAPrimaryKilledMidConversation() throws Exception {
        try (SentinelRedis redis = SentinelRedis.start(); TestGateway gateway = TestGateway.start(settings(redis))) {
            JsonNode ann = gateway.register("sfann");
            JsonNode bob = gateway.register("sfbob");
            String meeting = meetingOf(gateway, ann, bob);
            try (WsClient annWs = gateway.ws(); WsClient bobWs = gateway.signedIn(bob)) {
                JsonNode welcome = annWs.hello(ann.get("token").asText(), null);
                assertEquals("welcome", welcome.get("type").asText(), welcome.toString());
                String annSession = welcome.get("sessionId").asText();
                Map<String, String> acknowledged = new LinkedHashMap<>();
                for (int i = 0; i < 5; i++) {
                    acknowledged.put("before-" + i, sendUntilAcknowledged(annWs, meeting, "before-" + i));
                }

                int oldPrimary = redis.primaryPort();
                redis.kill(oldPrimary);
                // Ann goes on chatting through the failover; each message goes again, same clientMsgId, until
                // acknowledged, as the web client's Retry does.
                CompletableFuture<Map<String, String>> during = CompletableFuture.supplyAsync(() -> {
                    Map<String, String> ids = new LinkedHashMap<>();
                    for (int i = 0; i < 5; i++) {
                        ids.put("during-" + i, sendUntilAcknowledged(annWs, meeting, "during-" + i));
                    }
                    return ids;
                });
                int newPrimary = redis.awaitFailover(oldPrimary, Duration.ofSeconds(30));
                // As an operator's supervisor would: the old primary comes back, empty, and becomes a replica. Until
                // then the new primary has no replica to confirm chat, which answers `unavailable`.
                redis.restart(oldPrimary);
                redis.awaitReplicas(newPrimary, 1, Duration.ofSeconds(30));
                acknowledged.putAll(during.get(60, TimeUnit.SECONDS));
                for (int i = 0; i < 5; i++) {
                    acknowledged.put("after-" + i, sendUntilAcknowledged(annWs, meeting, "after-" + i));
                }

                // Chat: every acknowledged message is stored once, under the id its ack gave, and Bob got each.
                JsonNode history = gateway.get("/api/meetings/" + meeting + "/messages?limit=100",
                        ann.get("token").asText()).body().get("messages");
                Map<String, String> stored = new HashMap<>();
                for (JsonNode m : history) {
                    if (m.get("system").asBoolean()) {
                        continue;
                    }
                    String previous = stored.put(m.get("clientMsgId").asText(), m.get("messageId").asText());
                    assertEquals(null, previous, "stored twice: " + m);
                }
                assertEquals(acknowledged, filter(stored, acknowledged.keySet()), "acknowledged but not stored");
                Set<String> bobSaw = new HashSet<>();
                while (!bobSaw.containsAll(acknowledged.values())) {
                    bobSaw.add(bobWs.next(m -> m.path("type").asText().equals("chat.message"), 10_000)
                            .get("message").get("messageId").asText());
                }

                // The session lock: after renewals on the new primary it still names Ann's session, her socket
                // is open, and a second sign-in as Ann is refused.
                Thread.sleep(4_500);
                try (StatefulRedisConnection<String, String> primary = redis.serverClient(newPrimary)) {
                    assertEquals(annSession, primary.sync().get(
                            dev.parley.signaling.session.SessionLock.lockKey(ann.get("userId").asText())));
                }
                assertTrue(annWs.isOpen(), "Ann's socket closed across the failover");
                try (WsClient second = gateway.ws()) {
                    JsonNode refused = second.hello(ann.get("token").asText(), null);
                    assertEquals("session.active", refused.path("code").asText(), refused.toString());
                }

                // Presence: Bob sees Ann's new status.
                ObjectNode dnd = JSON.createObjectNode().put("type", "presence.set").put("status", "dnd");
                assertEquals("presence.choice", annWs.ask(dnd).get("type").asText());
                bobWs.next(m -> m.path("type").asText().equals("presence")
                        && m.path("userId").asText().equals(ann.get("userId").asText())
                        && m.path("status").asText().equals("dnd"), 10_000);

                // Sign-in: a new account registers and signs in on the new primary.
                gateway.signedIn(gateway.register("sfcat")).close();
            }
        }
    }

    @Test
    void aMessageNoReplicaConfirmsIsRefusedAndItsRetryIsAcknowledgedOnceAndDelivered() throws Exception {
        try (SentinelRedis redis = SentinelRedis.start(); TestGateway gateway = TestGateway.start(settings(redis))) {
            JsonNode ann = gateway.register("nrann");
            JsonNode bob = gateway.register("nrbob");
            String meeting = meetingOf(gateway, ann, bob);
            int replica = redis.serverPorts().stream().filter(p -> p != redis.primaryPort()).findFirst()
                    .orElseThrow();
            try (WsClient annWs = gateway.signedIn(ann); WsClient bobWs = gateway.signedIn(bob)) {
                redis.signal(replica, "STOP");
                JsonNode refused;
                try {
                    refused = annWs.ask(send(meeting, "frozen-1", "only once"));
                } finally {
                    redis.signal(replica, "CONT");
                }
                assertEquals("error", refused.get("type").asText(), refused.toString());
                assertEquals("unavailable", refused.get("code").asText(), refused.toString());
                assertTrue(gateway.metric("parley_redis_replication_shortfalls_total{write=\"chat\"}") >= 1,
                        "the shortfall is counted");

                String id = sendUntilAcknowledged(annWs, meeting, "frozen-1");
                JsonNode delivered = bobWs.next(m -> m.path("type").asText().equals("chat.message"), 10_000);
                assertEquals(id, delivered.get("message").get("messageId").asText(), "the retry delivered it");
                JsonNode history = gateway.get("/api/meetings/" + meeting + "/messages", ann.get("token").asText())
                        .body().get("messages");
                List<String> copies = new ArrayList<>();
                history.forEach(m -> {
                    if (m.path("clientMsgId").asText().equals("frozen-1")) {
                        copies.add(m.get("messageId").asText());
                    }
                });
                assertEquals(List.of(id), copies, history.toString());
            }
        }
    }

    /** Sends until the gateway acknowledges (30 s at most); answers that say to try again are waited out. */
    private static String sendUntilAcknowledged(WsClient ws, String meeting, String clientMsgId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<String> answers = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            JsonNode answer;
            try {
                answer = ws.ask(send(meeting, clientMsgId, "message " + clientMsgId));
            } catch (AssertionError noAnswer) {
                answers.add("no answer");
                continue;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            if (answer.get("type").asText().equals("chat.ack")) {
                return answer.get("messageId").asText();
            }
            answers.add(answer.path("code").asText());
            assertTrue(Set.of("unavailable", "rate_limited").contains(answer.path("code").asText()),
                    answer.toString());
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
        throw new AssertionError(clientMsgId + " was never acknowledged; answers: " + answers);
    }

    private static ObjectNode send(String meetingId, String clientMsgId, String text) {
        return JSON.createObjectNode().put("type", "chat.send").put("meetingId", meetingId)
                .put("clientMsgId", clientMsgId).put("text", text);
    }

    private static String meetingOf(TestGateway gateway, JsonNode owner, JsonNode member) throws Exception {
        String id = gateway.post("/api/meetings", Map.of("title", "Failover"), owner.get("token").asText()).body()
                .get("meetingId").asText();
        assertEquals(200, gateway.post("/api/meetings/" + id + "/members",
                Map.of("username", member.get("username").asText()), owner.get("token").asText()).status());
        return id;
    }

    private static Map<String, String> filter(Map<String, String> map, Set<String> keys) {
        Map<String, String> kept = new LinkedHashMap<>();
        for (String key : keys) {
            if (map.containsKey(key)) {
                kept.put(key, map.get(key));
            }
        }
        return kept;
    }
}
