package dev.parley.media.api;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
        assertTrue(eventually(WAIT, () -> {
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 1, 0, true, new byte[300], false);
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
        assertTrue(eventually(WAIT, () -> {
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, 5, 0, true, new byte[300], false);
            publisher.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, 5, 0, false, new byte[60], false);
            return viewer.packetsReceived(video.ssrc()) > 0 && viewer.packetsReceived(audio.ssrc()) > 0;
        }));
        assertEquals(405, send("PATCH", location, "application/trickle-ice-sdpfrag", "a=x", null).statusCode());
        assertEquals(200, send("DELETE", location, null, null, null).statusCode());
        assertTrue(server.tracks("live").isEmpty(), "the publication ended");
        assertTrue(eventually(WAIT, () -> server.conferences().get(0).endpointIds().isEmpty()),
                "its viewers went with it");
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
    void aBearerTokenIsRequiredWhenConfigured() throws Exception {
        server = MediaServer.start(TestMedia.config().withBearerToken("s3cret"));
        assertEquals(200, send("GET", "/healthz", null, null, null).statusCode());
        assertEquals(401, send("GET", "/stats", null, null, null).statusCode());
        assertEquals(401, send("POST", "/whip/x", "application/sdp", "v=0", "wrong").statusCode());
        assertEquals(200, send("GET", "/stats", null, null, "s3cret").statusCode());
    }
}
