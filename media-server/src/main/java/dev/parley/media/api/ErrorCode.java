package dev.parley.media.api;

/** The media API's closed set of error codes; the string values are stable and returned by the HTTP API. */
public enum ErrorCode {
    NOT_FOUND("not_found", 404),
    CONFERENCE_EXISTS("conference.exists", 409),
    ENDPOINT_EXISTS("endpoint.exists", 409),
    INVALID_SDP("sdp.invalid", 400),
    INVALID_REQUEST("request.invalid", 400),
    NO_TRACKS("tracks.none", 409),
    /** An offer publishes more tracks than {@code max-tracks-per-publisher}. */
    TOO_MANY_TRACKS("tracks.too_many", 400),
    /** An offer announces an SSRC another publisher of the conference (or another of its own tracks) uses. */
    SSRC_CONFLICT("ssrc.conflict", 409),
    CAPACITY_CONFERENCES("capacity.conferences", 503),
    CAPACITY_ENDPOINTS("capacity.endpoints", 503),
    UNAUTHORIZED("unauthorized", 401),
    /** A valid token whose conference, endpoint or grant does not cover the request. */
    FORBIDDEN("forbidden", 403),
    /** No live WHIP (or WHEP) session of the conference has this resource id. */
    RESOURCE_NOT_FOUND("resource.not_found", 404),
    /** A WHIP stream name that is not 1-64 of {@code A-Z a-z 0-9 _ . -}. */
    STREAM_NAME_INVALID("stream.invalid", 400),
    /** A live WHIP publication of the conference already has this stream name. */
    STREAM_EXISTS("stream.exists", 409),
    /** WHEP of a conference (or stream name) that no live WHIP publisher publishes. */
    NO_STREAM("stream.none", 404),
    /** A PATCH body that is not a well-formed {@code application/trickle-ice-sdpfrag}. */
    INVALID_SDPFRAG("sdpfrag.invalid", 400),
    /** A PATCH without {@code If-Match} (RFC 9725 §4.3.1). */
    PRECONDITION_REQUIRED("precondition.required", 428),
    /** A PATCH whose {@code If-Match} is not the ICE session's current entity tag. */
    PRECONDITION_FAILED("precondition.failed", 412),
    /** A request body of a media type the route does not take. */
    UNSUPPORTED_MEDIA_TYPE("media_type.unsupported", 415),
    /** An ICE restart sooner than {@code MIN_ICE_RESTART_INTERVAL} after the session's last one. */
    ICE_RESTART_TOO_SOON("ice.restart_too_soon", 429),
    /** A request body over the route's limit. */
    TOO_LARGE("request.too_large", 413);

    private final String code;
    private final int httpStatus;

    ErrorCode(String code, int httpStatus) {
        this.code = code;
        this.httpStatus = httpStatus;
    }

    public String code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
