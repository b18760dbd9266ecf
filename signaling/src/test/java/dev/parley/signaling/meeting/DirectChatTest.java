package dev.parley.signaling.meeting;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Direct chats over real Redis: one per pair, made on first use, the same for both, and only theirs. */
class DirectChatTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        gateway = TestGateway.start(redis);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    private static Response open(JsonNode me, JsonNode other) throws Exception {
        return gateway.post("/api/direct-chats", Map.of("userId", other.get("userId").asText()),
                me.get("token").asText());
    }

    private static String token(JsonNode user) {
        return user.get("token").asText();
    }

    @Test
    void bothPeopleGetTheOneChatNamedAfterTheOtherAndTalkInIt() throws Exception {
        JsonNode ann = gateway.register("dcann");
        JsonNode bob = gateway.register("dcbob");
        try (WsClient bobWs = gateway.ws()) {
            assertEquals("welcome", bobWs.hello(token(bob), null).get("type").asText());
            Response opened = open(ann, bob);
            assertEquals(200, opened.status(), opened.raw());
            String chatId = opened.body().get("meetingId").asText();
            assertEquals("direct", opened.body().get("kind").asText());
            assertEquals("User dcbob", opened.body().get("title").asText(), "named after the other person");
            assertEquals(bob.get("userId").asText(), opened.body().get("peerId").asText());
            assertEquals(2, opened.body().get("members").size());
            // Bob is told it exists, and finds it in his list under Ann's name.
            JsonNode updated = bobWs.next(m -> m.get("type").asText().equals("meeting.updated"), 8000);
            assertEquals(chatId, updated.get("meetingId").asText());
            JsonNode bobsList = gateway.get("/api/meetings", token(bob)).body().get("meetings");
            assertEquals(1, bobsList.size());
            assertEquals(chatId, bobsList.get(0).get("meetingId").asText());
            assertEquals("User dcann", bobsList.get(0).get("title").asText());
            assertEquals(ann.get("userId").asText(), bobsList.get(0).get("peerId").asText());
            assertEquals(chatId, open(bob, ann).body().get("meetingId").asText(), "the same chat from his side");
            assertEquals(chatId, open(ann, bob).body().get("meetingId").asText(), "and again from hers");

            try (WsClient annWs = gateway.ws()) {
                annWs.hello(token(ann), null);
                annWs.send(JSON.createObjectNode().put("type", "chat.send").put("meetingId", chatId)
                        .put("clientMsgId", "d1").put("text", "hi Bob"));
                JsonNode message = bobWs.next(m -> m.get("type").asText().equals("chat.message"), 8000);
                assertEquals("hi Bob", message.get("message").get("text").asText());
            }
            assertEquals(1, gateway.get("/api/meetings", token(bob)).body().get("meetings").get(0).get("unread")
                    .asInt(), "unread, as in any meeting");
        }
    }

    @Test
    void manyOpeningAtOnceMakeOneChat() throws Exception {
        JsonNode cat = gateway.register("dccat");
        JsonNode dan = gateway.register("dcdan");
        List<CompletableFuture<Response>> opens = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            JsonNode me = i % 2 == 0 ? cat : dan;
            JsonNode other = i % 2 == 0 ? dan : cat;
            opens.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return open(me, other);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        Set<String> ids = new HashSet<>();
        for (CompletableFuture<Response> open : opens) {
            Response response = open.get();
            assertEquals(200, response.status(), response.raw());
            ids.add(response.body().get("meetingId").asText());
        }
        assertEquals(1, ids.size());
        assertEquals(1, gateway.get("/api/meetings", token(cat)).body().get("meetings").size());
        assertEquals(1, gateway.get("/api/meetings", token(dan)).body().get("meetings").size());
    }

    @Test
    void nobodyElseSeesItAndItHasNoneOfAMeetingsOwnerActions() throws Exception {
        JsonNode eve = gateway.register("dceve");
        JsonNode fay = gateway.register("dcfay");
        JsonNode gus = gateway.register("dcgus");
        String chatId = open(eve, fay).body().get("meetingId").asText();
        assertEquals(404, gateway.get("/api/meetings/" + chatId, token(gus)).status(), "not a member: not found");
        assertEquals(404, gateway.get("/api/meetings/" + chatId + "/messages", token(gus)).status());

        assertDirect(gateway.send("PATCH", "/api/meetings/" + chatId, "{\"title\":\"renamed\"}", token(eve)));
        assertDirect(gateway.send("PATCH", "/api/meetings/" + chatId, "{\"archived\":true}", token(fay)));
        assertDirect(gateway.post("/api/meetings/" + chatId + "/members", Map.of("username", "dcgus"), token(eve)));
        assertDirect(gateway.send("DELETE", "/api/meetings/" + chatId + "/members/" + fay.get("userId").asText(), null,
                token(fay)));
        assertDirect(gateway.post("/api/meetings/" + chatId + "/invites", Map.of(), token(eve)));
        assertEquals(2, gateway.get("/api/meetings/" + chatId, token(eve)).body().get("members").size());
    }

    private static void assertDirect(Response response) {
        assertEquals(409, response.status(), response.raw());
        assertEquals("meeting.direct", response.errorCode());
        assertTrue(response.raw().contains("A direct chat"), response.raw());
    }

    @Test
    void badOpensGetClearErrors() throws Exception {
        JsonNode hal = gateway.register("dchal");
        Response self = open(hal, hal);
        assertEquals(400, self.status());
        assertTrue(self.raw().contains("someone else"), self.raw());
        Response nobody = gateway.post("/api/direct-chats", Map.of("userId", "u" + "0".repeat(20)), token(hal));
        assertEquals(404, nobody.status());
        Response malformed = gateway.post("/api/direct-chats", Map.of("userId", "bob"), token(hal));
        assertEquals(400, malformed.status());
        assertEquals("bad_request", malformed.errorCode());
        assertEquals(400, gateway.post("/api/direct-chats", Map.of(), token(hal)).status());
        assertEquals(401, gateway.post("/api/direct-chats", Map.of("userId", hal.get("userId").asText()), null)
                .status());
    }
}
