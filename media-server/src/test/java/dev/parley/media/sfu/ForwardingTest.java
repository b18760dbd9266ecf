package dev.parley.media.sfu;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.EndpointStats;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.WhipResource;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.loadtest.ClientEndpoint.ReceivedFeedback;
import dev.parley.media.loadtest.ClientEndpoint.ReceivedRtp;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.rtp.Rtcp;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.sdp.CodecPolicy;
import dev.parley.media.sdp.HeaderExtension;
import dev.parley.media.sdp.OfferedMedia;
import dev.parley.media.sdp.PeerDescription;
import dev.parley.media.sdp.StackOfferTest;
import dev.parley.media.srtp.SrtpProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One publisher and three subscribers exchanging real SRTP through the server. */
class ForwardingTest {
    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = MediaServer.start(TestMedia.config());
    }

    @AfterEach
    void stop() {
        clients.forEach(ClientEndpoint::close);
        server.close();
    }

    private ClientEndpoint track(ClientEndpoint client) {
        clients.add(client);
        return client;
    }

    private ClientEndpoint publisher(String conference, String endpoint, ClientTrack... tracks) throws Exception {
        server.createEndpoint(conference, endpoint);
        ClientEndpoint publisher = track(TestMedia.client());
        String answer = server.publish(conference, endpoint, publisher.publishOffer(List.of(tracks), false));
        publisher.acceptAnswer(answer);
        assertTrue(publisher.awaitSecure(WAIT), "publisher connects: " + publisher.dtlsFailure());
        TestMedia.awaitServerSide(server, endpoint, true, false);
        return publisher;
    }

    private ClientEndpoint subscriber(String conference, String endpoint, SrtpProfile profile) throws Exception {
        server.createEndpoint(conference, endpoint);
        ClientEndpoint subscriber = track(TestMedia.client(profile));
        SubscribeOffer offer = server.subscribeOffer(conference, endpoint).orElseThrow();
        // The server's own offers give an extmap id one meaning over all sections (abs-send-time is 3 on both kinds).
        StackOfferTest.assertOneMeaningPerId(offer.sdp());
        server.subscribeAnswer(conference, endpoint, subscriber.answer(offer.sdp()));
        assertTrue(subscriber.awaitSecure(WAIT), "subscriber connects");
        TestMedia.awaitServerSide(server, endpoint, false, true);
        assertEquals(profile, subscriber.srtpProfile());
        return subscriber;
    }

    @Test
    void publisherMediaReachesThreeSubscribersIntactWithTheirPayloadTypes() throws Exception {
        server.createConference("room");
        List<TrackEvent> events = new CopyOnWriteArrayList<>();
        server.onEvent("room", events::add);
        ClientTrack audio = ClientTrack.audio("cam");
        ClientTrack video = ClientTrack.video("cam");
        ClientEndpoint publisher = publisher("room", "alice", audio, video);
        assertEquals(2, server.tracks("room").size());
        List<ClientEndpoint> subscribers = List.of(
                subscriber("room", "bob", SrtpProfile.AEAD_AES_128_GCM),
                subscriber("room", "carol", SrtpProfile.AES_CM_128_HMAC_SHA1_80),
                subscriber("room", "dave", SrtpProfile.AEAD_AES_128_GCM));

        // The subscribe offer announces the publisher's SSRCs with the server's payload types and no mid extension.
        List<OfferedMedia> offered = subscribers.get(0).remoteDescription().media();
        assertEquals(2, offered.size());
        OfferedMedia offeredVideo = offered.stream().filter(m -> m.ssrc() == video.ssrc()).findFirst().orElseThrow();
        assertEquals(video.rtxSsrc(), offeredVideo.rtxSsrc());
        assertEquals(96, offeredVideo.codecs().get(0).payloadType());
        assertTrue(offeredVideo.extensions().stream().noneMatch(e -> e.uri().contains("sdes:mid")));

        // A new subscriber makes the server ask the publisher for a keyframe.
        assertNotNull(awaitFeedback(publisher, "pli", video.ssrc()), "publisher is asked for a keyframe");

        byte[][] videoPayloads = new byte[60][];
        for (int i = 0; i < 60; i++) {
            videoPayloads[i] = vp8Payload(i, 900);
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 1000 + i, 90_000L + i * 3000L, i % 3 == 2,
                    videoPayloads[i], true);
            publisher.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, 500 + i, 48_000L + i * 960L, false,
                    payload(1000 + i, 80), true);
            Thread.sleep(2);
        }
        for (ClientEndpoint subscriber : subscribers) {
            // Loopback UDP can drop a few packets on a saturated machine; every packet that arrives must be intact.
            assertTrue(eventually(WAIT, () -> subscriber.packetsReceived(video.ssrc()) >= 55
                    && subscriber.packetsReceived(audio.ssrc()) >= 55), "the packets arrive");
            List<ReceivedRtp> packets = new ArrayList<>();
            subscriber.received().drainTo(packets);
            for (ReceivedRtp packet : packets) {
                if (packet.ssrc() == video.ssrc()) {
                    assertEquals(96, packet.payloadType(), "VP8 rewritten to the subscriber's payload type");
                    assertArrayEquals(videoPayloads[packet.sequence() - 1000], packet.payload());
                    assertTrue(Rtp.findExtension(packet.packet(), 0, packet.packet().length, 3) > 0,
                            "abs-send-time carried with the subscriber's id");
                    assertEquals(-1, Rtp.findExtension(packet.packet(), 0, packet.packet().length,
                            ClientEndpoint.MID_ID), "unnegotiated mid extension removed");
                } else {
                    assertEquals(audio.ssrc(), packet.ssrc(), "only negotiated SSRCs arrive");
                    assertEquals(111, packet.payloadType());
                    assertArrayEquals(payload(1000 + packet.sequence() - 500, 80), packet.payload());
                }
            }
        }
        assertEquals(2, events.stream().filter(e -> e instanceof TrackEvent.TrackAdded).count());
        assertTrue(server.stats().packetsOut() >= 6 * 60);
    }

    /**
     * A receiver whose offer gives extmap id 2 to audio-level on audio and to abs-send-time on video in one BUNDLE
     * group, as aiortc 1.4 does, and which reads every packet of the transport with one id map: it must never get
     * id 2 meaning audio-level on audio packets and abs-send-time on video packets.
     */
    @Test
    void aReceiverReusingAnExtmapIdAcrossSectionsGetsTheIdWithOneMeaningOnly() throws Exception {
        server.createConference("extmap");
        ClientTrack audio = ClientTrack.audio("cam");
        ClientTrack video = ClientTrack.video("cam");
        ClientEndpoint publisher = publisher("extmap", "alice", audio, video);

        ClientEndpoint viewer = track(TestMedia.client());
        String offer = viewer.receiveOffer().replaceAll("a=extmap:[^\r\n]*\r\n", "")
                .replace("a=mid:0\r\n", "a=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
                        + "a=extmap:2 " + CodecPolicy.AUDIO_LEVEL + "\r\n")
                .replace("a=mid:1\r\n", "a=mid:1\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
                        + "a=extmap:2 " + CodecPolicy.ABS_SEND_TIME + "\r\n");
        WhipResource play = server.whepPlay("extmap", "alice", offer);
        StackOfferTest.assertOneMeaningPerId(play.answer());
        viewer.acceptAnswer(play.answer());
        assertTrue(viewer.awaitSecure(WAIT), "viewer connects: " + viewer.dtlsFailure());
        TestMedia.awaitServerSide(server, play.endpointId(), false, true);
        PeerDescription answer = viewer.remoteDescription();
        assertEquals(List.of(new HeaderExtension(2, CodecPolicy.AUDIO_LEVEL)), answer.media().get(0).extensions());
        assertEquals(List.of(), answer.media().get(1).extensions(), "abs-send-time is not negotiated on video");

        for (int i = 0; i < 40; i++) {
            // Each packet carries audio-level (id 1, 1 byte), abs-send-time (id 2, 3 bytes) and mid (id 9).
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 4000 + i, i * 3000L, false, vp8Payload(i, 600),
                    true);
            publisher.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, 8000 + i, i * 960L, false, payload(i, 60), true);
            Thread.sleep(2);
        }
        assertTrue(eventually(WAIT, () -> viewer.packetsReceived(video.ssrc()) >= 35
                && viewer.packetsReceived(audio.ssrc()) >= 35), "the packets arrive");
        List<ReceivedRtp> packets = new ArrayList<>();
        viewer.received().drainTo(packets);
        int audioPackets = 0;
        int videoPackets = 0;
        for (ReceivedRtp packet : packets) {
            byte[] data = packet.packet();
            int id2 = Rtp.findExtension(data, 0, data.length, 2);
            if (packet.ssrc() == audio.ssrc()) {
                audioPackets++;
                assertTrue(id2 > 0, "audio-level carried as id 2 on audio");
                assertEquals(1, (data[id2 - 1] & 0x0f) + 1, "id 2 on audio is the 1-byte audio level");
                assertEquals(0x2a, data[id2], "the publisher's audio level");
            } else if (packet.ssrc() == video.ssrc()) {
                videoPackets++;
                assertEquals(-1, id2, "no id 2 (abs-send-time) on video packets");
            }
            for (int id : List.of(1, ClientEndpoint.MID_ID)) {
                assertEquals(-1, Rtp.findExtension(data, 0, data.length, id), "unnegotiated id " + id + " removed");
            }
        }
        assertTrue(audioPackets >= 35 && videoPackets >= 35, audioPackets + " audio, " + videoPackets + " video");
    }

    @Test
    void feedbackFlowsKeyframeRequestsNacksReportsAndEstimates() throws Exception {
        server.createConference("fb");
        ClientTrack audio = ClientTrack.audio("s");
        ClientTrack video = ClientTrack.video("s");
        ClientEndpoint publisher = publisher("fb", "pub", audio, video);
        ClientEndpoint subscriber = subscriber("fb", "sub", SrtpProfile.AEAD_AES_128_GCM);
        for (int i = 0; i < 30; i++) {
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 2000 + i, i * 3000L, false, vp8Payload(i, 500),
                    false);
            publisher.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, 7000 + i, i * 960L, false, payload(i, 60),
                    false);
        }
        assertTrue(eventually(WAIT, () -> subscriber.packetsReceived(video.ssrc()) >= 25));
        publisher.feedback().clear();
        subscriber.received().clear();

        // PLI from the subscriber reaches the publisher for the same SSRC.
        byte[] rtcp = new byte[256];
        Thread.sleep(350); // the server sends at most one keyframe request per 300 ms and track
        int length = Rtcp.writeReceiverReportHeader(rtcp, 0, subscriber.rtcpSsrc(), 0);
        length += Rtcp.writePli(rtcp, length, subscriber.rtcpSsrc(), video.ssrc());
        subscriber.sendRtcp(rtcp, length);
        assertNotNull(awaitFeedback(publisher, "pli", video.ssrc()), "PLI forwarded to the publisher");

        // A NACK is answered from the server's cache as RTX carrying the original sequence number and payload.
        length = Rtcp.writeReceiverReportHeader(rtcp, 0, subscriber.rtcpSsrc(), 0);
        length += Rtcp.writeNack(rtcp, length, subscriber.rtcpSsrc(), video.ssrc(), 2010, 0b101);
        subscriber.sendRtcp(rtcp, length);
        List<ReceivedRtp> retransmitted = new ArrayList<>();
        assertTrue(eventually(WAIT, () -> {
            subscriber.received().drainTo(retransmitted);
            return retransmitted.stream().filter(p -> p.ssrc() == video.rtxSsrc()).count() >= 2;
        }), "retransmissions arrive on the RTX stream (three asked for; one may have been lost on the way in)");
        // Originals still in flight from the burst above may arrive after the clear: only the RTX stream counts.
        retransmitted.removeIf(p -> p.ssrc() != video.rtxSsrc());
        for (ReceivedRtp rtx : retransmitted) {
            assertEquals(97, rtx.payloadType());
            byte[] body = rtx.payload();
            int original = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
            assertTrue(original == 2010 || original == 2011 || original == 2013);
            byte[] media = java.util.Arrays.copyOfRange(body, 2, body.length);
            assertArrayEquals(vp8Payload(original - 2000, 500), media);
        }

        // The server reports on what it receives and sends a bandwidth estimate.
        assertNotNull(awaitFeedback(publisher, "rr", video.ssrc()), "receiver report about the video");
        ReceivedFeedback remb = awaitFeedback(publisher, "remb", video.ssrc());
        assertNotNull(remb, "REMB for the video");
        assertTrue(remb.value() >= 100_000);

        // A subscriber that can take little holds the publisher down to its share (no simulcast to switch).
        length = Rtcp.writeReceiverReportHeader(rtcp, 0, subscriber.rtcpSsrc(), 0);
        length += Rtcp.writeRemb(rtcp, length, subscriber.rtcpSsrc(), 180_000, new long[] {video.ssrc()}, 1);
        subscriber.sendRtcp(rtcp, length);
        assertTrue(eventually(WAIT, () -> {
            ReceivedFeedback next = awaitFeedback(publisher, "remb", video.ssrc());
            return next != null && next.value() <= 180_000;
        }), "the publisher's REMB follows the weakest subscriber");

        // Sender reports are passed on, and the subscriber's reply gives the server an RTT.
        long ntp = Rtcp.ntpTime(System.currentTimeMillis());
        length = Rtcp.writeSenderReport(rtcp, 0, video.ssrc(), ntp, 90_000, 30, 15_000);
        publisher.sendRtcp(rtcp, length);
        ReceivedFeedback sr = awaitFeedback(subscriber, "sr", video.ssrc());
        assertNotNull(sr, "sender report forwarded");
        Thread.sleep(20);
        length = Rtcp.writeReceiverReportHeader(rtcp, 0, subscriber.rtcpSsrc(), 1);
        length += Rtcp.writeReportBlock(rtcp, length, video.ssrc(), 26, 3, 2029, 10, sr.value(), 0);
        subscriber.sendRtcp(rtcp, length);
        assertTrue(eventually(WAIT, () -> {
            EndpointStats stats = server.stats().endpointStats().stream()
                    .filter(s -> s.endpointId().equals("sub")).findFirst().orElseThrow();
            return stats.rttMs() != null && stats.rttMs() >= 0 && stats.subscribeLoss() > 0.09;
        }), "RTT and loss known for the subscriber");
        assertEquals(0, server.stats().drops().get(DropReason.RTCP_UNKNOWN_SSRC.metricName()));
    }

    @Test
    void h264IsForwardedWithTheSubscribersPayloadTypeWhenThePublisherOffersIt() throws Exception {
        server.createConference("h264");
        server.createEndpoint("h264", "pub");
        ClientEndpoint publisher = track(TestMedia.client());
        ClientTrack video = ClientTrack.video("cam");
        publisher.acceptAnswer(server.publish("h264", "pub", publisher.publishOffer(List.of(video), true)));
        assertTrue(publisher.awaitSecure(WAIT));
        TestMedia.awaitServerSide(server, "pub", true, false);
        ClientEndpoint subscriber = subscriber("h264", "sub", SrtpProfile.AEAD_AES_128_GCM);
        OfferedMedia offered = subscriber.remoteDescription().media().get(0);
        assertEquals(List.of("VP8", "H264"), offered.codecs().stream().map(c -> c.name()).toList());
        assertEquals("1", offered.codecs().get(1).packetizationMode());
        for (int i = 0; i < 10; i++) {
            publisher.sendRtp(video.ssrc(), ClientEndpoint.H264_PT, 300 + i, i * 3000L, true, payload(i, 700), false);
        }
        assertTrue(eventually(WAIT, () -> subscriber.packetsReceived(video.ssrc()) >= 8));
        List<ReceivedRtp> packets = new ArrayList<>();
        subscriber.received().drainTo(packets);
        for (ReceivedRtp packet : packets) {
            assertEquals(102, packet.payloadType(), "H.264 carries the server's payload type 102");
            assertArrayEquals(payload(packet.sequence() - 300, 700), packet.payload());
        }
    }

    @Test
    void aLaterPublisherIsOfferedToEarlierSubscribersAndRemovedWhenItLeaves() throws Exception {
        server.createConference("late");
        server.createEndpoint("late", "early");
        assertTrue(server.subscribeOffer("late", "early").isEmpty(), "nothing to subscribe to yet");
        ClientTrack video = ClientTrack.video("v");
        publisher("late", "pub", video);
        assertTrue(server.events("late", 0).stream().anyMatch(e -> e instanceof TrackEvent.SubscriptionChanged c
                && c.endpointId().equals("early")), "the earlier participant is told to renegotiate");
        SubscribeOffer first = server.subscribeOffer("late", "early").orElseThrow();
        ClientEndpoint early = track(TestMedia.client());
        server.subscribeAnswer("late", "early", early.answer(first.sdp()));
        assertTrue(early.awaitSecure(WAIT));
        server.closeEndpoint("late", "pub");
        assertTrue(server.tracks("late").isEmpty());
        SubscribeOffer second = server.subscribeOffer("late", "early").orElseThrow();
        assertTrue(second.version() > first.version());
        assertTrue(second.sdp().contains("a=inactive"), "the gone track's section becomes inactive");
        assertFalse(second.sdp().contains("a=ssrc:" + video.ssrc()));
        assertTrue(server.events("late", 0).stream().anyMatch(e -> e instanceof TrackEvent.TrackRemoved));
    }

    static ReceivedFeedback awaitFeedback(ClientEndpoint client, String type, long mediaSsrc) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            ReceivedFeedback feedback = client.feedback().poll(100, TimeUnit.MILLISECONDS);
            if (feedback != null && feedback.type().equals(type) && feedback.mediaSsrc() == mediaSsrc) {
                return feedback;
            }
        }
        return null;
    }

    @Test
    void nacksAreAnsweredOnceEachAndOnlyWithinTheSubscribersRetransmissionBudget() throws Exception {
        server.createConference("budget");
        ClientTrack video = ClientTrack.video("b");
        ClientEndpoint publisher = publisher("budget", "pub", video);
        ClientEndpoint subscriber = subscriber("budget", "sub", SrtpProfile.AEAD_AES_128_GCM);
        for (int i = 0; i < 200; i++) {
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 3000 + i, i * 3000L, false, vp8Payload(i, 300),
                    false);
            if (i % 20 == 19) {
                Thread.sleep(5);
            }
        }
        assertTrue(eventually(WAIT, () -> subscriber.packetsReceived(video.ssrc()) >= 180));
        subscriber.received().clear();

        // The same sequence number asked for twenty times in one compound packet is retransmitted once.
        long duplicates = drops(DropReason.NACK_DUPLICATE);
        byte[] rtcp = new byte[1200];
        int length = Rtcp.writeReceiverReportHeader(rtcp, 0, subscriber.rtcpSsrc(), 0);
        for (int i = 0; i < 20; i++) {
            length += Rtcp.writeNack(rtcp, length, subscriber.rtcpSsrc(), video.ssrc(), 3100, 0);
        }
        subscriber.sendRtcp(rtcp, length);
        assertTrue(eventually(WAIT, () -> drops(DropReason.NACK_DUPLICATE) == duplicates + 19));

        // A flood asking for every packet gets no more than the budget's burst; the rest is dropped and counted.
        Thread.sleep(150);
        long overBudget = drops(DropReason.NACK_BUDGET_EXCEEDED);
        long notCached = drops(DropReason.NACK_NOT_IN_CACHE);
        length = Rtcp.writeReceiverReportHeader(rtcp, 0, subscriber.rtcpSsrc(), 0);
        for (int k = 0; k < 11; k++) {
            length += Rtcp.writeNack(rtcp, length, subscriber.rtcpSsrc(), video.ssrc(), 3000 + 17 * k, 0xffff);
        }
        subscriber.sendRtcp(rtcp, length);
        int asked = 11 * 17;
        int allowed = SubscribeTransport.RETRANSMIT_BURST;
        // (a packet lost on its way in is not in the cache: it costs no budget)
        assertTrue(eventually(WAIT, () -> drops(DropReason.NACK_BUDGET_EXCEEDED) - overBudget
                        + drops(DropReason.NACK_NOT_IN_CACHE) - notCached >= asked - allowed),
                () -> "over budget: " + (drops(DropReason.NACK_BUDGET_EXCEEDED) - overBudget));
        assertTrue(drops(DropReason.NACK_BUDGET_EXCEEDED) - overBudget > 100);
        Thread.sleep(300);
        List<ReceivedRtp> received = new ArrayList<>();
        subscriber.received().drainTo(received);
        long retransmissions = received.stream().filter(p -> p.ssrc() == video.rtxSsrc()).count();
        assertTrue(retransmissions >= 1 && retransmissions <= 1 + allowed, "retransmitted " + retransmissions);
        String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                server.httpUri().resolve("/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("reason=\"nack_budget_exceeded\""), "exported in /metrics");
    }

    @Test
    void aPacketLostOnThePublishersUplinkIsAskedForAndItsRetransmissionReachesSubscribersInItsPlace() throws Exception {
        server.createConference("repair");
        ClientTrack video = ClientTrack.video("r");
        ClientEndpoint publisher = publisher("repair", "pub", video);
        ClientEndpoint subscriber = subscriber("repair", "sub", SrtpProfile.AEAD_AES_128_GCM);
        for (int i = 0; i < 30; i++) {
            if (i != 10 && i != 11) {
                publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 4000 + i, i * 3000L, false,
                        vp8Payload(i, 400), false);
            }
        }
        List<Long> asked = nacksFor(publisher, video.ssrc(), 4011);
        assertTrue(asked.contains(4010L) && asked.contains(4011L), "both missing packets asked for: " + asked);

        // The publisher answers as RTX; a copy of a packet the server has, and padding, are not forwarded.
        long unwanted = drops(DropReason.RTX_FROM_PUBLISHER);
        publisher.sendRtp(video.rtxSsrc(), ClientEndpoint.VP8_RTX_PT, 1, 10 * 3000L, false, rtx(4010, 10), false);
        publisher.sendRtp(video.rtxSsrc(), ClientEndpoint.VP8_RTX_PT, 2, 11 * 3000L, false, rtx(4011, 11), false);
        publisher.sendRtp(video.rtxSsrc(), ClientEndpoint.VP8_RTX_PT, 3, 5 * 3000L, false, rtx(4005, 5), false);
        List<ReceivedRtp> received = new ArrayList<>();
        assertTrue(eventually(WAIT, () -> {
            subscriber.received().drainTo(received);
            return received.stream().filter(p -> p.ssrc() == video.ssrc()
                    && (p.sequence() == 4010 || p.sequence() == 4011)).count() == 2;
        }), "the retransmissions reach the subscriber under the numbers the gap left");
        for (ReceivedRtp packet : received) {
            if (packet.sequence() == 4010 || packet.sequence() == 4011) {
                assertEquals(96, packet.payloadType(), "the media payload type, not RTX's");
                assertEquals((packet.sequence() - 4000) * 3000L, packet.timestamp());
                assertArrayEquals(vp8Payload(packet.sequence() - 4000, 400), packet.payload());
            }
        }
        assertTrue(eventually(WAIT, () -> drops(DropReason.RTX_FROM_PUBLISHER) >= unwanted + 1));
        Thread.sleep(100);
        subscriber.received().drainTo(received);
        assertTrue(received.stream().filter(p -> p.sequence() == 4005).count() <= 1, "no second copy of 4005");
        EndpointStats stats = server.stats().endpointStats().stream()
                .filter(s -> s.endpointId().equals("pub")).findFirst().orElseThrow();
        assertEquals(2, stats.publishRepair().recovered());
        assertTrue(stats.publishRepair().requested() >= 2);

        // A packet never answered is asked for again, a bounded number of times, then given up and counted.
        long lost = drops(DropReason.PUBLISHER_PACKET_LOST);
        publisher.feedback().clear();
        publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 4031, 31 * 3000L, false, vp8Payload(31, 400), false);
        assertTrue(eventually(WAIT, () -> drops(DropReason.PUBLISHER_PACKET_LOST) > lost), "given up");
        List<ReceivedFeedback> feedback = new ArrayList<>();
        publisher.feedback().drainTo(feedback);
        long requests = feedback.stream().filter(f -> f.type().equals("nack") && f.value() == 4030).count();
        assertTrue(requests >= 2 && requests <= RetransmissionRequests.MAX_REQUESTS, "asked " + requests + " times");
        String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                server.httpUri().resolve("/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("parley_media_publisher_packets_recovered_total 2"), "exported in /metrics");
    }

    /** The packets NACKs ask the publisher for, until one asks for {@code last}. */
    private static List<Long> nacksFor(ClientEndpoint publisher, long mediaSsrc, long last) throws Exception {
        List<Long> asked = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && !asked.contains(last)) {
            ReceivedFeedback feedback = publisher.feedback().poll(100, TimeUnit.MILLISECONDS);
            if (feedback != null && feedback.type().equals("nack") && feedback.mediaSsrc() == mediaSsrc) {
                asked.add(feedback.value());
            }
        }
        return asked;
    }

    /** The RTX payload (RFC 4588) that carries packet {@code sequence}: its sequence number, then its payload. */
    private static byte[] rtx(int sequence, int seed) {
        byte[] media = vp8Payload(seed, 400);
        byte[] payload = new byte[media.length + 2];
        payload[0] = (byte) (sequence >>> 8);
        payload[1] = (byte) sequence;
        System.arraycopy(media, 0, payload, 2, media.length);
        return payload;
    }

    private long drops(DropReason reason) {
        return server.stats().drops().get(reason.metricName());
    }

    /**
     * A VP8 payload whose descriptor (RFC 7741) is the one-byte form that starts a partition, so the server has no
     * PictureID to rewrite and the payload arrives unchanged.
     */
    static byte[] vp8Payload(int seed, int length) {
        byte[] payload = payload(seed, length);
        payload[0] = 0x10;
        return payload;
    }

    static byte[] payload(int seed, int length) {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            payload[i] = (byte) (seed * 31 + i * 7);
        }
        return payload;
    }
}
