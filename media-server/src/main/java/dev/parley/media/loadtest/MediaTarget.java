package dev.parley.media.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.api.VideoReceive;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Parley media server reached over its HTTP API: the control API (conferences, endpoints, publish, subscribe),
 * WHIP and WHEP, and {@code /metrics}. The same calls work against an embedded server or any deployment.
 */
final class MediaTarget {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    /** A WHIP or WHEP session: the server's answer and the resource id from its Location header. */
    record Session(String answer, String resource) {
    }

    private final URI base;
    private final String bearerToken;
    private final HttpClient http;

    MediaTarget(URI base, String bearerToken) {
        String text = base.toString();
        this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        this.bearerToken = bearerToken == null ? "" : bearerToken;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    URI base() {
        return base;
    }

    /**
     * Refuses a target whose host is not a loopback address, unless remote targets are allowed: the load
     * generator must never send media to a host the operator did not mean.
     */
    static void checkLoopback(URI target, boolean allowRemote) {
        String scheme = target.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || target.getHost() == null) {
            throw new IllegalArgumentException("--target must be an http(s) URL with a host, e.g. "
                    + "http://127.0.0.1:8081");
        }
        if (allowRemote) {
            return;
        }
        try {
            for (InetAddress address : InetAddress.getAllByName(target.getHost())) {
                if (!address.isLoopbackAddress()) {
                    throw new IllegalArgumentException("--target " + target + " is not on loopback (" + address
                            .getHostAddress() + "); pass --allow-remote-target to load-test another host");
                }
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--target host " + target.getHost() + " does not resolve");
        }
    }

    void createConference(String id) throws IOException {
        json("POST", "/v1/conferences", Map.of("id", id), 201);
    }

    void deleteConference(String id) {
        try {
            send(request("/v1/conferences/" + id).DELETE().build());
        } catch (IOException e) {
            // best effort: the server expires what is left
        }
    }

    void createEndpoint(String conference, String endpoint) throws IOException {
        json("POST", "/v1/conferences/" + conference + "/endpoints", Map.of("id", endpoint), 201);
    }

    String publish(String conference, String endpoint, String offer) throws IOException {
        return json("POST", "/v1/conferences/" + conference + "/endpoints/" + endpoint + "/publish",
                Map.of("type", "offer", "sdp", offer), 200).get("sdp").asText();
    }

    /** The server's subscribe offer, or null while there is nothing to receive. */
    String subscribeOffer(String conference, String endpoint) throws IOException {
        HttpResponse<String> response = send(request("/v1/conferences/" + conference + "/endpoints/" + endpoint
                + "/subscribe/offer").POST(HttpRequest.BodyPublishers.noBody()).build());
        if (response.statusCode() == 204) {
            return null;
        }
        expect(response, 200);
        return JSON.readTree(response.body()).get("sdp").asText();
    }

    void subscribeAnswer(String conference, String endpoint, String answer) throws IOException {
        json("POST", "/v1/conferences/" + conference + "/endpoints/" + endpoint + "/subscribe/answer",
                Map.of("type", "answer", "sdp", answer), 204);
    }

    /** The conference's published video tracks' ids, by publishing endpoint. */
    Map<String, List<String>> videoTracks(String conference) throws IOException {
        HttpResponse<String> response = send(request("/v1/conferences/" + conference + "/tracks").GET().build());
        expect(response, 200);
        Map<String, List<String>> byEndpoint = new LinkedHashMap<>();
        for (JsonNode track : JSON.readTree(response.body())) {
            if (track.path("kind").asText().equals("video")) {
                byEndpoint.computeIfAbsent(track.path("publisherEndpointId").asText(), k -> new ArrayList<>())
                        .add(track.path("trackId").asText());
            }
        }
        return byEndpoint;
    }

    /** States what the endpoint shows of each video ({@code POST .../receive}). */
    void receiveVideo(String conference, String endpoint, List<VideoReceive> videos) throws IOException {
        json("POST", "/v1/conferences/" + conference + "/endpoints/" + endpoint + "/receive",
                Map.of("videos", videos), 204);
    }

    Session whip(String conference, String offer) throws IOException {
        return sdp("/whip/" + conference, offer);
    }

    Session whep(String conference, String publisher, String offer) throws IOException {
        return sdp("/whep/" + conference + "/" + publisher, offer);
    }

    /** The Prometheus text of {@code /metrics}. */
    String metrics() throws IOException {
        HttpResponse<String> response = send(request("/metrics").timeout(Duration.ofSeconds(3)).GET().build());
        expect(response, 200);
        return response.body();
    }

    private Session sdp(String path, String offer) throws IOException {
        HttpResponse<String> response = send(request(path).header("Content-Type", "application/sdp")
                .POST(HttpRequest.BodyPublishers.ofString(offer)).build());
        expect(response, 201);
        String location = response.headers().firstValue("Location").orElse("");
        return new Session(response.body(), location.substring(location.lastIndexOf('/') + 1));
    }

    private JsonNode json(String method, String path, Object body, int status) throws IOException {
        HttpResponse<String> response = send(request(path).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build());
        expect(response, status);
        return response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT);
        if (!bearerToken.isEmpty()) {
            builder.header("Authorization", "Bearer " + bearerToken);
        }
        return builder;
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static void expect(HttpResponse<String> response, int status) throws IOException {
        if (response.statusCode() != status) {
            throw new IOException(response.request().method() + " " + response.request().uri().getPath() + ": HTTP "
                    + response.statusCode() + " " + response.body());
        }
    }
}
