package dev.parley.media.sfu;

import static dev.parley.media.TestMedia.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.cc.TransportFeedback;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.loadtest.ClientEndpoint.ReceivedFeedback;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Publishers that negotiate transport-wide congestion control get transport feedback over their real SRTCP
 * transport, reporting exactly which packets arrived and when, and no REMB; publishers that do not get REMB as before.
 */
class TransportCcTest {
    private static final int FIRST_SEQUENCE = 65_400;
    private static final int PACKETS = 300;

    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = MediaServer.start(TestMedia.config());
        server.createConference("cc");
    }

    @AfterEach
    void stop() {
        clients.forEach(ClientEndpoint::close);
        server.close();
    }

    @Test
    void aPublisherWithTransportCcGetsFeedbackOnEveryPacketItSentAndNoRemb() throws Exception {
        ClientTrack audio = ClientTrack.audio("a");
        ClientTrack video = ClientTrack.video("a");
        ClientEndpoint publisher = publisher("alice", true, audio, video);

        // Audio, video and the video's RTX stream share one transport-wide counter, which wraps at 65535; every
        // 23rd number is skipped as if the packet had been lost on the way.
        Map<Integer, Boolean> sent = new TreeMap<>();
        long started = System.nanoTime();
        for (int i = 0; i < PACKETS; i++) {
            int sequence = (FIRST_SEQUENCE + i) & 0xffff;
            boolean skip = i % 23 == 11;
            sent.put(i, !skip);
            if (skip) {
                continue;
            }
            long ssrc = i % 3 == 0 ? audio.ssrc() : i % 3 == 1 ? video.ssrc() : video.rtxSsrc();
            int payloadType = i % 3 == 0 ? ClientEndpoint.OPUS_PT : i % 3 == 1 ? ClientEndpoint.VP8_PT
                    : ClientEndpoint.VP8_RTX_PT;
            assertTrue(publisher.sendRtpWithTransportSequence(ssrc, payloadType, i, 90L * i,
                    ForwardingTest.vp8Payload(i, 200), sequence));
            Thread.sleep(i % 10 == 9 ? 20 : 1);
        }
        long sendMicros = (System.nanoTime() - started) / 1000;

        // Collect the feedback until it has reported the last packet sent.
        Map<Integer, Long> reported = new TreeMap<>();
        List<TransportFeedback> packets = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        int lastSent = PACKETS - 1;
        while (!reported.containsKey(lastSent) && System.nanoTime() < deadline) {
            byte[] packet = publisher.transportFeedback().poll(100, TimeUnit.MILLISECONDS);
            if (packet == null) {
                continue;
            }
            TransportFeedback feedback = new TransportFeedback(4096);
            assertTrue(feedback.parse(packet, 0, packet.length), "well-formed feedback");
            packets.add(feedback);
            long[] arrivals = new long[feedback.statusCount()];
            feedback.arrivalMicros(arrivals);
            for (int i = 0; i < feedback.statusCount(); i++) {
                int index = (feedback.sequence(i) - FIRST_SEQUENCE) & 0xffff;
                assertNull(reported.put(index, arrivals[i]), "sequence " + feedback.sequence(i) + " reported once");
            }
        }
        assertTrue(packets.size() >= 3, "feedback comes every 50 ms while packets arrive: " + packets.size());
        assertEquals(sent.keySet(), reported.keySet(), "every sequence number from the first to the last is reported");
        for (Map.Entry<Integer, Boolean> entry : sent.entrySet()) {
            assertEquals(entry.getValue(), reported.get(entry.getKey()) != Long.MIN_VALUE,
                    "sequence " + ((FIRST_SEQUENCE + entry.getKey()) & 0xffff) + " reported as "
                            + (entry.getValue() ? "received" : "lost"));
        }
        for (int i = 1; i < packets.size(); i++) {
            assertEquals((packets.get(i - 1).feedbackCount() + 1) & 0xff, packets.get(i).feedbackCount());
            assertEquals(packets.get(0).senderSsrc(), packets.get(i).senderSsrc());
        }
        for (TransportFeedback packet : packets) {
            assertTrue(List.of(audio.ssrc(), video.ssrc(), video.rtxSsrc()).contains(packet.mediaSsrc()),
                    "the media SSRC is one the publisher sends: " + packet.mediaSsrc());
        }

        // Arrival times: in order (one sender, one path), spanning about as long as the sending took.
        long previous = Long.MIN_VALUE;
        long first = Long.MIN_VALUE;
        for (long arrival : reported.values()) {
            if (arrival == Long.MIN_VALUE) {
                continue;
            }
            assertTrue(arrival >= previous, "arrivals in sending order");
            first = first == Long.MIN_VALUE ? arrival : first;
            previous = arrival;
        }
        long span = previous - first;
        assertTrue(span > sendMicros / 2 && span < sendMicros + 500_000,
                "arrivals span " + span + " µs, sending took " + sendMicros + " µs");

        // Nothing arrives, nothing is reported; and no REMB (its receiver report goes in the same compound packet).
        publisher.transportFeedback().clear();
        publisher.feedback().clear();
        assertNotNull(ForwardingTest.awaitFeedback(publisher, "rr", video.ssrc()), "receiver reports go on");
        assertNull(publisher.transportFeedback().poll(300, TimeUnit.MILLISECONDS), "no feedback without arrivals");
        assertFalse(publisher.feedback().stream().anyMatch(f -> f.type().equals("remb")), "no REMB with transport-cc");
        assertEquals(0, server.stats().endpointStats().get(0).bandwidthEstimate(), "the publisher estimates itself");
    }

    @Test
    void aPublisherWithoutTransportCcGetsRembAndNoTransportFeedback() throws Exception {
        ClientTrack video = ClientTrack.video("b");
        ClientEndpoint publisher = publisher("bob", false, video);
        for (int i = 0; i < 50; i++) {
            // Even a packet that carries a transport-wide number is not reported when it was not negotiated.
            publisher.sendRtpWithTransportSequence(video.ssrc(), ClientEndpoint.VP8_PT, i, 90L * i,
                    ForwardingTest.vp8Payload(i, 200), i);
            Thread.sleep(2);
        }
        ReceivedFeedback remb = ForwardingTest.awaitFeedback(publisher, "remb", video.ssrc());
        assertNotNull(remb, "REMB for the video");
        assertTrue(remb.value() >= 100_000);
        assertTrue(publisher.transportFeedback().isEmpty(), "no transport feedback");
    }

    private ClientEndpoint publisher(String endpoint, boolean transportCc, ClientTrack... tracks) throws Exception {
        server.createEndpoint("cc", endpoint);
        ClientEndpoint publisher = TestMedia.client();
        clients.add(publisher);
        publisher.offerTransportCc(transportCc);
        String answer = server.publish("cc", endpoint, publisher.publishOffer(List.of(tracks), false));
        assertEquals(transportCc, answer.contains("transport-cc"), answer);
        publisher.acceptAnswer(answer);
        assertTrue(publisher.awaitSecure(WAIT), "publisher connects: " + publisher.dtlsFailure());
        TestMedia.awaitServerSide(server, endpoint, true, false);
        return publisher;
    }
}
