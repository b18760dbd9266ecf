package dev.parley.signaling.presence;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Presence reaches only people who share a meeting, and one connection watches a bounded number of users. */
class PresenceWatchTest {

    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        var settings = TestGateway.testSettings(redis);
        settings.put("parley.presence.max-watched", 3);
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

    private static String id(JsonNode user) {
        return user.get("userId").asText();
    }

    private static String subscribe(String requestId, String... userIds) {
        return "{\"type\":\"presence.subscribe\",\"id\":\"" + requestId + "\",\"userIds\":[\""
                + String.join("\",\"", userIds) + "\"]}";
    }

    @Test
    void aStrangersStatusIsNeverReportedButACoMembersIs() throws Exception {
        JsonNode watcher = gateway.register("pw-watcher");
        JsonNode colleague = gateway.register("pw-colleague");
        JsonNode stranger = gateway.register("pw-stranger");
        String meeting = gateway.post("/api/meetings", Map.of("title", "Team"), token(watcher)).body()
                .get("meetingId").asText();
        gateway.post("/api/meetings/" + meeting + "/members", Map.of("username", "pw-colleague"), token(watcher));

        try (WsClient strangerWs = gateway.ws(); WsClient ws = gateway.ws()) {
            strangerWs.hello(token(stranger), null);
            ws.hello(token(watcher), null);
            ws.send(subscribe("s1", id(stranger), id(colleague)));
            assertEquals("s1", ws.next(m -> m.get("type").asText().equals("ok"), 5000).get("re").asText());
            try (WsClient colleagueWs = gateway.ws()) {
                colleagueWs.hello(token(colleague), null);
                ws.next(m -> m.get("type").asText().equals("presence") && m.get("userId").asText().equals(
                        id(colleague)) && m.get("status").asText().equals("online"), 8000);
            }
            strangerWs.close();
            ws.next(m -> m.get("type").asText().equals("presence") && m.get("userId").asText().equals(
                    id(colleague)) && m.get("status").asText().equals("offline"), 8000);
            List<JsonNode> seen = new ArrayList<>();
            for (JsonNode m = ws.poll(500); m != null; m = ws.poll(500)) {
                seen.add(m);
            }
            assertTrue(seen.stream().noneMatch(m -> m.path("userId").asText().equals(id(stranger))),
                    "nothing about the stranger: " + seen);
        }
    }

    @Test
    void peopleWhoComeToShareAMeetingSeeEachOtherWithoutReconnecting() throws Exception {
        JsonNode owner = gateway.register("pw-owner");
        JsonNode newcomer = gateway.register("pw-newcomer");
        String meeting = gateway.post("/api/meetings", Map.of("title", "Later"), token(owner)).body()
                .get("meetingId").asText();
        try (WsClient ws = gateway.ws()) {
            ws.hello(token(owner), null);
            ws.send(subscribe("n1", id(newcomer)));
            assertEquals("n1", ws.next(m -> m.get("type").asText().equals("ok"), 5000).get("re").asText());

            gateway.post("/api/meetings/" + meeting + "/members", Map.of("username", "pw-newcomer"), token(owner));
            ws.next(m -> m.get("type").asText().equals("presence") && m.get("userId").asText().equals(
                    id(newcomer)) && m.get("status").asText().equals("offline"), 8000);
            try (WsClient newcomerWs = gateway.ws()) {
                newcomerWs.hello(token(newcomer), null);
                ws.next(m -> m.get("type").asText().equals("presence") && m.get("userId").asText().equals(
                        id(newcomer)) && m.get("status").asText().equals("online"), 8000);
            }
        }
    }

    @Test
    void aConnectionWatchesAtMostTheConfiguredNumberOfUsers() throws Exception {
        JsonNode watcher = gateway.register("pw-greedy");
        try (WsClient ws = gateway.ws()) {
            ws.hello(token(watcher), null);
            ws.send(subscribe("g1", "u" + "1".repeat(20), "u" + "2".repeat(20), "u" + "3".repeat(20),
                    "u" + "4".repeat(20)));
            JsonNode refused = ws.next(m -> m.get("type").asText().equals("error"), 5000);
            assertEquals("g1", refused.get("re").asText());
            assertEquals("bad_request", refused.get("code").asText());
            assertTrue(refused.get("message").asText().contains("at most 3"), refused.toString());
        }
    }
}
