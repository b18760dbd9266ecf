package dev.parley.media.sfu;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoForwardStats;
import dev.parley.media.api.VideoReceive;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.loadtest.ClientEndpoint.ReceivedFeedback;
import dev.parley.media.loadtest.ClientEndpoint.ReceivedRtp;
import dev.parley.media.rtp.Vp8Descriptor;
import dev.parley.media.sdp.OfferedMedia;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A publisher sends VP8 in three simulcast layers (each with its own SSRC, sequence numbers, timestamps, PictureIDs
 * and TL0PICIDX, as a browser does); receivers that show it at different sizes get different layers under one
 * SSRC, with continuous numbering across a switch, and nothing while they do not show it.
 */
class SimulcastTest {
    private static final String[] RIDS = TestSimulcastCamera.RIDS;

    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();
    private final AtomicBoolean sending = new AtomicBoolean(true);
    private Thread sender;

    @BeforeEach
    void start() throws Exception {
        server = MediaServer.start(TestMedia.config());
    }

    @AfterEach
    void stop() throws Exception {
        sending.set(false);
        if (sender != null) {
            sender.join(5000);
        }
        clients.forEach(ClientEndpoint::close);
        server.close();
    }

    @Test
    void receiversGetTheLayerTheirTileNeedsWithContinuousNumberingAcrossASwitch() throws Exception {
        server.createConference("room");
        List<TrackEvent> events = new CopyOnWriteArrayList<>();
        server.onEvent("room", events::add);
        ClientTrack video = ClientTrack.simulcastVideo("cam", RIDS);
        ClientTrack audio = ClientTrack.audio("cam");
        server.createEndpoint("room", "alice");
        ClientEndpoint publisher = client();
        String answer = server.publish("room", "alice", publisher.publishOffer(List.of(audio, video), false));
        assertTrue(answer.contains("a=simulcast:recv q;h;f"), answer);
        assertTrue(answer.contains("a=rid:f recv"), answer);
        assertTrue(answer.contains("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), answer);
        publisher.acceptAnswer(answer);
        assertTrue(publisher.awaitSecure(WAIT), "publisher connects");
        TrackInfo videoTrack = server.tracks("room").stream().filter(t -> t.kind().equals("video")).findFirst()
                .orElseThrow();
        startSending(publisher, video);

        ClientEndpoint small = subscriber("bob");
        ClientEndpoint large = subscriber("carol");
        long outSsrc = videoSsrc(small);
        assertEquals(outSsrc, videoSsrc(large), "one stable SSRC per track for every receiver");
        assertFalse(video.layerSsrcs().contains(outSsrc), "not any layer's own SSRC");
        assertEquals(videoTrack.ssrc(), outSsrc);

        server.receiveVideo("room", "bob", List.of(new VideoReceive(videoTrack.trackId(), true, 320, 180)));
        server.receiveVideo("room", "carol", List.of(new VideoReceive(videoTrack.trackId(), true, 1280, 720)));
        awaitLayer(small, outSsrc, 0);
        awaitLayer(large, outSsrc, 2);
        // Nobody asks for the middle layer: after a few seconds the publisher is told it may stop it.
        assertTrue(eventually(WAIT, () -> List.of("q", "f").equals(lastWantedRids(events))),
                "the wanted layers are announced: " + lastWantedRids(events));
        TrackEvent.LayersWanted announced = events.stream().filter(e -> e instanceof TrackEvent.LayersWanted)
                .map(e -> (TrackEvent.LayersWanted) e).reduce((a, b) -> b).orElseThrow();
        assertEquals("alice", announced.endpointId());
        assertEquals("1", announced.mid());

        // Bob's tile grows: he moves to the full layer at its keyframe, which the server asks the publisher for.
        publisher.feedback().clear();
        server.receiveVideo("room", "bob", List.of(new VideoReceive(videoTrack.trackId(), true, 1280, 720)));
        assertTrue(awaitPli(publisher, video.layerSsrcs().get(2)), "a keyframe of the full layer is asked for");
        awaitLayer(small, outSsrc, 2);
        List<ReceivedRtp> window = collectAtLeast(small, outSsrc, 30);
        assertContinuous(window);
        assertTrue(window.stream().allMatch(p -> layerOf(p) == 2), "only the full layer after the switch");

        // Down again, to the middle layer, then the tile is hidden: no video at all, while audio goes on.
        server.receiveVideo("room", "bob", List.of(new VideoReceive(videoTrack.trackId(), true, 640, 360)));
        awaitLayer(small, outSsrc, 1);
        server.receiveVideo("room", "bob", List.of(new VideoReceive(videoTrack.trackId(), false, 640, 360)));
        Thread.sleep(300);
        small.received().clear();
        long audioBefore = small.packetsReceived(audio.ssrc());
        Thread.sleep(700);
        List<ReceivedRtp> hidden = new ArrayList<>();
        small.received().drainTo(hidden);
        assertTrue(hidden.stream().noneMatch(p -> p.ssrc() == outSsrc), "no video for a hidden tile");
        VideoForwardStats bobsVideo = videoStats("bob");
        assertTrue(bobsVideo.paused());
        assertEquals(-1, bobsVideo.currentLayer());
        assertTrue(bobsVideo.switches() >= 3, "first layer, up, down: " + bobsVideo.switches());
        VideoForwardStats carolsVideo = videoStats("carol");
        assertEquals(2, carolsVideo.currentLayer());
        assertEquals("f", carolsVideo.currentRid());
        String metrics = server.metricsText();
        assertTrue(metrics.contains("parley_media_video_forwards{layer=\"paused\"} 1.0"), metrics);
        assertTrue(metrics.contains("parley_media_video_forwards{layer=\"2\"} 1.0"), metrics);
        assertTrue(metrics.contains("parley_media_layer_switches_total"), metrics);
        assertTrue(eventually(WAIT, () -> small.packetsReceived(audio.ssrc()) > audioBefore), "audio keeps flowing");
        // Carol was never touched by Bob's changes.
        assertTrue(collect(large, outSsrc, 500).stream().allMatch(p -> layerOf(p) == 2));

        assertTrue(eventually(WAIT, () -> List.of("q", "f").equals(lastWantedRids(events))),
                "Carol's layer and the lowest, which always stays on: " + lastWantedRids(events));

        // Shown again: the stream resumes where it left off, without a gap in its numbering.
        server.receiveVideo("room", "bob", List.of(new VideoReceive(videoTrack.trackId(), true, 320, 180)));
        awaitLayer(small, outSsrc, 0);
    }

    @Test
    void aPublisherThatStopsItsTopLayerHasItsReceiversOnTheNextOneWithinASecondAndAStallSwitchesNothing()
            throws Exception {
        ClientTrack video = ClientTrack.simulcastVideo("cam", RIDS);
        ClientEndpoint publisher = alicePublishes(ClientTrack.audio("cam"), video);
        TrackInfo videoTrack = videoTrack();
        AtomicInteger layersSent = new AtomicInteger(RIDS.length);
        sender = TestSimulcastCamera.start(publisher, video, "1", new int[] {2, 2, 2}, new int[] {200, 200, 200}, 10,
                sending, layersSent);
        ClientEndpoint large = subscriber("carol");
        long outSsrc = videoSsrc(large);
        server.receiveVideo("room", "carol", List.of(new VideoReceive(videoTrack.trackId(), true, 1280, 720)));
        awaitLayer(large, outSsrc, 2);

        // The publisher's browser stalls for 700 ms (every layer and the audio), then sends everything again: that
        // is no layer stopping, and Carol stays on the full layer.
        long switches = videoStats("carol").switches();
        layersSent.set(0);
        Thread.sleep(700);
        layersSent.set(RIDS.length);
        Thread.sleep(1000);
        assertEquals(switches, videoStats("carol").switches(), "a stall of every layer switches nothing");
        awaitLayer(large, outSsrc, 2);

        // Its uplink narrows and it stops the full layer, the others going on: Carol gets the middle one at its next
        // keyframe, half a second after the last full-layer packet and a keyframe interval (330 ms) later at most,
        // where waiting for the 1.5 s without packets that mark a layer stopped otherwise would take longer.
        large.received().clear();
        long stopped = System.nanoTime();
        layersSent.set(2);
        long switchedAfter = -1;
        while (System.nanoTime() - stopped < WAIT.toNanos()) {
            ReceivedRtp packet = large.received().poll(100, TimeUnit.MILLISECONDS);
            if (packet != null && packet.ssrc() == outSsrc && layerOf(packet) == 1) {
                switchedAfter = (System.nanoTime() - stopped) / 1_000_000;
                break;
            }
        }
        assertTrue(switchedAfter >= 0, "Carol gets the middle layer");
        assertTrue(switchedAfter < 1_400, "within 1.4 s of the full layer's stop: " + switchedAfter + " ms");
        awaitLayer(large, outSsrc, 1);
    }

    @Test
    void packetsTheTopLayerLostOnTheUplinkAreAskedForAndFillTheirPlaceInTheReceiversStream() throws Exception {
        ClientTrack video = ClientTrack.simulcastVideo("cam", RIDS);
        ClientEndpoint publisher = alicePublishes(ClientTrack.audio("cam"), video);
        TrackInfo videoTrack = videoTrack();
        AtomicInteger loseTop = new AtomicInteger();
        java.util.Queue<TestSimulcastCamera.LostPacket> lost = new java.util.concurrent.ConcurrentLinkedQueue<>();
        sender = TestSimulcastCamera.start(publisher, video, "1", new int[] {2, 2, 3}, new int[] {200, 200, 300}, 10,
                sending, new AtomicInteger(RIDS.length), loseTop, lost);
        ClientEndpoint large = subscriber("carol");
        long outSsrc = videoSsrc(large);
        server.receiveVideo("room", "carol", List.of(new VideoReceive(videoTrack.trackId(), true, 1280, 720)));
        awaitLayer(large, outSsrc, 2);

        // Three packets of the full layer never reach the server; it asks for them, and the publisher answers on the
        // layer's RTX stream (known by its repaired-rid), as a browser does.
        large.received().clear();
        publisher.feedback().clear();
        Thread.sleep(200); // packets before the loss, so the receiver's window shows where the gap would be
        loseTop.set(3);
        assertTrue(eventually(WAIT, () -> lost.size() == 3), "the camera lost three packets");
        long topSsrc = video.layerSsrcs().get(2);
        List<Long> asked = new ArrayList<>();
        for (TestSimulcastCamera.LostPacket packet : lost) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!asked.contains((long) packet.sequence()) && System.nanoTime() < deadline) {
                ReceivedFeedback feedback = publisher.feedback().poll(100, TimeUnit.MILLISECONDS);
                if (feedback != null && feedback.type().equals("nack") && feedback.mediaSsrc() == topSsrc) {
                    asked.add(feedback.value());
                }
            }
        }
        assertEquals(3, lost.stream().filter(p -> asked.contains((long) p.sequence())).count(),
                "each lost packet is asked for: " + asked);
        long rtxSsrc = 0x5eed0001L;
        int rtxSequence = 9000;
        for (TestSimulcastCamera.LostPacket packet : lost) {
            byte[] payload = new byte[packet.payload().length + 2];
            payload[0] = (byte) (packet.sequence() >>> 8);
            payload[1] = (byte) packet.sequence();
            System.arraycopy(packet.payload(), 0, payload, 2, packet.payload().length);
            publisher.sendSimulcastRtp(rtxSsrc, ClientEndpoint.VP8_RTX_PT, rtxSequence++, packet.timestamp(),
                    packet.marker(), payload, "1", RIDS[2], true);
        }
        Thread.sleep(500);
        List<ReceivedRtp> window = new ArrayList<>();
        large.received().drainTo(window);
        window.removeIf(p -> p.ssrc() != outSsrc);
        // In order of their numbers, the receiver's packets have no gap and no repeat: the late ones filled theirs.
        int first = window.get(0).sequence();
        window.sort(java.util.Comparator.comparingInt(p -> (p.sequence() - first + 0x8000) & 0xffff));
        assertContinuous(window);
        assertTrue(window.stream().allMatch(p -> layerOf(p) == 2), "only the full layer");
        assertTrue(eventually(WAIT, () -> server.stats().endpointStats().stream()
                .filter(s -> s.endpointId().equals("alice")).findFirst().orElseThrow().publishRepair()
                .recovered() == 3), "three packets recovered");
    }

    @Test
    void aRenegotiationOfTheSubscriberKeepsItsStreamContinuous() throws Exception {
        ClientTrack video = ClientTrack.simulcastVideo("cam", RIDS);
        ClientEndpoint publisher = alicePublishes(video);
        TrackInfo videoTrack = videoTrack();
        startSending(publisher, video);
        ClientEndpoint bob = subscriber("bob");
        long outSsrc = videoSsrc(bob);
        server.receiveVideo("room", "bob", List.of(new VideoReceive(videoTrack.trackId(), true, 640, 360)));
        awaitLayer(bob, outSsrc, 1);

        // Someone else publishes: Bob's subscription is offered anew and he answers; his video goes on unbroken.
        server.createEndpoint("room", "dave");
        ClientEndpoint dave = client();
        dave.acceptAnswer(server.publish("room", "dave", dave.publishOffer(List.of(ClientTrack.audio("d")), false)));
        bob.received().clear();
        Thread.sleep(300);
        server.subscribeAnswer("room", "bob", bob.answer(server.subscribeOffer("room", "bob").orElseThrow().sdp()));
        List<ReceivedRtp> across = new ArrayList<>();
        bob.received().drainTo(across);
        int before = across.size();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (across.stream().filter(p -> p.ssrc() == outSsrc).count() < before + 20 && System.nanoTime() < deadline) {
            ReceivedRtp packet = bob.received().poll(100, TimeUnit.MILLISECONDS);
            if (packet != null) {
                across.add(packet);
            }
        }
        across.removeIf(p -> p.ssrc() != outSsrc);
        assertTrue(across.size() >= before + 20, "packets keep arriving after the renegotiation: " + across.size()
                + " in all, " + before + " before");
        assertContinuous(across);
        assertTrue(across.stream().allMatch(p -> layerOf(p) == 1), "the same layer throughout");
    }

    @Test
    void tooManyVideosOrAnImpossibleSizeIsRefused() throws Exception {
        server.createConference("room");
        server.createEndpoint("room", "bob");
        List<VideoReceive> many = new ArrayList<>();
        for (int i = 0; i <= VideoReceive.MAX_TRACKS; i++) {
            many.add(new VideoReceive("t" + i, true, 10, 10));
        }
        MediaException tooMany = org.junit.jupiter.api.Assertions.assertThrows(MediaException.class,
                () -> server.receiveVideo("room", "bob", many));
        assertEquals("request.invalid", tooMany.code().code());
        MediaException tooLarge = org.junit.jupiter.api.Assertions.assertThrows(MediaException.class,
                () -> server.receiveVideo("room", "bob", List.of(new VideoReceive("t", true, 100_000, 10))));
        assertEquals("request.invalid", tooLarge.code().code());
    }

    private static List<String> lastWantedRids(List<TrackEvent> events) {
        return events.stream().filter(e -> e instanceof TrackEvent.LayersWanted).map(e -> (TrackEvent.LayersWanted) e)
                .reduce((a, b) -> b).map(TrackEvent.LayersWanted::rids).orElse(null);
    }

    private VideoForwardStats videoStats(String endpoint) {
        return server.stats().endpointStats().stream().filter(e -> e.endpointId().equals(endpoint)).findFirst()
                .orElseThrow().videos().get(0);
    }

    /** Alice joins "room" (created here) and publishes {@code tracks}; her transport is connected. */
    private ClientEndpoint alicePublishes(ClientTrack... tracks) throws Exception {
        server.createConference("room");
        server.createEndpoint("room", "alice");
        ClientEndpoint publisher = client();
        publisher.acceptAnswer(server.publish("room", "alice", publisher.publishOffer(List.of(tracks), false)));
        assertTrue(publisher.awaitSecure(WAIT), "publisher connects");
        return publisher;
    }

    private TrackInfo videoTrack() {
        return server.tracks("room").stream().filter(t -> t.kind().equals("video")).findFirst().orElseThrow();
    }

    private ClientEndpoint client() throws Exception {
        ClientEndpoint client = TestMedia.client();
        clients.add(client);
        return client;
    }

    private ClientEndpoint subscriber(String endpoint) throws Exception {
        server.createEndpoint("room", endpoint);
        ClientEndpoint subscriber = client();
        SubscribeOffer offer = server.subscribeOffer("room", endpoint).orElseThrow();
        server.subscribeAnswer("room", endpoint, subscriber.answer(offer.sdp()));
        assertTrue(subscriber.awaitSecure(WAIT), "subscriber connects");
        return subscriber;
    }

    private static long videoSsrc(ClientEndpoint subscriber) {
        return subscriber.remoteDescription().media().stream().filter(m -> m.kind().sdp().equals("video"))
                .mapToLong(OfferedMedia::ssrc).findFirst().orElseThrow();
    }

    private void startSending(ClientEndpoint publisher, ClientTrack video) {
        sender = TestSimulcastCamera.start(publisher, video, "1", new int[] {2, 2, 2}, new int[] {200, 200, 200}, 10,
                sending);
    }

    private static int layerOf(ReceivedRtp packet) {
        return TestSimulcastCamera.layerOf(packet);
    }

    /** Waits until the receiver gets only {@code layer} on {@code ssrc}. */
    private static void awaitLayer(ClientEndpoint receiver, long ssrc, int layer) throws Exception {
        assertTrue(eventually(WAIT, () -> {
            List<ReceivedRtp> packets = collect(receiver, ssrc, 300);
            return packets.size() >= 6 && packets.stream().allMatch(p -> layerOf(p) == layer);
        }), "receiver gets layer " + layer);
    }

    /** At least {@code count} packets of {@code ssrc} in a row, however slowly a loaded machine sends them. */
    private static List<ReceivedRtp> collectAtLeast(ClientEndpoint receiver, long ssrc, int count) throws Exception {
        receiver.received().clear();
        List<ReceivedRtp> packets = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (packets.size() < count && System.nanoTime() < deadline) {
            ReceivedRtp packet = receiver.received().poll(100, TimeUnit.MILLISECONDS);
            if (packet != null && packet.ssrc() == ssrc) {
                packets.add(packet);
            }
        }
        return packets;
    }

    private static List<ReceivedRtp> collect(ClientEndpoint receiver, long ssrc, long millis) throws Exception {
        receiver.received().clear();
        Thread.sleep(millis);
        List<ReceivedRtp> packets = new ArrayList<>();
        receiver.received().drainTo(packets);
        packets.removeIf(p -> p.ssrc() != ssrc);
        return packets;
    }

    /** Sequence numbers go up by one, PictureIDs by at most one, without repeats (loopback loses nothing here). */
    private static void assertContinuous(List<ReceivedRtp> packets) {
        assertTrue(packets.size() >= 20, "enough packets: " + packets.size());
        Vp8Descriptor descriptor = new Vp8Descriptor();
        int previousPicture = -1;
        for (int i = 1; i < packets.size(); i++) {
            assertEquals((packets.get(i - 1).sequence() + 1) & 0xffff, packets.get(i).sequence(),
                    "sequence continues at packet " + i);
        }
        for (ReceivedRtp packet : packets) {
            byte[] data = packet.packet();
            assertTrue(descriptor.read(data, packet.headerLength(), data.length));
            if (previousPicture >= 0 && descriptor.pictureId != previousPicture) {
                assertEquals((previousPicture + 1) & 0x7fff, descriptor.pictureId, "PictureID continues");
            }
            previousPicture = descriptor.pictureId;
        }
        assertNotEquals(-1, previousPicture);
    }

    private static boolean awaitPli(ClientEndpoint publisher, long ssrc) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            ReceivedFeedback feedback = publisher.feedback().poll(100, TimeUnit.MILLISECONDS);
            if (feedback != null && feedback.type().equals("pli") && feedback.mediaSsrc() == ssrc) {
                return true;
            }
        }
        return false;
    }
}
