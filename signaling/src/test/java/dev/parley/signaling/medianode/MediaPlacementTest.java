package dev.parley.signaling.medianode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.testing.MediaNodeProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A gateway without media of its own placing calls on two standalone media nodes (real processes) by load: 20 calls
 * spread over both, and when one node is killed with kill -9 the gateway notices within 5 s, tells its calls'
 * participants call.moved, and their calls go on (as the same calls) on the node that is left, as do new ones.
 */
class MediaPlacementTest {

    private static final String SECRET = "a-media-secret-of-at-least-thirty-two-bytes";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void twentyCallsSpreadOverTwoNodesAndAKilledNodesCallsMoveToTheOtherWithinFiveSeconds() throws Exception {
        Map<String, String> nodeEnv = Map.of("PARLEY_MEDIA_AUTH_SECRET", SECRET);
        try (RedisServer redis = RedisServer.start();
             MediaNodeProcess a = MediaNodeProcess.start(redis.uri(), nodeEnv);
             MediaNodeProcess b = MediaNodeProcess.start(redis.uri(), nodeEnv)) {
            Map<String, Object> settings = TestGateway.testSettings(redis);
            settings.put("parley.calls.enabled", true);
            settings.put("parley.calls.embedded-media", false);
            settings.put("parley.media.auth-secret", SECRET);
            try (TestGateway gateway = TestGateway.start(settings)) {
                List<WsClient> sockets = new ArrayList<>();
                List<String> meetings = new ArrayList<>();
                List<JsonNode> users = new ArrayList<>();
                try {
                    for (int i = 0; i < 20; i++) {
                        JsonNode user = gateway.register("place" + i);
                        String meeting = gateway.post("/api/meetings", Map.of("title", "Call " + i),
                                user.get("token").asText()).body().get("meetingId").asText();
                        WsClient ws = gateway.signedIn(user);
                        sockets.add(ws);
                        meetings.add(meeting);
                        users.add(user);
                        ws.send(JSON.createObjectNode().put("type", "call.join").put("meetingId", meeting));
                        JsonNode joined = ws.next(m -> m.path("type").asText().startsWith("call.joined")
                                || m.path("type").asText().equals("error"), 15_000);
                        assertEquals("call.joined", joined.get("type").asText(), joined.toString());
                    }
                    int onA = conferences(a).size();
                    int onB = conferences(b).size();
                    assertEquals(20, onA + onB, "every call is on one of the two nodes");
                    assertTrue(onA >= 2 && onB >= 2, "placement spreads the calls: " + onA + " and " + onB);

                    long killed = System.nanoTime();
                    a.kill();
                    List<Integer> movedSockets = new ArrayList<>();
                    long lastToldMillis = 0;
                    // Round the sockets until as many were told as calls were on the killed node (7 s at most).
                    while (movedSockets.size() < onA && System.nanoTime() - killed < 7_000_000_000L) {
                        for (int i = 0; i < sockets.size(); i++) {
                            if (movedSockets.contains(i)) {
                                continue;
                            }
                            JsonNode moved;
                            try {
                                moved = sockets.get(i).next(m -> m.path("type").asText().equals("call.moved")
                                        || m.path("type").asText().equals("call.left"), 5);
                            } catch (AssertionError none) {
                                continue;
                            }
                            assertEquals("call.moved", moved.get("type").asText(), moved.toString());
                            assertEquals("media-server-lost", moved.get("reason").asText());
                            assertEquals(meetings.get(i), moved.get("to").asText(), "the call stays in its meeting");
                            movedSockets.add(i);
                            lastToldMillis = (System.nanoTime() - killed) / 1_000_000;
                        }
                    }
                    for (int i = 0; i < sockets.size(); i++) {
                        if (!movedSockets.contains(i)) {
                            JsonNode stray = sockets.get(i).poll(50);
                            while (stray != null) {
                                assertTrue(!stray.path("type").asText().startsWith("call.moved")
                                        && !stray.path("type").asText().equals("call.left"),
                                        "a call on the node that lives is untouched: " + stray);
                                stray = sockets.get(i).poll(0);
                            }
                        }
                    }
                    long millis = lastToldMillis;
                    assertEquals(onA, movedSockets.size(),
                            "every participant of a call on the killed node is told, the others not");
                    assertTrue(millis <= 5_500, "noticed within 5 s, the last told after " + millis + " ms");
                    System.out.printf("placement: %d and %d calls; %d told of the killed node's loss within %d ms%n",
                            onA, onB, movedSockets.size(), millis);

                    // They join again, and their calls go on on the node that is left, as the same calls.
                    for (int i : movedSockets) {
                        sockets.get(i).send(JSON.createObjectNode().put("type", "call.join")
                                .put("meetingId", meetings.get(i)));
                        JsonNode joined = sockets.get(i).next(m -> m.path("type").asText().equals("call.joined")
                                || m.path("type").asText().equals("error"), 15_000);
                        assertEquals("call.joined", joined.get("type").asText(), joined.toString());
                    }
                    assertEquals(20, conferences(b).size(), "every call is on the node that is left");
                    if (!movedSockets.isEmpty()) {
                        int i = movedSockets.get(0);
                        JsonNode history = gateway.get("/api/meetings/" + meetings.get(i) + "/messages",
                                users.get(i).get("token").asText()).body().get("messages");
                        long starts = 0;
                        for (JsonNode m : history) {
                            starts += m.get("text").asText().endsWith("started a call") ? 1 : 0;
                        }
                        assertEquals(1, starts, "a moved call is the same call: " + history);
                    }

                    // A new call goes to the node that is left.
                    int before = conferences(b).size();
                    JsonNode user = gateway.register("place-after");
                    String meeting = gateway.post("/api/meetings", Map.of("title", "After"),
                            user.get("token").asText()).body().get("meetingId").asText();
                    WsClient ws = gateway.signedIn(user);
                    sockets.add(ws);
                    ws.send(JSON.createObjectNode().put("type", "call.join").put("meetingId", meeting));
                    assertEquals("call.joined", ws.next(m -> m.path("type").asText().equals("call.joined")
                            || m.path("type").asText().equals("error"), 15_000).get("type").asText());
                    assertEquals(before + 1, conferences(b).size());
                } finally {
                    sockets.forEach(WsClient::close);
                }
            }
        }
    }

    private static List<String> conferences(MediaNodeProcess node) throws Exception {
        return node.conferenceIds(SECRET);
    }
}
