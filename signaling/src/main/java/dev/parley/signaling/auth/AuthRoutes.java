package dev.parley.signaling.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.http.RestRequest;
import dev.parley.signaling.http.RestResponse;
import dev.parley.signaling.http.RestRouter;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The account routes under /api (docs/protocol.md). */
public final class AuthRoutes {

    private static final int MAX_LISTED_USERS = 500;
    private static final int MAX_QUERY = 100;
    private static final int DEFAULT_SEARCH_PAGE = 50;
    private static final int MAX_SEARCH_PAGE = 100;

    private final AuthService auth;
    private final AccountStore accounts;
    private final Set<String> providers;
    private final GatewayConfig.Firebase firebaseConfig;
    private final FirebaseSignIn firebase;
    private final TokenService tokens;

    /** @param firebase null unless the firebase provider is enabled */
    public AuthRoutes(AuthService auth, AccountStore accounts, GatewayConfig.Auth config, FirebaseSignIn firebase,
                      TokenService tokens) {
        this.auth = auth;
        this.accounts = accounts;
        this.providers = config.providers();
        this.firebaseConfig = config.firebase();
        this.firebase = firebase;
        this.tokens = tokens;
    }

    public void register(RestRouter router) {
        router.add("GET", "/api/auth/config", this::config)
                .add("POST", "/api/auth/register", this::register)
                .add("POST", "/api/auth/login", this::login)
                .add("POST", "/api/auth/logout", this::logout)
                .add("POST", "/api/auth/logout-everywhere", this::logoutEverywhere)
                .add("POST", "/api/auth/refresh", this::refresh)
                .add("POST", "/api/auth/password", this::changePassword)
                .add("POST", "/api/auth/firebase", this::firebase)
                .add("GET", "/api/me", this::me)
                .add("GET", "/api/users", this::users);
    }

    private CompletionStage<RestResponse> config(RestRequest request) {
        List<String> enabled = providers.stream().sorted().toList();
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("providers", enabled);
        if (firebase != null) {
            Map<String, Object> web = new java.util.LinkedHashMap<>();
            web.put("projectId", firebaseConfig.projectId());
            web.put("apiKey", firebaseConfig.webApiKey());
            web.put("authDomain", firebaseConfig.authDomain());
            if (!firebaseConfig.emulatorHost().isEmpty()) {
                web.put("emulatorHost", firebaseConfig.emulatorHost());
            }
            body.put("firebase", web);
        }
        return CompletableFuture.completedFuture(RestResponse.ok(body));
    }

    private CompletionStage<RestResponse> register(RestRequest request) {
        requireLocal();
        Registration body = Registration.read(request);
        return auth.register(body.username(), body.password(), body.displayName(), request.clientAddress())
                .thenApply(signedIn -> RestResponse.created(signedInBody(signedIn)));
    }

    private CompletionStage<RestResponse> login(RestRequest request) {
        requireLocal();
        Login body = Login.read(request);
        return auth.login(body.username(), body.password(), request.clientAddress())
                .thenApply(signedIn -> RestResponse.ok(signedInBody(signedIn)));
    }

    private CompletionStage<RestResponse> firebase(RestRequest request) {
        if (firebase == null) {
            throw new ApiException(ErrorCode.NOT_FOUND, "Firebase sign-in is not enabled on this server");
        }
        String idToken = idToken(request);
        return firebase.signIn(idToken).thenCompose(verified -> tokens.issue(verified.account().userId(),
                        TokenService.Provider.FIREBASE, verified.sessionEnds())
                .thenApply(issued -> RestResponse.ok(signedInBody(
                        new AuthService.SignedIn(verified.account(), issued.token())))));
    }

    private CompletionStage<RestResponse> logout(RestRequest request) {
        return auth.logout(requireToken(request)).thenApply(done -> RestResponse.noContent());
    }

    private CompletionStage<RestResponse> logoutEverywhere(RestRequest request) {
        return auth.signOutEverywhere(requireToken(request)).thenApply(done -> RestResponse.noContent());
    }

    private CompletionStage<RestResponse> refresh(RestRequest request) {
        return auth.refresh(requireToken(request)).thenApply(signedIn -> RestResponse.ok(signedInBody(signedIn)));
    }

    private CompletionStage<RestResponse> changePassword(RestRequest request) {
        String token = requireToken(request);
        PasswordChange body = PasswordChange.read(request);
        return auth.changePassword(token, body.currentPassword(), body.newPassword(), body.keepSessionId())
                .thenApply(signedIn -> RestResponse.ok(signedInBody(signedIn)));
    }

    private CompletionStage<RestResponse> me(RestRequest request) {
        return auth.authenticate(requireToken(request)).thenApply(RestResponse::ok);
    }

    /**
     * {@code GET /api/users}: everyone, oldest first, or with {@code q} those whose username, display name or a word
     * of it starts with it; a page of {@code limit} at a time ({@code after}: the previous page's {@code next}).
     */
    private CompletionStage<RestResponse> users(RestRequest request) {
        String query = request.queryParam("q");
        if (query != null && query.length() > MAX_QUERY) {
            throw ApiException.badRequest("q is at most " + MAX_QUERY + " characters");
        }
        boolean searching = query != null && !AccountStore.normalize(query).isEmpty();
        int limit = request.intParam("limit", searching ? DEFAULT_SEARCH_PAGE : MAX_LISTED_USERS,
                searching ? MAX_SEARCH_PAGE : MAX_LISTED_USERS);
        String after = request.queryParam("after");
        String position = after == null ? null : readCursor(after, searching ? 's' : 'p');
        return auth.authenticate(requireToken(request))
                .thenCompose(me -> searching ? accounts.search(query, position, limit)
                        : accounts.page(position == null ? 0 : Long.parseLong(position), limit))
                .thenApply(page -> {
                    Map<String, Object> body = new java.util.LinkedHashMap<>();
                    body.put("users", page.users());
                    body.put("next", page.next() == null ? null : cursor(searching ? 's' : 'p', page.next()));
                    return RestResponse.ok(body);
                });
    }

    /** A page position as the client sees it: opaque, URL-safe, and telling a search's from a listing's. */
    private static String cursor(char kind, String position) {
        return java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString((kind + position).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static String readCursor(String cursor, char kind) {
        String decoded;
        try {
            decoded = cursor.length() > 700 ? "" : new String(java.util.Base64.getUrlDecoder().decode(cursor),
                    java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            decoded = "";
        }
        if (decoded.length() < 2 || decoded.charAt(0) != kind
                || (kind == 'p' && !decoded.substring(1).matches("[0-9]{1,9}"))) {
            throw ApiException.badRequest("after must be the next value of the previous page of the same list");
        }
        return decoded.substring(1);
    }


    /** The body of {@code POST /api/auth/register}. */
    public record Registration(String username, String password, String displayName) {
        public static Registration read(RestRequest request) {
            JsonNode body = request.jsonBody();
            return new Registration(RestRequest.stringField(body, "username"),
                    RestRequest.stringField(body, "password"), RestRequest.stringField(body, "displayName"));
        }
    }

    /** The body of {@code POST /api/auth/login}. */
    public record Login(String username, String password) {
        public static Login read(RestRequest request) {
            JsonNode body = request.jsonBody();
            return new Login(RestRequest.stringField(body, "username"), RestRequest.stringField(body, "password"));
        }
    }

    /** The body of {@code POST /api/auth/password}. */
    public record PasswordChange(String currentPassword, String newPassword, String keepSessionId) {
        public static PasswordChange read(RestRequest request) {
            JsonNode body = request.jsonBody();
            return new PasswordChange(RestRequest.stringField(body, "currentPassword"),
                    RestRequest.stringField(body, "newPassword"), RestRequest.stringField(body, "keepSessionId"));
        }
    }

    /** The Firebase ID token in the body of {@code POST /api/auth/firebase}. */
    public static String idToken(RestRequest request) {
        return RestRequest.stringField(request.jsonBody(), "idToken");
    }

    /** The bearer token of a request, or auth.invalid when there is none. */
    public static String requireToken(RestRequest request) {
        if (request.bearerToken() == null || request.bearerToken().isEmpty()) {
            throw new ApiException(ErrorCode.AUTH_INVALID, "Sign in first: send Authorization: Bearer <token>");
        }
        return request.bearerToken();
    }

    private void requireLocal() {
        if (!providers.contains("local")) {
            throw new ApiException(ErrorCode.NOT_FOUND, "Local accounts are not enabled on this server");
        }
    }

    private static Map<String, Object> signedInBody(AuthService.SignedIn signedIn) {
        Account account = signedIn.account();
        return Map.of("userId", account.userId(), "username", account.username(),
                "displayName", account.displayName(), "token", signedIn.token());
    }
}
