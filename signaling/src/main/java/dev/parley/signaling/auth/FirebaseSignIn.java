package dev.parley.signaling.auth;

import com.google.api.core.ApiFuture;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.firebase.FirebaseApp;
import com.google.firebase.FirebaseOptions;
import com.google.firebase.auth.AuthErrorCode;
import com.google.firebase.auth.FirebaseAuth;
import com.google.firebase.auth.FirebaseAuthException;
import com.google.firebase.auth.FirebaseToken;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sign-in with Firebase Authentication: the browser signs in with Firebase and sends its ID token; the Admin SDK
 * verifies it (revocation included) and the person gets a Parley account, created on the first sign-in from the
 * token's claims and kept up to date afterwards. Each Firebase user maps to one Parley user, so the one-session rule
 * holds whichever way they sign in.
 */
public final class FirebaseSignIn implements AutoCloseable {

    /**
     * A verified Firebase sign-in: the Parley account, and when the Parley session it opens must end at the latest
     * (the ID token's own expiry, or the configured session lifetime if that is sooner), so a disabled or deleted
     * Firebase account, which cannot get a fresh ID token, loses its Parley session by then.
     */
    public record Verified(Account account, Instant sessionEnds) {
    }

    private static final int MAX_TOKEN = 8192;

    private final FirebaseApp app;
    private final FirebaseAuth auth;
    private final AccountStore accounts;
    private final RedisClusterAsyncCommands<String, String> redis;
    private final long timeoutMillis;
    private final Duration sessionTtl;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    private FirebaseSignIn(FirebaseApp app, AccountStore accounts, RedisClusterAsyncCommands<String, String> redis,
                           long timeoutMillis, Duration sessionTtl, Clock clock) {
        this.sessionTtl = sessionTtl;
        this.clock = clock;
        this.app = app;
        this.auth = FirebaseAuth.getInstance(app);
        this.accounts = accounts;
        this.redis = redis;
        this.timeoutMillis = timeoutMillis;
    }

    public static FirebaseSignIn start(GatewayConfig.Firebase config, AccountStore accounts,
                                       RedisClusterAsyncCommands<String, String> redis, Clock clock) throws IOException {
        int timeout = (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis());
        FirebaseOptions options = FirebaseOptions.builder()
                .setProjectId(config.projectId())
                .setCredentials(credentials(config))
                .setConnectTimeout(timeout)
                .setReadTimeout(timeout)
                .build();
        // A named app per gateway, so tests can run several gateways in one JVM.
        FirebaseApp app = FirebaseApp.initializeApp(options, "parley-" + UUID.randomUUID());
        return new FirebaseSignIn(app, accounts, redis, config.timeout().toMillis(), config.sessionTtl(), clock);
    }

    private static GoogleCredentials credentials(GatewayConfig.Firebase config) throws IOException {
        if (!config.credentialsFile().isEmpty()) {
            try (InputStream in = new FileInputStream(config.credentialsFile())) {
                return GoogleCredentials.fromStream(in);
            } catch (IOException e) {
                throw new IOException("parley.auth.firebase.credentials-file: cannot read "
                        + config.credentialsFile() + ": " + e.getMessage(), e);
            }
        }
        if (!config.emulatorHost().isEmpty()) {
            // The emulator accepts any credentials; the SDK still wants some.
            return GoogleCredentials.create(new AccessToken("owner", null));
        }
        return GoogleCredentials.getApplicationDefault();
    }

    /** Verifies the ID token and returns the Parley account of its Firebase user, creating or updating it. */
    public CompletionStage<Verified> signIn(String idToken) {
        if (idToken == null || idToken.isBlank()) {
            throw ApiException.badRequest("idToken is required");
        }
        if (idToken.length() > MAX_TOKEN) {
            throw new ApiException(ErrorCode.AUTH_INVALID, "The Firebase ID token is malformed");
        }
        return verify(idToken).thenCompose(token -> accountFor(token)
                .thenApply(account -> new Verified(account, sessionEnds(token))));
    }

    private Instant sessionEnds(FirebaseToken token) {
        Instant capped = clock.instant().plus(sessionTtl);
        Object exp = token.getClaims().get("exp");
        if (exp instanceof Number seconds) {
            Instant idTokenEnds = Instant.ofEpochSecond(seconds.longValue());
            return idTokenEnds.isBefore(capped) ? idTokenEnds : capped;
        }
        return capped;
    }

    private CompletableFuture<FirebaseToken> verify(String idToken) {
        CompletableFuture<FirebaseToken> result = new CompletableFuture<>();
        ApiFuture<FirebaseToken> pending = auth.verifyIdTokenAsync(idToken, true);
        pending.addListener(() -> {
            try {
                result.complete(pending.get());
            } catch (java.util.concurrent.ExecutionException e) {
                result.completeExceptionally(translate(e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                result.completeExceptionally(unavailable());
            }
        }, Runnable::run);
        return result.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS).exceptionally(e -> {
            Throwable cause = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
            if (cause instanceof ApiException api) {
                throw api;
            }
            if (cause instanceof TimeoutException) {
                pending.cancel(true);
            }
            throw unavailable();
        });
    }

    private static ApiException translate(Throwable failure) {
        if (failure instanceof IllegalArgumentException) {
            return new ApiException(ErrorCode.AUTH_INVALID, "The Firebase ID token is malformed");
        }
        if (!(failure instanceof FirebaseAuthException e)) {
            return unavailable();
        }
        AuthErrorCode code = e.getAuthErrorCode();
        if (code == null) {
            return unavailable();
        }
        String detail = e.getMessage() == null ? "" : e.getMessage();
        return switch (code) {
            case EXPIRED_ID_TOKEN -> new ApiException(ErrorCode.AUTH_INVALID,
                    "Your Firebase sign-in has expired; sign in again");
            case REVOKED_ID_TOKEN -> new ApiException(ErrorCode.AUTH_INVALID,
                    "Your Firebase sign-in was revoked; sign in again");
            case USER_DISABLED -> new ApiException(ErrorCode.AUTH_INVALID, "This Firebase account is disabled");
            case USER_NOT_FOUND -> new ApiException(ErrorCode.AUTH_INVALID, "This Firebase account no longer exists");
            case INVALID_ID_TOKEN -> new ApiException(ErrorCode.AUTH_INVALID,
                    detail.contains("\"aud\"") || detail.contains("\"iss\"")
                            ? "The Firebase ID token belongs to another Firebase project"
                            : "The Firebase ID token is not valid");
            case CERTIFICATE_FETCH_FAILED -> unavailable();
            default -> new ApiException(ErrorCode.AUTH_INVALID, "The Firebase ID token was not accepted");
        };
    }

    private static ApiException unavailable() {
        return new ApiException(ErrorCode.AUTH_UNAVAILABLE,
                "Firebase cannot be reached right now; try again shortly");
    }

    private CompletionStage<Account> accountFor(FirebaseToken token) {
        String linkKey = "parley:firebase:" + token.getUid();
        String candidateId = AccountStore.newUserId();
        return redis.set(linkKey, candidateId, SetArgs.Builder.nx())
                .thenCompose(set -> redis.get(linkKey))
                .thenCompose(userId -> accounts.findById(userId).thenCompose(existing ->
                        existing.isPresent() ? refresh(existing.get(), token) : create(userId, token, 0)));
    }

    private CompletionStage<Account> refresh(Account account, FirebaseToken token) {
        String name = displayName(token);
        Account updated = new Account(account.userId(), account.username(), name);
        return accounts.updateProfile(updated, token.getEmail(), token.getPicture()).thenApply(done -> updated);
    }

    private CompletionStage<Account> create(String userId, FirebaseToken token, int attempt) {
        String base = usernameBase(token);
        String username = attempt == 0 ? base : base + "-" + randomHex(2);
        Account account = new Account(userId, username, displayName(token));
        return accounts.create(account, "").thenCompose(created -> accounts.updateProfile(created, token.getEmail(),
                        token.getPicture()).thenApply(done -> created))
                .exceptionallyCompose(e -> {
                    ApiException error = ApiException.from(e);
                    if (error.code() == ErrorCode.USERNAME_TAKEN && attempt < 5) {
                        return create(userId, token, attempt + 1);
                    }
                    return CompletableFuture.failedFuture(error);
                });
    }

    private static String usernameBase(FirebaseToken token) {
        String source = Optional.ofNullable(token.getEmail()).map(e -> e.substring(0, Math.max(0, e.indexOf('@'))))
                .filter(s -> !s.isBlank()).orElse(Optional.ofNullable(token.getName()).orElse("user"));
        String clean = source.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "");
        if (clean.length() > 26) {
            clean = clean.substring(0, 26);
        }
        return clean.length() < 3 ? "user" + clean : clean;
    }

    private static String displayName(FirebaseToken token) {
        String name = token.getName();
        if (name == null || name.isBlank()) {
            name = token.getEmail() == null ? "Firebase user" : token.getEmail();
        }
        name = name.strip().replaceAll("\\p{Cntrl}", "");
        return name.length() > 64 ? name.substring(0, 64) : name;
    }

    private String randomHex(int bytes) {
        byte[] raw = new byte[bytes];
        random.nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }

    @Override
    public void close() {
        app.delete();
    }
}
