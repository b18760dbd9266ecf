package dev.parley.media.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.sdp.SdpException;
import dev.parley.media.sdp.TrickleFragment;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Routes one HTTP request to the {@link MediaApi} on the work executor and writes the JSON or SDP response. */
final class HttpApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApiHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SDP = "application/sdp";
    /** The W3C LDP header naming what POST takes (RFC 9725 §4.2). */
    private static final String ACCEPT_POST = "Accept-Post";
    private static final String LINK = "Link";

    private final MediaApi api;
    private final String authSecret;
    private final Set<String> corsOrigins;
    private final ExecutorService work;
    private final Supplier<String> metrics;
    private final IceServerLinks iceServers;
    private final MediaCounters counters;

    /**
     * A response before it is turned into Netty's; {@code headers} may repeat a name (Link); {@code errorCode} is the
     * code of an error response, else null.
     */
    private record Reply(HttpResponseStatus status, String contentType, String body, HttpHeaders headers,
                         String errorCode, Streamed streamed) {
        Reply(HttpResponseStatus status, String contentType, String body, HttpHeaders headers) {
            this(status, contentType, body, headers, null, null);
        }

        Reply(HttpResponseStatus status, String contentType, String body, HttpHeaders headers, String errorCode) {
            this(status, contentType, body, headers, errorCode, null);
        }

        /** The answer is the conference's event stream after {@code after} ({@link EventStream}), not a body. */
        static Reply stream(String conference, long after) {
            return new Reply(HttpResponseStatus.OK, EventStream.MEDIA_TYPE, "", new DefaultHttpHeaders(), null,
                    new Streamed(conference, after));
        }

        static Reply json(HttpResponseStatus status, Object value) {
            try {
                return new Reply(status, "application/json", JSON.writeValueAsString(value), new DefaultHttpHeaders());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        static Reply empty(HttpResponseStatus status) {
            return new Reply(status, null, "", new DefaultHttpHeaders());
        }

        Reply with(CharSequence name, Object value) {
            headers.add(name, value);
            return this;
        }
    }

    /** An event stream to open: the conference and the last sequence the caller has. */
    private record Streamed(String conference, long after) {
    }

    /** What the handler reads of a request, taken off the event loop before the body's buffer is released. */
    private record Request(HttpMethod method, String path, Map<String, List<String>> query, String body,
                           int bodyBytes, HttpHeaders headers) {
        String header(CharSequence name) {
            return headers.get(name);
        }
    }

    HttpApiHandler(MediaApi api, String authSecret, List<String> corsOrigins, ExecutorService work,
                   Supplier<String> metrics, IceServerLinks iceServers, MediaCounters counters) {
        this.api = api;
        this.counters = counters;
        this.iceServers = iceServers;
        this.authSecret = authSecret.isEmpty() ? null : authSecret;
        this.corsOrigins = Set.copyOf(corsOrigins);
        this.work = work;
        this.metrics = metrics;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        Request read = new Request(request.method(), uri.path(), uri.parameters(),
                request.content().toString(StandardCharsets.UTF_8), request.content().readableBytes(),
                request.headers().copy());
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        String allowedOrigin = origin != null && corsOrigins.contains(origin) ? origin : null;
        try {
            work.execute(() -> {
                Reply reply = counted(handle(read));
                if (reply.streamed() != null) {
                    EventStream.open(ctx, api, reply.streamed().conference(), reply.streamed().after(),
                            allowedOrigin);
                } else {
                    respond(ctx, keepAlive, reply, allowedOrigin);
                }
            });
        } catch (RejectedExecutionException e) {
            respond(ctx, false, counted(error(HttpResponseStatus.SERVICE_UNAVAILABLE, "unavailable",
                    "shutting down")), allowedOrigin);
        }
    }

    private Reply handle(Request request) {
        HttpMethod method = request.method();
        String path = request.path();
        Map<String, List<String>> query = request.query();
        String body = request.body();
        String authorization = request.header(HttpHeaderNames.AUTHORIZATION);
        try {
            String[] p = segments(path);
            if (method.equals(HttpMethod.OPTIONS)) {
                return options(p, request);
            }
            if (p.length == 1 && p[0].equals("healthz") && method.equals(HttpMethod.GET)) {
                return Reply.json(HttpResponseStatus.OK, Map.of("status", "ok"));
            }
            if (p.length == 1 && p[0].equals("metrics") && method.equals(HttpMethod.GET)) {
                return new Reply(HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8", metrics.get(),
                        new DefaultHttpHeaders());
            }
            Access access;
            try {
                access = authenticate(authorization);
            } catch (MediaToken.Invalid e) {
                return error(HttpResponseStatus.UNAUTHORIZED, ErrorCode.UNAUTHORIZED.code(),
                        "a valid media token is required (" + e.getMessage() + ")")
                        .with(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            }
            if (p.length == 1 && p[0].equals("stats") && method.equals(HttpMethod.GET)) {
                access.require(MediaToken.Grant.ADMIN, "*", null, false);
                return Reply.json(HttpResponseStatus.OK, api.stats());
            }
            if (p.length >= 2 && (p[0].equals("whip") || p[0].equals("whep"))) {
                return whipWhep(request, p, access);
            }
            if (p.length >= 2 && p[0].equals("v1") && p[1].equals("conferences")) {
                return control(method, p, query, body, access);
            }
            return error(HttpResponseStatus.NOT_FOUND, ErrorCode.NOT_FOUND.code(), "no such route: " + path);
        } catch (MediaException e) {
            return error(HttpResponseStatus.valueOf(e.code().httpStatus()), e.code().code(), e.getMessage());
        } catch (BadRequest e) {
            return error(HttpResponseStatus.BAD_REQUEST, ErrorCode.INVALID_REQUEST.code(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("{} {} failed", method, path, e);
            return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal", "internal error");
        }
    }

    private Reply control(HttpMethod method, String[] p, Map<String, List<String>> query, String body,
                          Access access) {
        if (p.length == 2) {
            if (method.equals(HttpMethod.POST)) {
                String id = optionalId(body);
                access.require(MediaToken.Grant.ADMIN, id == null ? "*" : id, null, false);
                return Reply.json(HttpResponseStatus.CREATED, api.createConference(id));
            }
            if (method.equals(HttpMethod.GET)) {
                access.require(MediaToken.Grant.ADMIN, "*", null, false);
                return Reply.json(HttpResponseStatus.OK, api.conferences());
            }
            return notAllowed();
        }
        String conference = p[2];
        if (p.length < 5 || !p[3].equals("endpoints") || p.length == 5) {
            // The conference itself, its tracks and events, creating and removing endpoints: its administrator.
            access.require(MediaToken.Grant.ADMIN, conference, null, false);
        }
        if (p.length == 3) {
            if (method.equals(HttpMethod.DELETE)) {
                api.closeConference(conference);
                return Reply.empty(HttpResponseStatus.NO_CONTENT);
            }
            return notAllowed();
        }
        if (p.length == 4 && p[3].equals("tracks") && method.equals(HttpMethod.GET)) {
            return Reply.json(HttpResponseStatus.OK, api.tracks(conference));
        }
        if (p.length == 4 && p[3].equals("events") && method.equals(HttpMethod.GET)) {
            long after = 0;
            List<String> values = query.get("after");
            if (values != null && !values.isEmpty()) {
                try {
                    after = Long.parseLong(values.get(0));
                } catch (NumberFormatException e) {
                    throw new BadRequest("after must be a number");
                }
            }
            if (query.containsKey("stream")) {
                api.events(conference, Long.MAX_VALUE); // an unknown conference is refused here, with its code
                return Reply.stream(conference, after);
            }
            List<Map<String, Object>> events = new ArrayList<>();
            for (TrackEvent event : api.events(conference, after)) {
                events.add(eventJson(event));
            }
            return Reply.json(HttpResponseStatus.OK, events);
        }
        if (p.length == 4 && p[3].equals("endpoints") && method.equals(HttpMethod.POST)) {
            return Reply.json(HttpResponseStatus.CREATED, api.createEndpoint(conference, optionalId(body)));
        }
        if (p.length < 5 || !p[3].equals("endpoints")) {
            return error(HttpResponseStatus.NOT_FOUND, ErrorCode.NOT_FOUND.code(), "no such route");
        }
        String endpoint = p[4];
        if (p.length == 6 && p[5].equals("receive")) {
            // What the endpoint receives is the receiver's own choice: its play grant.
            access.require(MediaToken.Grant.PLAY, conference, endpoint, true);
        } else if (p.length == 6) {
            access.require(MediaToken.Grant.PUBLISH, conference, endpoint, true);
        } else if (p.length == 7) {
            access.require(MediaToken.Grant.PLAY, conference, endpoint, true);
        }
        if (p.length == 5 && method.equals(HttpMethod.DELETE)) {
            api.closeEndpoint(conference, endpoint);
            return Reply.empty(HttpResponseStatus.NO_CONTENT);
        }
        if (p.length == 6 && p[5].equals("publish") && method.equals(HttpMethod.POST)) {
            String answer = api.publish(conference, endpoint, sdpField(body));
            return Reply.json(HttpResponseStatus.OK, Map.of("type", "answer", "sdp", answer));
        }
        if (p.length == 6 && p[5].equals("receive") && method.equals(HttpMethod.POST)) {
            api.receiveVideo(conference, endpoint, videoReceives(body));
            return Reply.empty(HttpResponseStatus.NO_CONTENT);
        }
        if (p.length == 7 && p[5].equals("subscribe") && p[6].equals("offer") && method.equals(HttpMethod.POST)) {
            return api.subscribeOffer(conference, endpoint)
                    .map(offer -> Reply.json(HttpResponseStatus.OK,
                            Map.of("type", "offer", "sdp", offer.sdp(), "version", offer.version())))
                    .orElse(Reply.empty(HttpResponseStatus.NO_CONTENT));
        }
        if (p.length == 7 && p[5].equals("subscribe") && p[6].equals("answer") && method.equals(HttpMethod.POST)) {
            api.subscribeAnswer(conference, endpoint, sdpField(body));
            return Reply.empty(HttpResponseStatus.NO_CONTENT);
        }
        return notAllowed();
    }

    private Reply whipWhep(Request request, String[] p, Access access) {
        HttpMethod method = request.method();
        boolean whip = p[0].equals("whip");
        WhipResource.Kind kind = whip ? WhipResource.Kind.WHIP : WhipResource.Kind.WHEP;
        // WHIP needs publish, WHEP play, in the conference; a play token naming an endpoint is held to that
        // publisher, by any of its names (endpoint id, WHIP resource id, stream name), checked once the request
        // has resolved to a publisher. A session's resource id is random and known only to its creator, so holding
        // it (with a token of the right grant) is what allows ending or changing the session: a call member cannot
        // end anyone else's media.
        access.require(whip ? MediaToken.Grant.PUBLISH : MediaToken.Grant.PLAY, p[1], null, false);
        if (p.length == 2 && whip && method.equals(HttpMethod.POST)) {
            WhipResource resource = api.whipPublish(p[1], streamName(request.query()), request.body());
            return created(kind, resource);
        }
        if (p.length <= 3 && !whip && method.equals(HttpMethod.POST)) {
            WhipResource resource = api.whepPlay(p[1], p.length == 3 ? p[2] : null, request.body(),
                    access::mayPlay);
            return created(kind, resource);
        }
        if (p.length == 3 && method.equals(HttpMethod.DELETE)) {
            api.closeWhipResource(p[1], kind, p[2]);
            return Reply.empty(HttpResponseStatus.OK);
        }
        if (p.length == 3 && method.equals(HttpMethod.PATCH)) {
            return patch(request, p[1], kind, p[2]);
        }
        return notAllowed();
    }

    /**
     * Trickle ICE or an ICE restart (RFC 9725 §4.3): an {@code application/trickle-ice-sdpfrag} whose credentials
     * are the session's current ones (or absent) trickles candidates, answered 204; new credentials restart ICE,
     * answered 200 with the server's new credentials and candidates and the new entity tag. The server is an ICE-lite
     * agent and learns the client's addresses from its checks, so trickled candidates are checked and let go.
     */
    private Reply patch(Request request, String conference, WhipResource.Kind kind, String resourceId) {
        WhipIce ice = api.whipIce(conference, kind, resourceId);
        String contentType = request.header(HttpHeaderNames.CONTENT_TYPE);
        if (contentType == null || !mediaType(contentType).equals(TrickleFragment.MEDIA_TYPE)) {
            throw new MediaException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "PATCH takes "
                    + TrickleFragment.MEDIA_TYPE + " (trickle ICE or an ICE restart), not " + contentType);
        }
        if (request.bodyBytes() > TrickleFragment.MAX_BYTES) {
            throw new MediaException(ErrorCode.TOO_LARGE, "an SDP fragment may be at most "
                    + TrickleFragment.MAX_BYTES + " bytes");
        }
        String ifMatch = request.header(HttpHeaderNames.IF_MATCH);
        if (ifMatch == null) {
            throw new MediaException(ErrorCode.PRECONDITION_REQUIRED, "PATCH needs If-Match: the ETag of the ICE"
                    + " session (from the 201 or the last ICE restart), or * for an ICE restart");
        }
        TrickleFragment fragment;
        try {
            fragment = TrickleFragment.parse(request.body());
        } catch (SdpException e) {
            throw new MediaException(ErrorCode.INVALID_SDPFRAG, e.getMessage());
        }
        boolean anyTag = ifMatch.trim().equals("*");
        if (!anyTag && !matches(ifMatch, entityTag(ice))) {
            throw new MediaException(ErrorCode.PRECONDITION_FAILED, "If-Match " + ifMatch
                    + " is not the ICE session's current entity tag " + entityTag(ice));
        }
        boolean restart = fragment.ufrag() != null && !(fragment.ufrag().equals(ice.remoteUfrag())
                && fragment.password().equals(ice.remotePassword()));
        if (!restart) {
            LOG.debug("{} {}: trickled {} candidates ({} unusable){}", kind, resourceId, fragment.candidates().size(),
                    fragment.discarded(), fragment.endOfCandidates() ? ", end of candidates" : "");
            return Reply.empty(HttpResponseStatus.NO_CONTENT);
        }
        WhipIce restarted = api.restartWhipIce(conference, kind, resourceId, fragment.ufrag(), fragment.password(),
                anyTag ? null : ice.localUfrag());
        String mid = fragment.mids().isEmpty() ? restarted.mid() : fragment.mids().get(0);
        return new Reply(HttpResponseStatus.OK, TrickleFragment.MEDIA_TYPE, TrickleFragment.answer(
                restarted.localUfrag(), restarted.localPassword(), restarted.kind(), mid, restarted.candidates()),
                new DefaultHttpHeaders()).with(HttpHeaderNames.ETAG, entityTag(restarted));
    }

    /**
     * OPTIONS: what a route takes (RFC 9725 §4.2: {@code Accept-Post} on the WHIP and WHEP endpoints,
     * {@code Accept-Patch} on sessions) and, to a caller that is not a CORS pre-flight and may use the endpoint, the
     * STUN/TURN servers (§4.6). CORS headers are added for configured origins as on every response.
     */
    private Reply options(String[] p, Request request) {
        if (p.length < 2 || p.length > 3 || !p[0].equals("whip") && !p[0].equals("whep")) {
            return Reply.empty(HttpResponseStatus.NO_CONTENT);
        }
        boolean whip = p[0].equals("whip");
        boolean endpoint = p.length == 2 || !whip;
        boolean session = p.length == 3;
        Reply reply = Reply.empty(HttpResponseStatus.OK).with(HttpHeaderNames.ALLOW,
                session ? (endpoint ? "POST, PATCH, DELETE, OPTIONS" : "PATCH, DELETE, OPTIONS") : "POST, OPTIONS");
        if (endpoint) {
            reply.with(ACCEPT_POST, SDP);
        }
        if (session) {
            reply.with(HttpHeaderNames.ACCEPT_PATCH, TrickleFragment.MEDIA_TYPE);
        }
        boolean preflight = request.header(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD) != null;
        if (endpoint && !preflight) {
            try {
                authenticate(request.header(HttpHeaderNames.AUTHORIZATION))
                        .require(whip ? MediaToken.Grant.PUBLISH : MediaToken.Grant.PLAY, p[1], null, false);
                iceServers.linksFor(p[1], Instant.now()).forEach(link -> reply.with(LINK, link));
            } catch (MediaToken.Invalid | MediaException notAllowed) {
                // No TURN credentials for a caller who could not use them.
            }
        }
        return reply;
    }

    /** 201 with the session's Location, its ICE session's entity tag and the STUN/TURN servers for its client. */
    private Reply created(WhipResource.Kind kind, WhipResource resource) {
        String location = "/" + kind.name().toLowerCase(java.util.Locale.ROOT) + "/" + resource.conferenceId() + "/"
                + resource.resourceId();
        Reply reply = new Reply(HttpResponseStatus.CREATED, SDP, resource.answer(), new DefaultHttpHeaders())
                .with(HttpHeaderNames.LOCATION, location)
                .with(HttpHeaderNames.ACCEPT_PATCH, TrickleFragment.MEDIA_TYPE)
                .with(HttpHeaderNames.ETAG, entityTag(api.whipIce(resource.conferenceId(), kind, resource.resourceId())));
        iceServers.linksFor(resource.endpointId(), Instant.now()).forEach(link -> reply.with(LINK,
                link));
        return reply;
    }

    /** The ICE session's strong entity tag: its local ufrag, which an ICE restart replaces. */
    private static String entityTag(WhipIce ice) {
        return "\"" + ice.localUfrag() + "\"";
    }

    /** Whether an If-Match list names {@code tag} (strong comparison: weak tags never match, RFC 9110 §13.1.1). */
    private static boolean matches(String ifMatch, String tag) {
        for (String candidate : ifMatch.split(",")) {
            if (candidate.trim().equals(tag)) {
                return true;
            }
        }
        return false;
    }

    private static String mediaType(String contentType) {
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim()
                .toLowerCase(java.util.Locale.ROOT);
    }

    /** The {@code stream} query parameter of a WHIP request, or null; given twice or empty it is refused. */
    private static String streamName(Map<String, List<String>> query) {
        List<String> values = query.get("stream");
        if (values == null) {
            return null;
        }
        if (values.size() != 1 || values.get(0).isEmpty()) {
            throw new MediaException(ErrorCode.STREAM_NAME_INVALID, "give one non-empty stream name (?stream=NAME)");
        }
        return values.get(0);
    }

    static Map<String, Object> eventJson(TrackEvent event) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("sequence", event.sequence());
        json.put("conferenceId", event.conferenceId());
        if (event instanceof TrackEvent.TrackAdded added) {
            json.put("type", "track-added");
            json.put("track", added.track());
        } else if (event instanceof TrackEvent.TrackRemoved removed) {
            json.put("type", "track-removed");
            json.put("trackId", removed.trackId());
            json.put("publisherEndpointId", removed.publisherEndpointId());
        } else if (event instanceof TrackEvent.SubscriptionChanged changed) {
            json.put("type", "subscription-changed");
            json.put("endpointId", changed.endpointId());
        } else if (event instanceof TrackEvent.LayersWanted wanted) {
            json.put("type", "layers-wanted");
            json.put("endpointId", wanted.endpointId());
            json.put("trackId", wanted.trackId());
            json.put("mid", wanted.mid());
            json.put("rids", wanted.rids());
        } else if (event instanceof TrackEvent.SpeakersChanged speakers) {
            json.put("type", "speakers-changed");
            json.put("dominantEndpointId", speakers.dominantEndpointId());
            json.put("speaking", speakers.speaking());
        } else if (event instanceof TrackEvent.VideosWithheld withheld) {
            json.put("type", "videos-withheld");
            json.put("endpointId", withheld.endpointId());
            json.put("trackIds", withheld.trackIds());
            json.put("lowBandwidthTrackIds", withheld.lowBandwidthTrackIds());
            json.put("linkLimited", withheld.linkLimited());
        } else if (event instanceof TrackEvent.EndpointClosed closed) {
            json.put("type", "endpoint-closed");
            json.put("endpointId", closed.endpointId());
            json.put("reason", closed.reason());
        }
        return json;
    }

    /** Who the caller is: anyone, when no auth-secret is set (loopback only), else the holder of a valid token. */
    private Access authenticate(String authorization) throws MediaToken.Invalid {
        if (authSecret == null) {
            return new Access(null);
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new MediaToken.Invalid("no bearer token");
        }
        return new Access(MediaToken.verify(authSecret, authorization.substring(7).trim(), Instant.now()));
    }

    /** The caller's token (null: authentication is off). */
    private record Access(MediaToken token) {
        /** Whether a play token that names a publisher (by any of its names) names this one; others play any. */
        boolean mayPlay(WhipResource.Publisher publisher) {
            return token == null || token.grant() == MediaToken.Grant.ADMIN || token.endpoint() == null
                    || publisher.isNamed(token.endpoint());
        }

        /**
         * @param exact whether a non-admin token must name exactly this endpoint (control routes), rather than
         *     any endpoint when it names none (WHIP, WHEP)
         */
        void require(MediaToken.Grant grant, String conference, String endpoint, boolean exact) {
            if (token == null) {
                return;
            }
            boolean endpointOk = !exact || token.grant() == MediaToken.Grant.ADMIN
                    || token.endpoint() != null && token.endpoint().equals(endpoint);
            if (!endpointOk || !token.allows(grant, conference, endpoint)) {
                throw new MediaException(ErrorCode.FORBIDDEN, "the token does not allow "
                        + grant.name().toLowerCase(java.util.Locale.ROOT) + " on conference " + conference
                        + (endpoint == null ? "" : " endpoint " + endpoint));
            }
        }
    }

    private static String optionalId(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        JsonNode id = readJson(body).get("id");
        return id == null || id.isNull() ? null : id.asText();
    }

    private static String sdpField(String body) {
        JsonNode sdp = readJson(body).get("sdp");
        if (sdp == null || !sdp.isTextual()) {
            throw new BadRequest("the body needs an \"sdp\" string");
        }
        return sdp.asText();
    }

    /**
     * The body of {@code POST .../receive}: {@code {"videos":[{"trackId","visible","width","height","pinned"}]}}
     * ({@code width}, {@code height} and {@code pinned} optional). The count
     * and the sizes' range are checked by {@link MediaApi#receiveVideo}; this checks the shape, so a list longer
     * than the API takes is refused before it is built.
     */
    private static List<VideoReceive> videoReceives(String body) {
        JsonNode videos = readJson(body).get("videos");
        if (videos == null || !videos.isArray()) {
            throw new BadRequest("the body needs a \"videos\" array");
        }
        if (videos.size() > VideoReceive.MAX_TRACKS) {
            throw new BadRequest("at most " + VideoReceive.MAX_TRACKS + " videos, got " + videos.size());
        }
        List<VideoReceive> receives = new ArrayList<>(videos.size());
        for (int i = 0; i < videos.size(); i++) {
            JsonNode video = videos.get(i);
            JsonNode trackId = video.get("trackId");
            JsonNode visible = video.get("visible");
            if (!video.isObject() || trackId == null || !trackId.isTextual() || visible == null
                    || !visible.isBoolean()) {
                throw new BadRequest("videos[" + i + "] needs a \"trackId\" string and a \"visible\" boolean");
            }
            JsonNode pinned = video.get("pinned");
            if (pinned != null && !pinned.isNull() && !pinned.isBoolean()) {
                throw new BadRequest("videos[" + i + "].pinned must be true or false");
            }
            receives.add(new VideoReceive(trackId.asText(), visible.asBoolean(), dimension(video, "width", i),
                    dimension(video, "height", i), pinned != null && pinned.asBoolean()));
        }
        return receives;
    }

    private static int dimension(JsonNode video, String field, int index) {
        JsonNode value = video.get(field);
        if (value == null || value.isNull()) {
            return 0;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new BadRequest("videos[" + index + "]." + field + " must be a whole number from 0 to "
                    + VideoReceive.MAX_DIMENSION);
        }
        return value.intValue();
    }

    private static JsonNode readJson(String body) {
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || !node.isObject()) {
                throw new BadRequest("the body must be a JSON object");
            }
            return node;
        } catch (java.io.IOException e) {
            throw new BadRequest("the body is not valid JSON");
        }
    }

    private static String[] segments(String path) {
        return java.util.Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
    }

    private static Reply notAllowed() {
        return error(HttpResponseStatus.METHOD_NOT_ALLOWED, "method.not_allowed", "method not allowed here");
    }

    private static Reply error(HttpResponseStatus status, String code, String message) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("message", message);
        Reply json = Reply.json(status, body);
        return new Reply(status, json.contentType(), json.body(), json.headers(), code);
    }

    /** Counts an error response under its code (the closed set of {@link ErrorCode} and the HTTP layer's own). */
    private Reply counted(Reply reply) {
        if (reply.errorCode() != null) {
            counters.refused(reply.errorCode());
        }
        return reply;
    }

    private static void respond(ChannelHandlerContext ctx, boolean keepAlive, Reply reply, String allowedOrigin) {
        byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, reply.status(),
                Unpooled.wrappedBuffer(bytes));
        if (reply.contentType() != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
        }
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        // CORS only for configured origins: a page elsewhere cannot drive the API from a visitor's browser.
        response.headers().set(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
        if (allowedOrigin != null) {
            response.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, allowedOrigin);
            response.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, DELETE, PATCH, OPTIONS");
            response.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
                    "Authorization, Content-Type, If-Match");
            response.headers().set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS,
                    "Location, ETag, Link, Accept-Patch, Accept-Post");
        }
        response.headers().add(reply.headers());
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("HTTP connection failed", cause);
        ctx.close();
    }

    /** A malformed request body or query. */
    private static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message);
        }
    }
}
