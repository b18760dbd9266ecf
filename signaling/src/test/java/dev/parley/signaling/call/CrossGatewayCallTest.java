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
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.parley.signaling.call.CallSignalingTest.layersUntil;
import static dev.parley.signaling.call.CallSignalingTest.next;
import static dev.parley.signaling.call.CallSignalingTest.receives;
import static dev.parley.signaling.call.CallSignalingTest.send;
import static dev.parley.signaling.call.CallSignalingTest.sendSimulcast;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Members of one meeting connected to different gateways end up in one conference, with real media. */
class CrossGatewayCallTest {

    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));

    @Test
    void membersOnTwoGatewaysShareOneCall() throws Exception {
        try (RedisServer redis = RedisServer.start();
             TestGateway first = TestGateway.start(callSettings(redis));
             TestGateway second = TestGateway.start(callSettings(redis))) {
            Meeting across = Meeting.of(first, "Across", "ivy", "jon");
            JsonNode ivy = across.owner();
            JsonNode jon = across.member();
            String meeting = across.id();

            try (WsClient ivyWs = first.ws(); WsClient jonWs = second.ws();
                 ClientEndpoint ivyOut = client(); ClientEndpoint jonIn = client()) {
                ivyWs.hello(ivy.get("token").asText(), null);
                jonWs.hello(jon.get("token").asText(), null);

                ClientTrack audio = ClientTrack.audio("ivy-mic");
                send(ivyWs, "call.join", meeting);
                next(ivyWs, "call.joined");
                send(ivyWs, "call.publish", meeting, "sdp", ivyOut.publishOffer(List.of(audio), false));
                ivyOut.acceptAnswer(next(ivyWs, "call.publish.answer").get("sdp").asText());
                assertTrue(ivyOut.awaitSecure(Duration.ofSeconds(20)));

                // Jon's requests travel to the other gateway and their answers back, each with its id.
                send(jonWs, "call.join", meeting, "id", "j1");
                assertEquals("j1", next(jonWs, "call.joined").get("re").asText());
                JsonNode offer = next(jonWs, "call.subscribe.offer");
                send(jonWs, "call.subscribe.answer", meeting, "sdp", jonIn.answer(offer.get("sdp").asText()),
                        "version", offer.get("version").asLong(), "id", "j2");
                assertEquals("j2", next(jonWs, "ok").get("re").asText());
                send(jonWs, "call.receive", meeting, "id", "j2r", "videos", List.of(
                        Map.of("trackId", "any:1", "visible", false, "width", 0, "height", 0)));
                assertEquals("j2r", next(jonWs, "ok").get("re").asText(),
                        "what Jon's tiles show reaches the gateway hosting the call");
                send(jonWs, "call.publish", meeting, "sdp", "v=0\r\nnonsense\r\n", "id", "j3");
                JsonNode refused = next(jonWs, "error");
                assertEquals("j3", refused.get("re").asText(), "an error from the hosting gateway answers by id");
                assertTrue(jonIn.awaitSecure(Duration.ofSeconds(20)), "Jon reaches the conference's media server");
                assertTrue(receives(ivyOut, audio, jonIn), "Jon, on the other gateway, hears Ivy");

                JsonNode state = ivyWs.next(m -> m.get("type").asText().equals("call.state")
                        && m.get("participants").size() == 2, 15_000);
                assertTrue(state.get("active").asBoolean());
                JsonNode view = second.get("/api/meetings/" + meeting + "/call", jon.get("token").asText()).body();
                assertEquals(2, view.get("participants").size(), "either gateway knows who is in the call");

                send(jonWs, "call.leave", meeting, "id", "j4");
                assertEquals("j4", next(jonWs, "call.left").get("re").asText());
                ivyWs.next(m -> m.get("type").asText().equals("call.state")
                        && m.get("participants").size() == 1, 15_000);
            }
        }
    }

    /**
     * A host whose load reports stopped reaching Redis for a while is taken for gone, and a join elsewhere takes its
     * call over; when it comes back it finds the claim held by the other gateway and moves its people there. Here
     * the takeover is written into Redis directly; the host must notice at its next refresh (every 5 s).
     */
    @Test
    void aHostThatFindsItsCallTakenOverMovesItsPeopleThere() throws Exception {
        try (RedisServer redis = RedisServer.start();
             TestGateway host = TestGateway.start(callSettings(redis))) {
            Meeting taken = Meeting.of(host, "Taken over", "kim", "lou");
            String meeting = taken.id();
            try (WsClient kimWs = host.ws()) {
                kimWs.hello(taken.owner().get("token").asText(), null);
                send(kimWs, "call.join", meeting);
                next(kimWs, "call.joined");
                redis.inspect().set("parley:call-owner:{" + meeting + "}", "another-gateway");
                JsonNode moved = kimWs.next(m -> m.get("type").asText().equals("call.moved"), 12_000);
                assertEquals(meeting, moved.get("to").asText(), "joins again, which reaches the new host");
                assertEquals("another-gateway", redis.inspect().get("parley:call-owner:{" + meeting + "}"),
                        "the old host leaves the new host's claim alone");
                assertEquals(0, host.mediaServer().stats().conferences(), "and closes its own conference");
            }
        }
    }

    @Test
    void aPublisherOnAnotherGatewayIsToldWhichOfItsLayersSomeoneReceives() throws Exception {
        try (RedisServer redis = RedisServer.start();
             TestGateway first = TestGateway.start(callSettings(redis));
             TestGateway second = TestGateway.start(callSettings(redis))) {
            Meeting layers = Meeting.of(first, "Layers", "kit", "lee");
            JsonNode kit = layers.owner();
            JsonNode lee = layers.member();
            String meeting = layers.id();
            java.util.concurrent.atomic.AtomicBoolean sending = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread sender = null;
            try (WsClient kitWs = first.ws(); WsClient leeWs = second.ws();
                 ClientEndpoint kitIn = client(); ClientEndpoint leeOut = client()) {
                kitWs.hello(kit.get("token").asText(), null);
                leeWs.hello(lee.get("token").asText(), null);
                // Kit starts the call here; Lee, on the other gateway, publishes a simulcast camera into it.
                send(kitWs, "call.join", meeting);
                next(kitWs, "call.joined");
                ClientTrack video = ClientTrack.simulcastVideo("lee-cam", "q", "h", "f");
                send(leeWs, "call.join", meeting);
                next(leeWs, "call.joined");
                send(leeWs, "call.publish", meeting, "sdp", leeOut.publishOffer(
                        List.of(ClientTrack.audio("lee-cam"), video), false));
                leeOut.acceptAnswer(next(leeWs, "call.publish.answer").get("sdp").asText());
                assertTrue(leeOut.awaitSecure(Duration.ofSeconds(20)), "Lee's publish transport connects");
                sender = new Thread(() -> sendSimulcast(leeOut, video, sending), "simulcast-publisher");
                sender.setDaemon(true);
                sender.start();

                JsonNode offer = next(kitWs, "call.subscribe.offer");
                send(kitWs, "call.subscribe.answer", meeting, "sdp", kitIn.answer(offer.get("sdp").asText()),
                        "version", offer.get("version").asLong());
                assertTrue(kitIn.awaitSecure(Duration.ofSeconds(20)), "Kit's subscribe transport connects");
                JsonNode state = kitWs.next(m -> m.get("type").asText().equals("call.state")
                        && m.get("participants").size() == 2 && m.toString().contains("\"video\""), 15_000);
                String videoTrackId = null;
                for (JsonNode participant : state.get("participants")) {
                    for (JsonNode track : participant.get("tracks")) {
                        if (track.get("kind").asText().equals("video")) {
                            videoTrackId = track.get("trackId").asText();
                        }
                    }
                }
                send(kitWs, "call.receive", meeting, "videos", List.of(
                        Map.of("trackId", videoTrackId, "visible", true, "width", 320, "height", 180)));

                JsonNode small = layersUntil(leeWs, m -> m.get("rids").size() > 0
                        && !m.get("rids").toString().contains("\"h\""));
                assertEquals(meeting, small.get("meetingId").asText());
                assertEquals("1", small.get("mid").asText());
            } finally {
                sending.set(false);
                if (sender != null) {
                    sender.join(5000);
                }
            }
        }
    }

    /** A meeting of two users registered on {@code gateway}: the owner made it and added the member. */
    private record Meeting(String id, JsonNode owner, JsonNode member) {
        static Meeting of(TestGateway gateway, String title, String ownerName, String memberName) throws Exception {
            JsonNode owner = gateway.register(ownerName);
            JsonNode member = gateway.register(memberName);
            String token = owner.get("token").asText();
            String id = gateway.post("/api/meetings", Map.of("title", title), token).body().get("meetingId").asText();
            gateway.post("/api/meetings/" + id + "/members", Map.of("username", memberName), token);
            return new Meeting(id, owner, member);
        }
    }

    private static Map<String, Object> callSettings(RedisServer redis) {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.calls.enabled", true);
        return settings;
    }

    private static ClientEndpoint client() throws Exception {
        return ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK, List.of(SrtpProfile.values()));
    }
}
