package dev.parley.signaling.call;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.signaling.testing.MediaNodeProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.parley.signaling.call.CallSignalingTest.next;
import static dev.parley.signaling.call.CallSignalingTest.receives;
import static dev.parley.signaling.call.CallSignalingTest.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A call on a standalone media node survives the node's death: two real node processes, a gateway without media of
 * its own, and Java WebRTC clients. Ann's audio reaches Bob through node A; A is killed with kill -9; both are told
 * call.moved within 5 s, join again, publish and subscribe anew, and Bob hears Ann again through node B.
 */
class MediaFailoverTest {

    private static final String SECRET = "a-media-secret-of-at-least-thirty-two-bytes";
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));

    @Test
    void aCallWhoseMediaNodeIsKilledMovesToTheOtherNodeAndMediaFlowsAgain() throws Exception {
        Map<String, String> nodeEnv = Map.of("PARLEY_MEDIA_AUTH_SECRET", SECRET,
                "PARLEY_MEDIA_CONSENT_TIMEOUT", "15s");
        try (RedisServer redis = RedisServer.start();
             MediaNodeProcess a = MediaNodeProcess.start(redis.uri(), nodeEnv);
             MediaNodeProcess b = MediaNodeProcess.start(redis.uri(), nodeEnv)) {
            Map<String, Object> settings = TestGateway.testSettings(redis);
            settings.put("parley.calls.enabled", true);
            settings.put("parley.calls.embedded-media", false);
            settings.put("parley.media.auth-secret", SECRET);
            try (TestGateway gateway = TestGateway.start(settings)) {
                JsonNode ann = gateway.register("fo-ann");
                JsonNode bob = gateway.register("fo-bob");
                String meeting = gateway.post("/api/meetings", Map.of("title", "Failover"),
                        ann.get("token").asText()).body().get("meetingId").asText();
                gateway.post("/api/meetings/" + meeting + "/members", Map.of("username", "fo-bob"),
                        ann.get("token").asText());
                MediaNodeProcess hosting;
                String chatBefore;
                try (WsClient annWs = gateway.signedIn(ann); WsClient bobWs = gateway.signedIn(bob)) {
                    ClientTrack audio = ClientTrack.audio("ann-mic");
                    try (ClientEndpoint annOut = client(); ClientEndpoint bobIn = client();
                         ClientEndpoint annAgain = client(); ClientEndpoint bobAgain = client()) {
                        connect(annWs, bobWs, meeting, audio, annOut, bobIn);
                        assertTrue(receives(annOut, audio, bobIn), "Bob hears Ann through the first node");
                        hosting = conferences(a) == 1 ? a : b;
                        assertEquals(1, conferences(hosting));
                        chatBefore = lastChat(gateway, ann, meeting);

                        long killed = System.nanoTime();
                        hosting.kill();
                        for (WsClient ws : List.of(annWs, bobWs)) {
                            JsonNode moved = next(ws, "call.moved");
                            assertEquals(meeting, moved.get("to").asText());
                            assertEquals("media-server-lost", moved.get("reason").asText());
                        }
                        long noticedMillis = (System.nanoTime() - killed) / 1_000_000;
                        assertTrue(noticedMillis <= 5_500, "told within 5 s, took " + noticedMillis + " ms");

                        // As the browser does: new peer connections for the new places.
                        connect(annWs, bobWs, meeting, audio, annAgain, bobAgain);
                        assertTrue(receives(annAgain, audio, bobAgain), "Bob hears Ann again, through the other node");
                        long recoveredMillis = (System.nanoTime() - killed) / 1_000_000;
                        System.out.printf("failover: told after %d ms, media again after %d ms%n", noticedMillis,
                                recoveredMillis);
                    }
                    MediaNodeProcess other = hosting == a ? b : a;
                    assertEquals(1, conferences(other), "the call went on on the node that is left");
                    assertEquals(chatBefore, lastChat(gateway, ann, meeting),
                            "the chat records neither an end nor a new start: it is the same call");
                }
            }
        }
    }

    /** Ann joins and publishes; Bob joins and takes the subscribe offer; both transports connect. */
    static void connect(WsClient annWs, WsClient bobWs, String meeting, ClientTrack audio,
                                ClientEndpoint annOut, ClientEndpoint bobIn) throws Exception {
        send(annWs, "call.join", meeting);
        next(annWs, "call.joined");
        send(annWs, "call.publish", meeting, "sdp", annOut.publishOffer(List.of(audio), false));
        annOut.acceptAnswer(next(annWs, "call.publish.answer").get("sdp").asText());
        assertTrue(annOut.awaitSecure(Duration.ofSeconds(20)), "Ann's publish transport connects");
        send(bobWs, "call.join", meeting);
        next(bobWs, "call.joined");
        JsonNode offer = next(bobWs, "call.subscribe.offer");
        send(bobWs, "call.subscribe.answer", meeting, "sdp", bobIn.answer(offer.get("sdp").asText()),
                "version", offer.get("version").asLong());
        assertTrue(bobIn.awaitSecure(Duration.ofSeconds(20)), "Bob's subscribe transport connects");
    }

    private static String lastChat(TestGateway gateway, JsonNode user, String meeting) throws Exception {
        return gateway.get("/api/meetings/" + meeting + "/messages?limit=1", user.get("token").asText()).body()
                .get("messages").get(0).get("text").asText();
    }

    private static int conferences(MediaNodeProcess node) throws Exception {
        return node.conferenceIds(SECRET).size();
    }

    private static ClientEndpoint client() throws Exception {
        return ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK, List.of(SrtpProfile.values()));
    }
}
