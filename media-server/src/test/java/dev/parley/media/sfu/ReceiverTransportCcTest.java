package dev.parley.media.sfu;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import dev.parley.media.cc.TransportFeedbackWriter;
import dev.parley.media.TestMedia;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.loadtest.ClientEndpoint.ReceivedFeedback;
import dev.parley.media.loadtest.ClientEndpoint.ReceivedRtp;
import dev.parley.media.rtp.Rtcp;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.sdp.CodecPolicy;
import dev.parley.media.srtp.SrtpProfile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A subscriber that negotiates transport-wide congestion control gets every packet (audio, video, retransmissions)
 * numbered from one counter, and the transport feedback it returns drives the server's send-side estimate of its
 * downlink, shown in /stats; a subscriber that declines it gets no numbers and no estimate.
 */
class ReceiverTransportCcTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ID = CodecPolicy.SUBSCRIBE_TRANSPORT_CC_ID;

    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private int videoSequence = 1000;
    private int audioSequence = 5000;

    @BeforeEach
    void start() throws Exception {
        server = MediaServer.start(TestMedia.config().withBandwidthEstimation(MediaConfig.Estimation.ALL));
        server.createConference("rx");
    }

    @AfterEach
    void stop() {
        clients.forEach(ClientEndpoint::close);
        server.close();
    }

    @Test
    void everythingSentToATransportCcSubscriberIsNumberedAndItsFeedbackDrivesAnEstimate() throws Exception {
        ClientTrack audio = ClientTrack.audio("a");
        ClientTrack video = ClientTrack.video("a");
        ClientEndpoint publisher = publisher(audio, video);
        ClientEndpoint bob = subscriber("bob", true);
        ClientEndpoint carol = subscriber("carol", false);

        // Before any feedback the estimate is not known yet.
        JsonNode before = endpointStats("bob").get("receiveEstimate");
        assertEquals(0, before.get("estimateBps").asLong(), before.toString());
        assertTrue(endpointStats("carol").get("receiveEstimate").isNull(), "no estimate without transport-cc");

        // Audio without header extensions (the server adds a block), video with them (it adds an element).
        send(publisher, audio, video, 60, bob);
        List<ReceivedRtp> received = new ArrayList<>();
        bob.received().drainTo(received);
        List<Integer> videoSequences = received.stream().filter(p -> p.ssrc() == video.ssrc())
                .map(ReceivedRtp::sequence).toList();
        assertTrue(videoSequences.size() > 20, "video arrives: " + videoSequences.size());
        byte[] rtcp = new byte[256];
        int length = Rtcp.writeReceiverReportHeader(rtcp, 0, bob.rtcpSsrc(), 0);
        length += Rtcp.writeNack(rtcp, length, bob.rtcpSsrc(), video.ssrc(), videoSequences.get(5), 0b101);
        bob.sendRtcp(rtcp, length);
        assertTrue(eventually(WAIT, () -> bob.packetsReceived(video.rtxSsrc()) >= 2), "retransmissions arrive");
        send(publisher, audio, video, 140, bob);
        Thread.sleep(200);
        bob.sendTransportFeedback();
        bob.received().drainTo(received);

        // Every packet carries a number; together they are consecutive over audio, video and RTX.
        Set<Long> ssrcs = new HashSet<>();
        List<Integer> numbers = new ArrayList<>();
        for (ReceivedRtp packet : received) {
            byte[] data = packet.packet();
            int at = Rtp.findExtension(data, 0, data.length, ID);
            assertTrue(at >= 0, "a transport-wide number on every packet, missing on SSRC " + packet.ssrc());
            assertEquals(2, Rtp.extensionLength(data, 0, at));
            numbers.add(Rtp.readUint16(data, at));
            ssrcs.add(packet.ssrc());
        }
        assertEquals(Set.of(audio.ssrc(), video.ssrc(), video.rtxSsrc()), ssrcs);
        List<Long> unwrapped = new ArrayList<>();
        long previous = -1;
        for (int number : numbers) {
            long value = previous < 0 ? number + 0x10000L : previous + (short) (number - (previous & 0xffff));
            unwrapped.add(value);
            previous = Math.max(previous, value);
        }
        unwrapped.sort(null);
        for (int i = 1; i < unwrapped.size(); i++) {
            assertEquals(unwrapped.get(i - 1) + 1, unwrapped.get(i), "consecutive at " + i + " of " + unwrapped.size());
        }
        System.out.printf("transport-wide numbers: %d packets, %d..%d%n", unwrapped.size(), unwrapped.get(0) & 0xffff,
                unwrapped.get(unwrapped.size() - 1) & 0xffff);

        // The subscriber that declined it gets the same media without numbers, and has no estimate.
        List<ReceivedRtp> carols = new ArrayList<>();
        carol.received().drainTo(carols);
        assertTrue(carols.size() > 100, "carol receives: " + carols.size());
        for (ReceivedRtp packet : carols) {
            assertTrue(Rtp.findExtension(packet.packet(), 0, packet.packet().length, ID) < 0, "no number for carol");
        }
        assertTrue(endpointStats("carol").get("receiveEstimate").isNull());

        // Feedback on steady arrivals: an estimate, read from /stats.
        JsonNode steady = endpointStats("bob").get("receiveEstimate");
        assertTrue(steady.get("reports").asLong() >= 5, steady.toString());
        long steadyBps = steady.get("estimateBps").asLong();
        assertTrue(steadyBps > 0, steady.toString());
        assertTrue(steady.get("ackedBps").asLong() > 0, steady.toString());
        System.out.println("steady: " + steady);

        // Arrivals that drift later and later (a queue building up): the estimate falls.
        bob.growArrivalDelay(3_000);
        Set<String> states = new HashSet<>();
        JsonNode congested = null;
        for (int round = 0; round < 6; round++) {
            send(publisher, audio, video, 50, bob);
            congested = endpointStats("bob").get("receiveEstimate");
            states.add(congested.get("delayState").asText());
        }
        assertNotNull(congested);
        long congestedBps = congested.get("estimateBps").asLong();
        System.out.println("congested: " + congested + ", delay states seen " + states);
        assertTrue(states.contains("overusing"), "the delay is taken for overuse: " + states);
        assertTrue(congestedBps < steadyBps * 0.8, "the estimate falls from " + steadyBps + " to " + congestedBps);
        // A browser that gets transport-wide numbers sends no REMB: the estimate takes its place in the cap on what a
        // publisher without transport-cc or simulcast is asked to send (its own estimate has grown past 1 Mbit/s).
        publisher.feedback().clear();
        assertTrue(eventually(WAIT, () -> {
            ReceivedFeedback remb = ForwardingTest.awaitFeedback(publisher, "remb", video.ssrc());
            return remb != null && remb.value() <= Math.max(congestedBps, PublishTransport.MIN_BITRATE);
        }), "the publisher's REMB follows the subscriber's estimate, " + congestedBps + " (never under "
                + PublishTransport.MIN_BITRATE + ")");
        assertFalse(server.stats().drops().getOrDefault("transport_feedback_unknown", 0L) > 0,
                "every reported packet was found: " + server.stats().drops());
    }

    @Test
    void retransmissionsToATransportCcSubscriberFitInTheEstimatesShareForThem() throws Exception {
        ClientTrack audio = ClientTrack.audio("a");
        ClientTrack video = ClientTrack.video("a");
        ClientEndpoint publisher = publisher(audio, video);
        ClientEndpoint bob = subscriber("bob", true);
        ClientEndpoint carol = subscriber("carol", false);
        send(publisher, audio, video, 200, bob);
        Thread.sleep(200);
        long estimateBps = endpointStats("bob").get("receiveEstimate").get("estimateBps").asLong();
        assertTrue(estimateBps > 0, "an estimate of bob's link");

        // Both ask for the last 187 video packets at once. Carol (no estimate) gets the packet budget's burst; bob at
        // most what the estimate leaves for retransmissions over the budget's window (a tenth of it for 250 ms).
        int bobs = nackEverything(bob, video);
        int carols = nackEverything(carol, video);
        Thread.sleep(300);
        long share = (long) (estimateBps * (1 - SubscribeTransport.BUDGET_SHARE));
        long window = Math.max(SubscribeTransport.RETRANSMIT_MIN_BURST_BYTES,
                share * SubscribeTransport.RETRANSMIT_WINDOW_NANOS / 8_000_000_000L);
        // Each retransmission carries a 900-byte payload; 300 ms more of the share may have been earned meanwhile.
        long allowed = 1 + (window + share * 300 / 8_000) / 900;
        long toBob = bob.packetsReceived(video.rtxSsrc());
        long toCarol = carol.packetsReceived(video.rtxSsrc());
        System.out.printf("a NACK flood of %d (bob) and %d (carol) packets: bob (estimate %d bit/s) got %d "
                + "retransmissions (at most %d), carol %d%n", bobs, carols, estimateBps, toBob, allowed, toCarol);
        assertTrue(toBob >= 1 && toBob <= allowed, "bob got " + toBob + " retransmissions, at most " + allowed);
        assertTrue(toCarol > toBob && toCarol <= 1 + SubscribeTransport.RETRANSMIT_BURST,
                "carol got " + toCarol + ": the packet budget's burst");
        assertTrue(server.stats().drops().get("nack_budget_exceeded") > 0, "the rest is counted");
    }

    /** Sends {@code subscriber}'s NACK for the last 187 video packets it received; returns how many it asked for. */
    private static int nackEverything(ClientEndpoint subscriber, ClientTrack video) {
        List<ReceivedRtp> received = new ArrayList<>();
        subscriber.received().drainTo(received);
        List<Integer> sequences = received.stream().filter(p -> p.ssrc() == video.ssrc())
                .map(ReceivedRtp::sequence).toList();
        assertTrue(sequences.size() >= 187, "video arrives: " + sequences.size());
        int first = sequences.get(sequences.size() - 187);
        byte[] rtcp = new byte[256];
        int length = Rtcp.writeReceiverReportHeader(rtcp, 0, subscriber.rtcpSsrc(), 0);
        for (int k = 0; k < 11; k++) {
            length += Rtcp.writeNack(rtcp, length, subscriber.rtcpSsrc(), video.ssrc(), (first + 17 * k) & 0xffff,
                    0xffff);
        }
        subscriber.sendRtcp(rtcp, length);
        return 187;
    }

    @Test
    void feedbackThatIsMalformedUnnegotiatedOrFloodingIsCountedAndItsReadingBounded() throws Exception {
        publisher(ClientTrack.video("b"));
        ClientEndpoint bob = subscriber("bob", true);
        ClientEndpoint carol = subscriber("carol", false);
        byte[] rtcp = new byte[1500];

        carol.sendRtcp(rtcp, feedback(rtcp, carol.rtcpSsrc(), 100, 10));
        assertTrue(eventually(WAIT, () -> drops("transport_feedback_not_negotiated") == 1), "carol did not negotiate");

        int length = feedback(rtcp, bob.rtcpSsrc(), 100, 10);
        Rtp.writeUint16(rtcp, 8 + 14, 1000); // claims 1000 statuses; its chunks hold 10
        bob.sendRtcp(rtcp, length);
        length = feedback(rtcp, bob.rtcpSsrc(), 100, 10);
        Rtp.writeUint16(rtcp, 8 + 14, SubscribeTransport.MAX_FEEDBACK_PACKETS + 1);
        bob.sendRtcp(rtcp, length);
        assertTrue(eventually(WAIT, () -> drops("transport_feedback_malformed") == 2), "truncated and too large");

        // A flood of feedback, each packet reporting 2000 numbers (none of them sent: nothing was forwarded yet).
        int flood = 300;
        long started = System.nanoTime();
        for (int i = 0; i < flood; i++) {
            bob.sendRtcp(rtcp, feedback(rtcp, bob.rtcpSsrc(), (i * 2000) & 0xffff, 2000));
        }
        assertTrue(eventually(WAIT, () -> drops("transport_feedback_rate_limited")
                + drops("transport_feedback_unknown") / 2000 == flood), "every feedback packet accounted for");
        double seconds = (System.nanoTime() - started) / 1e9;
        long read = drops("transport_feedback_unknown");
        long allowed = SubscribeTransport.FEEDBACK_STATUS_BURST
                + (long) (SubscribeTransport.FEEDBACK_STATUSES_PER_SECOND * seconds);
        System.out.printf("flood: %d of %d statuses read in %.3f s (budget %d)%n", read, flood * 2000L, seconds,
                allowed);
        assertTrue(read > 0 && read <= allowed, read + " statuses read, budget " + allowed);
        assertTrue(drops("transport_feedback_rate_limited") > flood / 2);
        assertEquals(0, endpointStats("bob").get("receiveEstimate").get("reports").asLong(), "nothing matched");
    }

    private long drops(String reason) {
        return server.stats().drops().getOrDefault(reason, 0L);
    }

    /** An empty receiver report and transport feedback: the first number received, the others lost. */
    private static int feedback(byte[] buf, long ssrc, int base, int count) {
        int length = Rtcp.writeReceiverReportHeader(buf, 0, ssrc, 0);
        TransportFeedbackWriter writer = new TransportFeedbackWriter(1200);
        writer.begin(buf, length, 1200, ssrc, 0, base, 0);
        assertTrue(writer.addReceived(1_000));
        for (int i = 1; i < count; i++) {
            assertTrue(writer.addLost());
        }
        return length + writer.finish();
    }

    /** {@code rounds} times: one video and one audio packet, 5 ms apart; the subscriber's feedback every 50 ms. */
    private void send(ClientEndpoint publisher, ClientTrack audio, ClientTrack video, int rounds,
                      ClientEndpoint feedbackFrom) throws Exception {
        for (int i = 0; i < rounds; i++) {
            int v = videoSequence++;
            int a = audioSequence++;
            assertTrue(publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, v, v * 3000L, false,
                    ForwardingTest.vp8Payload(v, 900), true));
            assertTrue(publisher.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, a, a * 960L, false,
                    ForwardingTest.payload(a, 80), false));
            Thread.sleep(5);
            if (i % 10 == 9) {
                feedbackFrom.sendTransportFeedback();
            }
        }
    }

    private JsonNode endpointStats(String endpoint) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(server.httpUri() + "/stats"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        for (JsonNode node : JSON.readTree(response.body()).get("endpointStats")) {
            if (node.get("endpointId").asText().equals(endpoint)) {
                return node;
            }
        }
        throw new AssertionError("no stats for " + endpoint + ": " + response.body());
    }

    private ClientEndpoint publisher(ClientTrack... tracks) throws Exception {
        server.createEndpoint("rx", "alice");
        ClientEndpoint publisher = TestMedia.client();
        clients.add(publisher);
        publisher.acceptAnswer(server.publish("rx", "alice", publisher.publishOffer(List.of(tracks), false)));
        assertTrue(publisher.awaitSecure(WAIT), "publisher connects: " + publisher.dtlsFailure());
        TestMedia.awaitServerSide(server, "alice", true, false);
        return publisher;
    }

    private ClientEndpoint subscriber(String endpoint, boolean transportCc) throws Exception {
        server.createEndpoint("rx", endpoint);
        ClientEndpoint subscriber = TestMedia.client(SrtpProfile.AEAD_AES_128_GCM);
        clients.add(subscriber);
        subscriber.offerTransportCc(transportCc);
        String offer = server.subscribeOffer("rx", endpoint).orElseThrow().sdp();
        assertTrue(offer.contains("transport-cc"), offer);
        String answer = subscriber.answer(offer);
        assertEquals(transportCc, answer.contains("a=rtcp-fb:96 transport-cc"), answer);
        assertEquals(transportCc, answer.contains(CodecPolicy.TRANSPORT_CC), answer);
        server.subscribeAnswer("rx", endpoint, answer);
        assertTrue(subscriber.awaitSecure(WAIT), "subscriber connects");
        TestMedia.awaitServerSide(server, endpoint, false, true);
        return subscriber;
    }
}
