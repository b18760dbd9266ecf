package dev.parley.signaling.ring;

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
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Direct calls that ring, over real Redis with two gateways: the caller signs in on one and the callee on the other,
 * so every ring, answer and record crosses between them.
 */
class RingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int RING_SECONDS = 5;
    private static final AtomicInteger names = new AtomicInteger();

    private static RedisServer redis;
    private static TestGateway nodeA;
    private static TestGateway nodeB;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        nodeA = TestGateway.start(settings(1000));
        nodeB = TestGateway.start(settings(1000));
    }

    @AfterAll
    static void stop() throws Exception {
        nodeA.close();
        nodeB.close();
        redis.close();
    }

    private static Map<String, Object> settings(int ringsPerMinute) {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.calls.enabled", true);
        settings.put("parley.calls.ring-timeout", RING_SECONDS + "s");
        settings.put("parley.calls.max-rings-per-minute", ringsPerMinute);
        return settings;
    }

    /** A signed-in person on a gateway. */
    private record Person(JsonNode account, WsClient ws) {
        String id() {
            return account.get("userId").asText();
        }

        String name() {
            return account.get("displayName").asText();
        }

        String token() {
            return account.get("token").asText();
        }

        /** Sends a request and waits for its answer. */
        JsonNode ask(ObjectNode request) throws Exception {
            return ws.ask(request);
        }

        /** The next ring.state pushed to this person (not an answer), in this state. */
        JsonNode pushed(String state) throws Exception {
            return ws.next(m -> m.get("type").asText().equals("ring.state") && !m.has("re")
                    && m.get("state").asText().equals(state), 10_000);
        }
    }

    private static Person person(TestGateway node, String prefix) throws Exception {
        JsonNode account = node.register(prefix + names.incrementAndGet());
        return new Person(account, node.signedIn(account));
    }

    private static ObjectNode ring(Person callee, String media) {
        return JSON.createObjectNode().put("type", "ring.start").put("userId", callee.id()).put("media", media);
    }

    private static ObjectNode answer(String type, String ringId) {
        return JSON.createObjectNode().put("type", type).put("ringId", ringId);
    }

    private static JsonNode chat(Person reader, String meetingId) throws Exception {
        return nodeA.get("/api/meetings/" + meetingId + "/messages", reader.token()).body().get("messages");
    }

    /** Waits until the chat's newest message is a system line containing {@code text}. */
    private static JsonNode recorded(Person reader, String meetingId, String text) throws Exception {
        long deadline = System.currentTimeMillis() + 8_000;
        JsonNode messages;
        do {
            messages = chat(reader, meetingId);
            if (!messages.isEmpty() && messages.get(0).get("text").asText().contains(text)) {
                assertTrue(messages.get(0).get("system").asBoolean());
                return messages.get(0);
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < deadline);
        throw new AssertionError("no system message \"" + text + "\" in " + messages);
    }

    @Test
    void theCalleeOnTheOtherGatewayIsRungAcceptsAndBothJoinTheDirectChatsCall() throws Exception {
        Person ann = person(nodeA, "rann");
        Person bob = person(nodeB, "rbob");
        try (ann.ws; bob.ws) {
            JsonNode started = ann.ask(ring(bob, "video"));
            assertEquals("ring.state", started.get("type").asText(), started.toString());
            assertEquals("ringing", started.get("state").asText());
            String ringId = started.get("ringId").asText();
            assertTrue(ringId.matches("r[0-9a-f]{20}"), ringId);
            assertEquals(bob.name(), started.get("calleeName").asText());
            long left = started.get("timeoutMs").asLong();
            assertTrue(left > 0 && left <= RING_SECONDS * 1000L, "rings for the configured time: " + left);

            JsonNode incoming = bob.pushed("ringing");
            assertEquals(ringId, incoming.get("ringId").asText());
            assertEquals(ann.id(), incoming.get("callerId").asText());
            assertEquals(ann.name(), incoming.get("callerName").asText());
            assertEquals("video", incoming.get("media").asText());
            String meetingId = incoming.get("meetingId").asText();
            assertEquals(started.get("meetingId").asText(), meetingId, "their direct chat");
            assertEquals("direct", nodeB.get("/api/meetings/" + meetingId, bob.token()).body().get("kind").asText());

            JsonNode accepted = bob.ask(answer("ring.accept", ringId));
            assertEquals("accepted", accepted.get("state").asText(), accepted.toString());
            assertEquals(0, accepted.get("timeoutMs").asLong());
            assertEquals(ringId, ann.pushed("accepted").get("ringId").asText());
            assertEquals("accepted", bob.ask(answer("ring.accept", ringId)).get("state").asText(),
                    "accepting again is answered the same");

            for (Person person : new Person[]{ann, bob}) {
                JsonNode joined = person.ask(JSON.createObjectNode().put("type", "call.join")
                        .put("meetingId", meetingId));
                assertEquals("call.joined", joined.get("type").asText(), joined.toString());
            }
            JsonNode both = ann.ws.next(m -> m.get("type").asText().equals("call.state")
                    && m.get("participants").size() == 2, 10_000);
            assertEquals(meetingId, both.get("meetingId").asText());
        }
    }

    @Test
    void aThirdPersonTurnsTheDirectCallIntoAGroupCallInANewMeetingBothKeep() throws Exception {
        Person ann = person(nodeA, "rgann");
        Person bob = person(nodeB, "rgbob");
        Person cat = person(nodeB, "rgcat");
        try (ann.ws; bob.ws; cat.ws) {
            String ringId = ann.ask(ring(bob, "video")).get("ringId").asText();
            String direct = bob.pushed("ringing").get("meetingId").asText();
            bob.ask(answer("ring.accept", ringId));
            for (Person person : new Person[]{ann, bob}) {
                assertEquals("call.joined", person.ask(JSON.createObjectNode().put("type", "call.join")
                        .put("meetingId", direct)).get("type").asText());
            }

            TestGateway.Response grown = nodeA.post("/api/direct-chats/" + direct + "/group",
                    Map.of("username", cat.account().get("username").asText()), ann.token());
            assertEquals(201, grown.status(), grown.raw());
            String group = grown.body().get("meetingId").asText();
            assertEquals(ann.name() + ", " + bob.name() + " and " + cat.name(), grown.body().get("title").asText());
            assertEquals("meeting", grown.body().get("kind").asText());
            assertEquals(3, grown.body().get("members").size());
            for (Person person : new Person[]{ann, bob}) {
                JsonNode moved = person.ws.next(m -> m.get("type").asText().equals("call.moved"), 10_000);
                assertEquals(direct, moved.get("meetingId").asText());
                assertEquals(group, moved.get("to").asText());
                assertEquals(ann.id(), moved.get("byUserId").asText());
            }
            recorded(bob, direct, ann.name() + " added " + cat.name());

            JsonNode rang = ann.ask(ring(cat, "video").put("meetingId", group));
            assertEquals("ringing", rang.get("state").asText(), rang.toString());
            JsonNode incoming = cat.pushed("ringing");
            assertEquals(group, incoming.get("meetingId").asText(), "Cat is rung into the group meeting");
            assertEquals("accepted", cat.ask(answer("ring.accept", incoming.get("ringId").asText())).get("state")
                    .asText());
            for (Person person : new Person[]{ann, bob, cat}) {
                assertEquals("call.joined", person.ask(JSON.createObjectNode().put("type", "call.join")
                        .put("meetingId", group)).get("type").asText());
            }
            ann.ws.next(m -> m.get("type").asText().equals("call.state") && m.get("meetingId").asText().equals(group)
                    && m.get("participants").size() == 3, 10_000);
            assertEquals(2, nodeB.get("/api/meetings", bob.token()).body().get("meetings").size(),
                    "Bob keeps both: the direct chat and the group meeting");

            // Bad requests.
            assertEquals(400, nodeA.post("/api/direct-chats/" + direct + "/group",
                    Map.of("username", bob.account().get("username").asText()), ann.token()).status(), "already in it");
            assertEquals(400, nodeA.post("/api/direct-chats/" + group + "/group",
                    Map.of("username", "nobody"), ann.token()).status(), "not a direct chat");
            assertEquals(404, nodeA.post("/api/direct-chats/" + direct + "/group",
                    Map.of("username", "nobody-here"), ann.token()).status());
            assertEquals(404, nodeA.post("/api/direct-chats/" + direct + "/group",
                    Map.of("username", cat.account().get("username").asText()), cat.token()).status(), "not hers");
            Person eve = person(nodeA, "rgeve");
            try (eve.ws) {
                assertError(ann.ask(ring(eve, "video").put("meetingId", group)), "bad_request", "member");
                assertError(eve.ask(ring(ann, "video").put("meetingId", group)), "not_found", "");
            }
        }
    }

    @Test
    void aDeclineReachesTheCallerAndIsRecordedInTheirChat() throws Exception {
        Person ann = person(nodeA, "rdann");
        Person bob = person(nodeB, "rdbob");
        try (ann.ws; bob.ws) {
            String ringId = ann.ask(ring(bob, "audio")).get("ringId").asText();
            JsonNode incoming = bob.pushed("ringing");
            assertEquals("audio", incoming.get("media").asText());
            assertEquals("declined", bob.ask(answer("ring.decline", ringId)).get("state").asText());
            assertEquals("declined", ann.pushed("declined").get("state").asText());
            recorded(ann, incoming.get("meetingId").asText(),
                    bob.name() + " declined an audio call from " + ann.name());
            assertEquals("declined", bob.ask(answer("ring.accept", ringId)).get("state").asText(),
                    "a late accept learns it was declined and changes nothing");
        }
    }

    @Test
    void nobodyAnsweringEndsItAsMissedForBothAtTheTimeout() throws Exception {
        Person ann = person(nodeA, "rnann");
        Person bob = person(nodeB, "rnbob");
        try (ann.ws; bob.ws) {
            long before = System.currentTimeMillis();
            String ringId = ann.ask(ring(bob, "video")).get("ringId").asText();
            String meetingId = bob.pushed("ringing").get("meetingId").asText();
            ann.pushed("missed");
            long took = System.currentTimeMillis() - before;
            assertTrue(took >= RING_SECONDS * 1000L - 200 && took < RING_SECONDS * 1000L + 3000,
                    "missed after the ring timeout: " + took + " ms");
            bob.pushed("missed");
            recorded(bob, meetingId, "Missed video call from " + ann.name());
            assertEquals("missed", bob.ask(answer("ring.accept", ringId)).get("state").asText());
        }
    }

    @Test
    void theCallerCancelsAndTheCalleesCardGoes() throws Exception {
        Person ann = person(nodeA, "rcann");
        Person bob = person(nodeB, "rcbob");
        try (ann.ws; bob.ws) {
            String ringId = ann.ask(ring(bob, "video")).get("ringId").asText();
            String meetingId = bob.pushed("ringing").get("meetingId").asText();
            assertEquals("cancelled", ann.ask(answer("ring.cancel", ringId)).get("state").asText());
            bob.pushed("cancelled");
            recorded(bob, meetingId, "Missed video call from " + ann.name());
            // Each may ring again at once: nobody stays busy.
            assertEquals("ringing", bob.ask(ring(ann, "video")).get("state").asText());
        }
    }

    @Test
    void someoneInACallOrAlreadyRungIsBusyAndSomeoneOfflineUnavailable() throws Exception {
        Person ann = person(nodeA, "rbann");
        Person bob = person(nodeB, "rbbob");
        Person cat = person(nodeA, "rbcat");
        Person dan = person(nodeB, "rbdan");
        try (ann.ws; bob.ws; cat.ws; dan.ws) {
            // Bob is being rung by Cat: Ann finds him busy.
            String catsRing = cat.ask(ring(bob, "video")).get("ringId").asText();
            bob.pushed("ringing");
            JsonNode busy = ann.ask(ring(bob, "video"));
            assertEquals("busy", busy.get("state").asText(), busy.toString());
            recorded(bob, busy.get("meetingId").asText(), "Missed video call from " + ann.name());
            // Cat rings Bob; she cannot ring Dan meanwhile.
            JsonNode second = cat.ask(ring(dan, "video"));
            assertEquals("ring.active", second.get("code").asText(), second.toString());
            assertEquals("cancelled", cat.ask(answer("ring.cancel", catsRing)).get("state").asText());

            // Bob in a meeting call: busy.
            String meetingId = nodeB.post("/api/meetings", Map.of("title", "Standup"), bob.token()).body()
                    .get("meetingId").asText();
            assertEquals("call.joined", bob.ask(JSON.createObjectNode().put("type", "call.join")
                    .put("meetingId", meetingId)).get("type").asText());
            awaitStatus(bob, "in-call");
            assertEquals("busy", ann.ask(ring(bob, "video")).get("state").asText());

            // Dan signed out: unavailable, and he finds the missed call.
            dan.ws.close();
            awaitStatus(dan, "offline");
            JsonNode unavailable = ann.ask(ring(dan, "audio"));
            assertEquals("unavailable", unavailable.get("state").asText(), unavailable.toString());
            recorded(ann, unavailable.get("meetingId").asText(), "Missed audio call from " + ann.name());
        }
    }

    /** Waits until Redis holds this status for the person (every gateway reads it from there). */
    private static void awaitStatus(Person watched, String status) throws Exception {
        long deadline = System.currentTimeMillis() + 8_000;
        while (System.currentTimeMillis() < deadline) {
            String now = redis.inspect().get("parley:presence:{" + watched.id() + "}");
            if (status.equals(now == null ? "offline" : now)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(watched.name() + " never became " + status);
    }

    @Test
    void anAcceptAndACancelAtTheSameInstantHaveOneWinnerBothAgreeOn() throws Exception {
        Person ann = person(nodeA, "rrann");
        Person bob = person(nodeB, "rrbob");
        String acceptedSeries = "parley_rings_total{outcome=\"accepted\"}";
        double acceptedBefore = count(nodeB, acceptedSeries);
        int accepted = 0;
        int cancelled = 0;
        try (ann.ws; bob.ws) {
            for (int i = 0; i < 30; i++) {
                String ringId = ann.ask(ring(bob, "video")).get("ringId").asText();
                bob.pushed("ringing");
                String acceptId = "a" + i;
                String cancelId = "c" + i;
                bob.ws.send(answer("ring.accept", ringId).put("id", acceptId));
                ann.ws.send(answer("ring.cancel", ringId).put("id", cancelId));
                JsonNode bobsAnswer = bob.ws.next(m -> acceptId.equals(m.path("re").asText(null)), 10_000);
                JsonNode annsAnswer = ann.ws.next(m -> cancelId.equals(m.path("re").asText(null)), 10_000);
                String outcome = bobsAnswer.get("state").asText();
                assertTrue(outcome.equals("accepted") || outcome.equals("cancelled"), bobsAnswer.toString());
                assertEquals(outcome, annsAnswer.get("state").asText(), "both sides agree on round " + i);
                // Each is also told once: the push carries the same outcome.
                assertEquals(outcome, ann.ws.next(m -> m.get("type").asText().equals("ring.state") && !m.has("re")
                        && m.get("ringId").asText().equals(ringId), 10_000).get("state").asText());
                assertEquals(outcome, bob.ws.next(m -> m.get("type").asText().equals("ring.state") && !m.has("re")
                        && m.get("ringId").asText().equals(ringId), 10_000).get("state").asText());
                if (outcome.equals("accepted")) {
                    accepted++;
                } else {
                    cancelled++;
                }
            }
        }
        assertEquals(30, accepted + cancelled);
        assertEquals(acceptedBefore + accepted, count(nodeB, acceptedSeries), "each accept counted once");
    }

    private static double count(TestGateway node, String series) throws Exception {
        double value = node.metric(series);
        return Double.isNaN(value) ? 0 : value;
    }

    @Test
    void theRingReachesTheCalleesOneSocketOnly() throws Exception {
        Person ann = person(nodeA, "rsann");
        Person bob = person(nodeB, "rsbob");
        try (ann.ws; bob.ws; WsClient second = nodeA.ws()) {
            JsonNode refused = second.hello(bob.token(), null);
            assertEquals("error", refused.get("type").asText(), "a second session is refused: " + refused);
            String ringId = ann.ask(ring(bob, "video")).get("ringId").asText();
            bob.pushed("ringing");
            assertEquals("ringing", ann.ask(ring(bob, "video")).get("state").asText(), "ringing again: same ring");
            JsonNode again = bob.ws.poll(1000);
            assertTrue(again == null || !again.get("type").asText().equals("ring.state"),
                    "the callee's card is not sent twice: " + again);
            for (JsonNode m = second.poll(300); m != null; m = second.poll(100)) {
                assertNotEquals("ring.state", m.get("type").asText(), "the refused socket gets no ring");
            }
            assertEquals("cancelled", ann.ask(answer("ring.cancel", ringId)).get("state").asText());
        }
    }

    @Test
    void badRingsGetClearErrors() throws Exception {
        Person ann = person(nodeA, "rxann");
        Person bob = person(nodeB, "rxbob");
        Person eve = person(nodeB, "rxeve");
        try (ann.ws; bob.ws; eve.ws) {
            assertError(ann.ask(JSON.createObjectNode().put("type", "ring.start").put("userId", ann.id())),
                    "bad_request", "yourself");
            assertError(ann.ask(JSON.createObjectNode().put("type", "ring.start").put("userId", "bob")),
                    "bad_request", "userId");
            assertError(ann.ask(ring(bob, "smell")), "bad_request", "media");
            assertError(ann.ask(JSON.createObjectNode().put("type", "ring.start").put("userId", "u" + "0".repeat(20))),
                    "not_found", "user");
            assertError(ann.ask(answer("ring.accept", "r" + "0".repeat(20))), "not_found", "call");
            assertError(ann.ask(answer("ring.accept", "nope")), "bad_request", "ringId");
            assertError(ann.ask(JSON.createObjectNode().put("type", "ring.decline")), "bad_request", "ringId");

            String ringId = ann.ask(ring(bob, "video")).get("ringId").asText();
            assertError(ann.ask(answer("ring.accept", ringId)), "forbidden", "person called");
            assertError(bob.ask(answer("ring.cancel", ringId)), "forbidden", "caller");
            assertError(eve.ask(answer("ring.accept", ringId)), "not_found", "call");
            assertError(eve.ask(answer("ring.cancel", ringId)), "not_found", "call");
            assertEquals("cancelled", ann.ask(answer("ring.cancel", ringId)).get("state").asText());
            assertTrue(nodeA.metric("parley_errors_total{code=\"forbidden\",transport=\"ws\"}") >= 1);
        }
    }

    @Test
    void ringingIsRateLimitedPerCallerAcrossGateways() throws Exception {
        try (TestGateway strict = TestGateway.start(settings(3))) {
            JsonNode account = strict.register("rlann" + names.incrementAndGet());
            Person bob = person(nodeB, "rlbob");
            try (WsClient ws = strict.ws(); bob.ws) {
                ws.hello(account.get("token").asText(), null);
                Person ann = new Person(account, ws);
                for (int i = 0; i < 3; i++) {
                    JsonNode started = ann.ask(ring(bob, "video"));
                    assertEquals("ringing", started.get("state").asText(), started.toString());
                    assertEquals("cancelled", ann.ask(answer("ring.cancel", started.get("ringId").asText()))
                            .get("state").asText());
                }
                JsonNode refused = ann.ask(ring(bob, "video"));
                assertError(refused, "rate_limited", "too many calls");
                int rung = 0;
                for (JsonNode m = bob.ws.poll(500); m != null; m = bob.ws.poll(500)) {
                    if (m.get("type").asText().equals("ring.state") && m.get("state").asText().equals("ringing")) {
                        rung++;
                    }
                }
                assertEquals(3, rung, "the refused ring never reached the callee");
            }
        }
    }

    private static void assertError(JsonNode answer, String code, String mentions) {
        assertEquals("error", answer.get("type").asText(), answer.toString());
        assertEquals(code, answer.get("code").asText(), answer.toString());
        assertTrue(answer.get("message").asText().contains(mentions), answer.toString());
        assertFalse(answer.get("message").asText().isBlank());
    }
}
