package dev.parley.signaling.medianode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.api.MediaToken;
import dev.parley.signaling.testing.MediaNodeProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A gateway without media of its own placing calls on two standalone media nodes (real processes) by load: 20 calls
 * spread over both, and when one node is killed with kill -9 the gateway notices within 5 s, its calls' participants
 * are told, and new calls go to the node that is left.
 */
class MediaPlacementTest {

    private static final String SECRET = "a-media-secret-of-at-least-thirty-two-bytes";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void twentyCallsSpreadOverTwoNodesAndAKilledNodesCallsAreEndedWithinFiveSeconds() throws Exception {
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
                try {
                    for (int i = 0; i < 20; i++) {
                        JsonNode user = gateway.register("place" + i);
                        String meeting = gateway.post("/api/meetings", Map.of("title", "Call " + i),
                                user.get("token").asText()).body().get("meetingId").asText();
                        WsClient ws = gateway.signedIn(user);
                        sockets.add(ws);
                        meetings.add(meeting);
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
                    int told = 0;
                    for (WsClient ws : sockets) {
                        long waitedMillis = (System.nanoTime() - killed) / 1_000_000;
                        JsonNode left;
                        try {
                            left = ws.next(m -> m.path("type").asText().equals("call.left"),
                                    Math.max(1, 7_000 - waitedMillis));
                        } catch (AssertionError none) {
                            continue;
                        }
                        assertEquals("media server lost", left.get("reason").asText(), left.toString());
                        told++;
                    }
                    long millis = (System.nanoTime() - killed) / 1_000_000;
                    assertEquals(onA, told, "every participant of a call on the killed node is told, the others not");
                    assertTrue(millis <= 7_500, "noticed within 5 s (and the checks' margin), took " + millis + " ms");
                    System.out.printf("placement: %d and %d calls; %d told of the killed node's loss within %d ms%n",
                            onA, onB, told, millis);

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

    /** The node's conferences, read with an admin token as an operator would. */
    private static List<String> conferences(MediaNodeProcess node) throws Exception {
        String token = MediaToken.mint(SECRET, "*", null, MediaToken.Grant.ADMIN, Duration.ofMinutes(1));
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(node.apiUrl() + "/v1/conferences"))
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        List<String> ids = new ArrayList<>();
        JSON.readTree(response.body()).forEach(c -> ids.add(c.get("conferenceId").asText()));
        return ids;
    }
}
