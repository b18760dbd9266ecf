package dev.parley.media.api;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** WHEP players that know only the conference, or the name a WHIP publisher gave its stream. */
class WhepByStreamTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "a-test-secret-that-is-at-least-32-bytes!";
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<ClientEndpoint> clients = new ArrayList<>();
    private MediaServer server;

    @AfterEach
    void stop() {
        clients.forEach(ClientEndpoint::close);
        if (server != null) {
            server.close();
        }
    }

    private HttpResponse<String> post(String path, String sdp, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.httpUri() + path))
                .header("Content-Type", "application/sdp").POST(HttpRequest.BodyPublishers.ofString(sdp));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private ClientEndpoint client() throws Exception {
        ClientEndpoint client = TestMedia.client();
        clients.add(client);
        return client;
    }

    /** A connected WHIP publisher of one video track; returns it with its Location. */
    private Publication publish(String path) throws Exception {
        ClientEndpoint publisher = client();
        ClientTrack video = ClientTrack.video("cam");
        HttpResponse<String> whip = post(path, publisher.publishOffer(List.of(video), false), null);
        assertEquals(201, whip.statusCode(), whip.body());
        publisher.acceptAnswer(whip.body());
        assertTrue(publisher.awaitSecure(WAIT));
        return new Publication(publisher, video, whip.headers().firstValue("Location").orElseThrow());
    }

    private record Publication(ClientEndpoint client, ClientTrack video, String location, int[] sequence) {
        Publication(ClientEndpoint client, ClientTrack video, String location) {
            this(client, video, location, new int[1]);
        }

        /** Whether the viewer receives this publication's video (the publisher keeps sending while we wait). */
        boolean reaches(ClientEndpoint viewer) throws Exception {
            return eventually(WAIT, () -> {
                int seq = ++sequence[0];
                client.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, seq, seq * 3000L, true, new byte[200], false);
                return viewer.packetsReceived(video.ssrc()) > 0;
            });
        }
    }

    private ClientEndpoint play(String path) throws Exception {
        ClientEndpoint viewer = client();
        HttpResponse<String> whep = post(path, viewer.receiveOffer(), null);
        assertEquals(201, whep.statusCode(), whep.body());
        viewer.acceptAnswer(whep.body());
        assertTrue(viewer.awaitSecure(WAIT));
        return viewer;
    }

    private static String errorCode(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).path("error").asText();
    }

    @Test
    void theConferenceUrlPlaysTheMostRecentLivePublisherAndNamedStreamsPlayByName() throws Exception {
        server = MediaServer.start(TestMedia.config());
        HttpResponse<String> nobody = post("/whep/stage", client().receiveOffer(), null);
        assertEquals(404, nobody.statusCode());
        assertEquals("stream.none", errorCode(nobody), "no conference yet: nothing to play");

        Publication first = publish("/whip/stage?stream=main");
        ClientEndpoint onlyOne = play("/whep/stage");
        assertTrue(first.reaches(onlyOne), "the only publisher plays at the conference URL");

        Publication second = publish("/whip/stage");
        ClientEndpoint latest = play("/whep/stage");
        assertTrue(second.reaches(latest), "the most recently started publisher plays");
        assertEquals(0, latest.packetsReceived(first.video().ssrc()), "and only that one");
        ClientEndpoint byName = play("/whep/stage/main");
        assertTrue(first.reaches(byName), "a stream name plays that publisher");
        assertEquals(0, byName.packetsReceived(second.video().ssrc()));

        HttpResponse<String> taken = post("/whip/stage?stream=main",
                client().publishOffer(List.of(ClientTrack.video("dup")), false), null);
        assertEquals(409, taken.statusCode());
        assertEquals("stream.exists", errorCode(taken));
        for (String bad : List.of("", "has%20space", "x".repeat(65), "a:b")) {
            HttpResponse<String> refused = post("/whip/stage?stream=" + bad,
                    client().publishOffer(List.of(ClientTrack.video("bad")), false), null);
            assertEquals(400, refused.statusCode(), bad);
            assertEquals("stream.invalid", errorCode(refused), bad);
        }
        HttpResponse<String> unknown = post("/whep/stage/nosuch", client().receiveOffer(), null);
        assertEquals(404, unknown.statusCode());

        // The newest publisher ends: its viewers go with it; the conference URL falls back to the one still live.
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(server.httpUri() + second.location()))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertTrue(eventually(WAIT, () -> server.stats().endpointStats().size() == 3),
                "the first publisher and its two viewers remain");
        ClientEndpoint fallback = play("/whep/stage");
        assertTrue(first.reaches(fallback));

        // Its name is free again once it ends.
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(server.httpUri() + first.location()))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(201, post("/whip/stage?stream=main",
                client().publishOffer(List.of(ClientTrack.video("again")), false), null).statusCode());
    }

    @Test
    void aPlayTokenForTheConferencePlaysEveryStreamAndOneNamingAPublisherOnlyThatOne() throws Exception {
        server = MediaServer.start(TestMedia.config().withAuthSecret(SECRET));
        String publish = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.PUBLISH, Duration.ofMinutes(5));
        String play = MediaToken.mint(SECRET, "room", null, MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        String playMain = MediaToken.mint(SECRET, "room", "main", MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        String playOther = MediaToken.mint(SECRET, "other", null, MediaToken.Grant.PLAY, Duration.ofMinutes(5));
        assertEquals(201, post("/whip/room?stream=main", client().publishOffer(List.of(ClientTrack.video("m")),
                false), publish).statusCode());
        HttpResponse<String> side = post("/whip/room?stream=side", client().publishOffer(
                List.of(ClientTrack.video("s")), false), publish);
        assertEquals(201, side.statusCode());
        String sideResource = side.headers().firstValue("Location").orElseThrow().replace("/whip/room/", "");

        assertEquals(201, post("/whep/room", client().receiveOffer(), play).statusCode());
        assertEquals(201, post("/whep/room/main", client().receiveOffer(), play).statusCode());
        assertEquals(201, post("/whep/room/" + sideResource, client().receiveOffer(), play).statusCode());
        assertEquals(403, post("/whep/room", client().receiveOffer(), playOther).statusCode(), "another conference");
        assertEquals(403, post("/whep/room", client().receiveOffer(), publish).statusCode(), "publish is not play");

        assertEquals(201, post("/whep/room/main", client().receiveOffer(), playMain).statusCode());
        HttpResponse<String> notMain = post("/whep/room/side", client().receiveOffer(), playMain);
        assertEquals(403, notMain.statusCode());
        assertEquals("forbidden", errorCode(notMain));
        assertEquals(403, post("/whep/room", client().receiveOffer(), playMain).statusCode(),
                "the conference's stream is now side, which the token does not name");
    }
}
