package dev.parley.signaling.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Blocking over two gateways on real Redis: the person blocked can no longer chat with or call the blocker, and sees
 * them offline, at once; chat in meetings they share goes on; unblocking undoes all of it.
 */
class BlockTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger requests = new AtomicInteger();
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

    private static String token(JsonNode user) {
        return user.get("token").asText();
    }

    private static String id(JsonNode user) {
        return user.get("userId").asText();
    }

    private static ObjectNode chat(String meetingId, String text) {
        return JSON.createObjectNode().put("type", "chat.send").put("meetingId", meetingId)
                .put("clientMsgId", "c" + requests.incrementAndGet()).put("text", text);
    }

    private static void status(WsClient watcher, JsonNode of, String status) throws Exception {
        watcher.next(m -> m.get("type").asText().equals("presence") && m.get("userId").asText().equals(id(of))
                && m.get("status").asText().equals(status), 10_000);
    }

    private static void assertBlocked(JsonNode answer, String mentions) {
        assertEquals("error", answer.get("type").asText(), answer.toString());
        assertEquals("blocked", answer.get("code").asText(), answer.toString());
        assertTrue(answer.get("message").asText().contains(mentions), answer.toString());
    }

    @Test
    void theBlockedPersonCannotChatOrCallAndSeesTheBlockerOfflineUntilUnblocked() throws Exception {
        JsonNode ann = nodeA.register("blann");
        JsonNode bob = nodeB.register("blbob");
        String direct = nodeA.post("/api/direct-chats", Map.of("userId", id(bob)), token(ann)).body()
                .get("meetingId").asText();
        String team = nodeA.post("/api/meetings", Map.of("title", "Team"), token(ann)).body().get("meetingId")
                .asText();
        assertEquals(200, nodeA.post("/api/meetings/" + team + "/members", Map.of("username", "blbob"), token(ann))
                .status());
        try (WsClient annWs = nodeA.signedIn(ann); WsClient bobWs = nodeB.signedIn(bob)) {
            status(annWs, bob, "online");

            Response blocked = nodeB.post("/api/blocks", Map.of("userId", id(ann)), token(bob));
            assertEquals(200, blocked.status(), blocked.raw());
            assertEquals(id(ann), blocked.body().get("blocked").get(0).get("userId").asText());
            status(annWs, bob, "offline");

            assertBlocked(annWs.ask(chat(direct, "hello?")), "not taking chats or calls from you");
            assertBlocked(bobWs.ask(chat(direct, "bye")), "You blocked this person");
            assertEquals("chat.ack", annWs.ask(chat(team, "in the team chat")).get("type").asText(),
                    "meetings they share are not affected");
            JsonNode ring = annWs.ask(JSON.createObjectNode().put("type", "ring.start").put("userId", id(bob)));
            assertEquals("unavailable", ring.get("state").asText(), ring.toString());
            assertBlocked(bobWs.ask(JSON.createObjectNode().put("type", "ring.start").put("userId", id(ann))),
                    "unblock them to call");
            for (JsonNode m = bobWs.poll(500); m != null; m = bobWs.poll(300)) {
                assertTrue(!m.get("type").asText().equals("ring.state"), "Bob is never rung: " + m);
            }
            // Asking for Bob's presence again gets nothing about him.
            JsonNode ok = annWs.ask(JSON.createObjectNode().put("type", "presence.subscribe")
                    .set("userIds", JSON.createArrayNode().add(id(bob))));
            assertEquals("ok", ok.get("type").asText());
            for (JsonNode m = annWs.poll(500); m != null; m = annWs.poll(300)) {
                assertTrue(!(m.get("type").asText().equals("presence") && m.get("userId").asText().equals(id(bob))
                        && !m.get("status").asText().equals("offline")), "Bob stays hidden: " + m);
            }
            JsonNode history = nodeA.get("/api/meetings/" + direct + "/messages", token(ann)).body();
            assertTrue(history.get("messages").isEmpty(), "nothing was posted or recorded: " + history);
            assertEquals(200, nodeA.post("/api/direct-chats", Map.of("userId", id(bob)), token(ann)).status(),
                    "the chat they already have still opens, to read");

            assertEquals(204, nodeB.send("DELETE", "/api/blocks/" + id(ann), null, token(bob)).status());
            status(annWs, bob, "online");
            assertEquals("chat.ack", annWs.ask(chat(direct, "friends again")).get("type").asText());
            assertTrue(nodeB.get("/api/blocks", token(bob)).body().get("blocked").isEmpty());
        }
    }

    @Test
    void aBlockBeforeAnyChatRefusesANewOneEitherWay() throws Exception {
        JsonNode cat = nodeA.register("blcat");
        JsonNode dan = nodeB.register("bldan");
        assertEquals(200, nodeA.post("/api/blocks", Map.of("userId", id(dan)), token(cat)).status());
        Response fromDan = nodeB.post("/api/direct-chats", Map.of("userId", id(cat)), token(dan));
        assertEquals(403, fromDan.status(), fromDan.raw());
        assertEquals("blocked", fromDan.errorCode());
        assertEquals(403, nodeA.post("/api/direct-chats", Map.of("userId", id(dan)), token(cat)).status());
        assertTrue(nodeB.get("/api/meetings", token(dan)).body().get("meetings").isEmpty(), "no chat was made");
        assertEquals(200, nodeA.post("/api/blocks", Map.of("userId", id(dan)), token(cat)).status(),
                "blocking again changes nothing");
        assertEquals(1, nodeA.get("/api/blocks", token(cat)).body().get("blocked").size());
    }

    @Test
    void badBlocksGetClearErrors() throws Exception {
        JsonNode eve = nodeA.register("bleve");
        Response self = nodeA.post("/api/blocks", Map.of("userId", id(eve)), token(eve));
        assertEquals(400, self.status());
        assertTrue(self.raw().contains("yourself"), self.raw());
        assertEquals(404, nodeA.post("/api/blocks", Map.of("userId", "u" + "0".repeat(20)), token(eve)).status());
        assertEquals(400, nodeA.post("/api/blocks", Map.of("userId", "eve"), token(eve)).status());
        assertEquals(400, nodeA.post("/api/blocks", Map.of(), token(eve)).status());
        assertEquals(400, nodeA.send("DELETE", "/api/blocks/nope", null, token(eve)).status());
        assertEquals(401, nodeA.get("/api/blocks", null).status());
        assertEquals(401, nodeA.post("/api/blocks", Map.of("userId", id(eve)), null).status());
    }
}
