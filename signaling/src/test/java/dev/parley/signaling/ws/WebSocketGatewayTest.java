package dev.parley.signaling.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.session.SessionLock;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebSocketGatewayTest {

    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.session.lock-ttl", "3s");
        settings.put("parley.session.heartbeat", "1s");
        settings.put("parley.session.hello-timeout", "1s");
        settings.put("parley.ws.messages-per-second", 50);
        settings.put("parley.ws.message-burst", 100);
        gateway = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    private static String lockOwner(String userId) {
        return redis.inspect().get(SessionLock.lockKey(userId));
    }

    @Test
    void helloWithAValidTokenIsWelcomed() throws Exception {
        JsonNode user = gateway.register("welcomed");
        try (WsClient ws = gateway.ws()) {
            JsonNode welcome = ws.hello(user.get("token").asText(), null);
            assertEquals("welcome", welcome.get("type").asText());
            assertEquals(user.get("userId").asText(), welcome.get("user").get("userId").asText());
            assertEquals(welcome.get("sessionId").asText(), lockOwner(user.get("userId").asText()));
        }
    }

    @Test
    void fiftyConcurrentHellosForOneUserGetExactlyOneWelcome() throws Exception {
        String token = gateway.register("popular").get("token").asText();
        List<WsClient> clients = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            clients.add(gateway.ws());
        }
        ExecutorService pool = Executors.newFixedThreadPool(50);
        try {
            List<Future<JsonNode>> replies = new ArrayList<>();
            for (WsClient client : clients) {
                replies.add(pool.submit((Callable<JsonNode>) () -> client.hello(token, null)));
            }
            int welcomes = 0;
            int refused = 0;
            for (int i = 0; i < replies.size(); i++) {
                JsonNode reply = replies.get(i).get();
                if (reply.get("type").asText().equals("welcome")) {
                    welcomes++;
                } else {
                    assertEquals("session.active", reply.get("code").asText());
                    assertEquals("You already have an active session", reply.get("message").asText());
                    assertEquals(4409, clients.get(i).awaitClose(5000));
                    refused++;
                }
            }
            assertEquals(1, welcomes);
            assertEquals(49, refused);
        } finally {
            pool.shutdownNow();
            clients.forEach(WsClient::close);
        }
    }

    @Test
    void aSecondSessionIsRefusedAndTheFirstIsUntouched() throws Exception {
        String token = gateway.register("twotabs").get("token").asText();
        try (WsClient first = gateway.ws(); WsClient second = gateway.ws()) {
            JsonNode welcome = first.hello(token, null);
            JsonNode refused = second.hello(token, null);
            assertEquals("session.active", refused.get("code").asText());
            assertEquals(4409, second.awaitClose(5000));
            Thread.sleep(1500);
            assertTrue(first.isOpen());
            assertEquals(welcome.get("sessionId").asText(), lockOwner(welcome.get("user").get("userId").asText()));
        }
    }

    @Test
    void closingASessionReleasesTheLockAtOnce() throws Exception {
        JsonNode user = gateway.register("closer");
        String token = user.get("token").asText();
        try (WsClient first = gateway.ws()) {
            first.hello(token, null);
        }
        waitUntil(() -> lockOwner(user.get("userId").asText()) == null, 3000);
        try (WsClient again = gateway.ws()) {
            assertEquals("welcome", again.hello(token, null).get("type").asText());
        }
    }

    @Test
    void aReconnectingClientResumesItsOwnSessionAtOnce() throws Exception {
        String token = gateway.register("resumer").get("token").asText();
        WsClient first = gateway.ws();
        String sessionId = first.hello(token, null).get("sessionId").asText();
        first.drop();
        try (WsClient otherTab = gateway.ws(); WsClient resumed = gateway.ws()) {
            // The lock may not be released yet if the drop races; a resume must work either way.
            JsonNode back = resumed.hello(token, sessionId);
            assertEquals("welcome", back.get("type").asText());
            assertNotEquals(sessionId, back.get("sessionId").asText());
            assertEquals("session.active", otherTab.hello(token, null).get("code").asText());
        }
    }

    @Test
    void resumeKicksTheOldSocketWhenItIsStillOpen() throws Exception {
        String token = gateway.register("halfopen").get("token").asText();
        try (WsClient old = gateway.ws(); WsClient fresh = gateway.ws()) {
            String sessionId = old.hello(token, null).get("sessionId").asText();
            assertEquals("welcome", fresh.hello(token, sessionId).get("type").asText());
            JsonNode replaced = old.next(m -> m.path("code").asText().equals("session.replaced"), 5000);
            assertEquals("error", replaced.get("type").asText());
            assertEquals(4409, old.awaitClose(5000));
            Thread.sleep(300);
            assertTrue(fresh.isOpen());
        }
    }

    @Test
    void aGuessedResumeIdDoesNotStealASession() throws Exception {
        String token = gateway.register("guarded").get("token").asText();
        try (WsClient owner = gateway.ws(); WsClient thief = gateway.ws()) {
            owner.hello(token, null);
            assertEquals("session.active", thief.hello(token, "s0000").get("code").asText());
        }
    }

    @Test
    void badTokensAreRefusedWith4401() throws Exception {
        try (WsClient ws = gateway.ws()) {
            JsonNode reply = ws.hello("garbage", null);
            assertEquals("auth.invalid", reply.get("code").asText());
            assertEquals(4401, ws.awaitClose(5000));
        }
    }

    @Test
    void noHelloInTimeClosesWith4401() throws Exception {
        try (WsClient ws = gateway.ws()) {
            assertEquals(4401, ws.awaitClose(5000));
        }
    }

    @Test
    void badFramesGetBadRequestAndTheConnectionStaysOpen() throws Exception {
        String token = gateway.register("clumsy").get("token").asText();
        try (WsClient ws = gateway.ws()) {
            ws.send("this is not json");
            assertBadRequest(ws, "JSON");
            ws.send("{\"type\":\"presence.subscribe\",\"userIds\":[]}");
            assertBadRequest(ws, "hello");
            ws.hello(token, null);
            ws.send("{\"type\":\"teleport\"}");
            assertBadRequest(ws, "teleport");
            ws.send("{\"type\":\"presence.subscribe\",\"userIds\":\"everyone\"}");
            assertBadRequest(ws, "userIds");
            ws.send("{\"type\":42}");
            assertBadRequest(ws, "type");
            ws.send("[]");
            assertBadRequest(ws, "object");
            ws.send("{\"type\":\"hello\",\"token\":\"" + token + "\"}");
            assertBadRequest(ws, "already");
            ws.send("{\"type\":\"presence.subscribe\",\"userIds\":[\"" + "x".repeat(70_000) + "\"]}");
            assertBadRequest(ws, "larger");
            ws.sendBinary(new byte[]{1, 2, 3});
            assertBadRequest(ws, "binary");
            assertTrue(ws.isOpen());
        }
    }

    @Test
    void everyRequestWithAnIdIsAnsweredWithThatIdSuccessOrError() throws Exception {
        JsonNode user = gateway.register("asker");
        String token = user.get("token").asText();
        try (WsClient ws = gateway.ws()) {
            ws.send("{\"type\":\"presence.subscribe\",\"id\":\"r0\",\"userIds\":[]}");
            JsonNode early = ws.next(m -> m.get("type").asText().equals("error"), 5000);
            assertEquals("r0", early.get("re").asText(), "an error answering a request carries its id");
            ws.send("{\"type\":\"hello\",\"id\":\"r1\",\"token\":\"" + token + "\"}");
            JsonNode welcome = ws.next(m -> m.get("type").asText().equals("welcome"), 5000);
            assertEquals("r1", welcome.get("re").asText());
            ws.send("{\"type\":\"presence.subscribe\",\"id\":\"r2\",\"userIds\":[\"" + user.get("userId").asText()
                    + "\"]}");
            JsonNode status = ws.next(m -> m.get("type").asText().equals("presence"), 5000);
            assertFalse(status.has("re"), "events carry no id: " + status);
            assertEquals("r2", ws.next(m -> m.get("type").asText().equals("ok"), 5000).get("re").asText());
            ws.send("{\"type\":\"chat.typing\",\"id\":\"r3\",\"meetingId\":\"m00000000000000000000\"}");
            JsonNode refused = ws.next(m -> m.get("type").asText().equals("error"), 5000);
            assertEquals("not_found", refused.get("code").asText());
            assertEquals("r3", refused.get("re").asText());
            ws.send("{\"type\":\"teleport\",\"id\":\"r4\"}");
            JsonNode unknown = ws.next(m -> m.get("type").asText().equals("error"), 5000);
            assertEquals("r4", unknown.get("re").asText(), "a request of an unknown type is still answered by id");
            ws.send("{\"type\":\"call.ice\",\"id\":\"r5\",\"meetingId\":\"m00000000000000000000\",\"candidate\":\"c\"}");
            assertEquals("r5", ws.next(m -> m.get("type").asText().equals("ok"), 5000).get("re").asText());
            ws.send("{\"type\":\"call.ice\",\"id\":\"not an id!\",\"meetingId\":\"m00000000000000000000\"}");
            JsonNode badId = ws.next(m -> m.get("type").asText().equals("error"), 5000);
            assertTrue(badId.get("message").asText().startsWith("id must be"), badId.toString());
            assertFalse(badId.has("re"), "an unreadable id is not echoed");
            // Without an id, the old protocol: no ok for a request that has no other answer.
            ws.send("{\"type\":\"call.ice\",\"meetingId\":\"m00000000000000000000\",\"candidate\":\"c\"}");
            ws.send("{\"type\":\"chat.typing\",\"meetingId\":\"m00000000000000000000\"}");
            JsonNode plain = ws.next(m -> !m.get("type").asText().equals("presence"), 5000);
            assertEquals("error", plain.get("type").asText(), "no ok before it: " + plain);
            assertFalse(plain.has("re"));
            assertTrue(ws.isOpen());
        }
    }

    private static void assertBadRequest(WsClient ws, String mentions) throws InterruptedException {
        JsonNode error = ws.next(m -> m.get("type").asText().equals("error"), 5000);
        assertEquals("bad_request", error.get("code").asText());
        assertTrue(error.get("message").asText().contains(mentions), error.toString());
    }

    @Test
    void aFloodOfMessagesClosesTheSocketWith1008() throws Exception {
        String token = gateway.register("flooder").get("token").asText();
        try (WsClient ws = gateway.ws()) {
            ws.hello(token, null);
            for (int i = 0; i < 400 && ws.isOpen(); i++) {
                ws.send("{\"type\":\"presence.subscribe\",\"userIds\":[\"u1\"]}");
            }
            assertEquals(1008, ws.awaitClose(5000));
        }
        try (WsClient ws = gateway.ws()) {
            assertEquals("welcome", ws.hello(token, null).get("type").asText(), "the flooder's lock was released");
        }
    }

    @Test
    void aClientThatStopsAnsweringPingsIsClosedAndItsLockReleased() throws Exception {
        JsonNode user = gateway.register("silent");
        try (WsClient ws = gateway.ws()) {
            ws.hello(user.get("token").asText(), null);
            ws.stopAnsweringPings();
            assertEquals(4408, ws.awaitClose(6000));
        }
        waitUntil(() -> lockOwner(user.get("userId").asText()) == null, 3000);
    }

    @Test
    void answeringPingsKeepsTheLockAliveBeyondItsTtl() throws Exception {
        JsonNode user = gateway.register("steady");
        try (WsClient ws = gateway.ws()) {
            String sessionId = ws.hello(user.get("token").asText(), null).get("sessionId").asText();
            Thread.sleep(5000);
            assertTrue(ws.pingsSeen() >= 3);
            assertEquals(sessionId, lockOwner(user.get("userId").asText()));
        }
    }

    @Test
    void aSessionWhoseLockWasTakenIsReplaced() throws Exception {
        JsonNode user = gateway.register("usurped");
        try (WsClient ws = gateway.ws()) {
            ws.hello(user.get("token").asText(), null);
            redis.inspect().set(SessionLock.lockKey(user.get("userId").asText()), "someone-else");
            JsonNode replaced = ws.next(m -> m.path("code").asText().equals("session.replaced"), 5000);
            assertEquals("error", replaced.get("type").asText());
            assertEquals(4409, ws.awaitClose(5000));
        }
        assertEquals("someone-else", lockOwner(user.get("userId").asText()), "the other session's lock stays");
    }

    @Test
    void aSessionWhoseLockVanishedTakesItBack() throws Exception {
        JsonNode user = gateway.register("vanished");
        try (WsClient ws = gateway.ws()) {
            String sessionId = ws.hello(user.get("token").asText(), null).get("sessionId").asText();
            redis.inspect().del(SessionLock.lockKey(user.get("userId").asText()));
            waitUntil(() -> sessionId.equals(lockOwner(user.get("userId").asText())), 4000);
            assertTrue(ws.isOpen());
        }
    }

    @Test
    void presenceShowsCurrentStatusAndEveryChange() throws Exception {
        assertPresenceFollows(gateway, gateway, "watcher", "watched");
    }

    /** A watcher on one gateway sees another user go online and offline on another (or the same) gateway. */
    static void assertPresenceFollows(TestGateway watcherNode, TestGateway moverNode, String watcherName,
                                      String moverName) throws Exception {
        JsonNode watcher = watcherNode.register(watcherName);
        JsonNode mover = watcherNode.register(moverName);
        String moverId = mover.get("userId").asText();
        shareAMeeting(watcherNode, watcher, mover);
        try (WsClient ws = watcherNode.ws()) {
            ws.hello(watcher.get("token").asText(), null);
            ws.send("{\"type\":\"presence.subscribe\",\"id\":\"w\",\"userIds\":[\"" + moverId + "\"]}");
            assertPresence(ws, moverId, "offline");
            skipRepeats(ws, moverId, "offline");
            try (WsClient other = moverNode.ws()) {
                other.hello(mover.get("token").asText(), null);
                assertPresence(ws, moverId, "online");
            }
            assertPresence(ws, moverId, "offline");
        }
    }

    /** Presence is shared only between people who share a meeting. */
    static void shareAMeeting(TestGateway node, JsonNode owner, JsonNode other) throws Exception {
        String meeting = node.post("/api/meetings", java.util.Map.of("title", "Shared"), owner.get("token").asText())
                .body().get("meetingId").asText();
        assertEquals(200, node.post("/api/meetings/" + meeting + "/members", java.util.Map.of("username",
                other.get("username").asText()), owner.get("token").asText()).status());
    }

    @Test
    void aSilentlyDeadSessionTurnsOfflineWhenItsTtlRunsOut() throws Exception {
        JsonNode watcher = gateway.register("observer");
        JsonNode ghost = gateway.register("ghost");
        shareAMeeting(gateway, watcher, ghost);
        String ghostId = ghost.get("userId").asText();
        // A session held by a gateway that crashed: its keys are in Redis and nobody renews them.
        redis.inspect().psetex(SessionLock.lockKey(ghostId), 1500, "crashed-node-session");
        redis.inspect().psetex(SessionLock.presenceKey(ghostId), 1500, "online");
        try (WsClient ws = gateway.ws()) {
            ws.hello(watcher.get("token").asText(), null);
            ws.send("{\"type\":\"presence.subscribe\",\"id\":\"w\",\"userIds\":[\"" + ghostId + "\"]}");
            assertPresence(ws, ghostId, "online");
            skipRepeats(ws, ghostId, "online");
            assertPresence(ws, ghostId, "offline");
        }
        assertNull(lockOwner(ghostId));
    }

    /**
     * A co-member is watched from the moment the socket is live, so the explicit subscription may report the same
     * status a second time: wait for its answer and let repeats of the status go, failing on any other.
     */
    static void skipRepeats(WsClient ws, String userId, String status) throws InterruptedException {
        assertEquals("w", ws.next(m -> m.get("type").asText().equals("ok"), 5000).get("re").asText());
        for (JsonNode m = ws.poll(300); m != null; m = ws.poll(300)) {
            if (m.get("type").asText().equals("presence") && m.get("userId").asText().equals(userId)) {
                assertEquals(status, m.get("status").asText(), m.toString());
            }
        }
    }

    static void assertPresence(WsClient ws, String userId, String status) throws InterruptedException {
        JsonNode message = ws.next(m -> m.get("type").asText().equals("presence")
                && m.get("userId").asText().equals(userId), 8000);
        assertEquals(status, message.get("status").asText(), message.toString());
    }

    static void waitUntil(Callable<Boolean> condition, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.call()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("condition not met within " + millis + " ms");
            }
            Thread.sleep(50);
        }
    }
}
