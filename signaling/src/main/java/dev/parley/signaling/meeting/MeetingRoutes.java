package dev.parley.signaling.meeting;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.auth.AuthRoutes;
import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.http.RestRequest;
import dev.parley.signaling.http.RestResponse;
import dev.parley.signaling.http.RestRouter;
import dev.parley.signaling.protocol.Ids;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** The meeting routes under /api (docs/protocol.md); chat history is {@code chat.ChatRoutes}. */
public final class MeetingRoutes {

    private final AuthService auth;
    private final MeetingService meetings;

    public MeetingRoutes(AuthService auth, MeetingService meetings) {
        this.auth = auth;
        this.meetings = meetings;
    }

    public void register(RestRouter router) {
        router.add("POST", "/api/meetings", this::create)
                .add("GET", "/api/meetings", this::list)
                .add("GET", "/api/meetings/{id}", this::get)
                .add("PATCH", "/api/meetings/{id}", this::update)
                .add("POST", "/api/meetings/{id}/members", this::addMember)
                .add("DELETE", "/api/meetings/{id}/members/{userId}", this::removeMember)
                .add("POST", "/api/meetings/{id}/invites", this::invite)
                .add("GET", "/api/meetings/{id}/invites", this::invites)
                .add("DELETE", "/api/meetings/{id}/invites/{token}", this::revoke)
                .add("POST", "/api/invites/{token}/accept", this::accept)
                .add("POST", "/api/direct-chats", this::openDirect)
                .add("POST", "/api/direct-chats/{id}/group", this::group);
    }

    /** {@code POST /api/direct-chats/{id}/group {"username"}}: a new meeting of the two and a third takes the call. */
    private CompletionStage<RestResponse> group(RestRequest request) {
        return as(request, me -> meetings.groupFromDirect(me, meetingId(request),
                RestRequest.stringField(request.jsonBody(), "username")).thenApply(RestResponse::created));
    }

    /** {@code POST /api/direct-chats {"userId"}}: the one chat with that person, made on first use. */
    private CompletionStage<RestResponse> openDirect(RestRequest request) {
        return as(request, me -> meetings.openDirect(me,
                Ids.userId("userId", RestRequest.stringField(request.jsonBody(), "userId"))).thenApply(RestResponse::ok));
    }

    private CompletionStage<RestResponse> create(RestRequest request) {
        return as(request, me -> {
            NewMeeting body = NewMeeting.read(request);
            return meetings.create(me, body.title(), body.description()).thenApply(RestResponse::created);
        });
    }

    private CompletionStage<RestResponse> list(RestRequest request) {
        return as(request, me -> meetings.listFor(me.userId())
                .thenApply(list -> RestResponse.ok(Map.of("meetings", list))));
    }

    private CompletionStage<RestResponse> get(RestRequest request) {
        return as(request, me -> meetings.get(me.userId(), meetingId(request)).thenApply(RestResponse::ok));
    }

    private CompletionStage<RestResponse> update(RestRequest request) {
        return as(request, me -> meetings.update(me, meetingId(request), patch(request))
                .thenApply(RestResponse::ok));
    }

    private CompletionStage<RestResponse> addMember(RestRequest request) {
        return as(request, me -> meetings.addMember(me, meetingId(request), newMember(request))
                .thenApply(RestResponse::ok));
    }

    private CompletionStage<RestResponse> removeMember(RestRequest request) {
        return as(request, me -> meetings.removeMember(me, meetingId(request), Ids.userId("userId", request.pathParam("userId")))
                .thenApply(done -> RestResponse.noContent()));
    }

    private CompletionStage<RestResponse> invite(RestRequest request) {
        return as(request, me -> {
            Integer maxUses = null;
            if (request.body().length > 0) {
                JsonNode node = request.jsonBody().get("maxUses");
                if (node != null && !node.isNull()) {
                    if (!node.canConvertToExactIntegral() || !node.canConvertToInt()) {
                        throw ApiException.badRequest("maxUses must be a whole number");
                    }
                    maxUses = node.intValue();
                }
            }
            return meetings.createInvite(me, meetingId(request), maxUses).thenApply(RestResponse::created);
        });
    }

    private CompletionStage<RestResponse> invites(RestRequest request) {
        return as(request, me -> meetings.listInvites(me, meetingId(request))
                .thenApply(list -> RestResponse.ok(Map.of("invites", list))));
    }

    private CompletionStage<RestResponse> revoke(RestRequest request) {
        return as(request, me -> meetings.revokeInvite(me, meetingId(request), request.pathParam("token"))
                .thenApply(done -> RestResponse.noContent()));
    }

    private static String meetingId(RestRequest request) {
        return Ids.meetingId("meeting id", request.pathParam("id"));
    }

    private CompletionStage<RestResponse> accept(RestRequest request) {
        return as(request, me -> meetings.acceptInvite(me, request.pathParam("token")).thenApply(RestResponse::ok));
    }

    private CompletionStage<RestResponse> as(RestRequest request,
                                             Function<Account, CompletionStage<RestResponse>> then) {
        return auth.authenticate(AuthRoutes.requireToken(request)).thenCompose(then);
    }

    /** The body of {@code POST /api/meetings}. */
    public record NewMeeting(String title, String description) {
        public static NewMeeting read(RestRequest request) {
            JsonNode body = request.jsonBody();
            return new NewMeeting(RestRequest.stringField(body, "title"), RestRequest.stringField(body, "description"));
        }
    }

    /** The body of {@code PATCH /api/meetings/{id}}. */
    public static MeetingService.Patch patch(RestRequest request) {
        JsonNode body = request.jsonBody();
        return new MeetingService.Patch(RestRequest.stringField(body, "title"),
                RestRequest.stringField(body, "description"), booleanField(body, "archived"),
                booleanField(body, "membersCanInvite"));
    }

    /** The username in the body of {@code POST /api/meetings/{id}/members}. */
    public static String newMember(RestRequest request) {
        return RestRequest.stringField(request.jsonBody(), "username");
    }

    private static Boolean booleanField(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isBoolean()) {
            throw ApiException.badRequest(field + " must be true or false");
        }
        return node.booleanValue();
    }
}
