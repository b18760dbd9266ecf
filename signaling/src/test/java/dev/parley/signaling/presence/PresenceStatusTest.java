package dev.parley.signaling.presence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Presence statuses across two gateways on real Redis: Do not disturb is the user's own choice and outlives the
 * session, a call shows as busy above it, an idle session shows as away, and calls to someone in Do not disturb are
 * answered unavailable without ringing.
 */
class PresenceStatusTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static RedisServer redis;
    private static TestGateway nodeA;
    private static TestGateway nodeB;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.calls.enabled", true);
        nodeA = TestGateway.start(settings);
        nodeB = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        nodeA.close();
        nodeB.close();
        redis.close();
    }

    private static ObjectNode message(String type) {
        return JSON.createObjectNode().put("type", type);
    }

    private static JsonNode statusOf(WsClient watcher, String userId, String status) throws Exception {
        return watcher.next(m -> m.get("type").asText().equals("presence") && m.get("userId").asText().equals(userId)
                && m.get("status").asText().equals(status), 10_000);
    }

    @Test
    void doNotDisturbIsKeptAcrossSessionsBusyInACallAndAwayWhenIdle() throws Exception {
        JsonNode ann = nodeA.register("psann");
        JsonNode bob = nodeB.register("psbob");
        String bobId = bob.get("userId").asText();
        String chat = nodeA.post("/api/direct-chats", Map.of("userId", bobId), ann.get("token").asText()).body()
                .get("meetingId").asText();
        try (WsClient annWs = nodeA.signedIn(ann)) {
            WsClient bobWs = nodeB.signedIn(bob);
            assertEquals("available", bobWs.ask(message("presence.mine")).get("status").asText(),
                    "their own choice, asked for");
            statusOf(annWs, bobId, "online");

            JsonNode chosen = bobWs.ask(message("presence.set").put("status", "dnd"));
            assertEquals("presence.choice", chosen.get("type").asText(), chosen.toString());
            assertEquals("dnd", chosen.get("status").asText());
            statusOf(annWs, bobId, "dnd");

            // A call shows as busy above Do not disturb; leaving it brings Do not disturb back.
            assertEquals("call.joined", bobWs.ask(message("call.join").put("meetingId", chat)).get("type").asText());
            statusOf(annWs, bobId, "in-call");
            assertEquals("call.left", bobWs.ask(message("call.leave").put("meetingId", chat)).get("type").asText());
            statusOf(annWs, bobId, "dnd");

            // A call to someone in Do not disturb does not ring: it is answered unavailable.
            JsonNode ring = annWs.ask(message("ring.start").put("userId", bobId).put("media", "video"));
            assertEquals("unavailable", ring.get("state").asText(), ring.toString());
            JsonNode rung = bobWs.poll(500);
            assertTrue(rung == null || !rung.get("type").asText().equals("ring.state"), "not rung: " + rung);

            // Signed out and back in, on the other gateway: still Do not disturb.
            bobWs.close();
            statusOf(annWs, bobId, "offline");
            bobWs = nodeA.signedIn(bob);
            JsonNode mine = bobWs.ask(message("presence.mine"));
            assertEquals("presence.choice", mine.get("type").asText(), mine.toString());
            assertEquals("dnd", mine.get("status").asText());
            statusOf(annWs, bobId, "dnd");

            // Available again; idle shows as away, activity as online.
            assertEquals("available", bobWs.ask(message("presence.set").put("status", "available")).get("status")
                    .asText());
            statusOf(annWs, bobId, "online");
            assertEquals("ok", bobWs.ask(message("presence.idle").put("idle", true)).get("type").asText());
            statusOf(annWs, bobId, "away");
            assertEquals("ringing", annWs.ask(message("ring.start").put("userId", bobId)).get("state").asText(),
                    "someone away is still rung");
            bobWs.next(m -> m.get("type").asText().equals("ring.state"), 10_000);
            assertEquals("ok", bobWs.ask(message("presence.idle").put("idle", false)).get("type").asText());
            statusOf(annWs, bobId, "online");

            // An idle mark does not outlive the session: the next one starts online.
            bobWs.ask(message("presence.idle").put("idle", true));
            statusOf(annWs, bobId, "away");
            bobWs.close();
            statusOf(annWs, bobId, "offline");
            bobWs = nodeB.signedIn(bob);
            statusOf(annWs, bobId, "online");
            bobWs.close();
        }
    }

    @Test
    void badStatusMessagesGetClearErrors() throws Exception {
        JsonNode cat = nodeA.register("pscat");
        try (WsClient ws = nodeA.signedIn(cat)) {
            JsonNode busy = ws.ask(message("presence.set").put("status", "busy"));
            assertEquals("bad_request", busy.get("code").asText(), busy.toString());
            assertTrue(busy.get("message").asText().contains("status"));
            JsonNode missing = ws.ask(message("presence.idle"));
            assertEquals("bad_request", missing.get("code").asText());
            assertTrue(missing.get("message").asText().contains("idle"));
            JsonNode wrongType = ws.ask(message("presence.idle").put("idle", "yes"));
            assertEquals("bad_request", wrongType.get("code").asText());
        }
    }
}
