package dev.parley.media.sdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The server's answers to a browser-shaped offer, and the offers it refuses. */
class SdpNegotiationTest {
    /** The shape of Chromium's publish offer: BUNDLE, mid/TWCC extensions, VP8/VP9/H264 with RTX, ssrc lines. */
    static final String CHROME_OFFER = String.join("\r\n",
            "v=0",
            "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            "a=group:BUNDLE 0 1",
            "a=extmap-allow-mixed",
            "a=msid-semantic: WMS stream1",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
            "c=IN IP4 0.0.0.0",
            "a=rtcp:9 IN IP4 0.0.0.0",
            "a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0",
            "a=candidate:2 1 udp 2113937151 198.51.100.99 50000 typ host generation 0",
            "a=candidate:3 1 udp 2113937151 abcd.local 50000 typ host generation 0",
            "a=ice-ufrag:Wx7a",
            "a=ice-pwd:kKZpMHD2XNyGzOyQ3vW5tNBi",
            "a=ice-options:trickle",
            "a=fingerprint:sha-256 7B:2D:6C:84:3E:F1:0A:5B:9C:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:"
                    + "44:55:66:77",
            "a=setup:actpass",
            "a=mid:0",
            "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
            "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
            "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
            "a=sendonly",
            "a=msid:stream1 audio1",
            "a=rtcp-mux",
            "a=rtcp-rsize",
            "a=rtpmap:111 opus/48000/2",
            "a=rtcp-fb:111 transport-cc",
            "a=fmtp:111 minptime=10;useinbandfec=1",
            "a=rtpmap:63 red/48000/2",
            "a=fmtp:63 111/111",
            "a=rtpmap:9 G722/8000",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:13 CN/8000",
            "a=rtpmap:110 telephone-event/48000",
            "a=rtpmap:126 telephone-event/8000",
            "a=ssrc:1111 cname:abc",
            "a=ssrc:1111 msid:stream1 audio1",
            "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102 103",
            "c=IN IP4 0.0.0.0",
            "a=rtcp:9 IN IP4 0.0.0.0",
            "a=ice-ufrag:Wx7a",
            "a=ice-pwd:kKZpMHD2XNyGzOyQ3vW5tNBi",
            "a=ice-options:trickle",
            "a=fingerprint:sha-256 7B:2D:6C:84:3E:F1:0A:5B:9C:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:"
                    + "44:55:66:77",
            "a=setup:actpass",
            "a=mid:1",
            "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
            "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            "a=extmap:13 urn:3gpp:video-orientation",
            "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
            "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
            "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
            "a=sendonly",
            "a=msid:stream1 video1",
            "a=rtcp-mux",
            "a=rtcp-rsize",
            "a=rtpmap:96 VP8/90000",
            "a=rtcp-fb:96 goog-remb",
            "a=rtcp-fb:96 transport-cc",
            "a=rtcp-fb:96 ccm fir",
            "a=rtcp-fb:96 nack",
            "a=rtcp-fb:96 nack pli",
            "a=rtpmap:97 rtx/90000",
            "a=fmtp:97 apt=96",
            "a=rtpmap:98 VP9/90000",
            "a=fmtp:98 profile-id=0",
            "a=rtpmap:99 rtx/90000",
            "a=fmtp:99 apt=98",
            "a=rtpmap:102 H264/90000",
            "a=rtcp-fb:102 nack pli",
            "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
            "a=rtpmap:103 rtx/90000",
            "a=fmtp:103 apt=102",
            "a=ssrc-group:FID 2222 3333",
            "a=ssrc:2222 cname:abc",
            "a=ssrc:2222 msid:stream1 video1",
            "a=ssrc:3333 cname:abc",
            "a=ssrc:3333 msid:stream1 video1",
            "");

    private static MediaServer server;

    @BeforeAll
    static void start() throws Exception {
        server = MediaServer.start(TestMedia.config());
        server.createConference("sdp");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void theAnswerToABrowserOfferIsBundledMuxedAndKeepsOnlyWhatTheServerForwards() throws Exception {
        server.createEndpoint("sdp", "chrome");
        String answer = server.publish("sdp", "chrome", CHROME_OFFER);
        PeerDescription parsed = PeerDescription.parse(answer);
        assertTrue(answer.contains("a=group:BUNDLE 0 1"));
        assertTrue(answer.contains("a=setup:passive"));
        assertFalse(answer.contains("a=setup:actpass"));
        assertTrue(parsed.transport().fingerprint().matches("([0-9A-F]{2}:){31}[0-9A-F]{2}"));
        assertTrue(parsed.transport().candidates().stream()
                .allMatch(c -> c.address().equals("127.0.0.1") && c.type().equals("host")));
        assertFalse(parsed.transport().candidates().isEmpty());
        OfferedMedia audio = parsed.media().get(0);
        OfferedMedia video = parsed.media().get(1);
        assertEquals(Direction.RECVONLY, audio.direction());
        assertEquals(List.of("opus"), audio.codecs().stream().map(Codec::name).toList());
        assertEquals(111, audio.codecs().get(0).payloadType());
        assertEquals(List.of("VP8", "H264"), video.codecs().stream().map(Codec::name).toList());
        assertEquals(97, video.codecs().get(0).rtxPayloadType());
        assertEquals(103, video.codecs().get(1).rtxPayloadType());
        assertTrue(video.codecs().get(0).feedback().containsAll(List.of("nack", "nack pli", "ccm fir", "goog-remb")));
        assertFalse(answer.contains("sdes:mid"), "the server does not rewrite mid, so it does not negotiate it");
        assertTrue(video.extensions().stream().anyMatch(e -> e.id() == 13 && e.uri().equals("urn:3gpp:video-orientation")));
        assertEquals(2, server.tracks("sdp").stream().filter(t -> t.publisherEndpointId().equals("chrome")).count());
        assertTrue(answer.lines().allMatch(line -> !line.contains("198.51.100")), "nothing of other networks echoed");
    }

    @Test
    void aBrowserThatOffersTransportWideCongestionControlGetsIt() throws Exception {
        server.createConference("twcc");
        server.createEndpoint("twcc", "chrome");
        String answer = server.publish("twcc", "chrome", CHROME_OFFER);
        PeerDescription parsed = PeerDescription.parse(answer);
        HeaderExtension transportWide = new HeaderExtension(3,
                "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
        for (OfferedMedia media : parsed.media()) {
            assertTrue(media.extensions().contains(transportWide), "the offer's id, in section " + media.mid());
        }
        OfferedMedia audio = parsed.media().get(0);
        OfferedMedia video = parsed.media().get(1);
        assertEquals(List.of("transport-cc"), audio.codecs().get(0).feedback(), "Opus offered transport-cc");
        assertEquals(List.of("nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"),
                video.codecs().get(0).feedback(), "VP8 keeps REMB beside transport-cc, as a fallback");
        assertFalse(video.codecs().get(1).feedback().contains("transport-cc"), "H.264 was offered without it");
        assertTrue(answer.contains("a=rtcp-fb:96 transport-cc\r\n") && answer.contains("a=rtcp-fb:111 transport-cc\r\n"));

    }

    @Test
    void subscribersAreOfferedTransportWideCongestionControlUnderOneIdOnEveryCodec() throws Exception {
        server.createConference("twcc-sub");
        server.createEndpoint("twcc-sub", "chrome");
        server.publish("twcc-sub", "chrome", CHROME_OFFER);
        server.createEndpoint("twcc-sub", "viewer");
        String sdp = server.subscribeOffer("twcc-sub", "viewer").orElseThrow().sdp();
        PeerDescription offer = PeerDescription.parse(sdp);
        assertEquals(2, offer.media().size(), sdp);
        HeaderExtension transportWide = new HeaderExtension(CodecPolicy.SUBSCRIBE_TRANSPORT_CC_ID,
                CodecPolicy.TRANSPORT_CC);
        Set<Integer> otherIds = new HashSet<>();
        for (OfferedMedia media : offer.media()) {
            assertEquals(List.of(transportWide), media.extensions().stream()
                    .filter(e -> e.uri().equals(CodecPolicy.TRANSPORT_CC)).toList(), "section " + media.mid());
            assertEquals(media.extensions().size(), media.extensions().stream().map(HeaderExtension::id).distinct()
                    .count(), "no id twice in section " + media.mid() + ": " + media.extensions());
            media.extensions().stream().filter(e -> !e.uri().equals(CodecPolicy.TRANSPORT_CC))
                    .forEach(e -> otherIds.add(e.id()));
            assertFalse(media.codecs().isEmpty());
            for (Codec codec : media.codecs()) {
                assertTrue(codec.feedback().contains("transport-cc"), codec + " in section " + media.mid());
            }
        }
        assertEquals(List.of("VP8", "H264"), offer.media().get(1).codecs().stream().map(Codec::name).toList());
        assertFalse(otherIds.contains(CodecPolicy.SUBSCRIBE_TRANSPORT_CC_ID),
                "no other extension of the BUNDLE uses the transport-wide id: " + otherIds);
        assertTrue(sdp.contains("a=rtcp-fb:111 transport-cc\r\n") && sdp.contains("a=rtcp-fb:96 transport-cc\r\n")
                && sdp.contains("a=rtcp-fb:102 transport-cc\r\n"), sdp);
    }

    @Test
    void aWhepOfferWithTransportWideCongestionControlGetsItAndOneWithoutDoesNot() throws Exception {
        server.createConference("twcc-whep");
        server.createEndpoint("twcc-whep", "chrome");
        server.publish("twcc-whep", "chrome", CHROME_OFFER);
        String player = CHROME_OFFER.replace("a=sendonly", "a=recvonly").lines()
                .filter(line -> !line.startsWith("a=ssrc") && !line.startsWith("a=msid:"))
                .collect(Collectors.joining("\r\n", "", "\r\n"));
        PeerDescription answer = PeerDescription.parse(server.whepPlay("twcc-whep", "chrome", player).answer());
        HeaderExtension transportWide = new HeaderExtension(3, CodecPolicy.TRANSPORT_CC);
        for (OfferedMedia media : answer.media()) {
            assertTrue(media.extensions().contains(transportWide), "the offer's id, in section " + media.mid());
            assertTrue(media.codecs().get(0).feedback().contains("transport-cc"), media.codecs().get(0).toString());
        }

        String withoutFeedback = player.replace("a=rtcp-fb:111 transport-cc\r\n", "")
                .replace("a=rtcp-fb:96 transport-cc\r\n", "");
        String plain = server.whepPlay("twcc-whep", "chrome", withoutFeedback).answer();
        assertFalse(plain.contains("transport-cc"), plain);
        assertFalse(plain.contains("transport-wide-cc"), plain);
    }

    @Test
    void theTransportWideExtensionKeepsOneIdOverTheBundle() throws Exception {
        // One counter numbers every packet of the transport, so the first section's id is the transport's; a later
        // section that gives the extension another id loses it (and its transport-cc feedback).
        String offer = CHROME_OFFER.replace("a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc"
                + "-extensions-01\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:10",
                "a=extmap:5 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc"
                        + "-extensions-01\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:10");
        assertTrue(offer.contains("a=extmap:5 http://www.ietf.org/id/draft-holmer"));
        server.createConference("twcc-ids");
        server.createEndpoint("twcc-ids", "chrome");
        PeerDescription answer = PeerDescription.parse(server.publish("twcc-ids", "chrome", offer));
        OfferedMedia audio = answer.media().get(0);
        OfferedMedia video = answer.media().get(1);
        assertTrue(audio.extensions().stream().anyMatch(e -> e.id() == 3 && e.uri().contains("transport-wide-cc")));
        assertTrue(audio.codecs().get(0).feedback().contains("transport-cc"));
        assertFalse(video.extensions().stream().anyMatch(e -> e.uri().contains("transport-wide-cc")));
        assertFalse(video.codecs().get(0).feedback().contains("transport-cc"));
    }

    @Test
    void offersWithoutBothHalvesOfTransportWideCongestionControlGetNeither() throws Exception {
        String withoutExtension = CHROME_OFFER.replace(
                "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n", "");
        String withoutFeedback = CHROME_OFFER.replace("a=rtcp-fb:111 transport-cc\r\n", "")
                .replace("a=rtcp-fb:96 transport-cc\r\n", "");
        String withoutEither = withoutFeedback.replace(
                "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n", "");
        int i = 0;
        for (String offer : List.of(withoutExtension, withoutFeedback, withoutEither)) {
            assertTrue(offer.length() < CHROME_OFFER.length());
            String conference = "no-twcc-" + i++;
            server.createConference(conference);
            server.createEndpoint(conference, "chrome");
            String answer = server.publish(conference, "chrome", offer);
            assertFalse(answer.contains("transport-cc"), answer);
            assertFalse(answer.contains("transport-wide-cc"), answer);
            assertTrue(answer.contains("a=rtcp-fb:96 goog-remb"), "REMB stays");
        }
    }

    @Test
    void offersWithoutWhatWebRtcRequiresAreRefusedWithTheReason() {
        server.createEndpoint("sdp", "broken");
        assertRefused(CHROME_OFFER.replaceAll("a=fingerprint:[^\r\n]*\r\n", ""), "fingerprint");
        assertRefused(CHROME_OFFER.replaceAll("a=rtcp-mux\r\n", ""), "rtcp-mux");
        assertRefused(CHROME_OFFER.replace("a=group:BUNDLE 0 1\r\n", ""), "BUNDLE");
        assertRefused(CHROME_OFFER.replaceAll("a=ice-ufrag:[^\r\n]*\r\n", ""), "ice-ufrag");
        assertRefused("hello", "");
    }

    /** Chromium's publish offer when the camera is sent as three simulcast encodings: rids, no ssrc lines. */
    static final String CHROME_SIMULCAST_OFFER = CHROME_OFFER
            .replace("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n",
                    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                            + "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n")
            .replaceAll("a=ssrc-group:FID 2222 3333\r\n(a=ssrc:[23]{4} [^\r\n]*\r\n)*",
                    "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n");

    @Test
    void aSimulcastOfferIsAnsweredWithItsRidsAndTheExtensionsThatTellTheStreamsApart() throws Exception {
        assertTrue(CHROME_SIMULCAST_OFFER.contains("a=simulcast:send q;h;f") && !CHROME_SIMULCAST_OFFER.contains("2222"));
        server.createConference("simulcast");
        server.createEndpoint("simulcast", "chrome");
        String answer = server.publish("simulcast", "chrome", CHROME_SIMULCAST_OFFER);
        String video = answer.substring(answer.indexOf("m=video"));
        assertTrue(video.contains("a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n"),
                video);
        assertTrue(video.contains("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
        assertTrue(video.contains("a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"));
        assertTrue(video.contains("a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid"));
        String audio = answer.substring(0, answer.indexOf("m=video"));
        assertFalse(audio.contains("sdes:mid"), "only a simulcast section needs the mid");
        List<OfferedMedia> offered = PeerDescription.parse(CHROME_SIMULCAST_OFFER).media();
        assertEquals(List.of("q", "h", "f"), offered.get(1).rids());
        assertEquals(0, offered.get(1).ssrc());
        // Once the browser has turned encodings off it writes them paused; they are still the section's streams, so
        // publishing again keeps the same track (and the SSRCs the server learnt for its layers).
        String trackBefore = server.tracks("simulcast").stream().filter(t -> t.kind().equals("video")).findFirst()
                .orElseThrow().trackId();
        long ssrcBefore = server.tracks("simulcast").stream().filter(t -> t.kind().equals("video")).findFirst()
                .orElseThrow().ssrc();
        server.publish("simulcast", "chrome", CHROME_SIMULCAST_OFFER.replace("a=simulcast:send q;h;f",
                "a=simulcast:send ~q;h;~f"));
        assertEquals(List.of("q", "h", "f"), PeerDescription.parse(CHROME_SIMULCAST_OFFER.replace(
                "a=simulcast:send q;h;f", "a=simulcast:send ~q;h;~f")).media().get(1).rids());
        assertEquals(ssrcBefore, server.tracks("simulcast").stream().filter(t -> t.trackId().equals(trackBefore))
                .findFirst().orElseThrow().ssrc(), "the same track");
        // Its track reaches subscribers under an SSRC of the server's.
        assertTrue(server.tracks("simulcast").stream().anyMatch(t -> t.publisherEndpointId().equals("chrome")
                && t.kind().equals("video") && t.ssrc() != 0));
    }

    @Test
    void simulcastThatCannotWorkIsRefusedWithTheReason() {
        server.createConference("simulcast-refusals");
        server.createEndpoint("simulcast-refusals", "broken-simulcast");
        assertRefused("broken-simulcast", CHROME_SIMULCAST_OFFER.replace("a=rid:h send\r\n", ""), "no a=rid:h send");
        assertRefused("broken-simulcast", CHROME_SIMULCAST_OFFER.replace("send q;h;f", "send q;h;f;x").replace("a=rid:q send",
                "a=rid:x send\r\na=rid:q send"), "at most 3");
        assertRefused("broken-simulcast", CHROME_SIMULCAST_OFFER.replace("send q;h;f", "send q;h;f!"), "rid f!");
        assertRefused("broken-simulcast", CHROME_SIMULCAST_OFFER.replace("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n",
                ""), "rtp-stream-id");
    }

    private static void assertRefused(String offer, String reason) {
        assertRefused("broken", offer, reason);
    }

    private static void assertRefused(String endpoint, String offer, String reason) {
        String conference = endpoint.equals("broken") ? "sdp" : "simulcast-refusals";
        MediaException refused = assertThrows(MediaException.class, () -> server.publish(conference, endpoint, offer));
        assertEquals(ErrorCode.INVALID_SDP, refused.code());
        assertTrue(refused.getMessage().contains(reason), refused.getMessage());
    }

    @Test
    void aPublicAddressIsAdvertisedBesideEachHostCandidate() throws Exception {
        dev.parley.media.MediaConfig base = TestMedia.config();
        dev.parley.media.MediaConfig natted = new dev.parley.media.MediaConfig(0, "127.0.0.1", 0, base.addresses(),
                java.net.InetAddress.getByName("203.0.113.7"), base.allowedRemoteNetworks(), 10, 10,
                base.connectTimeout(), base.consentTimeout(), base.consentInterval(), base.srtpProfiles(),
                base.maxBitrate(), "", base.maxTracksPerPublisher(), true, List.of());
        try (MediaServer behindNat = MediaServer.start(natted)) {
            behindNat.createConference("nat");
            behindNat.createEndpoint("nat", "e");
            PeerDescription answer = PeerDescription.parse(behindNat.publish("nat", "e", CHROME_OFFER));
            int port = behindNat.udpAddresses().get(0).getPort();
            assertTrue(answer.transport().candidates().stream().anyMatch(c -> c.type().equals("host")
                    && c.address().equals("127.0.0.1") && c.port() == port));
            assertTrue(answer.transport().candidates().stream().anyMatch(c -> c.type().equals("srflx")
                    && c.address().equals("203.0.113.7") && c.port() == port
                    && "127.0.0.1".equals(c.relatedAddress())));
        }
    }

    @Test
    void aCandidateLineRoundTrips() {
        String line = "candidate:1 1 udp 2130706431 127.0.0.1 10000 typ srflx raddr 10.0.0.1 rport 10000";
        assertEquals(line + " generation 0", dev.parley.media.ice.IceCandidate.parse(line).toSdpValue());
        assertEquals(null, dev.parley.media.ice.IceCandidate.parse("candidate:garbage"));
    }

    @Test
    void anOfferWithMoreThan32CandidatesIsRefusedWithAClearError() {
        StringBuilder extra = new StringBuilder();
        for (int i = 0; i < PeerDescription.MAX_CANDIDATES; i++) {
            extra.append("a=candidate:").append(i + 10).append(" 1 udp 2113937151 198.51.100.").append(i)
                    .append(" 50000 typ host generation 0\r\n");
        }
        String offer = CHROME_OFFER.replace("a=ice-ufrag:Wx7a\r\n", extra + "a=ice-ufrag:Wx7a\r\n");
        server.createEndpoint("sdp", "candidates");
        MediaException refused = assertThrows(MediaException.class, () -> server.publish("sdp", "candidates", offer));
        assertEquals(ErrorCode.INVALID_SDP, refused.code());
        assertTrue(refused.getMessage().contains("at most 32"), refused.getMessage());
    }
}
