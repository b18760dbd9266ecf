package dev.parley.signaling.auth;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.store.RedisRateLimit;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;

/**
 * Local accounts: registration, login with throttling, and turning a bearer token into the account it belongs to.
 * Password hashing runs on its own bounded executor, never on an event loop.
 */
public final class AuthService {

    /** What register and login answer: the account and a fresh session token. */
    public record SignedIn(Account account, String token) {
    }

    /** A bearer token's account and what the token says (for sockets, which close when it ends). */
    public record Authenticated(Account account, TokenService.TokenClaims claims) {
    }

    private static final Pattern USERNAME = Pattern.compile("[a-z0-9._-]{3,32}");
    private static final int MIN_PASSWORD = 8;
    private static final int MAX_PASSWORD = 256;
    private static final int MAX_DISPLAY_NAME = 64;
    private static final int MAX_SESSION_ID = 64;

    private final AccountStore accounts;
    private final TokenService tokens;
    private final LoginThrottle throttle;
    private final PasswordHasher hasher;
    private final Executor hashing;
    private final RedisRateLimit registrations;
    private final RedisRateLimit passwordChanges;
    private final GatewayMetrics metrics;
    private final String dummyHash;
    private final SecureRandom random = new SecureRandom();

    public AuthService(AccountStore accounts, TokenService tokens, LoginThrottle throttle, GatewayMetrics metrics,
                       PasswordHasher hasher, Executor hashing, RedisRateLimit registrations,
                       RedisRateLimit passwordChanges) {
        this.registrations = registrations;
        this.passwordChanges = passwordChanges;
        this.metrics = metrics;
        this.accounts = accounts;
        this.tokens = tokens;
        this.throttle = throttle;
        this.hasher = hasher;
        this.hashing = hashing;
        // Unknown usernames still cost one hash, so timing does not tell which usernames exist.
        this.dummyHash = hasher.hash("not-a-password-" + random.nextLong());
    }

    public CompletionStage<SignedIn> register(String username, String password, String displayName,
                                              String clientAddress) {
        validateUsername(username);
        validatePassword(password);
        String name = displayName == null ? "" : displayName.strip();
        if (name.isEmpty() || name.codePointCount(0, name.length()) > MAX_DISPLAY_NAME || hasControl(name)) {
            throw ApiException.badRequest("displayName must be 1-64 characters without control characters");
        }
        Account account = new Account(AccountStore.newUserId(), username, name);
        return registrations.tryAcquire(AddressBucket.of(clientAddress)).thenCompose(allowed -> {
            if (!allowed) {
                throw new ApiException(ErrorCode.RATE_LIMITED, "Too many accounts created from this address; try again"
                        + " in " + registrations.window().toMinutes() + " minutes");
            }
            return CompletableFuture.supplyAsync(() -> hasher.hash(password), hashing);
        })
                .thenCompose(hash -> accounts.create(account, hash))
                .thenCompose(created -> tokens.issue(created.userId())
                        .thenApply(issued -> new SignedIn(created, issued.token())));
    }

    public CompletionStage<SignedIn> login(String username, String password, String clientAddress) {
        if (username == null || password == null) {
            throw ApiException.badRequest("username and password are required");
        }
        if (username.length() > 64 || password.length() > MAX_PASSWORD) {
            throw new ApiException(ErrorCode.AUTH_INVALID, "Wrong username or password");
        }
        // The attempt is counted before the password is checked, so concurrent guesses cannot slip past the limit.
        return throttle.attempt(username, clientAddress).thenCompose(admission -> {
            if (!admission.admitted()) {
                metrics.loginThrottled(admission.limit().name().toLowerCase(java.util.Locale.ROOT));
                throw new ApiException(ErrorCode.RATE_LIMITED, "Too many failed sign-in attempts; try again in "
                        + waitText(admission.retryAfter()));
            }
            return accounts.findByUsername(username).thenCompose(found -> CompletableFuture.supplyAsync(() -> {
                String stored = found.map(AccountStore.StoredAccount::passwordHash).orElse(null);
                metrics.passwordVerified();
                boolean matches = hasher.verify(password, stored == null ? dummyHash : stored);
                return matches && stored != null
                        ? found.map(AccountStore.StoredAccount::account) : Optional.<Account>empty();
            }, hashing)).thenCompose(account -> {
                if (account.isEmpty()) {
                    throw new ApiException(ErrorCode.AUTH_INVALID, "Wrong username or password");
                }
                return throttle.succeeded(username, clientAddress, admission)
                        .thenCompose(done -> tokens.issue(account.get().userId()))
                        .thenApply(issued -> new SignedIn(account.get(), issued.token()));
            });
        });
    }

    /** "12 seconds", "3 minutes": how long a refused sign-in must wait, rounded up. */
    static String waitText(Duration wait) {
        long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
        if (seconds < 120) {
            return seconds + (seconds == 1 ? " second" : " seconds");
        }
        return (seconds + 59) / 60 + " minutes";
    }

    /** The account a bearer token belongs to; fails with auth.invalid for a bad, expired or revoked token. */
    public CompletionStage<Account> authenticate(String token) {
        return authenticateSession(token).thenApply(Authenticated::account);
    }

    /** Like {@link #authenticate}, with the token's claims. */
    public CompletionStage<Authenticated> authenticateSession(String token) {
        return claims(token).thenCompose(claims -> accounts.findById(claims.userId())
                .thenApply(account -> new Authenticated(account.orElseThrow(AuthService::invalidToken), claims)));
    }

    /** Revokes this token; the socket opened with it closes. */
    public CompletionStage<Void> logout(String token) {
        return claims(token).thenCompose(tokens::revoke);
    }

    /** Revokes every token of the token's user, this one included; all their sockets close. */
    public CompletionStage<Void> signOutEverywhere(String token) {
        return claims(token).thenCompose(claims -> tokens.revokeAll(claims.userId(), null)).thenApply(g -> null);
    }

    /** A fresh token for a valid local one, so an active user stays signed in; Firebase sign-ins renew via Firebase. */
    public CompletionStage<SignedIn> refresh(String token) {
        return authenticateSession(token).thenCompose(signedIn -> {
            if (signedIn.claims().provider() == TokenService.Provider.FIREBASE) {
                throw new ApiException(ErrorCode.AUTH_INVALID, "A Firebase sign-in is renewed with a fresh Firebase"
                        + " ID token (POST /api/auth/firebase)");
            }
            return tokens.issue(signedIn.account().userId())
                    .thenApply(issued -> new SignedIn(signedIn.account(), issued.token()));
        });
    }

    /**
     * Changes a local account's password after checking the current one: every other token of the user is revoked
     * and their sockets closed, except the caller's socket of session {@code keepSessionId} (may be null); the
     * caller gets a fresh token.
     */
    public CompletionStage<SignedIn> changePassword(String token, String currentPassword, String newPassword,
                                                    String keepSessionId) {
        if (currentPassword == null || currentPassword.isEmpty()) {
            throw ApiException.badRequest("currentPassword is required");
        }
        validatePassword(newPassword);
        if (keepSessionId != null && keepSessionId.length() > MAX_SESSION_ID) {
            throw ApiException.badRequest("keepSessionId must be the session id of this tab's welcome");
        }
        return claims(token).thenCompose(claims -> passwordChanges.tryAcquire(claims.userId()).thenCompose(allowed -> {
            if (!allowed) {
                throw new ApiException(ErrorCode.RATE_LIMITED, "Too many password changes; try again in "
                        + passwordChanges.window().toMinutes() + " minutes");
            }
            return accounts.findStored(claims.userId());
        }).thenCompose(found -> {
            AccountStore.StoredAccount stored = found.orElseThrow(AuthService::invalidToken);
            if (stored.passwordHash() == null || stored.passwordHash().isEmpty()) {
                throw ApiException.badRequest("This account signs in with Firebase; change its password there");
            }
            if (currentPassword.length() > MAX_PASSWORD) {
                throw new ApiException(ErrorCode.FORBIDDEN, "The current password is wrong");
            }
            return CompletableFuture.supplyAsync(() -> {
                if (!hasher.verify(currentPassword, stored.passwordHash())) {
                    throw new ApiException(ErrorCode.FORBIDDEN, "The current password is wrong");
                }
                return hasher.hash(newPassword);
            }, hashing).thenCompose(hash -> accounts.replacePassword(claims.userId(), hash,
                            TokenService.generationKey(claims.userId())))
                    .thenCompose(generation -> tokens.announceGeneration(claims.userId(), generation, keepSessionId)
                            .thenApply(done -> new SignedIn(stored.account(),
                                    tokens.issueForGeneration(claims.userId(), generation).token())));
        }));
    }

    private CompletionStage<TokenService.TokenClaims> claims(String token) {
        return tokens.verify(token).thenApply(claims -> claims.orElseThrow(AuthService::invalidToken));
    }

    private static ApiException invalidToken() {
        return new ApiException(ErrorCode.AUTH_INVALID, "Your sign-in has expired or is not valid; sign in again");
    }

    private static void validateUsername(String username) {
        if (username == null || !USERNAME.matcher(username).matches()) {
            throw ApiException.badRequest("username must be 3-32 characters of a-z, 0-9, '.', '_' or '-'");
        }
    }

    private static void validatePassword(String password) {
        if (password == null || password.length() < MIN_PASSWORD || password.length() > MAX_PASSWORD) {
            throw ApiException.badRequest("password must be 8-256 characters");
        }
    }

    private static boolean hasControl(String text) {
        return text.codePoints().anyMatch(Character::isISOControl);
    }
}
