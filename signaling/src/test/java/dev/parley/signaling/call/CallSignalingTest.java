package dev.parley.signaling.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Calls through the gateway with real media: Java client endpoints doing ICE, DTLS and SRTP against the embedded
 * media server, signaled over the gateway's WebSocket exactly as a browser does.
 */
class CallSignalingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Map<Long, java.util.concurrent.atomic.AtomicInteger> SEQUENCES =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static RedisServer redis;
    private static TestGateway gateway;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.calls.enabled", true);
        settings.put("parley.calls.reconnect-grace", "2s");
        settings.put("parley.media.consent-interval", "1s");
        // ice4j's consent interval is process-wide and set by the first media server or client of the JVM: after other
        // test classes it is 5 s, so a shorter timeout here would expire long tests' endpoints.
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

    private String meetingWith(JsonNode owner, JsonNode... members) throws Exception {
        String id = gateway.post("/api/meetings", Map.of("title", "Call room"), owner.get("token").asText()).body()
                .get("meetingId").asText();
        for (JsonNode m : members) {
            gateway.post("/api/meetings/" + id + "/members", Map.of("username", m.get("username").asText()),
                    owner.get("token").asText());
        }
        return id;
    }

    private WsClient signedIn(JsonNode user) throws Exception {
        WsClient ws = open(gateway.ws());
        assertEquals("welcome", ws.hello(user.get("token").asText(), null).get("type").asText());
        return ws;
    }

    static JsonNode next(WsClient ws, String type) throws InterruptedException {
        return ws.next(m -> m.get("type").asText().equals(type), 15_000);
    }

    static void send(WsClient ws, String type, String meetingId, Object... fields) throws Exception {
        var message = JSON.createObjectNode().put("type", type).put("meetingId", meetingId);
        for (int i = 0; i < fields.length; i += 2) {
            message.set((String) fields[i], JSON.valueToTree(fields[i + 1]));
        }
        ws.send(JSON.writeValueAsString(message));
    }

    private ClientEndpoint client() throws Exception {
        return open(ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK, List.of(SrtpProfile.values())));
    }

    /** Joins and publishes audio and video; returns the connected publishing endpoint. */
    private ClientEndpoint joinAndPublish(WsClient ws, String meetingId, ClientTrack... tracks) throws Exception {
        send(ws, "call.join", meetingId);
        next(ws, "call.joined");
        ClientEndpoint publisher = client();
        send(ws, "call.publish", meetingId, "sdp", publisher.publishOffer(List.of(tracks), false));
        publisher.acceptAnswer(next(ws, "call.publish.answer").get("sdp").asText());
        assertTrue(publisher.awaitSecure(WAIT), "publish transport connects: " + publisher.dtlsFailure());
        return publisher;
    }

    /** Answers the next subscribe offer with a new receiving endpoint. */
    private ClientEndpoint subscribe(WsClient ws, String meetingId) throws Exception {
        JsonNode offer = next(ws, "call.subscribe.offer");
        ClientEndpoint subscriber = client();
        send(ws, "call.subscribe.answer", meetingId, "sdp", subscriber.answer(offer.get("sdp").asText()),
                "version", offer.get("version").asLong());
        assertTrue(subscriber.awaitSecure(WAIT), "subscribe transport connects");
        return subscriber;
    }

    static boolean receives(ClientEndpoint publisher, ClientTrack track, ClientEndpoint subscriber)
            throws Exception {
        long before = subscriber.packetsReceived(track.ssrc());
        long deadline = System.currentTimeMillis() + WAIT.toMillis();
        // Sequence numbers keep rising across calls: SRTP replay protection drops packets that go back.
        java.util.concurrent.atomic.AtomicInteger counter = SEQUENCES.computeIfAbsent(track.ssrc(),
                ssrc -> new java.util.concurrent.atomic.AtomicInteger(1000));
        while (System.currentTimeMillis() < deadline) {
            for (int i = 0; i < 10; i++) {
                int sequence = counter.incrementAndGet();
                publisher.sendRtp(track.ssrc(), ClientEndpoint.OPUS_PT, sequence & 0xffff, sequence * 960L, false,
                        new byte[]{1, 2, 3, (byte) sequence}, false);
            }
            if (subscriber.packetsReceived(track.ssrc()) >= before + 5) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Test
    void twoMembersCallEachOtherThroughTheMediaServer() throws Exception {
        JsonNode amy = gateway.register("amy");
        JsonNode ben = gateway.register("ben");
        String meeting = meetingWith(amy, ben);
        WsClient amyWs = signedIn(amy);
        WsClient benWs = signedIn(ben);

        ClientTrack amyAudio = ClientTrack.audio("amy-cam");
        ClientTrack amyVideo = ClientTrack.video("amy-cam");
        ClientEndpoint amyOut = joinAndPublish(amyWs, meeting, amyAudio, amyVideo);

        JsonNode state = benWs.next(m -> m.get("type").asText().equals("call.state")
                && m.get("participants").size() == 1 && m.get("participants").get(0).get("tracks").size() == 2,
                15_000);
        assertTrue(state.get("active").asBoolean());
        assertEquals(amy.get("userId").asText(), state.get("participants").get(0).get("userId").asText());
        assertEquals("amy-cam", state.get("participants").get(0).get("tracks").get(0).get("streamId").asText());
        JsonNode presence = benWs.next(m -> m.get("type").asText().equals("presence")
                && m.get("status").asText().equals("in-call"), 15_000);
        assertEquals(amy.get("userId").asText(), presence.get("userId").asText());

        ClientTrack benAudio = ClientTrack.audio("ben-mic");
        ClientEndpoint benOut = joinAndPublish(benWs, meeting, benAudio);
        ClientEndpoint benIn = subscribe(benWs, meeting);
        assertTrue(receives(amyOut, amyAudio, benIn), "Ben hears Amy through the SFU");
        ClientEndpoint amyIn = subscribe(amyWs, meeting);
        assertTrue(receives(benOut, benAudio, amyIn), "Amy hears Ben through the SFU");

        JsonNode stats = TestGateway.request(port(), "GET", "/api/meetings/" + meeting + "/call", null,
                amy.get("token").asText()).body();
        assertEquals(2, stats.get("participants").size());

        send(benWs, "call.leave", meeting);
        assertEquals("left", next(benWs, "call.left").get("reason").asText());
        send(amyWs, "call.leave", meeting);
        next(amyWs, "call.left");
        JsonNode ended = amyWs.next(m -> m.get("type").asText().equals("call.state")
                && !m.get("active").asBoolean(), 15_000);
        assertEquals(meeting, ended.get("meetingId").asText());
        JsonNode messages = gateway.get("/api/meetings/" + meeting + "/messages", amy.get("token").asText()).body()
                .get("messages");
        assertTrue(messages.get(0).get("text").asText().matches("The call ended after \\d+ s"),
                messages.get(0).toString());
        assertTrue(messages.toString().contains("User amy started a call"));
    }

    private static int port() {
        return gateway.port();
    }

    @Test
    void aParticipantWhoseSocketDropsKeepsItsMediaAndResumes() throws Exception {
        JsonNode cid = gateway.register("cid");
        JsonNode dee = gateway.register("dee");
        String meeting = meetingWith(cid, dee);
        WsClient cidWs = signedIn(cid);
        ClientTrack cidAudio = ClientTrack.audio("cid-mic");
        ClientEndpoint cidOut = joinAndPublish(cidWs, meeting, cidAudio);

        WsClient deeWs = gateway.ws();
        String session = deeWs.hello(dee.get("token").asText(), null).get("sessionId").asText();
        send(deeWs, "call.join", meeting);
        next(deeWs, "call.joined");
        ClientEndpoint deeIn = subscribe(deeWs, meeting);
        assertTrue(receives(cidOut, cidAudio, deeIn));

        deeWs.drop();
        assertTrue(receives(cidOut, cidAudio, deeIn), "media flows while the socket is down");
        WsClient again = open(gateway.ws());
        assertEquals("welcome", again.hello(dee.get("token").asText(), session).get("type").asText());
        send(again, "call.join", meeting);
        JsonNode joined = next(again, "call.joined");
        assertTrue(joined.get("resumed").asBoolean());
        assertTrue(receives(cidOut, cidAudio, deeIn), "the same media connection carries on after the resume");
        Thread.sleep(3000);
        JsonNode view = gateway.get("/api/meetings/" + meeting + "/call", cid.get("token").asText()).body();
        assertEquals(2, view.get("participants").size(), "the resumed participant was not dropped");
    }

    @Test
    void aParticipantWhoNeverComesBackIsRemovedAfterTheGrace() throws Exception {
        JsonNode eli = gateway.register("eli");
        JsonNode fox = gateway.register("fox");
        String meeting = meetingWith(eli, fox);
        WsClient eliWs = signedIn(eli);
        send(eliWs, "call.join", meeting);
        next(eliWs, "call.joined");
        WsClient foxWs = gateway.ws();
        foxWs.hello(fox.get("token").asText(), null);
        send(foxWs, "call.join", meeting);
        next(foxWs, "call.joined");
        eliWs.next(m -> m.get("type").asText().equals("call.state") && m.get("participants").size() == 2, 15_000);
        foxWs.drop();
        JsonNode after = eliWs.next(m -> m.get("type").asText().equals("call.state")
                && m.get("participants").size() == 1, 15_000);
        assertEquals(eli.get("userId").asText(), after.get("participants").get(0).get("userId").asText());
    }

    @Test
    void onlyMembersJoinAndSignalingNeedsAJoin() throws Exception {
        JsonNode gus = gateway.register("gus");
        JsonNode hal = gateway.register("hal2");
        String meeting = meetingWith(gus);
        WsClient halWs = signedIn(hal);
        send(halWs, "call.join", meeting, "id", "join-1");
        JsonNode refused = next(halWs, "error");
        assertEquals("not_found", refused.get("code").asText());
        assertEquals("join-1", refused.get("re").asText());

        WsClient gusWs = signedIn(gus);
        send(gusWs, "call.publish", meeting, "sdp", "v=0\r\n");
        assertEquals("call.not_joined", next(gusWs, "error").get("code").asText());
        send(gusWs, "call.publish", meeting, "sdp", "hello");
        assertEquals("bad_request", next(gusWs, "error").get("code").asText());
        send(gusWs, "call.join", meeting, "id", "join-2");
        assertEquals("join-2", next(gusWs, "call.joined").get("re").asText());
        send(gusWs, "call.publish", meeting, "sdp", "v=0\r\nnonsense\r\n", "id", "publish-1");
        JsonNode bad = next(gusWs, "error");
        assertEquals("bad_request", bad.get("code").asText(), bad.toString());
        assertEquals("publish-1", bad.get("re").asText());
        send(gusWs, "call.media", meeting, "audioMuted", true, "videoMuted", false, "screenSharing", false);
        JsonNode muted = gusWs.next(m -> m.get("type").asText().equals("call.state")
                && m.get("participants").size() == 1
                && m.get("participants").get(0).get("audioMuted").asBoolean(), 15_000);
        assertFalse(muted.get("participants").get(0).get("videoMuted").asBoolean());
        send(gusWs, "call.leave", meeting, "id", "leave-1");
        JsonNode left = next(gusWs, "call.left");
        assertEquals("leave-1", left.get("re").asText());
        assertEquals("left", left.get("reason").asText());
        assertTrue(gusWs.isOpen());
    }

    @Test
    void aParticipantSaysWhatItsTilesShowAndBadListsAreRefusedAndCounted() throws Exception {
        JsonNode ida = gateway.register("ida");
        JsonNode jay = gateway.register("jay");
        String meeting = meetingWith(ida, jay);
        WsClient idaWs = signedIn(ida);
        WsClient jayWs = signedIn(jay);
        ClientTrack idaVideo = ClientTrack.video("ida-cam");
        joinAndPublish(idaWs, meeting, ClientTrack.audio("ida-cam"), idaVideo);

        send(jayWs, "call.receive", meeting, "id", "rv-1", "videos", List.of());
        JsonNode outside = next(jayWs, "error");
        assertEquals("call.not_joined", outside.get("code").asText(), "only a participant says what it receives");
        assertEquals("rv-1", outside.get("re").asText());

        String videoTrackId = joinAndFindVideo(jayWs, meeting);

        send(jayWs, "call.receive", meeting, "id", "rv-2", "videos", List.of(
                Map.of("trackId", videoTrackId, "visible", true, "width", 640, "height", 360)));
        assertEquals("rv-2", next(jayWs, "ok").get("re").asText());
        send(jayWs, "call.receive", meeting, "id", "rv-3", "videos", List.of(
                Map.of("trackId", videoTrackId, "visible", false, "width", 0, "height", 0),
                Map.of("trackId", "gone:9", "visible", true, "width", 320, "height", 180)));
        assertEquals("rv-3", next(jayWs, "ok").get("re").asText(), "a track that just ended is no error");

        double refusedBefore = badRequests();
        send(jayWs, "call.receive", meeting, "id", "rv-4", "videos", List.of(
                Map.of("trackId", videoTrackId, "visible", true, "width", 99_999, "height", 360)));
        JsonNode tooLarge = next(jayWs, "error");
        assertEquals("bad_request", tooLarge.get("code").asText());
        assertEquals("rv-4", tooLarge.get("re").asText());
        assertTrue(tooLarge.get("message").asText().contains("videos[0].width"), tooLarge.toString());
        send(jayWs, "call.receive", meeting, "id", "rv-5", "videos", "all of them");
        assertEquals("bad_request", next(jayWs, "error").get("code").asText());
        assertEquals(refusedBefore + 2, badRequests(), "each refused call.receive is counted");
        assertTrue(jayWs.isOpen(), "a bad list costs the socket nothing");
    }

    @Test
    void participantsHearWhoSpeaksAndWhoIsTheDominantSpeaker() throws Exception {
        JsonNode ada = gateway.register("ada-speaker");
        JsonNode bo = gateway.register("bob-speaker");
        String meeting = meetingWith(ada, bo);
        WsClient adaWs = signedIn(ada);
        WsClient boWs = signedIn(bo);
        ClientTrack adaAudio = ClientTrack.audio("ada-cam");
        ClientEndpoint adaOut = joinAndPublish(adaWs, meeting, adaAudio);
        send(boWs, "call.join", meeting);
        next(boWs, "call.joined");

        // Ada talks: syllables around -25 dBov with gaps at a quiet room's -65, 50 packets a second.
        Thread talker = new Thread(() -> {
            for (int i = 0; i < 400 && !Thread.currentThread().isInterrupted(); i++) {
                adaOut.sendAudio(adaAudio.ssrc(), 5000 + i, (5000 + i) * 960L, i % 9 < 6 ? 25 : 65, true, new byte[40]);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        talker.start();
        try {
            String adaId = ada.get("userId").asText();
            JsonNode speakers = boWs.next(m -> m.path("type").asText().equals("call.speakers")
                    && adaId.equals(m.path("dominantUserId").asText()), WAIT.toMillis());
            assertEquals(meeting, speakers.get("meetingId").asText());
            assertEquals(adaId, speakers.get("speakingUserIds").get(0).asText());
            adaWs.next(m -> m.path("type").asText().equals("call.speakers"), WAIT.toMillis());
        } finally {
            talker.interrupt();
            talker.join();
        }
    }

    @Test
    void aSimulcastPublisherIsToldWhichOfItsLayersSomeoneReceives() throws Exception {
        JsonNode kim = gateway.register("kim");
        JsonNode lou = gateway.register("lou");
        String meeting = meetingWith(kim, lou);
        WsClient kimWs = gateway.ws();
        String kimSession = kimWs.hello(kim.get("token").asText(), null).get("sessionId").asText();
        WsClient louWs = signedIn(lou);
        ClientTrack kimVideo = ClientTrack.simulcastVideo("kim-cam", "q", "h", "f");
        ClientEndpoint kimOut = joinAndPublish(kimWs, meeting, ClientTrack.audio("kim-cam"), kimVideo);
        java.util.concurrent.atomic.AtomicBoolean sending = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread sender = new Thread(() -> sendSimulcast(kimOut, kimVideo, sending), "simulcast-publisher");
        sender.setDaemon(true);
        sender.start();
        opened.add(() -> {
            sending.set(false);
            sender.join(5000);
        });

        String videoTrackId = joinAndFindVideo(louWs, meeting);

        send(louWs, "call.receive", meeting, "id", "rl-1", "videos", List.of(
                Map.of("trackId", videoTrackId, "visible", true, "width", 320, "height", 180)));
        assertEquals("rl-1", next(louWs, "ok").get("re").asText());
        // The small tile takes the lowest layer; once the server has learnt the layers' sizes and nobody asked for
        // the middle one for a while, Kim is told it may stop it.
        JsonNode small = layersUntil(kimWs, m -> m.get("rids").size() > 0
                && !m.get("rids").toString().contains("\"h\""));
        assertEquals(meeting, small.get("meetingId").asText());
        assertEquals("1", small.get("mid").asText(), "the video's section in Kim's publish offer");
        assertTrue(small.get("rids").toString().contains("\"q\""), small.toString());

        send(louWs, "call.receive", meeting, "id", "rl-2", "videos", List.of(
                Map.of("trackId", videoTrackId, "visible", false, "width", 320, "height", 180)));
        assertEquals("rl-2", next(louWs, "ok").get("re").asText());
        // Nobody shows it: only the lowest layer, which always stays on, is left.
        JsonNode none = small.get("rids").toString().equals("[\"q\"]") ? small
                : layersUntil(kimWs, m -> m.get("rids").toString().equals("[\"q\"]"));
        assertEquals("1", none.get("mid").asText());

        // Kim's socket drops and she resumes her place: she is told again, as her browser may have missed a change.
        kimWs.drop();
        WsClient again = open(gateway.ws());
        assertEquals("welcome", again.hello(kim.get("token").asText(), kimSession).get("type").asText());
        send(again, "call.join", meeting);
        assertTrue(next(again, "call.joined").get("resumed").asBoolean());
        JsonNode repeated = next(again, "call.layers");
        assertEquals("1", repeated.get("mid").asText());
        assertEquals("[\"q\"]", repeated.get("rids").toString(), repeated.toString());
        assertTrue(louWs.isOpen());
    }

    /** Reads the socket's call.layers messages in the order they came until one matches (generous: CI is slow). */
    static JsonNode layersUntil(WsClient ws, java.util.function.Predicate<JsonNode> wanted)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + 40_000;
        List<String> seen = new ArrayList<>();
        while (System.currentTimeMillis() < deadline) {
            JsonNode layers;
            try {
                layers = ws.next(m -> m.get("type").asText().equals("call.layers"),
                        Math.max(1, deadline - System.currentTimeMillis()));
            } catch (AssertionError timedOut) {
                break;
            }
            seen.add(layers.get("rids").toString());
            if (wanted.test(layers)) {
                return layers;
            }
        }
        throw new AssertionError("no call.layers as expected within 40 s; got " + seen);
    }

    private static final int[][] LAYER_SIZES = {{320, 180}, {640, 360}, {1280, 720}};

    /**
     * Sends VP8 in the track's three layers as a browser does, ~30 frames a second, a keyframe (which carries the
     * layer's size) every 10 frames; each layer numbers its packets and pictures on its own.
     */
    static void sendSimulcast(ClientEndpoint publisher, ClientTrack video,
                                      java.util.concurrent.atomic.AtomicBoolean sending) {
        String[] rids = {"q", "h", "f"};
        int[] sequence = {100, 30_000, 60_000};
        long[] timestamp = {1_000, 2_000_000, 90_000};
        for (int frame = 0; sending.get(); frame++) {
            for (int layer = 0; layer < 3; layer++) {
                byte[] payload = new byte[120];
                payload[0] = (byte) 0x90;
                payload[1] = (byte) 0x80;
                payload[2] = (byte) (0x80 | ((frame >> 8) & 0x7f));
                payload[3] = (byte) frame;
                boolean keyframe = frame % 10 == 0;
                payload[4] = (byte) (keyframe ? 0x00 : 0x01);
                if (keyframe) {
                    payload[7] = (byte) 0x9d;
                    payload[8] = 0x01;
                    payload[9] = 0x2a;
                    payload[10] = (byte) LAYER_SIZES[layer][0];
                    payload[11] = (byte) (LAYER_SIZES[layer][0] >> 8);
                    payload[12] = (byte) LAYER_SIZES[layer][1];
                    payload[13] = (byte) (LAYER_SIZES[layer][1] >> 8);
                }
                publisher.sendSimulcastRtp(video.layerSsrcs().get(layer), ClientEndpoint.VP8_PT,
                        sequence[layer]++ & 0xffff, timestamp[layer], true, payload, "1", rids[layer], false);
                timestamp[layer] = (timestamp[layer] + 3000) & 0xffffffffL;
            }
            try {
                Thread.sleep(33);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Joins the call as a second participant, answers its subscribe offer, and returns the server's track id of the
     * first participant's video, as call.state names it.
     */
    private String joinAndFindVideo(WsClient ws, String meeting) throws Exception {
        send(ws, "call.join", meeting);
        next(ws, "call.joined");
        subscribe(ws, meeting);
        JsonNode state = ws.next(m -> m.get("type").asText().equals("call.state")
                && m.get("participants").size() == 2, 15_000);
        for (JsonNode participant : state.get("participants")) {
            for (JsonNode track : participant.get("tracks")) {
                if (track.get("kind").asText().equals("video")) {
                    return track.get("trackId").asText();
                }
            }
        }
        throw new AssertionError("call.state names no video track: " + state);
    }

    private static double badRequests() throws Exception {
        double value = gateway.metric("parley_errors_total{code=\"bad_request\",transport=\"ws\"}");
        return Double.isNaN(value) ? 0 : value;
    }
}
