package dev.parley.signaling.call;

import dev.parley.signaling.auth.AuthRoutes;
import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.http.RestRequest;
import dev.parley.signaling.http.RestResponse;
import dev.parley.signaling.http.RestRouter;
import dev.parley.signaling.protocol.Ids;

import java.util.concurrent.CompletionStage;

/** The call route under /api (docs/protocol.md); joining and media go over the WebSocket. */
public final class CallRoutes {

    private final AuthService auth;
    private final CallService calls;

    public CallRoutes(AuthService auth, CallService calls) {
        this.auth = auth;
        this.calls = calls;
    }

    public void register(RestRouter router) {
        router.add("GET", "/api/meetings/{id}/call", this::call);
    }

    private CompletionStage<RestResponse> call(RestRequest request) {
        return auth.authenticate(AuthRoutes.requireToken(request))
                .thenCompose(me -> calls.view(me.userId(), Ids.meetingId("meeting id", request.pathParam("id"))))
                .thenApply(RestResponse::ok);
    }
}
