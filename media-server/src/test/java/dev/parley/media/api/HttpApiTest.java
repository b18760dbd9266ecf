package dev.parley.media.api;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP surface: control API, WHIP and WHEP, health, stats, metrics, tokens and error codes. */
class HttpApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(ClientEndpoint::close);
        if (server != null) {
            server.close();
        }
    }

    private HttpResponse<String> send(String method, String path, String contentType, String body, String token)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.httpUri() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> json(String method, String path, Object body) throws Exception {
        return send(method, path, "application/json", body == null ? null : JSON.writeValueAsString(body), null);
    }

    private ClientEndpoint client() throws Exception {
        ClientEndpoint client = TestMedia.client();
        clients.add(client);
        return client;
    }

    @Test
    void healthStatsAndMetricsAreServed() throws Exception {
        server = MediaServer.start(TestMedia.config());
        assertEquals(200, json("GET", "/healthz", null).statusCode());
        HttpResponse<String> stats = json("GET", "/stats", null);
        assertEquals(200, stats.statusCode());
        JsonNode node = JSON.readTree(stats.body());
        assertTrue(node.has("conferences") && node.has("packetsIn") && node.get("drops").has("srtp_auth_fail"));
        HttpResponse<String> metrics = json("GET", "/metrics", null);
        assertTrue(metrics.body().contains("parley_media_packets_in_total"));
        assertTrue(metrics.body().contains("parley_media_drops_total{reason=\"srtp_replay\"}"));
        assertEquals(404, json("GET", "/nowhere", null).statusCode());
    }

    @Test
    void theEventStreamReplaysFromTheGivenSequenceGoesOnLiveKeepsAliveAndEndsWithTheConference() throws Exception {
        server = MediaServer.start(TestMedia.config());
        assertEquals(201, json("POST", "/v1/conferences", Map.of("id", "s1")).statusCode());
        assertEquals(201, json("POST", "/v1/conferences/s1/endpoints", Map.of("id", "a")).statusCode());
        assertEquals(204, json("DELETE", "/v1/conferences/s1/endpoints/a", null).statusCode());
        assertEquals(404, json("GET", "/v1/conferences/nowhere/events?stream", null).statusCode(),
                "an unknown conference is refused before any stream opens");

        java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.CompletableFuture<HttpResponse<java.util.stream.Stream<String>>> streaming =
                http.sendAsync(HttpRequest.newBuilder(URI.create(server.httpUri() + "/v1/conferences/s1/events?stream&after=0"))
                        .GET().build(), HttpResponse.BodyHandlers.ofLines());
        HttpResponse<java.util.stream.Stream<String>> response = streaming.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, response.statusCode());
        assertEquals("application/x-ndjson", response.headers().firstValue("Content-Type").orElse(""));
        Thread reader = new Thread(() -> response.body().forEach(lines::add));
        reader.setDaemon(true);
        reader.start();

        JsonNode kept = JSON.readTree(lines.poll(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals("endpoint-closed", kept.get("type").asText(), "what happened before the stream is replayed");
        assertEquals(201, json("POST", "/v1/conferences/s1/endpoints", Map.of("id", "b")).statusCode());
        assertEquals(204, json("DELETE", "/v1/conferences/s1/endpoints/b", null).statusCode());
        JsonNode live = JSON.readTree(lines.poll(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals("b", live.get("endpointId").asText(), "then what happens, as it happens");
        assertTrue(live.get("sequence").asLong() > kept.get("sequence").asLong());
        assertEquals("", lines.poll(EventStream.KEEPALIVE_SECONDS + 2, java.util.concurrent.TimeUnit.SECONDS),
                "an empty line shows the server lives");

        assertEquals(204, json("DELETE", "/v1/conferences/s1", null).statusCode());
        reader.join((EventStream.KEEPALIVE_SECONDS + 3) * 1000L);
        assertTrue(!reader.isAlive(), "the stream ends with its conference");
    }

    @Test
    void aCallIsSetUpThroughTheControlApi() throws Exception {
        server = MediaServer.start(TestMedia.config());
        assertEquals(201, json("POST", "/v1/conferences", Map.of("id", "c1")).statusCode());
        assertEquals(409, json("POST", "/v1/conferences", Map.of("id", "c1")).statusCode());
        assertEquals(201, json("POST", "/v1/conferences/c1/endpoints", Map.of("id", "pub")).statusCode());
        assertEquals(201, json("POST", "/v1/conferences/c1/endpoints", Map.of("id", "sub")).statusCode());
        assertEquals(204, json("POST", "/v1/conferences/c1/endpoints/sub/subscribe/offer", null).statusCode());

        ClientEndpoint publisher = client();
        ClientTrack video = ClientTrack.video("cam");
        HttpResponse<String> answer = json("POST", "/v1/conferences/c1/endpoints/pub/publish",
                Map.of("type", "offer", "sdp", publisher.publishOffer(List.of(video), true)));
        assertEquals(200, answer.statusCode(), answer.body());
        String answerSdp = JSON.readTree(answer.body()).get("sdp").asText();
        assertTrue(answerSdp.contains("a=setup:passive") && answerSdp.contains("a=rtcp-mux")
                && answerSdp.contains("a=group:BUNDLE 0") && answerSdp.contains("H264/90000"));
        publisher.acceptAnswer(answerSdp);

        JsonNode tracks = JSON.readTree(json("GET", "/v1/conferences/c1/tracks", null).body());
        assertEquals("video", tracks.get(0).get("kind").asText());
        JsonNode events = JSON.readTree(json("GET", "/v1/conferences/c1/events?after=0", null).body());
        assertEquals("track-added", events.get(0).get("type").asText());

        HttpResponse<String> offer = json("POST", "/v1/conferences/c1/endpoints/sub/subscribe/offer", null);
        assertEquals(200, offer.statusCode());
        ClientEndpoint subscriber = client();
        String subscribeAnswer = subscriber.answer(JSON.readTree(offer.body()).get("sdp").asText());
        assertEquals(204, json("POST", "/v1/conferences/c1/endpoints/sub/subscribe/answer",
                Map.of("type", "answer", "sdp", subscribeAnswer)).statusCode());
        assertTrue(publisher.awaitSecure(WAIT) && subscriber.awaitSecure(WAIT));
        // A new sequence number each time: a resent one is an SRTP replay, dropped by the server.
        int[] sequence = {1};
        assertTrue(eventually(WAIT, () -> {
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, sequence[0]++, 0, true, new byte[300], false);
            return subscriber.packetsReceived(video.ssrc()) > 0;
        }));
        assertEquals(204, json("DELETE", "/v1/conferences/c1/endpoints/pub", null).statusCode());
        assertEquals(204, json("DELETE", "/v1/conferences/c1", null).statusCode());
        assertEquals(404, json("DELETE", "/v1/conferences/c1", null).statusCode());
    }

    @Test
    void whipPublishesAndWhepPlays() throws Exception {
        server = MediaServer.start(TestMedia.config());
        ClientEndpoint publisher = client();
        ClientTrack audio = ClientTrack.audio("obs");
        ClientTrack video = ClientTrack.video("obs");
        HttpResponse<String> whip = send("POST", "/whip/live", "application/sdp",
                publisher.publishOffer(List.of(audio, video), false), null);
        assertEquals(201, whip.statusCode(), whip.body());
        assertEquals("application/sdp", whip.headers().firstValue("Content-Type").orElseThrow());
        String location = whip.headers().firstValue("Location").orElseThrow();
        assertTrue(location.startsWith("/whip/live/"));
        publisher.acceptAnswer(whip.body());
        assertTrue(publisher.awaitSecure(WAIT));

        String resource = location.substring("/whip/live/".length());
        ClientEndpoint viewer = client();
        HttpResponse<String> whep = send("POST", "/whep/live/" + resource, "application/sdp", viewer.receiveOffer(),
                null);
        assertEquals(201, whep.statusCode(), whep.body());
        assertTrue(whep.headers().firstValue("Location").orElseThrow().startsWith("/whep/live/"));
        viewer.acceptAnswer(whep.body());
        assertTrue(viewer.awaitSecure(WAIT));
        // A new sequence number each time: a resent one is an SRTP replay, dropped by the server.
        int[] sequence = {5};
        assertTrue(eventually(WAIT, () -> {
            int next = sequence[0]++;
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, next, 0, true, new byte[300], false);
            publisher.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, next, 0, false, new byte[60], false);
            return viewer.packetsReceived(video.ssrc()) > 0 && viewer.packetsReceived(audio.ssrc()) > 0;
        }));
        assertEquals(428, send("PATCH", location, "application/trickle-ice-sdpfrag", "a=x", null).statusCode());
        assertEquals(200, send("DELETE", location, null, null, null).statusCode());
        assertTrue(server.tracks("live").isEmpty(), "the publication ended");
        assertTrue(eventually(WAIT, () -> server.conferences().get(0).endpointIds().isEmpty()),
                "its viewers went with it");
    }

    /** Makes every section after the first bundle-only with port 0, as GStreamer's max-bundle policy writes them. */
    private static String bundleOnly(String offer) {
        StringBuilder out = new StringBuilder();
        int sections = 0;
        for (String line : offer.split("\r\n")) {
            if (line.startsWith("m=") && sections++ > 0) {
                out.append(line.replaceFirst("^(m=\\w+) 9 ", "$1 0 ")).append("\r\na=bundle-only\r\n");
            } else {
                out.append(line).append("\r\n");
            }
        }
        return out.toString();
    }

    @Test
    void bundleOnlySectionsWithPortZeroArePublishedAndPlayed() throws Exception {
        server = MediaServer.start(TestMedia.config());
        HttpResponse<String> gst = send("POST", "/whip/gst", "application/sdp",
                dev.parley.media.sdp.StackOfferTest.fixture("gstreamer-1.22-max-bundle-offer.sdp"), null);
        assertEquals(201, gst.statusCode(), gst.body());
        assertTrue(gst.body().contains("a=group:BUNDLE video0 audio1\r\n"), gst.body());
        assertTrue(gst.body().lines().filter(l -> l.startsWith("m=")).allMatch(l -> l.split(" ")[1].equals("9")),
                gst.body());

        ClientEndpoint publisher = client();
        ClientTrack video = ClientTrack.video("enc");
        ClientTrack audio = ClientTrack.audio("enc");
        String offer = bundleOnly(publisher.publishOffer(List.of(video, audio), false));
        assertTrue(offer.contains("m=audio 0 "));
        HttpResponse<String> whip = send("POST", "/whip/live", "application/sdp", offer, null);
        assertEquals(201, whip.statusCode(), whip.body());
        assertTrue(whip.body().contains("a=group:BUNDLE 0 1\r\n"), whip.body());
        publisher.acceptAnswer(whip.body());
        assertTrue(publisher.awaitSecure(WAIT));
        String resource = whip.headers().firstValue("Location").orElseThrow().substring("/whip/live/".length());

        ClientEndpoint viewer = client();
        String play = bundleOnly(viewer.receiveOffer());
        assertTrue(play.contains("m=video 0 "));
        HttpResponse<String> whep = send("POST", "/whep/live/" + resource, "application/sdp", play, null);
        assertEquals(201, whep.statusCode(), whep.body());
        assertTrue(whep.body().contains("a=group:BUNDLE 0 1\r\n"), whep.body());
        viewer.acceptAnswer(whep.body());
        assertTrue(viewer.awaitSecure(WAIT));
        // A new sequence number each time: a resent one is an SRTP replay, dropped by the server.
        int[] sequence = {5};
        assertTrue(eventually(WAIT, () -> {
            int next = sequence[0]++;
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, next, 0, true, new byte[300], false);
            publisher.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, next, 0, false, new byte[60], false);
            return viewer.packetsReceived(video.ssrc()) > 0 && viewer.packetsReceived(audio.ssrc()) > 0;
        }), "the bundle-only sections' media flows both ways through the server");

        HttpResponse<String> noMux = send("POST", "/whip/live", "application/sdp",
                publisher.publishOffer(List.of(ClientTrack.audio("x")), false).replace("a=rtcp-mux\r\n", ""), null);
        assertEquals(400, noMux.statusCode());
        assertEquals("sdp.invalid", JSON.readTree(noMux.body()).get("error").asText());
        assertTrue(JSON.readTree(noMux.body()).get("message").asText().contains("a=rtcp-mux"), noMux.body());
        HttpResponse<String> noGroup = send("POST", "/whip/gst", "application/sdp", dev.parley.media.sdp.StackOfferTest
                .fixture("gstreamer-1.22-default-bundle-policy-offer.sdp"), null);
        assertEquals(400, noGroup.statusCode());
        assertTrue(JSON.readTree(noGroup.body()).get("message").asText().contains("a=group:BUNDLE"), noGroup.body());
    }

    @Test
    void badInputGetsClearErrors() throws Exception {
        server = MediaServer.start(TestMedia.config().withLimits(1, 1));
        HttpResponse<String> badSdp = send("POST", "/whip/x", "application/sdp", "v=0\r\nm=audio 9 RTP/AVP 0\r\n",
                null);
        assertEquals(400, badSdp.statusCode());
        assertEquals("sdp.invalid", JSON.readTree(badSdp.body()).get("error").asText());
        ClientEndpoint noFingerprint = client();
        String offer = noFingerprint.publishOffer(List.of(ClientTrack.audio("a")), false)
                .replaceAll("a=fingerprint:[^\r\n]*\r\n", "");
        HttpResponse<String> missing = send("POST", "/whip/x", "application/sdp", offer, null);
        assertEquals(400, missing.statusCode());
        assertTrue(missing.body().contains("fingerprint"));
        assertEquals(201, json("POST", "/v1/conferences", Map.of("id", "one")).statusCode());
        HttpResponse<String> full = json("POST", "/v1/conferences", Map.of("id", "two"));
        assertEquals(503, full.statusCode());
        assertEquals("capacity.conferences", JSON.readTree(full.body()).get("error").asText());
        json("POST", "/v1/conferences/one/endpoints", Map.of("id", "e1"));
        HttpResponse<String> noRoom = json("POST", "/v1/conferences/one/endpoints", Map.of("id", "e2"));
        assertEquals(503, noRoom.statusCode());
        assertEquals("capacity.endpoints", JSON.readTree(noRoom.body()).get("error").asText());
        assertEquals(400, send("POST", "/v1/conferences", "application/json", "{nope", null).statusCode());
    }

    @Test
    void aReceiverStatesTheVideosItShowsAndBadStatementsAreRefused() throws Exception {
        server = MediaServer.start(TestMedia.config().withAuthSecret(SECRET));
        String admin = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.ADMIN, Duration.ofMinutes(5));
        assertEquals(201, send("POST", "/v1/conferences", "application/json", "{\"id\":\"room\"}", admin)
                .statusCode());
        assertEquals(201, send("POST", "/v1/conferences/room/endpoints", "application/json", "{\"id\":\"bob\"}",
                admin).statusCode());
        String bobPlay = MediaToken.mint(SECRET, "room", "bob", MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        String bobPublish = MediaToken.mint(SECRET, "room", "bob", MediaToken.Grant.PUBLISH, Duration.ofMinutes(5));
        String amyPlay = MediaToken.mint(SECRET, "room", "amy", MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        String path = "/v1/conferences/room/endpoints/bob/receive";
        String body = "{\"videos\":[{\"trackId\":\"amy:1\",\"visible\":true,\"width\":640,\"height\":360},"
                + "{\"trackId\":\"cid:2\",\"visible\":false,\"width\":0,\"height\":0,\"pinned\":true}]}";
        assertEquals(204, send("POST", path, "application/json", body, bobPlay).statusCode(),
                "unknown track ids are ignored");
        assertEquals(204, send("POST", path, "application/json", "{\"videos\":[]}", admin).statusCode());
        assertEquals(403, send("POST", path, "application/json", body, bobPublish).statusCode(),
                "what an endpoint receives needs its play grant");
        assertEquals(403, send("POST", path, "application/json", body, amyPlay).statusCode(), "another endpoint");
        assertEquals(405, send("GET", path, null, null, bobPlay).statusCode());

        assertInvalid(send("POST", path, "application/json", "{nope", bobPlay), "not valid JSON");
        assertInvalid(send("POST", path, "application/json", "{\"videos\":{}}", bobPlay), "\"videos\" array");
        assertInvalid(send("POST", path, "application/json", "{\"videos\":[{\"visible\":true}]}", bobPlay),
                "videos[0] needs a \"trackId\"");
        assertInvalid(send("POST", path, "application/json",
                "{\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"width\":\"wide\"}]}", bobPlay),
                "videos[0].width");
        assertInvalid(send("POST", path, "application/json",
                "{\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"pinned\":\"yes\"}]}", bobPlay),
                "videos[0].pinned");
        // The range is the API's own check: a size no screen has is refused there, with the same code.
        assertInvalid(send("POST", path, "application/json",
                "{\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"width\":100000,\"height\":10}]}",
                bobPlay), "");
        StringBuilder many = new StringBuilder("{\"videos\":[");
        for (int i = 0; i <= VideoReceive.MAX_TRACKS; i++) {
            many.append(i == 0 ? "" : ",").append("{\"trackId\":\"t").append(i).append("\",\"visible\":true}");
        }
        assertInvalid(send("POST", path, "application/json", many.append("]}").toString(), bobPlay), "at most 100");

        HttpResponse<String> noEndpoint = send("POST", "/v1/conferences/room/endpoints/nobody/receive",
                "application/json", "{\"videos\":[]}", admin);
        assertEquals(404, noEndpoint.statusCode(), noEndpoint.body());
        String anyAdmin = MediaToken.mint(SECRET, "*", null, MediaToken.Grant.ADMIN, Duration.ofMinutes(5));
        assertEquals(404, send("POST", "/v1/conferences/gone/endpoints/bob/receive", "application/json",
                "{\"videos\":[]}", anyAdmin).statusCode());
        assertTrue(server.metricsText()
                .matches("(?s).*parley_media_http_refused_total\\{code=\"request.invalid\"\\} 7\\.0.*"),
                "the refusals are counted");
    }

    private static void assertInvalid(HttpResponse<String> response, String messagePart) throws Exception {
        assertEquals(400, response.statusCode(), response.body());
        JsonNode error = JSON.readTree(response.body());
        assertEquals("request.invalid", error.get("error").asText());
        assertTrue(error.get("message").asText().contains(messagePart), error.get("message").asText());
    }

    private static final String SECRET = "a-test-secret-that-is-at-least-32-bytes-long";

    private static MediaConfig defaults(String overrides) {
        return MediaConfig.from(ConfigFactory.parseString(overrides).withFallback(ConfigFactory.defaultReference())
                .resolve().getConfig("parley.media"));
    }

    @Test
    void embeddedTheServerOpensNoHttpListenerAndOffLoopbackItRefusesToStartWithoutASecret() throws Exception {
        try (MediaServer embedded = MediaServer.start(defaults("parley.media { udp-port = 0, http-port = 0, "
                + "allowed-remote-networks = \"127.0.0.0/8\" }"))) {
            assertNull(embedded.httpUri(), "no HTTP API unless http-enabled");
        }
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> defaults(
                "parley.media { http-enabled = true, http-host = \"0.0.0.0\" }"));
        assertTrue(refused.getMessage().contains("parley.media.auth-secret"), refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> defaults("parley.media { auth-secret = short }"));
    }

    @Test
    void aTakenHttpPortFailsTheStartAndLeavesNoUdpPortBehind() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             java.net.DatagramSocket probe = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            int udpPort = probe.getLocalPort();
            probe.close();
            java.io.IOException refused = assertThrows(java.io.IOException.class, () -> MediaServer.start(
                    TestMedia.config().withPorts(udpPort, taken.getLocalPort())));
            assertTrue(refused.getMessage().contains("cannot listen on"), refused.getMessage());
            // The UDP port the failed start had bound is free again (its reader lets go a moment after close).
            assertTrue(eventually(WAIT, () -> {
                try (java.net.DatagramSocket again = new java.net.DatagramSocket(udpPort,
                        InetAddress.getLoopbackAddress())) {
                    return again.getLocalPort() == udpPort;
                } catch (java.net.BindException stillHeld) {
                    return false;
                }
            }), "the UDP port is released");
        }
    }

    @Test
    void withASecretEveryRequestNeedsAShortLivedTokenScopedToItsConferenceEndpointAndGrant() throws Exception {
        server = MediaServer.start(TestMedia.config().withAuthSecret(SECRET));
        String admin = MediaToken.mint(SECRET, "*", null, MediaToken.Grant.ADMIN, Duration.ofMinutes(5));
        String roomAdmin = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.ADMIN, Duration.ofMinutes(5));
        String publishRoom = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.PUBLISH, Duration.ofMinutes(5));
        String playOther = MediaToken.mint(SECRET, "other", null, MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        String forged = MediaToken.mint("another-secret-that-is-also-32-bytes-long!", "*", null,
                MediaToken.Grant.ADMIN, Duration.ofMinutes(5));
        assertEquals(200, send("GET", "/healthz", null, null, null).statusCode());
        assertEquals(401, send("GET", "/stats", null, null, null).statusCode());
        assertEquals(401, send("GET", "/stats", null, null, forged).statusCode(), "signed with another secret");
        assertEquals(401, send("GET", "/stats", null, null, "s3cret").statusCode(), "not a JWT");
        assertEquals(200, send("GET", "/stats", null, null, admin).statusCode());
        assertEquals(403, send("GET", "/stats", null, null, roomAdmin).statusCode(), "one room is not the server");
        assertEquals(403, send("GET", "/v1/conferences", null, null, publishRoom).statusCode());

        assertEquals(201, send("POST", "/v1/conferences", "application/json", "{\"id\":\"room\"}", roomAdmin)
                .statusCode());
        assertEquals(403, send("POST", "/v1/conferences", "application/json", "{\"id\":\"else\"}", roomAdmin)
                .statusCode());
        assertEquals(201, send("POST", "/v1/conferences/room/endpoints", "application/json", "{\"id\":\"amy\"}",
                roomAdmin).statusCode());
        assertEquals(403, send("POST", "/v1/conferences/room/endpoints", "application/json", "{\"id\":\"bob\"}",
                publishRoom).statusCode(), "publishers do not create endpoints");
        String offer = client().publishOffer(List.of(ClientTrack.audio("a")), false);
        String amyPublish = MediaToken.mint(SECRET, "room", "amy", MediaToken.Grant.PUBLISH, Duration.ofMinutes(5));
        String amyPlay = MediaToken.mint(SECRET, "room", "amy", MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        String body = JSON.writeValueAsString(Map.of("type", "offer", "sdp", offer));
        assertEquals(403, send("POST", "/v1/conferences/room/endpoints/amy/publish", "application/json", body,
                publishRoom).statusCode(), "control routes need the token to name the endpoint");
        assertEquals(403, send("POST", "/v1/conferences/room/endpoints/amy/publish", "application/json", body,
                amyPlay).statusCode(), "play is not publish");
        assertEquals(200, send("POST", "/v1/conferences/room/endpoints/amy/publish", "application/json", body,
                amyPublish).statusCode());

        String whipOffer = client().publishOffer(List.of(ClientTrack.audio("w")), false);
        assertEquals(403, send("POST", "/whip/room", "application/sdp", whipOffer, playOther).statusCode());
        assertEquals(201, send("POST", "/whip/room", "application/sdp", whipOffer, publishRoom).statusCode());
        assertEquals(403, send("POST", "/whep/room/amy", "application/sdp", client().receiveOffer(), playOther)
                .statusCode(), "a token for another conference");
    }

    @Test
    void aParticipantsEndpointIdIsNoWhipOrWhepResource() throws Exception {
        server = MediaServer.start(TestMedia.config().withAuthSecret(SECRET));
        String admin = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.ADMIN, Duration.ofMinutes(5));
        String publish = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.PUBLISH, Duration.ofMinutes(5));
        String play = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        assertEquals(201, send("POST", "/v1/conferences", "application/json", "{\"id\":\"room\"}", admin)
                .statusCode());
        assertEquals(201, send("POST", "/v1/conferences/room/endpoints", "application/json", "{\"id\":\"amy\"}",
                admin).statusCode());

        // A participant's endpoint id (which every call member sees) is no WHIP or WHEP resource.
        for (String[] route : new String[][] {{"/whip/room/amy", publish}, {"/whep/room/amy", play}}) {
            HttpResponse<String> refused = send("DELETE", route[0], null, null, route[1]);
            assertEquals(404, refused.statusCode(), route[0]);
            JsonNode problem = JSON.readTree(refused.body());
            assertEquals("resource.not_found", problem.get("error").asText());
            assertTrue(problem.get("message").asText().contains("amy"), problem.toString());
            assertEquals(404, send("PATCH", route[0], "application/trickle-ice-sdpfrag", "a=x", route[1])
                    .statusCode());
        }
        assertEquals(List.of("amy"), server.conferences().get(0).endpointIds(), "amy is still in the call");
    }

    @Test
    void whipAndWhepResourcesHaveRandomIdsAndEndOnlyThroughTheirOwnRoute() throws Exception {
        server = MediaServer.start(TestMedia.config().withAuthSecret(SECRET));
        String admin = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.ADMIN, Duration.ofMinutes(5));
        String publish = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.PUBLISH, Duration.ofMinutes(5));
        String play = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        String publishOther = MediaToken.mint(SECRET, "other", null, MediaToken.Grant.PUBLISH, Duration.ofMinutes(5));
        assertEquals(201, send("POST", "/v1/conferences", "application/json", "{\"id\":\"room\"}", admin)
                .statusCode());
        assertEquals(201, send("POST", "/v1/conferences/room/endpoints", "application/json", "{\"id\":\"amy\"}",
                admin).statusCode());

        HttpResponse<String> whip = send("POST", "/whip/room", "application/sdp",
                client().publishOffer(List.of(ClientTrack.audio("w")), false), publish);
        assertEquals(201, whip.statusCode(), whip.body());
        String whipLocation = whip.headers().firstValue("Location").orElseThrow();
        String whipResource = whipLocation.substring("/whip/room/".length());
        assertTrue(whipResource.matches("[0-9a-f]{32}"), "128 random bits in hex: " + whipResource);
        List<String> endpoints = server.conferences().get(0).endpointIds();
        assertEquals(2, endpoints.size());
        assertTrue(!endpoints.contains(whipResource), "the resource id is not the endpoint id");
        String whipEndpoint = endpoints.get(1);

        HttpResponse<String> whep = send("POST", "/whep/room/" + whipResource, "application/sdp",
                client().receiveOffer(), play);
        assertEquals(201, whep.statusCode(), whep.body());
        String whepLocation = whep.headers().firstValue("Location").orElseThrow();
        String whepResource = whepLocation.substring("/whep/room/".length());
        assertTrue(whepResource.matches("[0-9a-f]{32}") && !whepResource.equals(whipResource));
        assertEquals(3, server.conferences().get(0).endpointIds().size());
        assertTrue(!server.conferences().get(0).endpointIds().contains(whepResource));

        // Each resource ends only through its own protocol, with a token for its conference.
        assertEquals(404, send("DELETE", "/whip/room/" + whepResource, null, null, publish).statusCode());
        assertEquals(404, send("DELETE", "/whep/room/" + whipResource, null, null, play).statusCode());
        assertEquals(404, send("DELETE", "/whip/room/" + whipEndpoint, null, null, publish).statusCode());
        assertEquals(403, send("DELETE", "/whip/other/" + whipResource, null, null, publish).statusCode());
        assertEquals(403, send("DELETE", whipLocation, null, null, publishOther).statusCode());
        assertEquals(403, send("DELETE", whipLocation, null, null, play).statusCode(), "play is not publish");
        assertEquals(3, server.conferences().get(0).endpointIds().size(), "nothing was closed");
        assertEquals(428, send("PATCH", whepLocation, "application/trickle-ice-sdpfrag", "a=x", play)
                .statusCode());

        assertEquals(200, send("DELETE", whepLocation, null, null, play).statusCode());
        assertEquals(List.of("amy", whipEndpoint), server.conferences().get(0).endpointIds());
        assertEquals(404, send("DELETE", whepLocation, null, null, play).statusCode(), "already ended");

        // WHEP also plays a publisher by its endpoint id (as call members see it); that viewer's resource goes
        // when its endpoint closes with the publisher, not only through DELETE.
        HttpResponse<String> byEndpoint = send("POST", "/whep/room/" + whipEndpoint, "application/sdp",
                client().receiveOffer(), play);
        assertEquals(201, byEndpoint.statusCode(), byEndpoint.body());
        String byEndpointLocation = byEndpoint.headers().firstValue("Location").orElseThrow();
        assertEquals(428, send("PATCH", byEndpointLocation, "application/trickle-ice-sdpfrag", "a=x", play)
                .statusCode());
        assertEquals(200, send("DELETE", whipLocation, null, null, publish).statusCode());
        assertEquals(List.of("amy"), server.conferences().get(0).endpointIds());
        assertEquals(404, send("PATCH", byEndpointLocation, "application/trickle-ice-sdpfrag", "a=x", play)
                .statusCode(), "the viewer went with its publisher");
        assertEquals(404, send("DELETE", byEndpointLocation, null, null, play).statusCode());
        assertEquals(404, send("DELETE", whipLocation, null, null, publish).statusCode(), "already ended");
        assertEquals(404, send("PATCH", whipLocation, "application/trickle-ice-sdpfrag", "a=x", publish)
                .statusCode());
    }

    @Test
    void expiredAndOverlyLongLivedTokensAreRefused() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> MediaToken.mint(SECRET, "room", null,
                MediaToken.Grant.PLAY, Duration.ofHours(2)));
        String token = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.PLAY, Duration.ofMinutes(1));
        assertEquals("room", MediaToken.verify(SECRET, token, java.time.Instant.now()).conference());
        MediaToken.Invalid expired = assertThrows(MediaToken.Invalid.class,
                () -> MediaToken.verify(SECRET, token, java.time.Instant.now().plus(Duration.ofMinutes(2))));
        assertTrue(expired.getMessage().contains("expired"));
        assertThrows(IllegalArgumentException.class, () -> MediaToken.mint(SECRET, "*", null,
                MediaToken.Grant.PLAY, Duration.ofMinutes(1)), "only admin tokens span the server");
    }

    @Test
    void corsHeadersGoOnlyToConfiguredOrigins() throws Exception {
        server = MediaServer.start(TestMedia.config().withHttp(true, List.of("https://player.example")));
        HttpResponse<String> listed = http.send(HttpRequest.newBuilder(URI.create(server.httpUri() + "/healthz"))
                .header("Origin", "https://player.example").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("https://player.example",
                listed.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create(server.httpUri() + "/healthz"))
                .header("Origin", "https://evil.example").build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
    }
}
