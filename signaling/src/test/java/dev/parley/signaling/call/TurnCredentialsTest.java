package dev.parley.signaling.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TURN credentials call participants get from a real gateway: their lifetime, username and issuing limit. */
class TurnCredentialsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "turn-test-secret";
    private static final long LIFETIME = 600;

    private static Map<String, Object> settings(RedisServer redis) {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.calls.enabled", true);
        settings.put("parley.turn.uris", "turn:127.0.0.1:3478?transport=udp");
        settings.put("parley.turn.secret", SECRET);
        settings.put("parley.turn.credential-lifetime", LIFETIME + "s");
        settings.put("parley.turn.max-credentials-per-hour", 2);
        return settings;
    }

    private static JsonNode join(WsClient ws, String meetingId, String id) throws Exception {
        ws.send(JSON.writeValueAsString(Map.of("type", "call.join", "meetingId", meetingId, "id", id)));
        return ws.next(m -> id.equals(m.path("re").asText()), 15_000);
    }

    @Test
    void participantsGetShortLivedCredentialsWithOneUsernamePerWindowAndALimitedNumber() throws Exception {
        try (RedisServer redis = RedisServer.start(); TestGateway gateway = TestGateway.start(settings(redis))) {
            JsonNode kai = gateway.register("kai");
            String token = kai.get("token").asText();
            String meeting = gateway.post("/api/meetings", Map.of("title", "Relay"), token).body()
                    .get("meetingId").asText();
            try (WsClient ws = gateway.ws()) {
                assertEquals("welcome", ws.hello(token, null).get("type").asText());
                long now = System.currentTimeMillis() / 1000;
                JsonNode first = join(ws, meeting, "j1");
                assertEquals("call.joined", first.get("type").asText(), first.toString());
                JsonNode server = first.get("iceServers").get(0);
                String username = server.get("username").asText();
                String[] parts = username.split(":", 2);
                long expiry = Long.parseLong(parts[0]);
                assertEquals(kai.get("userId").asText(), parts[1]);
                assertEquals(0, expiry % LIFETIME, "the expiry is rounded to the lifetime: " + username);
                assertTrue(expiry >= now + LIFETIME && expiry <= now + 2 * LIFETIME + 2,
                        "valid between one and two lifetimes: " + (expiry - now) + " s");
                assertEquals(hmac(username), server.get("credential").asText());

                JsonNode second = join(ws, meeting, "j2");
                assertEquals("call.joined", second.get("type").asText(), second.toString());
                assertEquals(username, second.get("iceServers").get(0).get("username").asText(),
                        "within one window the username stays the same, so coturn's user-quota counts the user");

                JsonNode third = join(ws, meeting, "j3");
                assertEquals("error", third.get("type").asText(), third.toString());
                assertEquals("rate_limited", third.get("code").asText());
                assertTrue(third.get("message").asText().contains("too often"), third.toString());
            }
        }
    }

    private static JsonNode turn(WsClient ws, String meetingId, String id) throws Exception {
        ws.send(JSON.writeValueAsString(Map.of("type", "call.turn", "meetingId", meetingId, "id", id)));
        return ws.next(m -> id.equals(m.path("re").asText()), 15_000);
    }

    @Test
    void aParticipantGetsFreshCredentialsOnRequestWithinTheSameAllowance() throws Exception {
        try (RedisServer redis = RedisServer.start(); TestGateway gateway = TestGateway.start(settings(redis))) {
            JsonNode kai = gateway.register("kai");
            JsonNode lea = gateway.register("lea");
            String kaiToken = kai.get("token").asText();
            String meeting = gateway.post("/api/meetings", Map.of("title", "Late share"), kaiToken).body()
                    .get("meetingId").asText();
            assertEquals(200, gateway.post("/api/meetings/" + meeting + "/members", Map.of("username", "lea"),
                    kaiToken).status() / 100 * 100);
            try (WsClient ws = gateway.ws(); WsClient other = gateway.ws()) {
                assertEquals("welcome", ws.hello(kaiToken, null).get("type").asText());
                assertEquals("welcome", other.hello(lea.get("token").asText(), null).get("type").asText());

                JsonNode before = turn(ws, meeting, "t0");
                assertEquals("error", before.get("type").asText(), before.toString());
                assertEquals("call.not_joined", before.get("code").asText());
                assertTrue(before.get("message").asText().contains("join the call first"), before.toString());

                assertEquals("call.joined", join(ws, meeting, "j1").get("type").asText());
                JsonNode fresh = turn(ws, meeting, "t1");
                assertEquals("call.turn", fresh.get("type").asText(), fresh.toString());
                assertEquals(meeting, fresh.get("meetingId").asText());
                JsonNode server = fresh.get("iceServers").get(0);
                assertEquals("turn:127.0.0.1:3478?transport=udp", server.get("urls").get(0).asText());
                String username = server.get("username").asText();
                assertEquals(kai.get("userId").asText(), username.split(":", 2)[1]);
                assertEquals(hmac(username), server.get("credential").asText());

                JsonNode member = turn(other, meeting, "t2");
                assertEquals("call.not_joined", member.path("code").asText(),
                        "a member who is not in the call gets none: " + member);

                JsonNode limited = turn(ws, meeting, "t3");
                assertEquals("error", limited.get("type").asText(), limited.toString());
                assertEquals("rate_limited", limited.get("code").asText(),
                        "joining and call.turn share the allowance of two per hour: " + limited);
                assertTrue(limited.get("message").asText().contains("TURN credentials too often"), limited.toString());
            }
        }
    }

    @Test
    void theUsernameChangesOnlyAtTheWindowBoundary() {
        TurnCredentials turn = new TurnCredentials(java.util.List.of("turn:127.0.0.1:3478"), SECRET,
                java.time.Duration.ofSeconds(LIFETIME), java.time.Clock.systemUTC(), null, null);
        long start = 1_800_000_000L - 1_800_000_000L % LIFETIME;
        assertEquals(turn.usernameAt(start + 1, "u1"), turn.usernameAt(start + LIFETIME, "u1"));
        assertNotEquals(turn.usernameAt(start + LIFETIME, "u1"), turn.usernameAt(start + LIFETIME + 1, "u1"));
        assertEquals((start + 2 * LIFETIME) + ":u1", turn.usernameAt(start + 1, "u1"));
    }

    private static String hmac(String username) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
    }
}
