package dev.parley.signaling.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.store.RedisConnections;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** People search over real Redis: prefixes of usernames, names and their words, page by page, past a few hundred. */
class PeopleSearchTest {

    private static RedisServer redis;
    private static TestGateway gateway;
    private static RedisConnections connections;
    private static AccountStore accounts;
    private static String token;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        gateway = TestGateway.start(redis);
        connections = redis.connections();
        accounts = new AccountStore(connections.async());
        token = gateway.register("searcher").get("token").asText();
        // Six hundred people, as sign-up makes them (the password hashing is left out: it is not what is tested).
        List<java.util.concurrent.CompletableFuture<Account>> created = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            String name = i % 2 == 0 ? "Patricia Stone " + i : "Omar Patel " + i;
            created.add(accounts.create(new Account(AccountStore.newUserId(), String.format("user%03d", i), name), "")
                    .toCompletableFuture());
        }
        java.util.concurrent.CompletableFuture.allOf(created.toArray(java.util.concurrent.CompletableFuture[]::new))
                .get();
        accounts.create(new Account(AccountStore.newUserId(), "ada", "Ada Lovelace"), "").toCompletableFuture().get();
        accounts.create(new Account(AccountStore.newUserId(), "asa", "Åsa Öberg"), "").toCompletableFuture().get();
    }

    @AfterAll
    static void stop() throws Exception {
        connections.close();
        gateway.close();
        redis.close();
    }

    /** Every user a search finds, following its pages; and how many pages it took. */
    private static Set<String> everyPage(String query, int limit, int[] pages) throws Exception {
        Set<String> usernames = new HashSet<>();
        String after = null;
        do {
            Response page = gateway.get("/api/users?q=" + URLEncoder.encode(query, StandardCharsets.UTF_8)
                    + "&limit=" + limit + (after == null ? "" : "&after=" + after), token);
            assertEquals(200, page.status(), page.raw());
            assertTrue(page.body().get("users").size() <= limit);
            for (JsonNode user : page.body().get("users")) {
                usernames.add(user.get("username").asText());
                assertTrue(!user.has("passwordHash"));
            }
            after = page.body().get("next").isNull() ? null : page.body().get("next").asText();
            pages[0]++;
            assertTrue(pages[0] < 100, "the pages end");
        } while (after != null);
        return usernames;
    }

    @Test
    void aPrefixOfAUsernameOrOfAnyWordOfTheNameFindsEveryoneItMatchesPageByPage() throws Exception {
        int[] pages = {0};
        Set<String> patricias = everyPage("pat", 100, pages);
        // "Patricia" and "Patel": everyone; the index lists each by several terms, so it takes more than 6 pages.
        assertEquals(600, patricias.size());
        assertTrue(pages[0] >= 6, "pages: " + pages[0]);

        Set<String> stones = everyPage("Patricia  STONE 1", 50, new int[1]);
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 600; i += 2) {
            if (Integer.toString(i).startsWith("1")) {
                expected.add(String.format("user%03d", i));
            }
        }
        assertEquals(expected, stones, "the whole name, spaces and case folded");

        assertEquals(Set.of("ada"), everyPage("love", 50, new int[1]), "a word of the name");
        assertEquals(Set.of("ada"), everyPage("  Ad", 50, new int[1]), "the username or the name");
        assertEquals(Set.of("asa"), everyPage("öbe", 50, new int[1]), "beyond ASCII");
        assertEquals(Set.of(), everyPage("zebra", 50, new int[1]));
    }

    @Test
    void withoutAQueryEveryoneIsListedOldestFirstInPages() throws Exception {
        Response first = gateway.get("/api/users?limit=250", token);
        assertEquals(250, first.body().get("users").size());
        assertEquals("searcher", first.body().get("users").get(0).get("username").asText());
        Set<String> all = new HashSet<>();
        first.body().get("users").forEach(u -> all.add(u.get("username").asText()));
        String after = first.body().get("next").asText();
        Response second = gateway.get("/api/users?limit=250&after=" + after, token);
        second.body().get("users").forEach(u -> all.add(u.get("username").asText()));
        Response third = gateway.get("/api/users?limit=250&after=" + second.body().get("next").asText(), token);
        third.body().get("users").forEach(u -> all.add(u.get("username").asText()));
        assertEquals(603, all.size());
        assertTrue(third.body().get("next").isNull());
        assertEquals(500, gateway.get("/api/users", token).body().get("users").size(), "500 at most at once");
    }

    @Test
    void aNewNameIsFoundAndTheOldOneNoLonger() throws Exception {
        Account grace = accounts.create(new Account(AccountStore.newUserId(), "gracie", "Grace Brewster"), "")
                .toCompletableFuture().get();
        assertEquals(Set.of("gracie"), everyPage("brew", 50, new int[1]));
        accounts.updateProfile(new Account(grace.userId(), "gracie", "Grace Hopper"), null, null)
                .toCompletableFuture().get();
        assertEquals(Set.of("gracie"), everyPage("hop", 50, new int[1]));
        assertEquals(Set.of(), everyPage("brew", 50, new int[1]));
    }

    @Test
    void accountsMadeBeforeTheIndexAreIndexedOnceAtStart() throws Exception {
        // As an earlier version stored an account: the hash and the sign-up order, no search entries (under the
        // hash-tagged name KeyMigration gives it at start).
        String userId = AccountStore.newUserId();
        redis.inspect().hset("parley:user:{" + userId + "}", java.util.Map.of("username", "oldtimer",
                "displayName", "Ottilie Early", "passwordHash", "", "createdAt", "1"));
        redis.inspect().zadd("parley:users", 1, userId);
        assertEquals(Set.of(), everyPage("ottilie", 50, new int[1]));
        assertEquals(0, accounts.buildSearchIndex().toCompletableFuture().get(), "built once already, at start");
        redis.inspect().del("parley:users:search:built");
        assertTrue(accounts.buildSearchIndex().toCompletableFuture().get() >= 600);
        assertEquals(Set.of("oldtimer"), everyPage("ottilie", 50, new int[1]));
        assertEquals(Set.of("oldtimer"), everyPage("old", 50, new int[1]));
    }

    @Test
    void badSearchesGetClearErrors() throws Exception {
        assertBad("/api/users?q=" + "a".repeat(101), "q is at most 100");
        assertBad("/api/users?q=a&limit=0", "limit must be a whole number from 1 to 100");
        assertBad("/api/users?q=a&limit=101", "limit");
        assertBad("/api/users?limit=501", "limit must be a whole number from 1 to 500");
        assertBad("/api/users?q=a&limit=x", "limit");
        assertBad("/api/users?q=a&after=@@@", "after");
        String listing = gateway.get("/api/users?limit=5", token).body().get("next").asText();
        assertBad("/api/users?q=a&after=" + listing, "after must be the next value of the previous page");
        assertEquals(401, gateway.get("/api/users?q=a", null).status());
        Response blank = gateway.get("/api/users?q=%20%20&limit=3", token);
        assertEquals(3, blank.body().get("users").size(), "a blank query lists everyone");
    }

    private static void assertBad(String path, String message) throws Exception {
        Response response = gateway.get(path, token);
        assertEquals(400, response.status(), response.raw());
        assertEquals("bad_request", response.errorCode());
        assertTrue(response.raw().contains(message), response.raw());
    }

    @Test
    void theLastPageSaysSo() throws Exception {
        Response page = gateway.get("/api/users?q=ada&limit=10", token);
        assertEquals(1, page.body().get("users").size());
        assertNull(page.body().get("next").isNull() ? null : page.body().get("next").asText());
    }
}
