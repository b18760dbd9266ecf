package dev.parley.media.sdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.WhipResource;
import dev.parley.media.dtls.Fingerprint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Offers as independent WebRTC stacks write them (captured from GStreamer 1.22 webrtcbin and aiortc 1.4, kept as
 * fixtures under {@code sdp/}), what the server answers, and the offers it refuses with the attribute named.
 */
public class StackOfferTest {
    private static MediaServer server;

    @BeforeAll
    static void start() throws Exception {
        server = MediaServer.start(TestMedia.config());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    public static String fixture(String name) throws IOException {
        try (InputStream in = StackOfferTest.class.getResourceAsStream("/sdp/" + name)) {
            assertNotNull(in, "missing test fixture sdp/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static List<TrackInfo> tracksOf(String conference, WhipResource resource) {
        return server.tracks(conference).stream().filter(t -> t.publisherEndpointId().equals(resource.endpointId()))
                .toList();
    }

    @Test
    void gstreamersBundleOnlySectionsWithPortZeroAreBundledAndPublished() throws Exception {
        String offer = fixture("gstreamer-1.22-max-bundle-offer.sdp");
        assertTrue(offer.contains("m=audio 0 ") && offer.contains("a=bundle-only"), "the fixture's shape");
        PeerDescription parsed = PeerDescription.parse(offer);
        assertFalse(parsed.media().get(1).rejected(), "a bundle-only section is bundled, not rejected");

        WhipResource resource = server.whipPublish("gst", offer);
        String answer = resource.answer();
        assertTrue(answer.contains("a=group:BUNDLE video0 audio1\r\n"), answer);
        assertFalse(answer.contains("m=audio 0 "), answer);
        assertTrue(answer.contains("m=audio 9 UDP/TLS/RTP/SAVPF 97\r\n"), answer);
        PeerDescription read = PeerDescription.parse(answer);
        assertEquals(Direction.RECVONLY, read.media().get(1).direction());
        assertEquals(List.of("audio", "video"), tracksOf("gst", resource).stream().map(TrackInfo::kind).sorted()
                .toList());
    }

    @Test
    void gstreamersMaxCompatOfferIsBundledAsItIs() throws Exception {
        WhipResource resource = server.whipPublish("gst-compat", fixture("gstreamer-1.22-max-compat-offer.sdp"));
        assertTrue(resource.answer().contains("a=group:BUNDLE video0 audio1\r\n"), resource.answer());
        assertEquals(2, tracksOf("gst-compat", resource).size());
    }

    @Test
    void aPortZeroSectionWithoutBundleOnlyOrOutsideTheGroupStaysRejected() throws Exception {
        String offer = fixture("gstreamer-1.22-max-bundle-offer.sdp");
        List<String> variants = List.of(offer.replace("a=bundle-only\r\n", ""),
                offer.replace("a=group:BUNDLE video0 audio1", "a=group:BUNDLE video0"));
        for (int i = 0; i < variants.size(); i++) {
            String conference = "gst-rejected-" + i;
            WhipResource resource = server.whipPublish(conference, variants.get(i));
            assertTrue(resource.answer().contains("m=audio 0 "), resource.answer());
            assertTrue(resource.answer().contains("a=group:BUNDLE video0\r\n"), resource.answer());
            assertEquals(List.of("video"), tracksOf(conference, resource).stream().map(TrackInfo::kind)
                    .toList());
        }
    }

    @Test
    void gstreamersDefaultBundlePolicyIsRefusedNamingTheBundleGroup() throws Exception {
        MediaException refused = assertThrows(MediaException.class,
                () -> server.whipPublish("gst-default", fixture("gstreamer-1.22-default-bundle-policy-offer.sdp")));
        assertEquals(ErrorCode.INVALID_SDP, refused.code());
        assertTrue(refused.getMessage().contains("a=group:BUNDLE"), refused.getMessage());
    }

    @Test
    void aiortcsPerSectionIceCredentialsResolveToTheTaggedSections() throws Exception {
        String offer = fixture("aiortc-1.4-offer.sdp");
        PeerDescription parsed = PeerDescription.parse(offer);
        assertEquals("AbhP", parsed.transport().ufrag(), "the first bundled section's ufrag");
        assertEquals("UOc2s0VrDOcimL6bePWImC", parsed.transport().password());
        assertEquals("127.0.0.2", parsed.transport().candidates().get(0).address());

        WhipResource resource = server.whipPublish("aiortc", offer);
        PeerDescription answer = PeerDescription.parse(resource.answer());
        assertTrue(resource.answer().contains("a=group:BUNDLE 0 1\r\n"));
        assertEquals(96, answer.media().get(0).codecs().get(0).payloadType());
        assertEquals("VP8", answer.media().get(1).codecs().get(0).name());
        assertEquals(97, answer.media().get(1).codecs().get(0).payloadType());
        assertEquals(98, answer.media().get(1).codecs().get(0).rtxPayloadType());
        assertEquals(2, tracksOf("aiortc", resource).size());

        // The tagged section is the group's first mid, wherever it stands among the m-lines.
        String reordered = offer.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0");
        assertEquals("02qO", PeerDescription.parse(reordered).transport().ufrag());
    }

    @Test
    void aiortcsExtmapIdUsedForTwoExtensionsKeepsOnlyTheFirstBundledSectionsMeaning() throws Exception {
        // aiortc 1.4 gives id 2 to audio-level on audio and to abs-send-time on video in one BUNDLE group, then
        // reads every packet of the transport with one id map.
        for (String name : List.of("aiortc-1.4-offer.sdp", "aiortc-1.4-recvonly-offer.sdp")) {
            String offer = fixture(name);
            assertTrue(offer.contains("a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n")
                    && offer.contains("a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"),
                    "the fixture's shape: " + name);
            PeerDescription parsed = PeerDescription.parse(offer);
            assertEquals(List.of(new HeaderExtension(1, "urn:ietf:params:rtp-hdrext:sdes:mid"),
                    new HeaderExtension(2, CodecPolicy.AUDIO_LEVEL)), parsed.media().get(0).extensions(), name);
            assertEquals(List.of(new HeaderExtension(1, "urn:ietf:params:rtp-hdrext:sdes:mid")),
                    parsed.media().get(1).extensions(), "the video section loses abs-send-time: " + name);

            // The BUNDLE group's order decides, not the m-line order.
            PeerDescription videoFirst = PeerDescription.parse(offer.replace("a=group:BUNDLE 0 1",
                    "a=group:BUNDLE 1 0"));
            assertEquals(List.of(new HeaderExtension(1, "urn:ietf:params:rtp-hdrext:sdes:mid")),
                    videoFirst.media().get(0).extensions(), name);
            assertEquals(List.of(new HeaderExtension(1, "urn:ietf:params:rtp-hdrext:sdes:mid"),
                    new HeaderExtension(2, CodecPolicy.ABS_SEND_TIME)), videoFirst.media().get(1).extensions(), name);
        }

        // The WHIP answer negotiates id 2 once: audio-level on audio, nothing on video.
        String answer = server.whipPublish("aiortc-extmap", fixture("aiortc-1.4-offer.sdp")).answer();
        assertOneMeaningPerId(answer);
        assertTrue(answer.contains("a=extmap:2 " + CodecPolicy.AUDIO_LEVEL + "\r\n"), answer);
        assertFalse(answer.contains("a=extmap:2 " + CodecPolicy.ABS_SEND_TIME), answer);
        // Both tracks are still published; the video track simply carries no abs-send-time.
        assertEquals(2, server.tracks("aiortc-extmap").size());
        String publisher = server.tracks("aiortc-extmap").get(0).publisherEndpointId();

        // The WHEP answer to aiortc's receive-only offer, likewise.
        String play = server.whepPlay("aiortc-extmap", publisher, fixture("aiortc-1.4-recvonly-offer.sdp")).answer();
        assertOneMeaningPerId(play);
        assertTrue(play.contains("a=extmap:2 " + CodecPolicy.AUDIO_LEVEL + "\r\n"), play);
        assertFalse(play.contains("a=extmap:2 " + CodecPolicy.ABS_SEND_TIME), play);
        assertTrue(play.contains("m=video 9 "), "the video section is answered: " + play);
    }

    @Test
    void theSameIdForTheSameExtensionInSeveralSectionsIsKept() throws Exception {
        String offer = fixture("aiortc-1.4-offer.sdp").replace(
                "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
                "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")
                .replace("a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                        "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
                                + "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
        PeerDescription parsed = PeerDescription.parse(offer);
        assertEquals(3, parsed.media().get(0).extensions().size());
        assertEquals(List.of(new HeaderExtension(1, "urn:ietf:params:rtp-hdrext:sdes:mid"),
                new HeaderExtension(3, CodecPolicy.ABS_SEND_TIME)), parsed.media().get(1).extensions());
        String answer = server.whipPublish("extmap-shared", offer).answer();
        assertOneMeaningPerId(answer);
        assertEquals(2, answer.split("a=extmap:3 " + CodecPolicy.ABS_SEND_TIME, -1).length - 1, answer);
    }

    /** Every a=extmap id of a description names one URI over all its sections. */
    public static void assertOneMeaningPerId(String sdp) {
        java.util.Map<String, String> meanings = new java.util.HashMap<>();
        for (String line : sdp.split("\r\n")) {
            if (line.startsWith("a=extmap:")) {
                String[] parts = line.substring("a=extmap:".length()).split("\\s+");
                String id = parts[0].split("/")[0];
                String before = meanings.putIfAbsent(id, parts[1]);
                assertTrue(before == null || before.equals(parts[1]),
                        "extmap id " + id + " names both " + before + " and " + parts[1] + ":\n" + sdp);
            }
        }
    }

    @Test
    void everyRfc8122HashIsAcceptedAndTheStrongestOfferedIsChecked() throws Exception {
        String offer = fixture("aiortc-1.4-offer.sdp");
        String sha256 = "a=fingerprint:sha-256 AD:FB:6D:42:B9:C4:11:92:17:C2:88:C6:1D:22:4C:11:7F:9E:DC:7F:B9:21:64:"
                + "C9:89:32:86:6E:59:4A:93:C8";
        assertTrue(offer.contains(sha256));
        for (String hash : List.of("sha-1", "sha-256", "sha-384", "sha-512")) {
            Fingerprint fingerprint = Fingerprint.of(hash, new byte[] {1, 2, 3});
            PeerDescription parsed = PeerDescription.parse(offer.replace(sha256,
                    "a=fingerprint:" + fingerprint.sdpValue().toLowerCase(java.util.Locale.ROOT)));
            assertEquals(List.of(fingerprint), parsed.transport().fingerprints());
        }
        Fingerprint strongest = Fingerprint.of("sha-384", new byte[] {4});
        PeerDescription several = PeerDescription.parse(offer.replace(sha256, sha256 + "\r\na=fingerprint:"
                + strongest.sdpValue() + "\r\na=fingerprint:md5 00:11"));
        assertEquals(List.of(strongest), several.transport().fingerprints());

        assertRefused(offer.replace(sha256, "a=fingerprint:md5 AD:FB:6D:42:B9:C4:11:92:17:C2:88:C6:1D:22:4C:11"),
                "a=fingerprint");
        assertRefused(offer.replace(sha256, "a=fingerprint:sha-256 AD:FB"), "a=fingerprint");
    }

    @Test
    void unsupportedOffersAreRefusedNamingTheAttribute() throws Exception {
        String offer = fixture("aiortc-1.4-offer.sdp");
        assertRefused(offer.replace("m=audio 41124 UDP/TLS/RTP/SAVPF", "m=audio 41124 RTP/AVP"), "RTP/AVP");
        assertRefused(offer.replace("a=setup:actpass", "a=setup:holdconn"), "a=setup");
        assertRefused(offer.replace("a=rtcp-mux\r\n", ""), "a=rtcp-mux");
        assertRefused(offer.replace("a=mid:0\r\n", ""), "a=mid");
        assertRefused(offer.replaceAll("a=ice-pwd:[^\r\n]*\r\n", ""), "a=ice-pwd");
        assertRefused(offer.replace("a=rtpmap:96 opus/48000/2", "a=rtpmap:96 speex/16000"), "a=rtpmap");
        MediaException nothing = assertThrows(MediaException.class,
                () -> server.whipPublish("refused", offer.replace("a=sendonly", "a=recvonly")));
        assertEquals(ErrorCode.NO_TRACKS, nothing.code());
        assertTrue(nothing.getMessage().contains("a=sendonly"), nothing.getMessage());
        assertTrue(server.conferences().stream().filter(c -> c.conferenceId().equals("refused"))
                .allMatch(c -> c.endpointIds().isEmpty()), "a refused offer leaves no endpoint behind");
    }

    private static void assertRefused(String offer, String attribute) {
        MediaException refused = assertThrows(MediaException.class, () -> server.whipPublish("refused", offer));
        assertEquals(ErrorCode.INVALID_SDP, refused.code());
        assertTrue(refused.getMessage().contains(attribute), refused.getMessage());
    }
}
