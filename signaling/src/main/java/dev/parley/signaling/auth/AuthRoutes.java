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

    private CompletionStage<RestResponse> users(RestRequest request) {
        return auth.authenticate(requireToken(request))
                .thenCompose(me -> accounts.list(MAX_LISTED_USERS))
                .thenApply(users -> RestResponse.ok(Map.of("users", users)));
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
