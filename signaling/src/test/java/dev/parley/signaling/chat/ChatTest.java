package dev.parley.signaling.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.signaling.testing.GatewayProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chat over the WebSocket with two gateways on one Redis, crashes included. */
class ChatTest {

    private static final ObjectMapper JSON = new ObjectMapper();

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

    /** A meeting owned by the first user with the others as members. */
    static String meetingOf(TestGateway gateway, JsonNode owner, JsonNode... members) throws Exception {
        String id = gateway.post("/api/meetings", Map.of("title", "Chat room"), owner.get("token").asText()).body()
                .get("meetingId").asText();
        for (JsonNode member : members) {
            assertEquals(200, gateway.post("/api/meetings/" + id + "/members",
                    Map.of("username", member.get("username").asText()), owner.get("token").asText()).status());
        }
        return id;
    }

    static WsClient signedIn(TestGateway gateway, JsonNode user) throws Exception {
        WsClient ws = gateway.ws();
        assertEquals("welcome", ws.hello(user.get("token").asText(), null).get("type").asText());
        return ws;
    }

    static ObjectNode send(String meetingId, String clientMsgId, String text) {
        return JSON.createObjectNode().put("type", "chat.send").put("meetingId", meetingId)
                .put("clientMsgId", clientMsgId).put("text", text);
    }

    static JsonNode nextOfType(WsClient ws, String type) throws InterruptedException {
        return ws.next(m -> m.get("type").asText().equals(type), 8000);
    }

    static JsonNode history(TestGateway gateway, JsonNode user, String meetingId, String query) throws Exception {
        TestGateway.Response page = gateway.get("/api/meetings/" + meetingId + "/messages" + query,
                user.get("token").asText());
        assertEquals(200, page.status(), page.raw());
        return page.body();
    }

    @Test
    void aMessageReachesMembersOnEveryGatewayAndIsAcknowledgedToTheSender() throws Exception {
        JsonNode ann = nodeA.register("ann");
        JsonNode bob = nodeA.register("bob");
        String meeting = meetingOf(nodeA, ann, bob);
        try (WsClient annWs = signedIn(nodeA, ann); WsClient bobWs = signedIn(nodeB, bob)) {
            annWs.send(send(meeting, "c1", "hello from node A"));
            JsonNode ack = nextOfType(annWs, "chat.ack");
            assertEquals("c1", ack.get("clientMsgId").asText());
            JsonNode received = nextOfType(bobWs, "chat.message");
            assertEquals(meeting, received.get("meetingId").asText());
            JsonNode message = received.get("message");
            assertEquals("hello from node A", message.get("text").asText());
            assertEquals(ack.get("messageId").asText(), message.get("messageId").asText());
            assertEquals(ann.get("userId").asText(), message.get("senderId").asText());
            assertEquals("User ann", message.get("senderName").asText());
            assertEquals("c1", message.get("clientMsgId").asText());
        }
    }

    @Test
    void aRetryWithTheSameClientMessageIdIsStoredOnceAndDeliveredAgainUnderItsFirstId() throws Exception {
        JsonNode cat = nodeA.register("cat");
        JsonNode dan = nodeA.register("dan");
        String meeting = meetingOf(nodeA, cat, dan);
        try (WsClient catWs = signedIn(nodeA, cat); WsClient danWs = signedIn(nodeB, dan)) {
            catWs.send(send(meeting, "retry-1", "only once"));
            String first = nextOfType(catWs, "chat.ack").get("messageId").asText();
            assertEquals(first, nextOfType(danWs, "chat.message").get("message").get("messageId").asText());
            catWs.send(send(meeting, "retry-1", "only once"));
            assertEquals(first, nextOfType(catWs, "chat.ack").get("messageId").asText());
            // The first attempt may have stopped between storing and delivering, so a retry delivers again; the
            // same messageId lets clients merge it with what they have.
            JsonNode again = nextOfType(danWs, "chat.message");
            assertEquals(first, again.get("message").get("messageId").asText(), "a retry is not a new message");
        }
        JsonNode messages = history(nodeA, cat, meeting, "").get("messages");
        long copies = 0;
        for (JsonNode m : messages) {
            copies += "retry-1".equals(m.path("clientMsgId").asText()) ? 1 : 0;
        }
        assertEquals(1, copies);
    }

    @Test
    void historyPagesBackwardsAndFetchesWhatWasMissed() throws Exception {
        JsonNode eve = nodeA.register("eve");
        String meeting = meetingOf(nodeA, eve);
        String[] ids = new String[7];
        try (WsClient ws = signedIn(nodeA, eve)) {
            for (int i = 0; i < 7; i++) {
                ws.send(send(meeting, "h" + i, "message " + i));
                ids[i] = nextOfType(ws, "chat.ack").get("messageId").asText();
            }
        }
        JsonNode newest = history(nodeA, eve, meeting, "?limit=3");
        assertEquals("message 6", newest.get("messages").get(0).get("text").asText());
        assertEquals(3, newest.get("messages").size());
        assertTrue(newest.get("hasMore").asBoolean());
        JsonNode older = history(nodeA, eve, meeting, "?limit=3&before=" + ids[4]);
        assertEquals("message 3", older.get("messages").get(0).get("text").asText());
        assertEquals("message 1", older.get("messages").get(2).get("text").asText());
        JsonNode missed = history(nodeA, eve, meeting, "?after=" + ids[4]);
        assertEquals(2, missed.get("messages").size());
        assertEquals("message 5", missed.get("messages").get(0).get("text").asText());
        assertFalse(missed.get("hasMore").asBoolean());
    }

    @Test
    void typingReachesOtherMembersOnlyAndReadsClearUnreadCounts() throws Exception {
        JsonNode fay = nodeA.register("fay");
        JsonNode gil = nodeA.register("gil");
        String meeting = meetingOf(nodeA, fay, gil);
        try (WsClient fayWs = signedIn(nodeA, fay); WsClient gilWs = signedIn(nodeB, gil)) {
            fayWs.send(JSON.createObjectNode().put("type", "chat.typing").put("meetingId", meeting));
            JsonNode typing = nextOfType(gilWs, "chat.typing");
            assertEquals(fay.get("userId").asText(), typing.get("userId").asText());
            fayWs.send(send(meeting, "u1", "one"));
            fayWs.send(send(meeting, "u2", "two"));
            nextOfType(fayWs, "chat.ack");
            String last = nextOfType(fayWs, "chat.ack").get("messageId").asText();
            for (JsonNode m = fayWs.poll(300); m != null; m = fayWs.poll(300)) {
                assertFalse(m.get("type").asText().equals("chat.typing"), "the typist is not told about itself");
            }
            assertEquals(2, unread(gil, meeting));
            assertEquals(0, unread(fay, meeting), "own messages are not unread");
            gilWs.send(JSON.createObjectNode().put("type", "chat.read").put("meetingId", meeting)
                    .put("messageId", last));
            WebSocketGatewayWait.until(() -> unread(gil, meeting) == 0);
        }
    }

    private static int unread(JsonNode user, String meetingId) throws Exception {
        for (JsonNode m : nodeA.get("/api/meetings", user.get("token").asText()).body().get("meetings")) {
            if (m.get("meetingId").asText().equals(meetingId)) {
                return m.get("unread").asInt();
            }
        }
        throw new AssertionError("meeting not listed");
    }

    @Test
    void nonMembersAndRemovedMembersNeitherPostNorReceive() throws Exception {
        JsonNode hal = nodeA.register("hal");
        JsonNode ida = nodeA.register("ida");
        JsonNode joe = nodeA.register("joe");
        String meeting = meetingOf(nodeA, hal, ida);
        try (WsClient halWs = signedIn(nodeA, hal); WsClient idaWs = signedIn(nodeB, ida);
             WsClient joeWs = signedIn(nodeB, joe)) {
            joeWs.send(send(meeting, "intrude", "let me in").put("id", "send-1"));
            JsonNode refused = nextOfType(joeWs, "error");
            assertEquals("not_found", refused.get("code").asText());
            assertEquals("send-1", refused.get("re").asText());
            joeWs.send(JSON.createObjectNode().put("type", "chat.typing").put("meetingId", meeting));
            assertEquals("not_found", nextOfType(joeWs, "error").get("code").asText());

            assertEquals(204, nodeA.send("DELETE", "/api/meetings/" + meeting + "/members/"
                    + ida.get("userId").asText(), null, hal.get("token").asText()).status());
            assertEquals(meeting, nextOfType(idaWs, "meeting.removed").get("meetingId").asText());
            halWs.send(send(meeting, "secret", "ida is gone"));
            nextOfType(halWs, "chat.ack");
            for (JsonNode m = idaWs.poll(500); m != null; m = idaWs.poll(300)) {
                assertFalse(m.toString().contains("ida is gone"), "a removed member receives nothing more");
            }
            idaWs.send(send(meeting, "after-removal", "still here?"));
            assertEquals("not_found", nextOfType(idaWs, "error").get("code").asText());
        }
    }

    @Test
    void badChatInputGetsBadRequestAndArchivedMeetingsAreReadOnly() throws Exception {
        JsonNode kim = nodeA.register("kim");
        String meeting = meetingOf(nodeA, kim);
        try (WsClient ws = signedIn(nodeA, kim)) {
            ws.send(send(meeting, "e1", ""));
            assertBad(ws, "text");
            ws.send(send(meeting, "e2", "x".repeat(4001)));
            assertBad(ws, "text");
            ws.send(send(meeting, "not valid id!", "x"));
            assertBad(ws, "clientMsgId");
            ws.send("{\"type\":\"chat.send\",\"clientMsgId\":\"e3\",\"text\":\"x\"}");
            assertBad(ws, "meetingId");
            ws.send("{\"type\":\"chat.read\",\"meetingId\":\"" + meeting + "\",\"messageId\":\"latest\"}");
            assertBad(ws, "messageId");
            ws.send(send("m" + "0".repeat(20), "e4", "hello?"));
            assertEquals("not_found", nextOfType(ws, "error").get("code").asText());
            ws.send(send(meeting, "e5", "x".repeat(4000)));
            nextOfType(ws, "chat.ack");

            nodeA.send("PATCH", "/api/meetings/" + meeting, "{\"archived\":true}", kim.get("token").asText());
            ws.send(send(meeting, "e6", "too late"));
            assertEquals("meeting.archived", nextOfType(ws, "error").get("code").asText());
            assertTrue(ws.isOpen());
        }
    }

    private static void assertBad(WsClient ws, String mentions) throws InterruptedException {
        JsonNode error = nextOfType(ws, "error");
        assertEquals("bad_request", error.get("code").asText());
        assertTrue(error.get("message").asText().contains(mentions), error.toString());
    }

    @Test
    void membersSeeEachOthersPresenceWithoutAsking() throws Exception {
        JsonNode lea = nodeA.register("lea");
        JsonNode max = nodeA.register("max");
        meetingOf(nodeA, lea, max);
        try (WsClient leaWs = signedIn(nodeA, lea)) {
            JsonNode initial = nextOfType(leaWs, "presence");
            assertEquals(max.get("userId").asText(), initial.get("userId").asText());
            assertEquals("offline", initial.get("status").asText());
            try (WsClient maxWs = signedIn(nodeB, max)) {
                JsonNode online = nextOfType(leaWs, "presence");
                assertEquals("online", online.get("status").asText());
            }
        }
    }

    @Test
    void nothingIsLostOrDuplicatedWhenAGatewayIsKilledMidConversation() throws Exception {
        JsonNode ned = nodeA.register("ned");
        JsonNode ola = nodeA.register("ola");
        String meeting = meetingOf(nodeA, ned, ola);
        Map<String, String> acked = new HashMap<>();
        try (GatewayProcess doomed = GatewayProcess.start(redis, Map.of());
             WsClient olaWs = signedIn(nodeB, ola)) {
            WsClient nedWs = WsClient.connect(doomed.port());
            String sessionId = nedWs.hello(ned.get("token").asText(), null).get("sessionId").asText();
            for (int i = 0; i < 30; i++) {
                nedWs.send(send(meeting, "k" + i, "crash test " + i));
            }
            for (int i = 0; i < 10; i++) {
                JsonNode ack = nextOfType(nedWs, "chat.ack");
                acked.put(ack.get("clientMsgId").asText(), ack.get("messageId").asText());
            }
            doomed.kill();

            // The client reconnects elsewhere, resumes, and resends everything it has no ack for.
            try (WsClient again = nodeA.ws()) {
                assertEquals("welcome", again.hello(ned.get("token").asText(), sessionId).get("type").asText());
                for (int i = 0; i < 30; i++) {
                    again.send(send(meeting, "k" + i, "crash test " + i));
                }
                for (int i = 0; i < 30; i++) {
                    JsonNode ack = nextOfType(again, "chat.ack");
                    String previous = acked.put(ack.get("clientMsgId").asText(), ack.get("messageId").asText());
                    if (previous != null) {
                        assertEquals(previous, ack.get("messageId").asText(), "a resend keeps its message id");
                    }
                }
            }
        }
        assertEquals(30, acked.size());
        JsonNode messages = history(nodeA, ola, meeting, "?limit=100").get("messages");
        Set<String> seen = new HashSet<>();
        for (JsonNode m : messages) {
            if (m.hasNonNull("clientMsgId")) {
                assertTrue(seen.add(m.get("clientMsgId").asText()), "duplicate " + m);
            }
        }
        assertEquals(acked.keySet(), seen);
    }

    @Test
    void acknowledgedMessagesSurviveARedisCrashWithAppendOnlyFile(@TempDir Path data) throws Exception {
        try (RedisServer durable = RedisServer.startPersistent(data);
             TestGateway gateway = TestGateway.start(durable)) {
            JsonNode pat = gateway.register("pat");
            String meeting = meetingOf(gateway, pat);
            try (WsClient ws = signedIn(gateway, pat)) {
                for (int i = 0; i < 20; i++) {
                    ws.send(send(meeting, "d" + i, "durable " + i));
                }
                for (int i = 0; i < 20; i++) {
                    nextOfType(ws, "chat.ack");
                }
            }
            durable.killProcess();
            durable.startProcess();
            WebSocketGatewayWait.until(() -> gateway.get("/healthz", null).status() == 200);
            JsonNode messages = history(gateway, pat, meeting, "?limit=100").get("messages");
            Set<String> texts = new HashSet<>();
            messages.forEach(m -> texts.add(m.get("text").asText()));
            for (int i = 0; i < 20; i++) {
                assertTrue(texts.contains("durable " + i), "lost durable " + i);
            }
        }
    }

    @Test
    void aBusyGatewayRefusesSendsAtOnceAndRetriesLandExactlyOnce() throws Exception {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.chat.max-in-flight", 1);
        settings.put("parley.ws.messages-per-second", 1000);
        settings.put("parley.ws.message-burst", 1000);
        try (TestGateway busy = TestGateway.start(settings)) {
            JsonNode quinn = busy.register("quinn");
            String meeting = meetingOf(busy, quinn);
            Set<String> acked = new HashSet<>();
            int refused = 0;
            try (WsClient ws = signedIn(busy, quinn)) {
                for (int round = 0; round < 50 && acked.size() < 40; round++) {
                    for (int i = 0; i < 40; i++) {
                        if (!acked.contains("b" + i)) {
                            ws.send(send(meeting, "b" + i, "burst " + i));
                        }
                    }
                    for (JsonNode m = ws.poll(500); m != null; m = ws.poll(200)) {
                        if (m.get("type").asText().equals("chat.ack")) {
                            acked.add(m.get("clientMsgId").asText());
                        } else if (m.get("type").asText().equals("error")) {
                            assertEquals("rate_limited", m.get("code").asText(), m.toString());
                            refused++;
                        }
                    }
                }
            }
            assertEquals(40, acked.size());
            assertTrue(refused > 0, "with one send allowed in flight, a burst of 40 is partly refused");
            JsonNode messages = history(busy, quinn, meeting, "?limit=100").get("messages");
            Set<String> stored = new HashSet<>();
            for (JsonNode m : messages) {
                if (m.hasNonNull("clientMsgId")) {
                    assertTrue(stored.add(m.get("clientMsgId").asText()), "stored twice: " + m);
                }
            }
            assertEquals(acked, stored);
        }
    }

    /** Polls a condition for up to 15 s. */
    static final class WebSocketGatewayWait {
        interface Check {
            boolean ok() throws Exception;
        }

        static void until(Check check) throws Exception {
            long deadline = System.currentTimeMillis() + 15_000;
            while (!check.ok()) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("condition not met within 15 s");
                }
                Thread.sleep(50);
            }
        }
    }

}
