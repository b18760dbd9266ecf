package dev.parley.signaling.meeting;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nobody can load another user with meetings past a cap, and every id a client names is checked for its shape. */
class MembershipLimitsTest {

    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        var settings = TestGateway.testSettings(redis);
        settings.put("parley.meetings.max-memberships-per-user", 2);
        gateway = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    private static String token(JsonNode user) {
        return user.get("token").asText();
    }

    private static String meeting(JsonNode owner) throws Exception {
        Response created = gateway.post("/api/meetings", Map.of("title", "Busy"), token(owner));
        assertEquals(201, created.status(), created.raw());
        return created.body().get("meetingId").asText();
    }

    @Test
    void nobodyCanAddAUserPastTheirMembershipCap() throws Exception {
        JsonNode target = gateway.register("cap-target");
        // Each meeting has its own owner: the owners' own caps are not what this is about.
        for (int i = 0; i < 2; i++) {
            JsonNode owner = gateway.register("cap-owner" + i);
            assertEquals(200, gateway.post("/api/meetings/" + meeting(owner) + "/members",
                    Map.of("username", "cap-target"), token(owner)).status());
        }
        JsonNode pest = gateway.register("cap-pest");

        Response refused = gateway.post("/api/meetings/" + meeting(pest) + "/members",
                Map.of("username", "cap-target"), token(pest));
        assertEquals(409, refused.status(), refused.raw());
        assertEquals("limit.memberships", refused.errorCode());
        assertTrue(refused.body().get("error").get("message").asText().contains("User cap-target"), refused.raw());

        JsonNode inviter = gateway.register("cap-inviter");
        String link = gateway.post("/api/meetings/" + meeting(inviter) + "/invites", Map.of(), token(inviter))
                .body().get("token").asText();
        assertEquals("limit.memberships", gateway.post("/api/invites/" + link + "/accept", Map.of(), token(target))
                .errorCode(), "nor can the user themselves join past it");
        assertEquals("limit.memberships", gateway.post("/api/meetings", Map.of("title", "One more"), token(target))
                .errorCode(), "nor create a meeting past it");
        assertEquals(2, gateway.get("/api/meetings", token(target)).body().get("meetings").size());
    }

    @Test
    void malformedIdsInRestRoutesAreBadRequests() throws Exception {
        JsonNode user = gateway.register("ids-rest");
        String id = meeting(user);
        String t = token(user);
        for (Response answer : List.of(
                gateway.get("/api/meetings/not-a-meeting", t),
                gateway.get("/api/meetings/M" + "0".repeat(20), t),
                gateway.get("/api/meetings/m" + "0".repeat(200) + "/messages", t),
                gateway.get("/api/meetings/zz/call", t),
                gateway.send("PATCH", "/api/meetings/zz", "{\"title\":\"x\"}", t),
                gateway.post("/api/meetings/zz/members", Map.of("username", "ids-rest"), t),
                gateway.post("/api/meetings/zz/invites", Map.of(), t),
                gateway.get("/api/meetings/zz/invites", t),
                gateway.send("DELETE", "/api/meetings/" + id + "/invites/nonsense", null, t),
                gateway.send("DELETE", "/api/meetings/" + id + "/members/someone", null, t))) {
            assertEquals(400, answer.status(), answer.raw());
            assertEquals("bad_request", answer.errorCode(), answer.raw());
        }
        Response unknown = gateway.get("/api/meetings/m" + "0".repeat(20), t);
        assertEquals("not_found", unknown.errorCode(), "a well-formed id of no meeting is still not_found");
    }

    @Test
    void malformedIdsInWebSocketMessagesAreBadRequests() throws Exception {
        JsonNode user = gateway.register("ids-ws");
        try (WsClient ws = gateway.ws()) {
            ws.hello(token(user), null);
            for (String message : List.of(
                    "{\"type\":\"call.join\",\"id\":\"w1\",\"meetingId\":\"../../etc\"}",
                    "{\"type\":\"chat.send\",\"id\":\"w2\",\"meetingId\":\"m1\",\"clientMsgId\":\"c1\",\"text\":\"hi\"}",
                    "{\"type\":\"chat.typing\",\"id\":\"w3\",\"meetingId\":\"m" + "f".repeat(21) + "\"}",
                    "{\"type\":\"presence.subscribe\",\"id\":\"w4\",\"userIds\":[\"u1\"]}",
                    "{\"type\":\"presence.unsubscribe\",\"id\":\"w5\",\"userIds\":[\"parley:session:x\"]}")) {
                ws.send(message);
                JsonNode error = ws.next(m -> m.get("type").asText().equals("error"), 5000);
                assertEquals("bad_request", error.get("code").asText(), error.toString());
                assertTrue(error.get("message").asText().contains("id"), error.toString());
            }
            assertTrue(ws.isOpen());
        }
    }
}
