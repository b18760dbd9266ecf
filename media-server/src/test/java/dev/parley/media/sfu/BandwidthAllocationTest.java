package dev.parley.media.sfu;

import static dev.parley.media.TestMedia.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.EndpointStats;
import dev.parley.media.api.ReceiveEstimate;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoForwardStats;
import dev.parley.media.api.VideoReceive;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.srtp.SrtpProfile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole loop of a receiver's downlink: the server numbers what it sends, reads the receiver's transport feedback
 * (here from a client whose feedback describes a bottleneck of a given rate), estimates the link, shares the estimate
 * among the videos (a lower layer, then a pause), says so in /stats and in an event, and probes its way back up when
 * the bottleneck goes. A second receiver without a bottleneck is never touched.
 */
class BandwidthAllocationTest {
    private static final String[] RIDS = TestSimulcastCamera.RIDS;
    /** Packets per frame and payload bytes per packet of each layer, at 30 frames a second: ~60, ~450, ~1250 kbit/s. */
    private static final int[] PACKETS = {1, 3, 5};
    private static final int[] BYTES = {220, 600, 1000};
    /** The narrow link of the burst allowance test, bit/s. */
    private static final long LINK_BPS = 800_000;

    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = MediaServer.start(TestMedia.config().withBandwidthEstimation(MediaConfig.Estimation.ALL));
        server.createConference("room");
    }

    @AfterEach
    void stop() throws Exception {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(5000);
        }
        clients.forEach(ClientEndpoint::close);
        server.close();
    }

    @Test
    void aReceiverOnANarrowLinkGetsALowerLayerThenAPauseAndClimbsBackWhenItWidens() throws Exception {
        List<TrackEvent> events = new CopyOnWriteArrayList<>();
        server.onEvent("room", events::add);
        ClientTrack audio = ClientTrack.audio("cam");
        TrackInfo track = publishCamera(audio);

        ClientEndpoint bob = subscriber("bob", true);
        ClientEndpoint carol = subscriber("carol", false);
        startFeedback(bob);
        for (String receiver : List.of("bob", "carol")) {
            server.receiveVideo("room", receiver, List.of(new VideoReceive(track.trackId(), true, 1280, 720)));
        }
        VideoForwardStats open = await("bob", "the full layer on an open link",
                v -> v.currentLayer() == 2 && v.reason().equals("tile"), Duration.ofSeconds(15));
        System.out.printf("open link: bob gets layer %d (%s), the estimate %s%n", open.currentLayer(), open.reason(),
                estimate("bob"));

        // An 800 kbit/s bottleneck: the full layer (~1.25 Mbit/s) no longer fits, the half one (~450) does.
        long narrowedAt = System.nanoTime();
        bob.simulateDownlink(800_000);
        VideoForwardStats narrow = await("bob", "a lower layer for the bandwidth",
                v -> v.targetLayer() == 1 && v.reason().equals("bandwidth"), Duration.ofSeconds(15));
        System.out.printf("800 kbit/s: bob moved to layer %d (%s) in %d ms, the estimate %s%n", narrow.targetLayer(),
                narrow.reason(), (System.nanoTime() - narrowedAt) / 1_000_000, estimate("bob"));
        assertTrue(lastWithheld(events, "bob").linkLimited(), "bob is told his link limits him");
        assertEquals(2, video("carol").currentLayer(), "carol, on an open link, keeps the full layer");
        assertEquals("tile", video("carol").reason());
        long estimateNarrow = estimate("bob").estimateBps();
        assertTrue(estimateNarrow < 1_000_000 && estimateNarrow > 400_000, "the estimate near the bottleneck: "
                + estimate("bob"));

        // 40 kbit/s: not even the lowest layer fits after the audio: the video pauses, audio goes on.
        bob.simulateDownlink(40_000);
        VideoForwardStats paused = await("bob", "a pause for the bandwidth",
                v -> v.targetLayer() == -1 && v.reason().equals("paused-bandwidth"), Duration.ofSeconds(20));
        System.out.printf("40 kbit/s: bob's video %s, the estimate %s%n", paused.reason(), estimate("bob"));
        TrackEvent.VideosWithheld told = lastWithheld(events, "bob");
        assertEquals(List.of(track.trackId()), told.lowBandwidthTrackIds());
        assertEquals(List.of(), told.trackIds(), "not withheld by last-N");
        long audioBefore = bob.packetsReceived(audio.ssrc());
        Thread.sleep(500);
        assertTrue(bob.packetsReceived(audio.ssrc()) > audioBefore + 5, "audio keeps flowing");

        // The bottleneck goes: probes find the room, and bob climbs back to the full layer.
        long openedAt = System.nanoTime();
        bob.simulateDownlink(0);
        // Probes the link carries follow one another at once (each at twice the estimate), so the climb from the
        // pause takes a few seconds; 15 s is the bound the product promises.
        VideoForwardStats back = await("bob", "the full layer again", v -> v.currentLayer() == 2
                && v.reason().equals("tile"), Duration.ofSeconds(15));
        ReceiveEstimate recovered = estimate("bob");
        System.out.printf("open again: bob back on layer %d in %d ms after %d probes (last found %d bit/s), the "
                + "estimate %s%n", back.currentLayer(), (System.nanoTime() - openedAt) / 1_000_000,
                recovered.probes(), recovered.probeResultBps(), recovered);
        assertTrue(recovered.probes() > 0, "probes were sent: " + recovered);
        assertTrue(!lastWithheld(events, "bob").linkLimited(), "bob is told his link no longer limits him");
        assertEquals(2, video("carol").currentLayer());
    }

    @Test
    void probesThroughALinkWithABurstAllowanceLeaveTheEstimateAtTheLinksRate() throws Exception {
        // An 800 kbit/s link with a 16 KiB burst allowance, as a policer or tc's tbf has: a probe cluster small enough
        // to fit in it passes as sent whatever its rate. Taken at its word, it would lift the estimate far above the
        // link; the next cluster must confirm it first, and the queue that one builds measures the link.
        TrackInfo track = publishCamera(ClientTrack.audio("cam"));
        ClientEndpoint bob = subscriber("bob", true);
        startFeedback(bob);
        bob.simulateDownlink(LINK_BPS, 16 * 1024);
        server.receiveVideo("room", "bob", List.of(new VideoReceive(track.trackId(), true, 1280, 720)));
        await("bob", "a lower layer for the bandwidth", v -> v.currentLayer() == 1
                && v.reason().equals("bandwidth"), Duration.ofSeconds(15));

        long probesBefore = estimate("bob").probes();
        long switchesBefore = video("bob").switches();
        long highest = 0;
        ReceiveEstimate atHighest = null;
        long until = System.nanoTime() + Duration.ofSeconds(12).toNanos();
        while (System.nanoTime() < until) {
            ReceiveEstimate now = estimate("bob");
            if (now.estimateBps() > highest) {
                highest = now.estimateBps();
                atHighest = now;
            }
            Thread.sleep(20);
        }
        ReceiveEstimate end = estimate("bob");
        System.out.printf("800 kbit/s with a 16 KiB burst: %d probes in 12 s, the estimate at most %d bit/s (%s), "
                + "layer switches %d%n", end.probes() - probesBefore, highest, atHighest,
                video("bob").switches() - switchesBefore);
        assertTrue(end.probes() - probesBefore >= 2, "probes ran: " + end);
        assertTrue(highest <= LINK_BPS * 1.15, "the estimate stays near the link's 800 kbit/s: at most " + highest
                + " bit/s, " + atHighest);
        assertEquals(1, video("bob").currentLayer(), "bob keeps the half layer: " + estimate("bob"));
        assertEquals(switchesBefore, video("bob").switches(), "no layer switch while probing");
    }

    @Test
    void withEstimationTurnedOffNothingIsNumberedNorAllocated() throws Exception {
        server.close();
        server = MediaServer.start(TestMedia.config().withBandwidthEstimation(MediaConfig.Estimation.OFF));
        server.createConference("room");
        ClientTrack video = ClientTrack.simulcastVideo("cam", RIDS);
        server.createEndpoint("room", "alice");
        ClientEndpoint publisher = client(SrtpProfile.AEAD_AES_128_GCM);
        publisher.offerTransportCc(true);
        String answer = server.publish("room", "alice", publisher.publishOffer(List.of(video), false));
        assertTrue(!answer.contains("transport-cc"), "no transport-cc with the publisher: " + answer);
        publisher.acceptAnswer(answer);
        assertTrue(publisher.awaitSecure(WAIT), "publisher connects");
        server.createEndpoint("room", "bob");
        String offer = server.subscribeOffer("room", "bob").orElseThrow().sdp();
        assertTrue(!offer.contains("transport-cc") && !offer.contains("transport-wide-cc"),
                "no transport-cc offered to receivers: " + offer);
    }

    private static TrackEvent.VideosWithheld lastWithheld(List<TrackEvent> events, String endpoint) {
        return events.stream().filter(e -> e instanceof TrackEvent.VideosWithheld w && w.endpointId().equals(endpoint))
                .map(e -> (TrackEvent.VideosWithheld) e).reduce((a, b) -> b).orElseThrow();
    }

    private EndpointStats endpoint(String id) {
        return server.stats().endpointStats().stream().filter(e -> e.endpointId().equals(id)).findFirst()
                .orElseThrow();
    }

    private VideoForwardStats video(String id) {
        return endpoint(id).videos().get(0);
    }

    private ReceiveEstimate estimate(String id) {
        return endpoint(id).receiveEstimate();
    }

    /** Polls bob's (or anyone's) video until {@code wanted} holds; fails saying what it was and the estimate. */
    private VideoForwardStats await(String id, String what, Predicate<VideoForwardStats> wanted, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        VideoForwardStats last = video(id);
        while (System.nanoTime() < deadline) {
            last = video(id);
            if (wanted.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(id + ": " + what + " within " + timeout.toSeconds() + " s; last " + last
                + ", estimate " + estimate(id));
    }

    private ClientEndpoint client(SrtpProfile profile) throws Exception {
        ClientEndpoint client = TestMedia.client(profile);
        clients.add(client);
        return client;
    }

    private ClientEndpoint subscriber(String endpoint, boolean transportCc) throws Exception {
        server.createEndpoint("room", endpoint);
        ClientEndpoint subscriber = client(SrtpProfile.AEAD_AES_128_GCM);
        subscriber.offerTransportCc(transportCc);
        server.subscribeAnswer("room", endpoint,
                subscriber.answer(server.subscribeOffer("room", endpoint).orElseThrow().sdp()));
        assertTrue(subscriber.awaitSecure(WAIT), "subscriber connects");
        TestMedia.awaitServerSide(server, endpoint, false, true);
        return subscriber;
    }

    /** Alice publishes {@code audio} and a simulcast camera, and sends both: her camera's track. */
    private TrackInfo publishCamera(ClientTrack audio) throws Exception {
        ClientTrack video = ClientTrack.simulcastVideo("cam", RIDS);
        server.createEndpoint("room", "alice");
        ClientEndpoint publisher = client(SrtpProfile.AEAD_AES_128_GCM);
        publisher.acceptAnswer(server.publish("room", "alice", publisher.publishOffer(List.of(audio, video), false)));
        assertTrue(publisher.awaitSecure(WAIT), "publisher connects");
        TrackInfo track = server.tracks("room").stream().filter(t -> t.kind().equals("video")).findFirst()
                .orElseThrow();
        startSending(publisher, video);
        return track;
    }

    /** The receiver's transport feedback every 50 ms, as browsers send it. */
    private void startFeedback(ClientEndpoint receiver) {
        Thread thread = new Thread(() -> {
            while (running.get()) {
                receiver.sendTransportFeedback();
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "feedback");
        thread.setDaemon(true);
        thread.start();
        threads.add(thread);
    }

    /** The camera: 30 frames a second in every layer, a keyframe every 30 frames, and audio. */
    private void startSending(ClientEndpoint publisher, ClientTrack video) {
        threads.add(TestSimulcastCamera.start(publisher, video, "1", PACKETS, BYTES, 30, running));
    }
}
