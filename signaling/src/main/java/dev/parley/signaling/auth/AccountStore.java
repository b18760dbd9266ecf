package dev.parley.signaling.auth;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Accounts in Redis: a hash per user, a unique username index, a set of every user ordered by sign-up time, and a
 * search index: one sorted set of {@code term NUL userId} entries (all of score 0, so ordered by term), where the
 * terms are the lowercased username, display name and each word of it, so a name prefix is one range read however
 * many users there are. Each user's entries are also kept in a set of their own, so a new display name replaces them.
 * A user's keys share the user id as hash tag; the username, the list of users and the search index each live in a
 * Redis Cluster slot of their own, so registration is a sequence of single-slot steps, ordered so that a step cut
 * short never leaves a username taken for good by an account that does not exist (see {@link #create}).
 */
public final class AccountStore {

    /** An account with its stored password hash (null for accounts of external providers). */
    public record StoredAccount(Account account, String passwordHash) {
    }

    /** How long a new username is held for an account being registered before the claim is made lasting. */
    static final java.time.Duration CLAIM_TTL = java.time.Duration.ofSeconds(30);

    // KEYS[1] username index; ARGV[1] userId. Makes this account's claim on the username lasting: 1, or 0 when the
    // claim is no longer this account's.
    private static final String SETTLE_CLAIM = """
            if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
            redis.call('PERSIST', KEYS[1])
            return 1
            """;

    // KEYS[1] user hash, KEYS[2] the user's entries; ARGV: username, displayName, hash, now, then the user's search
    // entries
    private static final String PROFILE = """
            redis.call('HSET', KEYS[1], 'username', ARGV[1], 'displayName', ARGV[2], 'passwordHash', ARGV[3],
                       'createdAt', ARGV[4])
            for i = 5, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
            return 1
            """;

    // KEYS[1] the user's entries, KEYS[2] user hash; ARGV: the user's new entries. Returns the entries they replace,
    // or false for a user who no longer exists (nothing changes).
    private static final String SWAP_ENTRIES = """
            if redis.call('EXISTS', KEYS[2]) == 0 then return false end
            local old = redis.call('SMEMBERS', KEYS[1])
            redis.call('DEL', KEYS[1])
            for i = 1, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
            return old
            """;

    // KEYS[1] search index; ARGV[1] how many entries go, then those, then the entries that come.
    private static final String REPLACE_ENTRIES = """
            local gone = tonumber(ARGV[1])
            for i = 2, gone + 1 do redis.call('ZREM', KEYS[1], ARGV[i]) end
            for i = gone + 2, #ARGV do redis.call('ZADD', KEYS[1], 0, ARGV[i]) end
            return 1
            """;

    // KEYS[1] user hash, KEYS[2] the user's token generation; ARGV[1] the new hash. One step, so no token can be
    // issued against the old password once the new one is stored. Returns the new generation (0: no such user).
    private static final String REPLACE_PASSWORD = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            redis.call('HSET', KEYS[1], 'passwordHash', ARGV[1])
            return redis.call('INCR', KEYS[2])
            """;

    private static final String ALL_USERS = "parley:users";
    private static final String SEARCH_INDEX = "parley:users:search";
    /** Set once every account that existed before the search index has been indexed. */
    private static final String SEARCH_INDEX_BUILT = "parley:users:search:built";
    /** Sorts after every character a term can hold (U+10FFFF): the end of a prefix's range. */
    private static final String AFTER_EVERY_TERM = "\uDBFF\uDFFF";
    private static final int MAX_TERMS = 12;
    private static final int INDEX_BATCH = 200;
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /** A fresh user id; every account, local or from an external provider, gets one of this form. */
    public static String newUserId() {
        byte[] bytes = new byte[10];
        RANDOM.nextBytes(bytes);
        return "u" + java.util.HexFormat.of().formatHex(bytes);
    }

    private final RedisClusterAsyncCommands<String, String> redis;

    public AccountStore(RedisClusterAsyncCommands<String, String> redis) {
        this.redis = redis;
    }

    private static String usernameKey(String username) {
        return "parley:username:" + username;
    }

    private static String userKey(String userId) {
        return "parley:user:{" + userId + "}";
    }

    private static String searchEntriesKey(String userId) {
        return userKey(userId) + ":search";
    }

    /**
     * Creates the account; fails with username.taken if the name is in use. The username is claimed first, for
     * {@link #CLAIM_TTL}; then the account is written and the claim made lasting; then the account is listed and
     * indexed for search. Cut short before the claim lasts, the name frees itself; after, the account exists and
     * signs in, and only its listing may be missing until its name next changes.
     */
    public CompletionStage<Account> create(Account account, String passwordHash) {
        String username = usernameKey(account.username());
        String userId = account.userId();
        List<String> entries = searchEntries(account);
        // One time for both: the account's createdAt and its place in the sign-up order, as when this was one step.
        long createdAt = System.currentTimeMillis();
        List<String> profile = new ArrayList<>(List.of(account.username(), account.displayName(), passwordHash,
                Long.toString(createdAt)));
        profile.addAll(entries);
        return redis.set(username, userId, io.lettuce.core.SetArgs.Builder.nx().px(CLAIM_TTL.toMillis()))
                .thenCompose(claimed -> {
                    if (!"OK".equals(claimed)) {
                        throw new ApiException(ErrorCode.USERNAME_TAKEN, "The username '" + account.username()
                                + "' is already taken");
                    }
                    return redis.<Long>eval(PROFILE, ScriptOutputType.INTEGER,
                            new String[]{userKey(userId), searchEntriesKey(userId)},
                            profile.toArray(String[]::new));
                })
                .thenCompose(written -> redis.<Long>eval(SETTLE_CLAIM, ScriptOutputType.INTEGER,
                        new String[]{username}, userId))
                .thenCompose(settled -> {
                    if (settled != 1L) {
                        // The claim ran out before the account was written (Redis stalled past CLAIM_TTL): the name
                        // may be someone else's now, so this account is not made.
                        return redis.del(userKey(userId), searchEntriesKey(userId)).<Account>thenApply(n -> {
                            throw new ApiException(ErrorCode.UNAVAILABLE, "Registration took too long; try again");
                        });
                    }
                    return redis.zadd(ALL_USERS, (double) createdAt, userId)
                            .thenCompose(listed -> replaceEntries(List.of(), entries))
                            .thenApply(indexed -> account);
                });
    }

    /** Updates what an external provider says about a user: name, email and picture; the name is searched anew. */
    public CompletionStage<Void> updateProfile(Account account, String email, String pictureUrl) {
        java.util.Map<String, String> fields = new java.util.HashMap<>();
        fields.put("displayName", account.displayName());
        fields.put("email", email == null ? "" : email);
        fields.put("picture", pictureUrl == null ? "" : pictureUrl);
        return redis.hset(userKey(account.userId()), fields).thenCompose(r -> reindex(account));
    }

    /**
     * The user's entries are swapped in the user's slot, then the search index follows in its own. Two renames of one
     * user at once may leave an old entry in the index; search checks every hit against the current name.
     */
    private CompletionStage<Void> reindex(Account account) {
        List<String> entries = searchEntries(account);
        return redis.<List<String>>eval(SWAP_ENTRIES, ScriptOutputType.MULTI,
                new String[]{searchEntriesKey(account.userId()), userKey(account.userId())},
                entries.toArray(String[]::new)).thenCompose(old -> old == null
                ? CompletableFuture.<Void>completedFuture(null) : replaceEntries(old, entries));
    }

    private CompletionStage<Void> replaceEntries(List<String> gone, List<String> come) {
        List<String> args = new ArrayList<>(gone.size() + come.size() + 1);
        args.add(Integer.toString(gone.size()));
        args.addAll(gone);
        args.addAll(come);
        return redis.<Long>eval(REPLACE_ENTRIES, ScriptOutputType.INTEGER, new String[]{SEARCH_INDEX},
                args.toArray(String[]::new)).thenApply(r -> null);
    }

    /**
     * Indexes every account for search, a batch at a time, unless that was done already: accounts made before the
     * index existed. Run once at start-up; idempotent, and safe beside sign-ups (each replaces a user's entries).
     */
    public CompletionStage<Integer> buildSearchIndex() {
        return redis.exists(SEARCH_INDEX_BUILT).thenCompose(built -> built > 0
                ? CompletableFuture.completedFuture(0)
                : indexFrom(0, 0).thenCompose(count -> redis.set(SEARCH_INDEX_BUILT, "1").thenApply(ok -> count)));
    }

    private CompletionStage<Integer> indexFrom(long start, int indexed) {
        return redis.zrange(ALL_USERS, start, start + INDEX_BATCH - 1).thenCompose(ids -> {
            List<CompletableFuture<Void>> batch = new ArrayList<>();
            for (String id : ids) {
                batch.add(findById(id).thenCompose(found -> found.isPresent() ? reindex(found.get())
                        : CompletableFuture.<Void>completedFuture(null)).toCompletableFuture());
            }
            return CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).thenCompose(done ->
                    ids.size() < INDEX_BATCH ? CompletableFuture.completedFuture(indexed + ids.size())
                            : indexFrom(start + INDEX_BATCH, indexed + ids.size()));
        });
    }

    /** What a search matches a user by: the username, the display name and each of its words, lowercased. */
    static List<String> searchTerms(Account account) {
        java.util.LinkedHashSet<String> terms = new java.util.LinkedHashSet<>();
        terms.add(normalize(account.username()));
        String name = normalize(account.displayName());
        terms.add(name);
        for (String word : name.split(" ")) {
            if (terms.size() == MAX_TERMS) {
                break;
            }
            terms.add(word);
        }
        terms.remove("");
        return List.copyOf(terms);
    }

    private static List<String> searchEntries(Account account) {
        return searchTerms(account).stream().map(term -> term + "\0" + account.userId()).toList();
    }

    /** Lowercase, NFKC, inner runs of whitespace as one space, trimmed: how terms and queries are compared. */
    static String normalize(String text) {
        String folded = java.text.Normalizer.normalize(text == null ? "" : text, java.text.Normalizer.Form.NFKC)
                .toLowerCase(java.util.Locale.ROOT);
        return folded.trim().replaceAll("\\s+", " ");
    }

    /** One page of people: the accounts, and where the next page starts (null: this was the last). */
    public record UserPage(List<Account> users, String next) {
    }

    /**
     * The accounts whose username, display name or a word of it starts with {@code query} (case and width folded), a
     * page of at most {@code limit} entries of the index after {@code after} (a {@link UserPage#next} from before, or
     * null for the first page). A user matched by several terms is listed once per page; a later page may list them
     * again under another term.
     */
    public CompletionStage<UserPage> search(String query, String after, int limit) {
        String prefix = normalize(query);
        io.lettuce.core.Range.Boundary<String> lower = after == null
                ? io.lettuce.core.Range.Boundary.including(prefix)
                : io.lettuce.core.Range.Boundary.excluding(after);
        io.lettuce.core.Range<String> range = io.lettuce.core.Range.from(lower,
                io.lettuce.core.Range.Boundary.excluding(prefix + AFTER_EVERY_TERM));
        return redis.zrangebylex(SEARCH_INDEX, range, io.lettuce.core.Limit.create(0, limit)).thenCompose(entries -> {
            java.util.LinkedHashSet<String> ids = new java.util.LinkedHashSet<>();
            for (String entry : entries) {
                int separator = entry.lastIndexOf('\0');
                if (separator > 0 && entry.startsWith(prefix)) {
                    ids.add(entry.substring(separator + 1));
                }
            }
            String next = entries.size() == limit ? entries.get(entries.size() - 1) : null;
            // An entry a rename left behind (see reindex) does not match the name the user has now.
            return findAll(List.copyOf(ids)).thenApply(users -> new UserPage(users.stream()
                    .filter(user -> searchTerms(user).stream().anyMatch(term -> term.startsWith(prefix))).toList(),
                    next));
        });
    }

    /** A page of every account, oldest first: {@code limit} from the {@code offset}-th. */
    public CompletionStage<UserPage> page(long offset, int limit) {
        return redis.zrange(ALL_USERS, offset, offset + limit - 1).thenCompose(ids -> findAll(ids)
                .thenApply(users -> new UserPage(users, ids.size() == limit ? Long.toString(offset + limit) : null)));
    }

    private CompletionStage<List<Account>> findAll(List<String> ids) {
        List<CompletableFuture<Optional<Account>>> lookups = new ArrayList<>();
        for (String id : ids) {
            lookups.add(findById(id).toCompletableFuture());
        }
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(done -> lookups.stream()
                .map(CompletableFuture::join).flatMap(Optional::stream).toList());
    }

    public CompletionStage<Optional<StoredAccount>> findByUsername(String username) {
        return redis.get(usernameKey(username)).thenCompose(userId -> userId == null
                ? CompletableFuture.completedFuture(Optional.empty())
                : findStored(userId));
    }

    /**
     * Stores a new password hash and, in the same step, bumps the user's token generation (every token issued so far
     * becomes invalid). Completes with the new generation.
     */
    public CompletionStage<Long> replacePassword(String userId, String passwordHash, String generationKey) {
        return redis.<Long>eval(REPLACE_PASSWORD, ScriptOutputType.INTEGER,
                new String[]{userKey(userId), generationKey}, passwordHash).thenApply(generation -> {
            if (generation == 0L) {
                throw new ApiException(ErrorCode.NOT_FOUND, "This account no longer exists");
            }
            return generation;
        });
    }

    public CompletionStage<Optional<Account>> findById(String userId) {
        return findStored(userId).thenApply(found -> found.map(StoredAccount::account));
    }

    public CompletionStage<Optional<StoredAccount>> findStored(String userId) {
        return redis.hgetall(userKey(userId)).thenApply(fields -> toStored(userId, fields));
    }

    /** Up to {@code limit} accounts, oldest first. */
    public CompletionStage<List<Account>> list(int limit) {
        return redis.zrange(ALL_USERS, 0, limit - 1).thenCompose(this::findAll);
    }

    private static Optional<StoredAccount> toStored(String userId, Map<String, String> fields) {
        if (fields == null || fields.isEmpty() || fields.get("username") == null) {
            return Optional.empty();
        }
        Account account = new Account(userId, fields.get("username"), fields.get("displayName"));
        return Optional.of(new StoredAccount(account, fields.get("passwordHash")));
    }

}
