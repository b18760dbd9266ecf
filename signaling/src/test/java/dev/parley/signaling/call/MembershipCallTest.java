package dev.parley.signaling.call;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.media.MediaServer;
import dev.parley.media.api.ConferenceInfo;
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
import static dev.parley.signaling.call.CallSignalingTest.receives;
import static dev.parley.signaling.call.CallSignalingTest.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Membership changes take effect in a running call at once: whoever is no longer a member loses their media
 * endpoint on the media server, and archiving a meeting ends its call, on whichever gateway hosts it.
 */
class MembershipCallTest {

    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private static final Duration WAIT = Duration.ofSeconds(20);

    private static RedisServer redis;
    private static TestGateway gateway;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        gateway = TestGateway.start(callSettings(redis));
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

    static Map<String, Object> callSettings(RedisServer redis) {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.calls.enabled", true);
        return settings;
    }

    private <T extends AutoCloseable> T open(T closeable) {
        opened.add(closeable);
        return closeable;
    }

    static String token(JsonNode user) {
        return user.get("token").asText();
    }

    private static String meetingOf(TestGateway node, JsonNode owner, JsonNode... members) throws Exception {
        String id = node.post("/api/meetings", Map.of("title", "Call room"), token(owner)).body()
                .get("meetingId").asText();
        for (JsonNode m : members) {
            assertEquals(200, node.post("/api/meetings/" + id + "/members",
                    Map.of("username", m.get("username").asText()), token(owner)).status());
        }
        return id;
    }

    private WsClient signedIn(TestGateway node, JsonNode user) throws Exception {
        WsClient ws = open(node.ws());
        assertEquals("welcome", ws.hello(token(user), null).get("type").asText());
        return ws;
    }

    private ClientEndpoint client() throws Exception {
        return open(ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK, List.of(SrtpProfile.values())));
    }

    /** Joins and publishes one audio track; returns the connected publishing endpoint. */
    private ClientEndpoint joinAndPublish(WsClient ws, String meetingId, ClientTrack track) throws Exception {
        send(ws, "call.join", meetingId);
        next(ws, "call.joined");
        ClientEndpoint publisher = client();
        send(ws, "call.publish", meetingId, "sdp", publisher.publishOffer(List.of(track), false));
        publisher.acceptAnswer(next(ws, "call.publish.answer").get("sdp").asText());
        assertTrue(publisher.awaitSecure(WAIT), "publish transport connects");
        return publisher;
    }

    /** Joins as a listener; returns the endpoint id and the connected subscribing endpoint. */
    private Listener joinAndListen(WsClient ws, String meetingId) throws Exception {
        send(ws, "call.join", meetingId);
        String endpointId = next(ws, "call.joined").get("endpointId").asText();
        JsonNode offer = next(ws, "call.subscribe.offer");
        ClientEndpoint subscriber = client();
        send(ws, "call.subscribe.answer", meetingId, "sdp", subscriber.answer(offer.get("sdp").asText()),
                "version", offer.get("version").asLong());
        assertTrue(subscriber.awaitSecure(WAIT), "subscribe transport connects");
        return new Listener(endpointId, subscriber);
    }

    private record Listener(String endpointId, ClientEndpoint in) {
    }

    /** Publishes for three seconds (sequence numbers past those receives() used) and reports that none arrived. */
    private static boolean hearsNothing(ClientEndpoint publisher, ClientTrack track, ClientEndpoint subscriber)
            throws Exception {
        long before = subscriber.packetsReceived(track.ssrc());
        for (int sequence = 40_000; sequence < 40_600; sequence += 10) {
            for (int i = 0; i < 10; i++) {
                publisher.sendRtp(track.ssrc(), ClientEndpoint.OPUS_PT, sequence + i, (sequence + i) * 960L, false,
                        new byte[]{1, 2, 3, 4}, false);
            }
            Thread.sleep(50);
        }
        return subscriber.packetsReceived(track.ssrc()) == before;
    }

    private static List<String> endpointsOn(MediaServer media) {
        return media.conferences().stream().map(ConferenceInfo::endpointIds).flatMap(List::stream).toList();
    }

    @Test
    void aMemberTheOwnerRemovesLosesTheirEndpointAndStopsReceivingAtOnce() throws Exception {
        JsonNode amy = gateway.register("rm-amy");
        JsonNode ben = gateway.register("rm-ben");
        String meeting = meetingOf(gateway, amy, ben);
        WsClient amyWs = signedIn(gateway, amy);
        WsClient benWs = signedIn(gateway, ben);
        ClientTrack audio = ClientTrack.audio("amy-mic");
        ClientEndpoint amyOut = joinAndPublish(amyWs, meeting, audio);
        Listener benIn = joinAndListen(benWs, meeting);
        assertTrue(receives(amyOut, audio, benIn.in()), "Ben hears Amy before he is removed");
        assertTrue(endpointsOn(gateway.mediaServer()).contains(benIn.endpointId()));

        assertEquals(204, gateway.send("DELETE", "/api/meetings/" + meeting + "/members/"
                + ben.get("userId").asText(), null, token(amy)).status());

        assertEquals("removed", next(benWs, "call.left").get("reason").asText());
        assertFalse(endpointsOn(gateway.mediaServer()).contains(benIn.endpointId()),
                "the removed member's endpoint is gone from the media server");
        amyWs.next(m -> m.get("type").asText().equals("call.state") && m.get("participants").size() == 1, 15_000);
        assertTrue(hearsNothing(amyOut, audio, benIn.in()), "no more media reaches the removed member");
    }

    @Test
    void aMemberWhoLeavesTheMeetingLeavesItsCall() throws Exception {
        JsonNode cal = gateway.register("lv-cal");
        JsonNode dan = gateway.register("lv-dan");
        String meeting = meetingOf(gateway, cal, dan);
        WsClient calWs = signedIn(gateway, cal);
        WsClient danWs = signedIn(gateway, dan);
        joinAndPublish(calWs, meeting, ClientTrack.audio("cal-mic"));
        Listener danIn = joinAndListen(danWs, meeting);

        assertEquals(204, gateway.send("DELETE", "/api/meetings/" + meeting + "/members/"
                + dan.get("userId").asText(), null, token(dan)).status());

        assertEquals("left the meeting", next(danWs, "call.left").get("reason").asText());
        assertFalse(endpointsOn(gateway.mediaServer()).contains(danIn.endpointId()));
    }

    @Test
    void archivingAMeetingEndsItsCallForEveryone() throws Exception {
        JsonNode eve = gateway.register("ar-eve");
        JsonNode fin = gateway.register("ar-fin");
        String meeting = meetingOf(gateway, eve, fin);
        WsClient eveWs = signedIn(gateway, eve);
        WsClient finWs = signedIn(gateway, fin);
        joinAndPublish(eveWs, meeting, ClientTrack.audio("eve-mic"));
        Listener finIn = joinAndListen(finWs, meeting);

        assertEquals(200, gateway.send("PATCH", "/api/meetings/" + meeting, "{\"archived\":true}", token(eve))
                .status());

        assertEquals("archived", next(eveWs, "call.left").get("reason").asText());
        assertEquals("archived", next(finWs, "call.left").get("reason").asText());
        finWs.next(m -> m.get("type").asText().equals("call.state") && !m.get("active").asBoolean(), 15_000);
        assertFalse(endpointsOn(gateway.mediaServer()).contains(finIn.endpointId()));
        JsonNode view = gateway.get("/api/meetings/" + meeting + "/call", token(eve)).body();
        assertFalse(view.get("active").asBoolean(), "the archived meeting has no call");
    }

    @Test
    void aRemovalOnAnotherGatewayEndsThePlaceWhereTheCallIsHosted() throws Exception {
        try (RedisServer shared = RedisServer.start();
             TestGateway host = TestGateway.start(callSettings(shared));
             TestGateway other = TestGateway.start(callSettings(shared))) {
            JsonNode gil = host.register("x-gil");
            JsonNode hue = host.register("x-hue");
            JsonNode ida = host.register("x-ida");
            String meeting = meetingOf(host, gil, hue, ida);
            WsClient gilWs = signedIn(host, gil);
            WsClient hueWs = signedIn(other, hue);
            WsClient idaWs = signedIn(other, ida);
            ClientTrack audio = ClientTrack.audio("gil-mic");
            ClientEndpoint gilOut = joinAndPublish(gilWs, meeting, audio);
            Listener hueIn = joinAndListen(hueWs, meeting);
            Listener idaIn = joinAndListen(idaWs, meeting);
            assertTrue(receives(gilOut, audio, hueIn.in()), "Hue, on the other gateway, hears Gil");
            assertTrue(endpointsOn(host.mediaServer()).contains(hueIn.endpointId()), "the call is on the host");

            // The owner's request reaches the gateway that does not host the call.
            assertEquals(204, other.send("DELETE", "/api/meetings/" + meeting + "/members/"
                    + hue.get("userId").asText(), null, token(gil)).status());
            assertEquals("removed", next(hueWs, "call.left").get("reason").asText());
            assertFalse(endpointsOn(host.mediaServer()).contains(hueIn.endpointId()));
            assertTrue(hearsNothing(gilOut, audio, hueIn.in()), "no more media reaches the removed member");

            assertEquals(200, other.send("PATCH", "/api/meetings/" + meeting, "{\"archived\":true}", token(gil))
                    .status());
            assertEquals("archived", next(gilWs, "call.left").get("reason").asText());
            assertEquals("archived", next(idaWs, "call.left").get("reason").asText());
            // The host closes the conference just after it tells the last participant (CallService.endCall).
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!host.mediaServer().conferences().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(host.mediaServer().conferences().isEmpty(), "the archived meeting's conference is closed");
            assertFalse(endpointsOn(host.mediaServer()).contains(idaIn.endpointId()));
        }
    }

    @Test
    void aUserAtTheirCallLimitCannotJoinAnotherCall() throws Exception {
        Map<String, Object> settings = callSettings(redis);
        settings.put("parley.calls.max-calls-per-user", 1);
        try (TestGateway strict = TestGateway.start(settings)) {
            JsonNode joy = strict.register("lim-joy");
            String first = meetingOf(strict, joy);
            String second = meetingOf(strict, joy);
            WsClient joyWs = signedIn(strict, joy);
            send(joyWs, "call.join", first, "id", "a");
            assertEquals("a", next(joyWs, "call.joined").get("re").asText());

            send(joyWs, "call.join", second, "id", "b");
            JsonNode refused = next(joyWs, "error");
            assertEquals("b", refused.get("re").asText());
            assertEquals("limit.calls", refused.get("code").asText(), refused.toString());
            assertEquals(1, endpointsOn(strict.mediaServer()).size(), "the refused join created no endpoint");

            send(joyWs, "call.leave", first);
            next(joyWs, "call.left");
            send(joyWs, "call.join", second, "id", "c");
            assertEquals("c", next(joyWs, "call.joined").get("re").asText(), "a freed place can be used again");
        }
    }
}
