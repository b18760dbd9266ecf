package dev.parley.signaling.medianode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.api.ConferenceInfo;
import dev.parley.media.api.EndpointInfo;
import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.MediaStats;
import dev.parley.media.api.MediaToken;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoReceive;
import dev.parley.signaling.call.CallMedia;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A media node's conferences driven over its HTTP API: what a gateway does with its embedded media server, done
 * with a node on another machine. Each request carries a media token the gateway signs with the shared
 * {@code auth-secret}, scoped to the one conference (every conference only where the API asks for it) and valid
 * for a minute. A node that cannot be reached, or answers with a server error, fails the call with
 * {@link CallMedia.Unreachable}; the API's own refusals keep their {@link MediaException} codes.
 *
 * <p>Events come over one stream per conference ({@code events?stream}), read without a thread of its own. A stream
 * that stays silent for {@link #SILENCE} (the node writes a line every 2 s) or breaks is opened again from the last
 * sequence read; when that fails too the node is taken as gone and {@code onLost} hears of it.
 */
public final class RemoteMediaApi implements CallMedia {

    /** How long a stream may stay silent before the node is taken as gone: two missed keepalives and a margin. */
    static final Duration SILENCE = Duration.ofSeconds(5);
    private static final Duration TOKEN_LIFETIME = Duration.ofMinutes(1);
    private static final Logger log = LoggerFactory.getLogger(RemoteMediaApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String nodeId;
    private final URI base;
    private final String secret;
    private final HttpClient http;
    private final Duration timeout;
    private final ScheduledExecutorService timers;

    /**
     * @param secret  the nodes' {@code parley.media.auth-secret}; empty only for a node on loopback without one
     * @param timeout how long one request may take
     * @param timers  watches the event streams for silence
     */
    public RemoteMediaApi(String nodeId, URI base, String secret, HttpClient http, Duration timeout,
                          ScheduledExecutorService timers) {
        this.nodeId = nodeId;
        String text = base.toString();
        this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        this.secret = secret;
        this.http = http;
        this.timeout = timeout;
        this.timers = timers;
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    /** A node's API is where WHIP/WHEP tools reach it too. */
    @Override
    public URI httpUri() {
        return base;
    }

    @Override
    public String createConference() {
        return createConference(null).conferenceId();
    }

    @Override
    public String createEndpoint(String conferenceId) {
        return createEndpoint(conferenceId, null).endpointId();
    }

    public ConferenceInfo createConference(String conferenceId) {
        Map<String, Object> body = conferenceId == null ? Map.of() : Map.of("id", conferenceId);
        return read(send("POST", "/v1/conferences", conferenceId == null ? "*" : conferenceId, body, 201),
                ConferenceInfo.class);
    }

    @Override
    public void closeConference(String conferenceId) {
        send("DELETE", "/v1/conferences/" + path(conferenceId), conferenceId, null, 204);
    }

    public EndpointInfo createEndpoint(String conferenceId, String endpointId) {
        Map<String, Object> body = endpointId == null ? Map.of() : Map.of("id", endpointId);
        return read(send("POST", "/v1/conferences/" + path(conferenceId) + "/endpoints", conferenceId, body, 201),
                EndpointInfo.class);
    }

    @Override
    public void closeEndpoint(String conferenceId, String endpointId) {
        send("DELETE", endpoint(conferenceId, endpointId), conferenceId, null, 204);
    }

    @Override
    public String publish(String conferenceId, String endpointId, String sdpOffer) {
        return send("POST", endpoint(conferenceId, endpointId) + "/publish", conferenceId,
                Map.of("type", "offer", "sdp", sdpOffer), 200).path("sdp").asText();
    }

    @Override
    public Optional<SubscribeOffer> subscribeOffer(String conferenceId, String endpointId) {
        JsonNode offer = send("POST", endpoint(conferenceId, endpointId) + "/subscribe/offer", conferenceId, null,
                200, 204);
        return offer.isEmpty() ? Optional.empty()
                : Optional.of(new SubscribeOffer(offer.path("sdp").asText(), offer.path("version").asLong()));
    }

    @Override
    public void subscribeAnswer(String conferenceId, String endpointId, String sdpAnswer) {
        send("POST", endpoint(conferenceId, endpointId) + "/subscribe/answer", conferenceId,
                Map.of("type", "answer", "sdp", sdpAnswer), 204);
    }

    @Override
    public void receiveVideo(String conferenceId, String endpointId, List<VideoReceive> videos) {
        send("POST", endpoint(conferenceId, endpointId) + "/receive", conferenceId, Map.of("videos", videos), 204);
    }

    @Override
    public List<TrackInfo> tracks(String conferenceId) {
        List<TrackInfo> tracks = new ArrayList<>();
        for (JsonNode track : send("GET", "/v1/conferences/" + path(conferenceId) + "/tracks", conferenceId, null,
                200)) {
            tracks.add(read(track, TrackInfo.class));
        }
        return tracks;
    }

    public List<TrackEvent> events(String conferenceId, long afterSequence) {
        List<TrackEvent> events = new ArrayList<>();
        for (JsonNode event : send("GET", "/v1/conferences/" + path(conferenceId) + "/events?after=" + afterSequence,
                conferenceId, null, 200)) {
            TrackEvent parsed = TrackEvents.fromJson(event);
            if (parsed != null) {
                events.add(parsed);
            }
        }
        return events;
    }

    public MediaStats stats() {
        return read(send("GET", "/stats", "*", null, 200), MediaStats.class);
    }

    /**
     * Hears the conference's events as they happen, from now on, until closed; {@code onLost} runs once if the node
     * goes silent or cannot be reached again (not when the conference simply closes).
     */
    @Override
    public AutoCloseable onEvent(String conferenceId, Consumer<TrackEvent> listener, Runnable onLost) {
        Subscription subscription = new Subscription(conferenceId, listener, onLost, lastSequence(conferenceId));
        subscription.open();
        return subscription::close;
    }

    /** The newest sequence the node still keeps for the conference (0 with none). */
    private long lastSequence(String conferenceId) {
        List<TrackEvent> kept = events(conferenceId, 0);
        return kept.isEmpty() ? 0 : kept.get(kept.size() - 1).sequence();
    }

    /** One conference's event stream, reopened from its last sequence when it breaks. */
    private final class Subscription {
        private final String conferenceId;
        private final Consumer<TrackEvent> listener;
        private final Runnable onLost;
        private long last;
        private long heardNanos = System.nanoTime();
        private boolean closed;
        private boolean lost;
        private Flow.Subscription body;
        private CompletableFuture<?> request;
        private ScheduledFuture<?> watch;

        Subscription(String conferenceId, Consumer<TrackEvent> listener, Runnable onLost, long after) {
            this.conferenceId = conferenceId;
            this.listener = listener;
            this.onLost = onLost;
            this.last = after;
        }

        synchronized void open() {
            if (closed || lost) {
                return;
            }
            heardNanos = System.nanoTime();
            HttpRequest streamRequest = authorized("/v1/conferences/" + path(conferenceId) + "/events?stream&after="
                    + last, conferenceId).GET().build();
            request = http.sendAsync(streamRequest, responseInfo -> {
                if (responseInfo.statusCode() != 200) {
                    return HttpResponse.BodySubscribers.replacing(null);
                }
                return HttpResponse.BodySubscribers.fromLineSubscriber(new Lines());
            }).whenComplete((response, failure) -> ended(response == null ? -1 : response.statusCode(), failure));
            if (watch == null) {
                long every = SILENCE.toMillis() / 5;
                watch = timers.scheduleAtFixedRate(this::checkSilence, every, every, TimeUnit.MILLISECONDS);
            }
        }

        private synchronized void checkSilence() {
            if (!closed && !lost && System.nanoTime() - heardNanos > SILENCE.toNanos()) {
                log.warn("media node {} silent for {} on conference {}", base, SILENCE, conferenceId);
                lose();
            }
        }

        private synchronized void heard(String line) {
            heardNanos = System.nanoTime();
            if (closed || line.isBlank()) {
                return;
            }
            try {
                TrackEvent event = TrackEvents.fromJson(JSON.readTree(line));
                if (event != null && event.sequence() > last) {
                    last = event.sequence();
                    listener.accept(event);
                }
            } catch (IOException | RuntimeException e) {
                log.warn("media node {} sent an event that could not be read: {}", base, e.toString());
            }
        }

        /** The stream ended: the conference closed (404 on reopening), or it broke and is opened again. */
        private void ended(int status, Throwable failure) {
            synchronized (this) {
                if (closed || lost) {
                    return;
                }
            }
            if (status == 200 && failure == null) {
                // A clean end: the conference closed, or the node cut a slow reader off. Reopen to tell which.
                reopen();
            } else if (status == 404) {
                close();
            } else {
                reopen();
            }
        }

        private void reopen() {
            try {
                events(conferenceId, Long.MAX_VALUE - 1);
            } catch (MediaException e) {
                if (e.code() == ErrorCode.NOT_FOUND) {
                    close();
                    return;
                }
            } catch (CallMedia.Unreachable e) {
                lose();
                return;
            }
            open();
        }

        private void lose() {
            Runnable tell;
            synchronized (this) {
                if (closed || lost) {
                    return;
                }
                lost = true;
                tell = onLost;
                stop();
            }
            tell.run();
        }

        synchronized void close() {
            closed = true;
            stop();
        }

        private void stop() {
            if (watch != null) {
                watch.cancel(false);
            }
            if (body != null) {
                body.cancel();
            }
            if (request != null) {
                request.cancel(true);
            }
        }

        private final class Lines implements Flow.Subscriber<String> {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                synchronized (Subscription.this) {
                    body = subscription;
                    if (closed || lost) {
                        subscription.cancel();
                        return;
                    }
                }
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(String line) {
                heard(line);
            }

            @Override
            public void onError(Throwable throwable) {
                // ended() hears of it through the response's future.
            }

            @Override
            public void onComplete() {
                // as onError
            }
        }
    }

    private JsonNode send(String method, String pathAndQuery, String conference, Object body, int... expected) {
        HttpRequest.Builder request = authorized(pathAndQuery, conference).timeout(timeout);
        try {
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            if (body != null) {
                request.header("Content-Type", "application/json");
            }
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            for (int status : expected) {
                if (response.statusCode() == status) {
                    return response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
                }
            }
            throw refusal(method, pathAndQuery, response);
        } catch (IOException e) {
            throw new CallMedia.Unreachable("media node " + base + " did not answer " + method + " " + pathAndQuery
                    + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CallMedia.Unreachable("interrupted while calling media node " + base, e);
        }
    }

    private RuntimeException refusal(String method, String path, HttpResponse<String> response) {
        String code = null;
        String message = response.body();
        try {
            JsonNode error = JSON.readTree(response.body());
            code = error.path("error").asText(null);
            message = error.path("message").asText(message);
        } catch (IOException e) {
            // not JSON: keep the raw body
        }
        for (ErrorCode known : ErrorCode.values()) {
            if (known.code().equals(code)) {
                return new MediaException(known, message);
            }
        }
        return new CallMedia.Unreachable("media node " + base + " answered " + method + " " + path + " with HTTP "
                + response.statusCode() + ": " + message, null);
    }

    private HttpRequest.Builder authorized(String pathAndQuery, String conference) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + pathAndQuery));
        if (!secret.isEmpty()) {
            builder.header("Authorization", "Bearer " + MediaToken.mint(secret, conference, null,
                    MediaToken.Grant.ADMIN, TOKEN_LIFETIME));
        }
        return builder;
    }

    private static String endpoint(String conferenceId, String endpointId) {
        return "/v1/conferences/" + path(conferenceId) + "/endpoints/" + path(endpointId);
    }

    private static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static <T> T read(JsonNode json, Class<T> type) {
        try {
            return JSON.treeToValue(json, type);
        } catch (IOException e) {
            throw new CallMedia.Unreachable("a media node answered what this gateway cannot read as "
                    + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** The events' wire shapes (the node's {@code events} route), back into records. */
    static final class TrackEvents {
        private TrackEvents() {
        }

        /** The event, or null for a type this gateway does not know (a newer node). */
        static TrackEvent fromJson(JsonNode json) throws IllegalArgumentException {
            long sequence = json.path("sequence").asLong();
            String conference = json.path("conferenceId").asText();
            String endpoint = json.path("endpointId").asText(null);
            return switch (json.path("type").asText()) {
                case "track-added" -> new TrackEvent.TrackAdded(sequence, conference,
                        read(json.path("track"), TrackInfo.class));
                case "track-removed" -> new TrackEvent.TrackRemoved(sequence, conference,
                        json.path("trackId").asText(), json.path("publisherEndpointId").asText());
                case "subscription-changed" -> new TrackEvent.SubscriptionChanged(sequence, conference, endpoint);
                case "layers-wanted" -> new TrackEvent.LayersWanted(sequence, conference, endpoint,
                        json.path("trackId").asText(), json.path("mid").asText(), strings(json.path("rids")));
                case "speakers-changed" -> new TrackEvent.SpeakersChanged(sequence, conference,
                        json.path("dominantEndpointId").asText(null), strings(json.path("speaking")));
                case "videos-withheld" -> new TrackEvent.VideosWithheld(sequence, conference, endpoint,
                        strings(json.path("trackIds")), strings(json.path("lowBandwidthTrackIds")),
                        json.path("linkLimited").asBoolean());
                case "endpoint-closed" -> new TrackEvent.EndpointClosed(sequence, conference, endpoint,
                        json.path("reason").asText());
                default -> null;
            };
        }

        private static List<String> strings(JsonNode array) {
            List<String> values = new ArrayList<>();
            array.forEach(v -> values.add(v.asText()));
            return values;
        }
    }

    /** For messages: where this node is. */
    @Override
    public String toString() {
        return "media node " + base;
    }
}
