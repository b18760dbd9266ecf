package dev.parley.signaling.block;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.auth.AuthRoutes;
import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.http.RestRequest;
import dev.parley.signaling.http.RestResponse;
import dev.parley.signaling.http.RestRouter;
import dev.parley.signaling.protocol.Ids;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** {@code /api/blocks}: the people the signed-in user blocked; block and unblock (docs/protocol.md). */
public final class BlockRoutes {

    private final AuthService auth;
    private final Blocks blocks;

    public BlockRoutes(AuthService auth, Blocks blocks) {
        this.auth = auth;
        this.blocks = blocks;
    }

    public void register(RestRouter router) {
        router.add("GET", "/api/blocks", this::list)
                .add("POST", "/api/blocks", this::block)
                .add("DELETE", "/api/blocks/{userId}", this::unblock);
    }

    private CompletionStage<RestResponse> list(RestRequest request) {
        return as(request, me -> blocks.blockedBy(me.userId())
                .thenApply(people -> RestResponse.ok(Map.of("blocked", people))));
    }

    private CompletionStage<RestResponse> block(RestRequest request) {
        return as(request, me -> {
            String them = Ids.userId("userId", RestRequest.stringField(request.jsonBody(), "userId"));
            return blocks.block(me.userId(), them).thenCompose(done -> blocks.blockedBy(me.userId()))
                    .thenApply(people -> RestResponse.ok(Map.of("blocked", people)));
        });
    }

    private CompletionStage<RestResponse> unblock(RestRequest request) {
        return as(request, me -> blocks.unblock(me.userId(), Ids.userId("userId", request.pathParam("userId")))
                .thenApply(done -> RestResponse.noContent()));
    }

    private CompletionStage<RestResponse> as(RestRequest request, Function<Account, CompletionStage<RestResponse>> then) {
        return auth.authenticate(AuthRoutes.requireToken(request)).thenCompose(then);
    }
}
