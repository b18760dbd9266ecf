package dev.parley.signaling.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccountRoutesTest {

    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.auth.max-failures-per-user", 3);
        settings.put("parley.auth.max-failures-per-address", 1000);
        gateway = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    @Test
    void registeringCreatesAnAccountAndSignsIn() throws Exception {
        Response created = gateway.post("/api/auth/register",
                Map.of("username", "ada", "password", "analytical", "displayName", "Ada Lovelace"), null);
        assertEquals(201, created.status());
        assertEquals("ada", created.body().get("username").asText());
        assertEquals("Ada Lovelace", created.body().get("displayName").asText());
        String token = created.body().get("token").asText();

        Response me = gateway.get("/api/me", token);
        assertEquals(200, me.status());
        assertEquals(created.body().get("userId").asText(), me.body().get("userId").asText());
    }

    @Test
    void aTakenUsernameIsRefused() throws Exception {
        gateway.register("grace");
        Response again = gateway.post("/api/auth/register",
                Map.of("username", "grace", "password", "something", "displayName", "Other"), null);
        assertEquals(409, again.status());
        assertEquals("username.taken", again.errorCode());
    }

    @Test
    void invalidRegistrationsNameTheField() throws Exception {
        assertBadRequest(Map.of("username", "AB", "password", "longenough", "displayName", "x"), "username");
        assertBadRequest(Map.of("username", "has space", "password", "longenough", "displayName", "x"), "username");
        assertBadRequest(Map.of("username", "validname", "password", "short", "displayName", "x"), "password");
        assertBadRequest(Map.of("username", "validname", "password", "longenough", "displayName", " "), "displayName");
        assertBadRequest(Map.of("username", "validname", "password", "longenough", "displayName", "x".repeat(65)),
                "displayName");
        assertBadRequest(Map.of("username", 42, "password", "longenough", "displayName", "x"), "username");
        Response notJson = gateway.send("POST", "/api/auth/register", "{nope", null);
        assertEquals(400, notJson.status());
        assertEquals("bad_request", notJson.errorCode());
        Response array = gateway.send("POST", "/api/auth/register", "[1,2]", null);
        assertEquals(400, array.status());
    }

    private static void assertBadRequest(Map<String, Object> body, String field) throws Exception {
        Response response = gateway.post("/api/auth/register", body, null);
        assertEquals(400, response.status(), response.raw());
        assertEquals("bad_request", response.errorCode());
        assertTrue(response.body().path("error").path("message").asText().contains(field), response.raw());
    }

    @Test
    void loginGivesTheSameAnswerForUnknownUsersAndWrongPasswords() throws Exception {
        gateway.register("linus");
        Response ok = gateway.post("/api/auth/login", Map.of("username", "linus", "password", "correct horse"), null);
        assertEquals(200, ok.status());
        assertNotNull(ok.body().get("token"));

        Response wrong = gateway.post("/api/auth/login", Map.of("username", "linus", "password", "wrong horse"), null);
        Response unknown = gateway.post("/api/auth/login", Map.of("username", "nobody", "password", "whatever1"), null);
        assertEquals(401, wrong.status());
        assertEquals(401, unknown.status());
        assertEquals(wrong.raw(), unknown.raw());
    }

    @Test
    void repeatedFailuresForOneUsernameAreRateLimited() throws Exception {
        gateway.register("target");
        for (int i = 0; i < 3; i++) {
            assertEquals(401, gateway.post("/api/auth/login", Map.of("username", "target", "password", "guess" + i + "xx"),
                    null).status());
        }
        Response limited = gateway.post("/api/auth/login", Map.of("username", "target", "password", "correct horse"),
                null);
        assertEquals(429, limited.status());
        assertEquals("rate_limited", limited.errorCode());
    }

    @Test
    void oneAddressCreatingTooManyAccountsIsRateLimited() throws Exception {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.auth.max-registrations-per-address", 3);
        try (RedisServer own = RedisServer.start()) {
            settings.put("parley.redis.uri", own.uri());
            try (TestGateway strict = TestGateway.start(settings)) {
                for (int i = 0; i < 3; i++) {
                    strict.register("signup" + i);
                }
                Response limited = strict.post("/api/auth/register", Map.of("username", "signup3",
                        "password", "correct horse", "displayName", "Four"), null);
                assertEquals(429, limited.status(), limited.raw());
                assertEquals("rate_limited", limited.errorCode());
            }
        }
    }

    @Test
    void behindATrustedProxyFailuresAreCountedPerForwardedClient() throws Exception {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.http.trusted-proxies", "127.0.0.1");
        settings.put("parley.auth.max-failures-per-address", 2);
        settings.put("parley.auth.max-failures-per-user", 100);
        try (TestGateway proxied = TestGateway.start(settings)) {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.util.function.Function<String, Integer> failFrom = client -> {
                try {
                    return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                                    + proxied.port() + "/api/auth/login"))
                            .header("X-Forwarded-For", "203.0.113.9, " + client)
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                    "{\"username\":\"nobody-" + client + "\",\"password\":\"wrong-pass\"}")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            assertEquals(401, failFrom.apply("198.51.100.1"));
            assertEquals(401, failFrom.apply("198.51.100.1"));
            assertEquals(429, failFrom.apply("198.51.100.1"), "that client used up its allowance");
            assertEquals(401, failFrom.apply("198.51.100.2"), "another client behind the same proxy is not blocked");
        }
    }

    @Test
    void logoutRevokesTheToken() throws Exception {
        String token = gateway.register("leaving").get("token").asText();
        assertEquals(204, gateway.post("/api/auth/logout", Map.of(), token).status());
        Response me = gateway.get("/api/me", token);
        assertEquals(401, me.status());
        assertEquals("auth.invalid", me.errorCode());
    }

    @Test
    void missingOrForgedTokensAreRefused() throws Exception {
        assertEquals("auth.invalid", gateway.get("/api/me", null).errorCode());
        assertEquals("auth.invalid", gateway.get("/api/me", "not-a-token").errorCode());
        String token = gateway.register("forger").get("token").asText();
        String forged = token.substring(0, token.length() - 4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
        assertEquals(401, gateway.get("/api/me", forged).status());
    }

    @Test
    void tokensSurviveAGatewayRestart() throws Exception {
        String token = gateway.register("durable").get("token").asText();
        try (TestGateway second = TestGateway.start(redis)) {
            assertEquals(200, second.get("/api/me", token).status());
        }
    }

    @Test
    void signedInUsersCanListUsers() throws Exception {
        String token = gateway.register("lister").get("token").asText();
        Response users = gateway.get("/api/users", token);
        assertEquals(200, users.status());
        boolean found = false;
        for (JsonNode user : users.body().get("users")) {
            found |= user.get("username").asText().equals("lister");
            assertFalse(user.has("passwordHash"), "hashes never leave the server");
        }
        assertTrue(found);
        assertEquals(401, gateway.get("/api/users", null).status());
    }

    @Test
    void oversizedBodiesUnknownRoutesAndWrongMethodsGetClearErrors() throws Exception {
        Response big = gateway.send("POST", "/api/auth/register", "{\"x\":\"" + "a".repeat(70_000) + "\"}", null);
        assertEquals(413, big.status());
        assertEquals("payload_too_large", big.errorCode());
        assertEquals("not_found", gateway.get("/api/nothing-here", null).errorCode());
        Response method = gateway.send("DELETE", "/api/auth/login", null, null);
        assertEquals(405, method.status());
        assertEquals("method_not_allowed", method.errorCode());
        assertEquals(200, gateway.get("/healthz", null).status(), "the server is still fine");
    }

    @Test
    void authConfigListsTheEnabledProviders() throws Exception {
        Response config = gateway.get("/api/auth/config", null);
        assertEquals(200, config.status());
        assertEquals("local", config.body().get("providers").get(0).asText());
    }

    @Test
    void metricsCountErrorsByCode() throws Exception {
        gateway.get("/api/me", null);
        String metrics = gateway.metrics();
        assertTrue(metrics.contains("parley_errors_total{code=\"auth.invalid\",transport=\"http\"}"),
                metrics.lines().filter(l -> l.contains("errors")).toList().toString());
    }

    @Test
    void theWebClientIsServedWithSinglePageFallback(@TempDir Path web) throws Exception {
        Files.writeString(web.resolve("index.html"), "<!doctype html><title>Parley</title>");
        Files.createDirectories(web.resolve("assets"));
        Files.writeString(web.resolve("assets/app.js"), "console.log(1)");
        Files.writeString(web.getParent().resolve("secret.txt"), "secret");
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.http.static-dir", web.toString());
        try (TestGateway withFiles = TestGateway.start(settings)) {
            assertTrue(withFiles.get("/", null).raw().contains("<title>Parley</title>"));
            assertTrue(withFiles.get("/meetings/abc", null).raw().contains("<title>Parley</title>"));
            assertEquals("console.log(1)", withFiles.get("/assets/app.js", null).raw());
            assertEquals(404, withFiles.get("/assets/missing.js", null).status());
            assertEquals(404, withFiles.get("/../secret.txt", null).status());
        }
    }
}
