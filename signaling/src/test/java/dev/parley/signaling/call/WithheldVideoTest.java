package dev.parley.signaling.call;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.parley.signaling.call.CallSignalingTest.next;
import static dev.parley.signaling.call.CallSignalingTest.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * call.withheld through the gateway with real media: the embedded media server's last-N of 1 withholds one of two
 * cameras from a third participant, who is told so in full (with nothing paused for its link), and told the latest
 * again each time its socket drops and it resumes its place.
 */
class WithheldVideoTest {

    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private static final Duration WAIT = Duration.ofSeconds(20);

    private static RedisServer redis;
    private static TestGateway gateway;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.calls.enabled", true);
        settings.put("parley.calls.reconnect-grace", "10s");
        settings.put("parley.media.last-n", 1);
        settings.put("parley.media.consent-interval", "1s");
        settings.put("parley.media.consent-timeout", "15s");
        settings.put("parley.media.connect-timeout", "5s");
        gateway = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    @AfterEach
    void closeOpened() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T open(T closeable) {
        opened.add(closeable);
        return closeable;
    }

    @Test
    void aReceiverIsToldWhichVideoLastNWithholdsAndThatItsLinkLimitsNothingAgainAfterAResume() throws Exception {
        JsonNode ana = gateway.register("ana-lastn");
        JsonNode bea = gateway.register("bea-lastn");
        JsonNode cal = gateway.register("cal-lastn");
        String token = ana.get("token").asText();
        String meeting = gateway.post("/api/meetings", Map.of("title", "Last-N"), token).body()
                .get("meetingId").asText();
        for (JsonNode member : List.of(bea, cal)) {
            gateway.post("/api/meetings/" + meeting + "/members", Map.of("username", member.get("username").asText()),
                    token);
        }
        WsClient anaWs = signedIn(ana);
        joinAndPublish(anaWs, meeting, ClientTrack.audio("ana-cam"), ClientTrack.video("ana-cam"));
        WsClient beaWs = signedIn(bea);
        joinAndPublish(beaWs, meeting, ClientTrack.audio("bea-cam"), ClientTrack.video("bea-cam"));

        WsClient calWs = gateway.ws();
        String calSession = calWs.hello(cal.get("token").asText(), null).get("sessionId").asText();
        send(calWs, "call.join", meeting);
        next(calWs, "call.joined");
        JsonNode offer = next(calWs, "call.subscribe.offer");
        ClientEndpoint calIn = client();
        send(calWs, "call.subscribe.answer", meeting, "sdp", calIn.answer(offer.get("sdp").asText()),
                "version", offer.get("version").asLong());
        assertTrue(calIn.awaitSecure(WAIT), "Cal's subscribe transport connects");

        // Nobody has spoken: last-N keeps the earliest to join, Ana, so Bea's camera is withheld.
        JsonNode withheld = calWs.next(m -> m.get("type").asText().equals("call.withheld")
                && m.get("trackIds").size() == 1, 40_000);
        String beaVideo = videoTrackOf(calWs, meeting, bea.get("userId").asText());
        assertEquals(meeting, withheld.get("meetingId").asText());
        assertEquals("[\"" + beaVideo + "\"]", withheld.get("trackIds").toString(), withheld.toString());
        assertEquals("[]", withheld.path("lowBandwidth").toString(), "nothing paused for Cal's link: " + withheld);
        assertTrue(withheld.path("linkLimited").isBoolean(), withheld.toString());
        assertFalse(withheld.get("linkLimited").asBoolean(), withheld.toString());

        // Cal's socket drops and he resumes his place: he is told again, as his browser may have missed a change.
        calWs.drop();
        WsClient again = resume(cal, calSession, meeting);
        JsonNode repeated = next(again, "call.withheld");
        assertEquals(withheld, repeated, "the same message again after the resume");

        // His socket drops again, and meanwhile Bea leaves: nothing is withheld any more. The media server says so
        // within its 1 s layer timer, while Cal is away; his resume brings him the all-clear he missed.
        again.drop();
        send(beaWs, "call.leave", meeting);
        next(beaWs, "call.left");
        anaWs.next(m -> m.get("type").asText().equals("call.state") && m.get("participants").size() == 2,
                WAIT.toMillis());
        Thread.sleep(3000);
        WsClient third = resume(cal, calSession, meeting);
        JsonNode clear = next(third, "call.withheld");
        assertEquals("[]", clear.get("trackIds").toString(), clear.toString());
        assertEquals("[]", clear.get("lowBandwidth").toString(), clear.toString());
        assertFalse(clear.get("linkLimited").asBoolean(), clear.toString());
    }

    /** Signs the user in again with its session and takes its kept place in the call back. */
    private WsClient resume(JsonNode user, String session, String meeting) throws Exception {
        WsClient ws = open(gateway.ws());
        assertEquals("welcome", ws.hello(user.get("token").asText(), session).get("type").asText());
        send(ws, "call.join", meeting);
        assertTrue(next(ws, "call.joined").get("resumed").asBoolean());
        return ws;
    }

    private WsClient signedIn(JsonNode user) throws Exception {
        WsClient ws = open(gateway.ws());
        assertEquals("welcome", ws.hello(user.get("token").asText(), null).get("type").asText());
        return ws;
    }

    private ClientEndpoint client() throws Exception {
        return open(ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK, List.of(SrtpProfile.values())));
    }

    private void joinAndPublish(WsClient ws, String meetingId, ClientTrack... tracks) throws Exception {
        send(ws, "call.join", meetingId);
        next(ws, "call.joined");
        ClientEndpoint publisher = client();
        send(ws, "call.publish", meetingId, "sdp", publisher.publishOffer(List.of(tracks), false));
        publisher.acceptAnswer(next(ws, "call.publish.answer").get("sdp").asText());
        assertTrue(publisher.awaitSecure(WAIT), "publish transport connects: " + publisher.dtlsFailure());
    }

    /** The track id call.state gives the user's video (the latest call.state the socket got, waiting for it). */
    private static String videoTrackOf(WsClient ws, String meetingId, String userId) throws InterruptedException {
        JsonNode state = ws.next(m -> m.get("type").asText().equals("call.state")
                && m.get("meetingId").asText().equals(meetingId) && m.get("participants").size() == 3, 15_000);
        for (JsonNode participant : state.get("participants")) {
            if (participant.get("userId").asText().equals(userId)) {
                for (JsonNode track : participant.get("tracks")) {
                    if (track.get("kind").asText().equals("video")) {
                        return track.get("trackId").asText();
                    }
                }
            }
        }
        throw new AssertionError("call.state names no video of " + userId + ": " + state);
    }
}
