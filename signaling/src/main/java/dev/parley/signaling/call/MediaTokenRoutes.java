package dev.parley.signaling.call;

import dev.parley.media.api.MediaToken;
import dev.parley.signaling.auth.AuthRoutes;
import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.http.RestRequest;
import dev.parley.signaling.http.RestResponse;
import dev.parley.signaling.http.RestRouter;
import dev.parley.signaling.meeting.MeetingStore;
import dev.parley.signaling.store.RedisRateLimit;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /api/meetings/{id}/media-token}: a short-lived media server token (docs/security.md, "Media tokens")
 * for a member of the meeting, so WHIP/WHEP tools can publish into or play its running call. The gateway checks
 * membership, the meeting being open and a per-user rate; the token names only that call's conference and a play or
 * publish grant, never admin.
 */
public final class MediaTokenRoutes {

    /** The secret media servers check tokens with; absent when WHIP/WHEP is not offered. */
    public record MediaHttp(String authSecret) {
    }

    private final AuthService auth;
    private final MeetingStore meetings;
    private final CallService calls;
    private final MediaHttp media;
    private final Duration lifetime;
    private final RedisRateLimit rate;
    private final Clock clock;

    /** @param media null unless the media server's HTTP API listens and has an auth-secret */
    public MediaTokenRoutes(AuthService auth, MeetingStore meetings, CallService calls, MediaHttp media,
                            Duration lifetime, RedisRateLimit rate, Clock clock) {
        if (lifetime.compareTo(MediaToken.MAX_LIFETIME) > 0) {
            throw new IllegalArgumentException("media token lifetime over " + MediaToken.MAX_LIFETIME);
        }
        this.auth = auth;
        this.meetings = meetings;
        this.calls = calls;
        this.media = media;
        this.lifetime = lifetime;
        this.rate = rate;
        this.clock = clock;
    }

    public void register(RestRouter router) {
        router.add("POST", "/api/meetings/{id}/media-token", this::mint);
    }

    /** The grant asked for in the body: play or publish; anything else (admin too) is bad_request. */
    public static MediaToken.Grant grant(RestRequest request) {
        String grant = RestRequest.stringField(request.jsonBody(), "grant");
        if ("play".equals(grant)) {
            return MediaToken.Grant.PLAY;
        }
        if ("publish".equals(grant)) {
            return MediaToken.Grant.PUBLISH;
        }
        throw ApiException.badRequest("grant must be \"play\" or \"publish\"");
    }

    private CompletionStage<RestResponse> mint(RestRequest request) {
        if (media == null) {
            throw new ApiException(ErrorCode.NOT_FOUND, "WHIP/WHEP is not enabled on this server (the media server's"
                    + " HTTP API is off or has no auth-secret)");
        }
        String meetingId = request.pathParam("id");
        return auth.authenticate(AuthRoutes.requireToken(request)).thenCompose(me -> {
            MediaToken.Grant grant = grant(request);
            return meetings.findForMember(meetingId, me.userId()).thenCompose(meeting -> {
                if (meeting.archived()) {
                    throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived");
                }
                return rate.tryAcquire(me.userId());
            }).thenCompose(allowed -> {
                if (!allowed) {
                    throw new ApiException(ErrorCode.RATE_LIMITED, "Too many media tokens; try again in "
                            + rate.window().toMinutes() + " minutes");
                }
                return calls.conferenceOf(meetingId);
            }).thenApply(hosted -> {
                CallService.Hosted conference = hosted.orElseThrow(() -> new ApiException(ErrorCode.CALL_NOT_JOINED,
                        "No call is running in this meeting on this server; start the call first"));
                if (conference.httpUri() == null) {
                    throw new ApiException(ErrorCode.NOT_FOUND, "The media server hosting this call offers no"
                            + " WHIP/WHEP");
                }
                return RestResponse.created(token(meetingId, conference, grant));
            });
        });
    }

    private Map<String, Object> token(String meetingId, CallService.Hosted hosted, MediaToken.Grant grant) {
        String conference = hosted.conferenceId();
        String token = MediaToken.mint(media.authSecret(), conference, null, grant, lifetime);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("token", token);
        body.put("expiresAt", clock.millis() + lifetime.toMillis());
        body.put("meetingId", meetingId);
        body.put("grant", grant == MediaToken.Grant.PLAY ? "play" : "publish");
        if (grant == MediaToken.Grant.PUBLISH) {
            body.put("whip", hosted.httpUri() + "/whip/" + conference);
        } else {
            // As given, WHEP plays the meeting's most recent WHIP stream; "/" + an endpointId from the call's state (or a
            // stream name) plays that publisher.
            body.put("whep", hosted.httpUri() + "/whep/" + conference);
        }
        return body;
    }
}
