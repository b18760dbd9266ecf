package dev.parley.media.api;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.ice.ControllingCheck;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The parts of WHIP (RFC 9725) that clients use beyond POST and DELETE, over real HTTP against a real server with
 * real ICE/DTLS/SRTP clients: trickle ICE and ICE restarts over PATCH with entity tags, OPTIONS, and the Location
 * used as given.
 */
class WhipProtocolTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FRAG = "application/trickle-ice-sdpfrag";
    private static final Pattern UFRAG = Pattern.compile("a=ice-ufrag:(\\S+)");
    private static final Pattern PWD = Pattern.compile("a=ice-pwd:(\\S+)");
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

    private ClientEndpoint client() throws Exception {
        ClientEndpoint client = TestMedia.client();
        clients.add(client);
        return client;
    }

    private HttpResponse<String> request(String method, URI uri, String contentType, String body, String... headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI url(String path) {
        return URI.create(server.httpUri() + path);
    }

    private static String group(Pattern pattern, String text) {
        Matcher matcher = pattern.matcher(text);
        assertTrue(matcher.find(), pattern + " in " + text);
        return matcher.group(1);
    }

    private static String errorCode(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).path("error").asText();
    }

    /** Whether the viewer receives the publisher's video (sent with fresh sequence numbers while we wait). */
    private static boolean flows(ClientEndpoint publisher, ClientTrack video, ClientEndpoint viewer, int[] sequence)
            throws Exception {
        long before = viewer.packetsReceived(video.ssrc());
        return eventually(WAIT, () -> {
            int seq = ++sequence[0];
            publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, seq, seq * 3000L, true, new byte[200], false);
            return viewer.packetsReceived(video.ssrc()) > before;
        });
    }

    /** A fragment with the client's ICE credentials and one candidate, as a trickling client sends it. */
    private static String fragment(String ufrag, String password, String extra) {
        return "a=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:" + ufrag
                + "\r\na=ice-pwd:" + password + "\r\n" + extra;
    }

    @Test
    void anIceRestartOverPatchGivesNewCredentialsAndMediaFlowsOnWithThemWhileTheOldOnesAreRetired() throws Exception {
        server = MediaServer.start(TestMedia.config());
        ClientEndpoint publisher = client();
        ClientTrack video = ClientTrack.video("cam");
        String offer = publisher.publishOffer(List.of(video), false);
        URI endpoint = url("/whip/live");
        HttpResponse<String> created = request("POST", endpoint, "application/sdp", offer);
        assertEquals(201, created.statusCode(), created.body());
        publisher.acceptAnswer(created.body());
        assertTrue(publisher.awaitSecure(WAIT));
        String firstUfrag = group(UFRAG, created.body());
        String firstPassword = group(PWD, created.body());
        String etag = created.headers().firstValue("ETag").orElseThrow();
        assertEquals("\"" + firstUfrag + "\"", etag, "the entity tag names the ICE session");
        assertEquals(FRAG, created.headers().firstValue("Accept-Patch").orElseThrow());
        // The Location is used exactly as given: resolved against the URL the POST went to.
        URI session = endpoint.resolve(created.headers().firstValue("Location").orElseThrow());
        String clientUfrag = group(UFRAG, offer);
        String clientPassword = group(PWD, offer);

        ClientEndpoint viewer = client();
        HttpResponse<String> played = request("POST", url("/whep/live"), "application/sdp", viewer.receiveOffer());
        assertEquals(201, played.statusCode(), played.body());
        viewer.acceptAnswer(played.body());
        assertTrue(viewer.awaitSecure(WAIT));
        int[] sequence = {0};
        assertTrue(flows(publisher, video, viewer, sequence), "media flows before the restart");

        // Trickle: the session's own credentials and more candidates; accepted, 204 without body or ETag.
        HttpResponse<String> trickled = request("PATCH", session, FRAG, fragment(clientUfrag, clientPassword,
                "a=candidate:2 1 udp 2122194687 127.0.0.1 50000 typ host\r\n"
                        + "a=candidate:3 1 udp 2122194687 peer.local 50001 typ host\r\na=end-of-candidates\r\n"),
                "If-Match", etag);
        assertEquals(204, trickled.statusCode(), trickled.body());
        assertTrue(trickled.headers().firstValue("ETag").isEmpty());
        assertTrue(trickled.body().isEmpty());

        // ICE restart: new client credentials with If-Match: * (RFC 9725 §4.3.3).
        String newClientUfrag = "rst1";
        String newClientPassword = "restartedClientPassword0";
        HttpResponse<String> restarted = request("PATCH", session, FRAG,
                fragment(newClientUfrag, newClientPassword, "a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host\r\n"),
                "If-Match", "*");
        assertEquals(200, restarted.statusCode(), restarted.body());
        assertEquals(FRAG, restarted.headers().firstValue("Content-Type").orElseThrow());
        String newUfrag = group(UFRAG, restarted.body());
        String newPassword = group(PWD, restarted.body());
        assertNotEquals(firstUfrag, newUfrag);
        assertNotEquals(firstPassword, newPassword);
        String newEtag = restarted.headers().firstValue("ETag").orElseThrow();
        assertEquals("\"" + newUfrag + "\"", newEtag, "a restart changes the entity tag");
        HttpResponse<String> again = request("PATCH", session, FRAG, fragment("rst2", "restartedAgainPassword00", ""),
                "If-Match", "*");
        assertEquals(429, again.statusCode(), "one restart per second at most");
        assertEquals("ice.restart_too_soon", errorCode(again));
        assertTrue(restarted.body().contains("a=mid:0\r\n"), restarted.body());
        assertTrue(restarted.body().contains("a=candidate:"), restarted.body());
        assertTrue(restarted.body().contains("a=end-of-candidates"), restarted.body());

        // The client now checks with the new credentials; the old ones are no longer answered, the new ones are, from
        // addresses the session already knew and from new ones alike (the shared port routes the new ufrag).
        publisher.useServerIceCredentials(newUfrag, newPassword);
        InetSocketAddress udp = server.udpAddresses().get(0);
        try (DatagramSocket elsewhere = new DatagramSocket(0, TestMedia.loopback())) {
            assertNull(ControllingCheck.send(elsewhere, udp, ControllingCheck.request(firstUfrag, newClientUfrag,
                    firstPassword, false), 1000), "the old credentials are retired");
            ControllingCheck.Answer answer = ControllingCheck.send(elsewhere, udp, ControllingCheck.request(newUfrag,
                    newClientUfrag, newPassword, false), 2000);
            assertNotNull(answer, "a new address checking with the new credentials is answered");
            assertTrue(answer.success());
        }
        // Consent now rests on checks with the new credentials: past the consent timeout the publication lives on.
        Thread.sleep(server.config().consentTimeout().plusSeconds(2).toMillis());
        assertTrue(flows(publisher, video, viewer, sequence), "media flows after the restart");

        // The restart's own tag now guards trickles; the first session's tag is stale.
        assertEquals(412, request("PATCH", session, FRAG, fragment(newClientUfrag, newClientPassword, ""),
                "If-Match", etag).statusCode());
        assertEquals(204, request("PATCH", session, FRAG, fragment(newClientUfrag, newClientPassword, ""),
                "If-Match", newEtag).statusCode());
        assertEquals(200, request("DELETE", session, null, null).statusCode(), "DELETE on the Location as given");
    }

    @Test
    void badPatchesGetClearErrorsAndLeaveTheSessionAlone() throws Exception {
        server = MediaServer.start(TestMedia.config());
        ClientEndpoint publisher = client();
        String offer = publisher.publishOffer(List.of(ClientTrack.audio("mic")), false);
        HttpResponse<String> created = request("POST", url("/whip/room"), "application/sdp", offer);
        assertEquals(201, created.statusCode(), created.body());
        URI session = url("/whip/room").resolve(created.headers().firstValue("Location").orElseThrow());
        String etag = created.headers().firstValue("ETag").orElseThrow();
        String good = fragment(group(UFRAG, offer), group(PWD, offer), "a=end-of-candidates\r\n");

        HttpResponse<String> noTag = request("PATCH", session, FRAG, good);
        assertEquals(428, noTag.statusCode());
        assertEquals("precondition.required", errorCode(noTag));
        HttpResponse<String> staleTag = request("PATCH", session, FRAG, good, "If-Match", "\"nope\"");
        assertEquals(412, staleTag.statusCode());
        assertEquals("precondition.failed", errorCode(staleTag));
        assertEquals(412, request("PATCH", session, FRAG, good, "If-Match", "W/" + etag).statusCode(),
                "weak tags never match");
        HttpResponse<String> wrongType = request("PATCH", session, "application/sdp", good, "If-Match", etag);
        assertEquals(415, wrongType.statusCode());
        assertEquals("media_type.unsupported", errorCode(wrongType));
        HttpResponse<String> tooLarge = request("PATCH", session, FRAG, good + "a=ice-options:trickle\r\n"
                .repeat(1000), "If-Match", etag);
        assertEquals(413, tooLarge.statusCode());
        assertEquals("request.too_large", errorCode(tooLarge));
        for (String malformed : List.of("v=0\r\n", "not sdp\r\n", "a=candidate:1 1 udp\r\n",
                "a=ice-ufrag:ab\r\na=ice-pwd:tooShort\r\n", "a=ice-ufrag:abcd\r\n",
                "a=candidate:x 1 udp 1 127.0.0.1 70000 typ host\r\n",
                "a=candidate:1 1 udp 1 127.0.0.1 1 typ host\r\n".repeat(65))) {
            HttpResponse<String> refused = request("PATCH", session, FRAG, malformed, "If-Match", etag);
            assertEquals(400, refused.statusCode(), malformed);
            assertEquals("sdpfrag.invalid", errorCode(refused), malformed);
        }
        assertEquals(204, request("PATCH", session, FRAG, good, "If-Match", etag).statusCode(),
                "the session is as it was");
        assertEquals(etag, "\"" + server.whipIce("room", WhipResource.Kind.WHIP,
                session.getPath().substring("/whip/room/".length())).localUfrag() + "\"");
        assertEquals(404, request("PATCH", url("/whip/room/0123456789abcdef0123456789abcdef"), FRAG, good,
                "If-Match", "*").statusCode());
        // Every refusal is counted under its code.
        String metrics = request("GET", url("/metrics"), null, null).body();
        assertEquals(7.0, refused(metrics, "sdpfrag.invalid"), metrics);
        assertEquals(2.0, refused(metrics, "precondition.failed"));
        assertEquals(1.0, refused(metrics, "precondition.required"));
        assertEquals(1.0, refused(metrics, "media_type.unsupported"));
        assertEquals(1.0, refused(metrics, "request.too_large"));
        assertEquals(1.0, refused(metrics, "resource.not_found"));
    }

    private static double refused(String metrics, String code) {
        Matcher matcher = Pattern.compile("parley_media_http_refused_total\\{code=\"" + Pattern.quote(code)
                + "\",?} (\\S+)").matcher(metrics);
        assertTrue(matcher.find(), code + " in " + metrics);
        return Double.parseDouble(matcher.group(1));
    }

    @Test
    void optionsTellsWhatEachRouteTakesAndHandsStunAndTurnServersOnlyToThoseWhoMayUseThem() throws Exception {
        String secret = "a-test-secret-that-is-at-least-32-bytes!";
        server = MediaServer.start(TestMedia.config().withAuthSecret(secret)
                .withHttp(true, List.of("https://player.example"))
                .withIceServers(new MediaConfig.IceServers(List.of("stun:127.0.0.1:3478",
                        "turn:127.0.0.1:3478?transport=udp"), "turn-shared-secret", Duration.ofMinutes(10))));
        String publish = MediaToken.mint(secret, "room", null, MediaToken.Grant.PUBLISH, Duration.ofMinutes(5));

        HttpResponse<String> whip = request("OPTIONS", url("/whip/room"), null, null,
                "Authorization", "Bearer " + publish);
        assertEquals(200, whip.statusCode());
        assertEquals("application/sdp", whip.headers().firstValue("Accept-Post").orElseThrow());
        List<String> links = whip.headers().allValues("Link");
        assertEquals(2, links.size(), links.toString());
        assertEquals("<stun:127.0.0.1:3478>; rel=\"ice-server\"", links.get(0));
        assertTrue(links.get(1).startsWith("<turn:127.0.0.1:3478?transport=udp>; rel=\"ice-server\"; username=\""),
                links.get(1));
        assertTrue(links.get(1).endsWith("; credential-type=\"password\""), links.get(1));

        assertTrue(request("OPTIONS", url("/whip/room"), null, null).headers().allValues("Link").isEmpty(),
                "no TURN credentials without a token");
        HttpResponse<String> preflight = request("OPTIONS", url("/whip/room"), null, null,
                "Origin", "https://player.example", "Access-Control-Request-Method", "POST",
                "Access-Control-Request-Headers", "authorization, content-type");
        assertEquals(200, preflight.statusCode());
        assertEquals("https://player.example",
                preflight.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
        assertTrue(preflight.headers().firstValue("Access-Control-Allow-Headers").orElseThrow().contains("If-Match"));
        assertTrue(preflight.headers().firstValue("Access-Control-Expose-Headers").orElseThrow().contains("ETag"));
        assertTrue(preflight.headers().allValues("Link").isEmpty(), "no TURN credentials on a CORS pre-flight");
        assertTrue(request("OPTIONS", url("/whip/room"), null, null, "Origin", "https://evil.example",
                "Access-Control-Request-Method", "POST").headers().firstValue("Access-Control-Allow-Origin")
                .isEmpty());

        HttpResponse<String> resource = request("OPTIONS", url("/whip/room/0123456789abcdef0123456789abcdef"), null,
                null);
        assertEquals(FRAG, resource.headers().firstValue("Accept-Patch").orElseThrow());
        assertFalse(resource.headers().firstValue("Accept-Post").isPresent());
        HttpResponse<String> whep = request("OPTIONS", url("/whep/room"), null, null);
        assertEquals("application/sdp", whep.headers().firstValue("Accept-Post").orElseThrow());

        // The 201 carries them too, and its TURN credential is coturn's TURN REST scheme for this endpoint.
        HttpResponse<String> created = request("POST", url("/whip/room"), "application/sdp",
                client().publishOffer(List.of(ClientTrack.audio("mic")), false), "Authorization", "Bearer " + publish);
        assertEquals(201, created.statusCode(), created.body());
        List<String> createdLinks = created.headers().allValues("Link");
        assertEquals(2, createdLinks.size(), createdLinks.toString());
        TurnLink turn = TurnLink.parse(createdLinks.get(1));
        String[] username = turn.username().split(":", 2);
        long expiry = Long.parseLong(username[0]);
        long now = System.currentTimeMillis() / 1000;
        assertTrue(expiry > now + 500 && expiry <= now + 601, "ten minutes from now: " + expiry);
        assertEquals(server.conferences().get(0).endpointIds().get(0), username[1]);
        assertEquals(TurnLink.sign("turn-shared-secret", turn.username()), turn.credential());
    }
}
