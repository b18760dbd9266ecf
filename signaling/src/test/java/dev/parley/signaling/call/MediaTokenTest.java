package dev.parley.signaling.call;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.media.api.MediaToken;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * WHIP/WHEP tokens for members, minted by the gateway after its own checks and accepted by the embedded media server's
 * HTTP API (listening on loopback with an auth-secret).
 */
class MediaTokenTest {

    private static final String SECRET = "a test secret of at least thirty-two bytes";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.calls.enabled", true);
        settings.put("parley.media.http-enabled", true);
        settings.put("parley.media.http-host", "127.0.0.1");
        settings.put("parley.media.auth-secret", SECRET);
        settings.put("parley.calls.max-media-tokens-per-hour", 3);
        gateway = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    /** A meeting of owner and member whose call the owner has started; returns its id. */
    private static String meetingInCall(JsonNode owner, JsonNode member, WsClient ownerWs) throws Exception {
        String token = owner.get("token").asText();
        String id = gateway.post("/api/meetings", Map.of("title", "Broadcast"), token).body().get("meetingId")
                .asText();
        gateway.post("/api/meetings/" + id + "/members", Map.of("username", member.get("username").asText()), token);
        assertEquals("welcome", ownerWs.hello(token, null).get("type").asText());
        CallSignalingTest.send(ownerWs, "call.join", id);
        CallSignalingTest.next(ownerWs, "call.joined");
        return id;
    }

    private static TestGateway.Response askToken(String meetingId, JsonNode user, String grant) throws Exception {
        return gateway.post("/api/meetings/" + meetingId + "/media-token", Map.of("grant", grant),
                user.get("token").asText());
    }

    private static HttpResponse<String> postSdp(String url, String token, String sdp) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/sdp")
                .POST(HttpRequest.BodyPublishers.ofString(sdp)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aMemberPublishesOverWhipAndPlaysOverWhepWithTheTokensTheGatewayMints() throws Exception {
        JsonNode owner = gateway.register("mt-owner");
        JsonNode member = gateway.register("mt-member");
        try (WsClient ownerWs = gateway.ws()) {
            String meetingId = meetingInCall(owner, member, ownerWs);

            TestGateway.Response publish = askToken(meetingId, member, "publish");
            assertEquals(201, publish.status(), publish.raw());
            String token = publish.body().get("token").asText();
            long expiresAt = publish.body().get("expiresAt").asLong();
            assertTrue(expiresAt > System.currentTimeMillis() && expiresAt <= System.currentTimeMillis() + 600_000,
                    "ten minutes by default: " + publish.raw());
            MediaToken scope = MediaToken.verify(SECRET, token, Instant.now());
            assertEquals(MediaToken.Grant.PUBLISH, scope.grant());
            assertTrue(publish.body().get("whip").asText().endsWith("/whip/" + scope.conference()));

            try (ClientEndpoint obs = ClientEndpoint.create(InetAddress.getLoopbackAddress(),
                    new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8"))), List.of(SrtpProfile.values()))) {
                HttpResponse<String> whip = postSdp(publish.body().get("whip").asText(), token,
                        obs.publishOffer(List.of(ClientTrack.audio("obs")), false));
                assertEquals(201, whip.statusCode(), "the media server takes the WHIP offer: " + whip.body());
                assertTrue(whip.body().startsWith("v=0"), whip.body());
            }

            TestGateway.Response play = askToken(meetingId, member, "play");
            assertEquals(201, play.status(), play.raw());
            String ownerEndpoint = gateway.get("/api/meetings/" + meetingId + "/call", member.get("token").asText())
                    .body().get("participants").get(0).get("endpointId").asText();
            HttpResponse<String> whep = postSdp(play.body().get("whep").asText() + "/" + ownerEndpoint,
                    play.body().get("token").asText(), "not an offer");
            assertEquals(400, whep.statusCode(), "past authentication, the body is what is wrong: " + whep.body());
            HttpResponse<String> whepByStream = postSdp(play.body().get("whep").asText(),
                    play.body().get("token").asText(), "not an offer");
            assertEquals(400, whepByStream.statusCode(), "the stream URL as given: " + whepByStream.body());
            HttpResponse<String> whepWithPublishToken = postSdp(play.body().get("whep").asText() + "/" + ownerEndpoint,
                    token, "not an offer");
            assertEquals(403, whepWithPublishToken.statusCode(), "a publish token does not play");
        }
    }

    @Test
    void aNonMemberGetsNotFoundAndNobodyGetsAnAdminToken() throws Exception {
        JsonNode owner = gateway.register("mt-owner2");
        JsonNode member = gateway.register("mt-member2");
        JsonNode outsider = gateway.register("mt-outsider");
        try (WsClient ownerWs = gateway.ws()) {
            String meetingId = meetingInCall(owner, member, ownerWs);

            assertEquals(201, askToken(meetingId, member, "play").status(), "the member gets one");
            TestGateway.Response stranger = askToken(meetingId, outsider, "play");
            assertEquals(404, stranger.status());
            assertEquals("not_found", stranger.errorCode());

            TestGateway.Response admin = askToken(meetingId, owner, "admin");
            assertEquals(400, admin.status());
            assertEquals("bad_request", admin.errorCode());
        }
    }

    @Test
    void anArchivedMeetingGetsNoToken() throws Exception {
        JsonNode owner = gateway.register("mt-owner3");
        JsonNode member = gateway.register("mt-member3");
        try (WsClient ownerWs = gateway.ws()) {
            String meetingId = meetingInCall(owner, member, ownerWs);
            gateway.send("PATCH", "/api/meetings/" + meetingId, "{\"archived\":true}", owner.get("token").asText());

            TestGateway.Response refused = askToken(meetingId, member, "publish");
            assertEquals(409, refused.status());
            assertEquals("meeting.archived", refused.errorCode());
        }
    }

    @Test
    void aUserGetsALimitedNumberOfTokensPerHour() throws Exception {
        JsonNode owner = gateway.register("mt-owner4");
        JsonNode member = gateway.register("mt-member4");
        try (WsClient ownerWs = gateway.ws()) {
            String meetingId = meetingInCall(owner, member, ownerWs);
            for (int i = 0; i < 3; i++) {
                assertEquals(201, askToken(meetingId, member, "play").status());
            }
            TestGateway.Response limited = askToken(meetingId, member, "play");
            assertEquals(429, limited.status());
            assertEquals("rate_limited", limited.errorCode());
        }
    }

    @Test
    void withoutWhipAndWhepTheRouteSaysSo() throws Exception {
        try (TestGateway plain = TestGateway.start(redis)) {
            TestGateway.Response response = plain.post("/api/meetings/m1/media-token", Map.of("grant", "play"),
                    "any");
            assertEquals(404, response.status());
            assertTrue(response.body().path("error").path("message").asText().contains("WHIP/WHEP is not enabled"),
                    response.raw());
        }
    }
}
