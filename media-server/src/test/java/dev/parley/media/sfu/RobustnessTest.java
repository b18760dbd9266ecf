package dev.parley.media.sfu;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.rtp.Rtcp;
import dev.parley.media.sdp.MediaKind;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Hostile and broken peers: every bad packet is dropped and counted, never forwarded, and the server lives on. */
class RobustnessTest {
    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(ClientEndpoint::close);
        if (server != null) {
            server.close();
        }
    }

    private long drops(DropReason reason) {
        return server.stats().drops().get(reason.metricName());
    }

    private ClientEndpoint client() throws Exception {
        ClientEndpoint client = TestMedia.client();
        clients.add(client);
        return client;
    }

    /** A publisher with one video track and a subscriber to it, both connected. */
    private ClientEndpoint[] call(String conference, ClientTrack video) throws Exception {
        server.createConference(conference);
        server.createEndpoint(conference, "pub");
        server.createEndpoint(conference, "sub");
        ClientEndpoint publisher = client();
        publisher.acceptAnswer(server.publish(conference, "pub", publisher.publishOffer(List.of(video), false)));
        ClientEndpoint subscriber = client();
        server.subscribeAnswer(conference, "sub",
                subscriber.answer(server.subscribeOffer(conference, "sub").orElseThrow().sdp()));
        assertTrue(publisher.awaitSecure(WAIT) && subscriber.awaitSecure(WAIT));
        TestMedia.awaitServerSide(server, "pub", true, false);
        TestMedia.awaitServerSide(server, "sub", false, true);
        return new ClientEndpoint[] {publisher, subscriber};
    }

    @Test
    void garbageAndUnknownStunOnTheSharedPortAreDroppedAndTheServerStillWorks() throws Exception {
        server = MediaServer.start(TestMedia.config());
        InetSocketAddress port = server.udpAddresses().get(0);
        Random random = new Random(7);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(TestMedia.loopback(), 0))) {
            for (int i = 0; i < 200; i++) {
                byte[] junk = new byte[1 + random.nextInt(1200)];
                random.nextBytes(junk);
                socket.send(new DatagramPacket(junk, junk.length, port));
            }
            // Loopback UDP may drop under load, so send (a bounded number of) requests until five were counted.
            byte[] stun = bindingRequest("nosuchufrag:peer");
            for (int i = 0; i < 200 && drops(DropReason.STUN_UNKNOWN_UFRAG) < 5; i++) {
                socket.send(new DatagramPacket(stun, stun.length, port));
                Thread.sleep(20);
            }
        }
        assertTrue(eventually(WAIT, () -> drops(DropReason.STUN_UNKNOWN_UFRAG) >= 5));
        ClientTrack video = ClientTrack.video("v");
        ClientEndpoint[] call = call("after-garbage", video);
        // Garbage on an established pair is counted too.
        long before = drops(DropReason.NOT_RTP_OR_DTLS);
        call[0].sendRaw(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        call[0].sendRaw("hello".getBytes(StandardCharsets.US_ASCII));
        assertTrue(eventually(WAIT, () -> drops(DropReason.NOT_RTP_OR_DTLS) >= before + 2));
        call[0].sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 1, 0, false, new byte[100], false);
        assertTrue(eventually(WAIT, () -> call[1].packetsReceived(video.ssrc()) == 1));
    }

    @Test
    void withTheDefaultConfigurationChecksFromLoopbackAreRefused() throws Exception {
        MediaConfig base = TestMedia.config();
        server = MediaServer.start(MediaConfig.from(ConfigFactory.parseString("parley.media { udp-port = 0, "
                        + "http-port = 0 }").withFallback(ConfigFactory.defaultReference()).resolve()
                        .getConfig("parley.media"))
                .withTimeouts(base.connectTimeout(), base.consentTimeout(), base.consentInterval()));
        assertALoopbackClientIsRefused("loopback is not allowed by default");
    }

    @Test
    void stunFromOutsideTheAllowedNetworksIsRefused() throws Exception {
        MediaConfig base = TestMedia.config();
        server = MediaServer.start(new MediaConfig(0, "127.0.0.1", 0, base.addresses(), null,
                new AllowedNetworks(List.of(Cidr.parse("127.0.0.2/32"))), 10, 10, base.connectTimeout(),
                base.consentTimeout(), base.consentInterval(), base.srtpProfiles(), base.maxBitrate(), "",
                base.maxTracksPerPublisher(), true, List.of()));
        assertALoopbackClientIsRefused("127.0.0.1 is not allowed");
    }

    /** A client on 127.0.0.1 publishes; its checks are refused and counted, so it never connects. */
    private void assertALoopbackClientIsRefused(String why) throws Exception {
        server.createConference("c");
        server.createEndpoint("c", "e");
        ClientEndpoint client = client();
        String answer = server.publish("c", "e", client.publishOffer(List.of(ClientTrack.audio("a")), false));
        client.acceptAnswer(answer);
        assertFalse(client.awaitSecure(java.time.Duration.ofSeconds(3)), why);
        assertTrue(drops(DropReason.REMOTE_NOT_ALLOWED) > 0);
    }

    @Test
    void aWrongDtlsFingerprintFailsTheHandshakeAndExpiresTheEndpoint() throws Exception {
        server = MediaServer.start(TestMedia.config());
        server.createConference("fp");
        server.createEndpoint("fp", "liar");
        ClientEndpoint liar = ClientEndpoint.withWrongFingerprint(TestMedia.loopback(), TestMedia.LOOPBACK);
        clients.add(liar);
        liar.acceptAnswer(server.publish("fp", "liar", liar.publishOffer(List.of(ClientTrack.video("v")), false)));
        assertFalse(liar.awaitSecure(java.time.Duration.ofSeconds(10)));
        assertTrue(eventually(WAIT, () -> drops(DropReason.DTLS_FAILED) >= 1));
        assertTrue(eventually(WAIT, () -> server.events("fp", 0).stream()
                .anyMatch(e -> e instanceof TrackEvent.EndpointClosed closed && closed.endpointId().equals("liar"))));
        assertTrue(server.tracks("fp").isEmpty());
    }

    @Test
    void tamperedReplayedAndUnknownSsrcPacketsAreNeverForwarded() throws Exception {
        server = MediaServer.start(TestMedia.config());
        ClientTrack video = ClientTrack.video("v");
        ClientEndpoint[] call = call("bad-srtp", video);
        ClientEndpoint publisher = call[0];
        ClientEndpoint subscriber = call[1];
        publisher.sendRtpTampered(video.ssrc(), ClientEndpoint.VP8_PT, 10, new byte[200], 1, true);
        assertTrue(eventually(WAIT, () -> drops(DropReason.SRTP_AUTH_FAIL) >= 1));
        publisher.sendRtpTampered(video.ssrc(), ClientEndpoint.VP8_PT, 11, new byte[200], 3, false);
        assertTrue(eventually(WAIT, () -> drops(DropReason.SRTP_REPLAY) >= 2));
        publisher.sendRtp(424242, ClientEndpoint.VP8_PT, 1, 0, false, new byte[50], false);
        assertTrue(eventually(WAIT, () -> drops(DropReason.UNKNOWN_SSRC) >= 1));
        publisher.sendRtp(video.ssrc(), 55, 12, 0, false, new byte[50], false);
        assertTrue(eventually(WAIT, () -> drops(DropReason.PAYLOAD_TYPE_NOT_NEGOTIATED) >= 1));
        Thread.sleep(300);
        assertEquals(1, subscriber.packetsReceived(video.ssrc()), "only the one good packet (seq 11) arrived");
        assertEquals(0, subscriber.packetsReceived(424242));
    }

    @Test
    void rtcpThatLiesAboutSsrcsIsDroppedAndNotForwarded() throws Exception {
        server = MediaServer.start(TestMedia.config());
        ClientTrack video = ClientTrack.video("v");
        ClientEndpoint[] call = call("lies", video);
        ClientEndpoint publisher = call[0];
        ClientEndpoint subscriber = call[1];
        byte[] rtcp = new byte[128];
        int length = Rtcp.writeReceiverReportHeader(rtcp, 0, subscriber.rtcpSsrc(), 0);
        length += Rtcp.writePli(rtcp, length, subscriber.rtcpSsrc(), 777);
        length += Rtcp.writeNack(rtcp, length, subscriber.rtcpSsrc(), 778, 1, 0);
        subscriber.sendRtcp(rtcp, length);
        length = Rtcp.writeSenderReport(rtcp, 0, 999, Rtcp.ntpTime(System.currentTimeMillis()), 0, 1, 1);
        publisher.sendRtcp(rtcp, length);
        assertTrue(eventually(WAIT, () -> drops(DropReason.RTCP_UNKNOWN_SSRC) >= 3));
        Thread.sleep(300);
        assertTrue(publisher.feedback().stream().noneMatch(f -> f.mediaSsrc() == 777 || f.mediaSsrc() == 778));
        assertTrue(subscriber.feedback().stream().noneMatch(f -> f.mediaSsrc() == 999));
        // Malformed RTCP (lengths that do not add up) is dropped as well.
        long malformed = drops(DropReason.MALFORMED_RTCP);
        length = Rtcp.writePli(rtcp, 0, subscriber.rtcpSsrc(), video.ssrc());
        rtcp[3] = 9;
        subscriber.sendRtcp(rtcp, length);
        assertTrue(eventually(WAIT, () -> drops(DropReason.MALFORMED_RTCP) > malformed));
    }

    @Test
    void endpointsThatLoseConsentOrNeverConnectAreExpiredAndFreed() throws Exception {
        server = MediaServer.start(TestMedia.config());
        ClientTrack video = ClientTrack.video("v");
        ClientEndpoint[] call = call("expiry", video);
        server.createEndpoint("expiry", "silent");
        ClientEndpoint silent = client();
        server.publish("expiry", "silent", silent.publishOffer(List.of(ClientTrack.audio("s")), false));
        // "silent" never starts ICE; the publisher vanishes without a word.
        call[0].close();
        assertTrue(eventually(java.time.Duration.ofSeconds(30), () -> server.events("expiry", 0).stream()
                .filter(e -> e instanceof TrackEvent.EndpointClosed).map(e -> (TrackEvent.EndpointClosed) e)
                .filter(e -> e.endpointId().equals("pub") && e.reason().contains("consent")
                        || e.endpointId().equals("silent")
                        && (e.reason().contains("never connected") || e.reason().contains("ICE failed")))
                .count() == 2), () -> "events: " + server.events("expiry", 0));
        assertEquals(List.of("sub"), server.conferences().get(0).endpointIds());
        assertTrue(server.tracks("expiry").isEmpty());
        // The live subscriber keeps answering consent checks, so it outlives the consent timeout by far.
        Thread.sleep(server.config().consentTimeout().toMillis());
        assertEquals(List.of("sub"), server.conferences().get(0).endpointIds());
        assertTrue(eventually(WAIT, () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().contains("expiry/pub/") || t.getName().contains("expiry/silent/"))),
                "the expired endpoints' receive and DTLS threads are gone");
    }

    @Test
    void endpointsThatNeverStartATransportExpireButALoneReceiveOnlyParticipantWaits() throws Exception {
        MediaConfig base = TestMedia.config();
        server = MediaServer.start(base.withTimeouts(java.time.Duration.ofSeconds(2), base.consentTimeout(),
                base.consentInterval()));
        server.createConference("idle");
        server.createEndpoint("idle", "listener");
        server.createEndpoint("idle", "squatter");
        server.createEndpoint("idle", "offered");
        ClientEndpoint publisher = client();
        server.publish("idle", "offered", publisher.publishOffer(List.of(ClientTrack.audio("o")), false));
        // "offered" published a track, so "listener" and "squatter" have something to receive; "offered" took the
        // subscribe offer of nothing and "squatter" asked for a subscribe offer it never answers.
        server.subscribeOffer("idle", "squatter");
        java.util.function.Predicate<String> closed = id -> server.events("idle", 0).stream()
                .anyMatch(e -> e instanceof TrackEvent.EndpointClosed c && c.endpointId().equals(id)
                        && c.reason().contains("never connected"));
        assertTrue(eventually(java.time.Duration.ofSeconds(10), () -> closed.test("squatter")
                && closed.test("listener")), () -> "events: " + server.events("idle", 0));
        assertEquals(0, server.stats().endpointStats().stream().filter(s -> s.endpointId().equals("squatter"))
                .count());

        server.createConference("alone");
        server.createEndpoint("alone", "receive-only");
        Thread.sleep(3500);
        assertEquals(List.of("receive-only"), server.conferences().stream().filter(c -> c.conferenceId()
                .equals("alone")).findFirst().orElseThrow().endpointIds(), "alone with nothing to receive, it waits");
    }

    @Test
    void aPublisherMayNotExceedItsTrackCapNorTakeAnotherPublishersSsrc() throws Exception {
        server = MediaServer.start(TestMedia.config().withMaxTracksPerPublisher(3));
        server.createConference("c");
        server.createEndpoint("c", "greedy");
        ClientEndpoint greedy = client();
        List<ClientTrack> four = List.of(ClientTrack.audio("a"), ClientTrack.audio("b"), ClientTrack.video("c"),
                ClientTrack.video("d"));
        MediaException tooMany = assertThrows(MediaException.class,
                () -> server.publish("c", "greedy", greedy.publishOffer(four, false)));
        assertEquals(ErrorCode.TOO_MANY_TRACKS, tooMany.code());
        assertTrue(tooMany.getMessage().contains("at most 3"), tooMany.getMessage());

        server.createEndpoint("c", "first");
        ClientTrack taken = ClientTrack.video("first");
        server.publish("c", "first", client().publishOffer(List.of(taken), false));
        server.createEndpoint("c", "thief");
        for (ClientTrack copy : List.of(new ClientTrack(MediaKind.AUDIO, taken.ssrc(), 0, "t", "t-audio"),
                new ClientTrack(MediaKind.VIDEO, 4242, taken.rtxSsrc(), "t", "t-video"))) {
            MediaException conflict = assertThrows(MediaException.class,
                    () -> server.publish("c", "thief", client().publishOffer(List.of(copy), false)));
            assertEquals(ErrorCode.SSRC_CONFLICT, conflict.code());
        }
        MediaException twice = assertThrows(MediaException.class, () -> server.publish("c", "thief",
                client().publishOffer(List.of(new ClientTrack(MediaKind.AUDIO, 77, 0, "x", "x-a"),
                        new ClientTrack(MediaKind.AUDIO, 77, 0, "y", "y-a")), false)));
        assertEquals(ErrorCode.SSRC_CONFLICT, twice.code());
        assertEquals(1, server.tracks("c").size(), "only the first publisher's track exists");
        server.publish("c", "thief", client().publishOffer(List.of(ClientTrack.audio("fine")), false));
        assertEquals(2, server.tracks("c").size());
    }

    @Test
    void capsOnConferencesAndEndpointsAnswerWithClearCodes() throws Exception {
        server = MediaServer.start(TestMedia.config().withLimits(2, 3));
        server.createConference("a");
        server.createConference("b");
        MediaException conferences = assertThrows(MediaException.class, () -> server.createConference("c"));
        assertEquals(ErrorCode.CAPACITY_CONFERENCES, conferences.code());
        server.createEndpoint("a", "1");
        server.createEndpoint("a", "2");
        server.createEndpoint("b", "3");
        MediaException endpoints = assertThrows(MediaException.class, () -> server.createEndpoint("b", "4"));
        assertEquals(ErrorCode.CAPACITY_ENDPOINTS, endpoints.code());
        server.closeEndpoint("a", "1");
        server.createEndpoint("b", "4");
    }

    /** A STUN binding request with only a USERNAME attribute (RFC 5389). */
    static byte[] bindingRequest(String username) {
        byte[] name = username.getBytes(StandardCharsets.US_ASCII);
        int padded = (name.length + 3) & ~3;
        byte[] message = new byte[20 + 4 + padded];
        message[1] = 0x01;
        message[2] = (byte) ((4 + padded) >> 8);
        message[3] = (byte) (4 + padded);
        message[4] = 0x21;
        message[5] = 0x12;
        message[6] = (byte) 0xA4;
        message[7] = 0x42;
        new Random().nextBytes(java.util.Arrays.copyOfRange(message, 8, 20));
        for (int i = 8; i < 20; i++) {
            message[i] = (byte) (i * 13);
        }
        message[21] = 0x06;
        message[22] = (byte) (name.length >> 8);
        message[23] = (byte) name.length;
        System.arraycopy(name, 0, message, 24, name.length);
        return message;
    }
}
