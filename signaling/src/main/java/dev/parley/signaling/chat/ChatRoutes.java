package dev.parley.signaling.chat;

import dev.parley.signaling.auth.AuthRoutes;
import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.http.RestRequest;
import dev.parley.signaling.http.RestResponse;
import dev.parley.signaling.http.RestRouter;
import dev.parley.signaling.protocol.Ids;
import dev.parley.signaling.protocol.ChatMessage;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/** A meeting's chat history under /api (docs/protocol.md). */
public final class ChatRoutes {

    private static final int DEFAULT_PAGE = 50;

    private final AuthService auth;
    private final ChatService chat;

    public ChatRoutes(AuthService auth, ChatService chat) {
        this.auth = auth;
        this.chat = chat;
    }

    public void register(RestRouter router) {
        router.add("GET", "/api/meetings/{id}/messages", this::messages);
    }

    private CompletionStage<RestResponse> messages(RestRequest request) {
        return auth.authenticate(AuthRoutes.requireToken(request)).thenCompose(me -> {
            String before = messageIdParam(request, "before");
            String after = messageIdParam(request, "after");
            if (before != null && after != null) {
                throw ApiException.badRequest("use either before or after, not both");
            }
            String meetingId = Ids.meetingId("meeting id", request.pathParam("id"));
            return chat.history(me.userId(), meetingId, before, after,
                            request.intParam("limit", DEFAULT_PAGE, ChatService.MAX_PAGE))
                    .thenApply(page -> RestResponse.ok(Map.of("messages", page.messages(),
                            "hasMore", page.hasMore())));
        });
    }

    private static String messageIdParam(RestRequest request, String name) {
        String value = request.queryParam(name);
        if (value != null && !ChatMessage.ID.matcher(value).matches()) {
            throw ApiException.badRequest(name + " must be a message id such as 1700000000000-0");
        }
        return value;
    }
}
