package dev.parley.signaling.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.FirebaseEmulator;
import dev.parley.signaling.testing.GatewayProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Firebase sign-in against the real Firebase Auth emulator and a gateway process that uses it. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FirebaseSignInTest {

    private static RedisServer redis;
    private static FirebaseEmulator emulator;
    private static GatewayProcess gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        emulator = FirebaseEmulator.start();
        gateway = GatewayProcess.start(redis, Map.of(
                "PARLEY_AUTH_PROVIDERS", "local,firebase",
                "PARLEY_FIREBASE_PROJECT_ID", FirebaseEmulator.PROJECT,
                "FIREBASE_AUTH_EMULATOR_HOST", emulator.host()));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        emulator.close();
        redis.close();
    }

    private static Response exchange(String idToken) throws Exception {
        return TestGateway.request(gateway.port(), "POST", "/api/auth/firebase",
                "{\"idToken\":\"" + idToken + "\"}", null);
    }

    private static void assertRefused(Response response, String mentions) {
        assertEquals(401, response.status(), response.raw());
        assertEquals("auth.invalid", response.errorCode());
        assertTrue(response.body().get("error").get("message").asText().contains(mentions), response.raw());
    }

    @Test
    @Order(1)
    void theServerAdvertisesBothProvidersAndTheEmulator() throws Exception {
        JsonNode config = TestGateway.request(gateway.port(), "GET", "/api/auth/config", null, null).body();
        assertEquals("[\"firebase\",\"local\"]", config.get("providers").toString());
        assertEquals(FirebaseEmulator.PROJECT, config.get("firebase").get("projectId").asText());
        assertEquals(emulator.host(), config.get("firebase").get("emulatorHost").asText());
    }

    @Test
    @Order(2)
    void aFirebaseUserSignsInAndGetsOneParleyAccountForGood() throws Exception {
        emulator.signUp("rosa.parks@example.com", "secret-pass", "Rosa Parks");
        Response first = exchange(emulator.signIn("rosa.parks@example.com", "secret-pass"));
        assertEquals(200, first.status(), first.raw());
        assertEquals("rosa.parks", first.body().path("username").asText(), first.raw());
        assertEquals("Rosa Parks", first.body().get("displayName").asText());

        try (WsClient ws = WsClient.connect(gateway.port())) {
            JsonNode welcome = ws.hello(first.body().get("token").asText(), null);
            assertEquals("welcome", welcome.get("type").asText());
            assertEquals(first.body().get("userId").asText(), welcome.get("user").get("userId").asText());
            // The single-session rule holds for Firebase users too.
            Response again = exchange(emulator.signIn("rosa.parks@example.com", "secret-pass"));
            assertEquals(first.body().get("userId").asText(), again.body().get("userId").asText());
            try (WsClient second = WsClient.connect(gateway.port())) {
                assertEquals("session.active", second.hello(again.body().get("token").asText(), null)
                        .get("code").asText());
            }
        }
    }

    @Test
    @Order(3)
    void laterSignInsUpdateTheNameFromTheToken() throws Exception {
        JsonNode created = emulator.signUp("grace.h@example.com", "secret-pass", "Grace");
        String userId = exchange(emulator.signIn("grace.h@example.com", "secret-pass")).body().get("userId").asText();
        emulator.adminUpdate(created.get("localId").asText(), Map.of("displayName", "Grace Hopper"));
        Response later = exchange(emulator.signIn("grace.h@example.com", "secret-pass"));
        assertEquals(userId, later.body().get("userId").asText());
        assertEquals("Grace Hopper", later.body().get("displayName").asText());
    }

    @Test
    @Order(4)
    void revokedAndDisabledUsersAreRefused() throws Exception {
        JsonNode revokedUser = emulator.signUp("revoked@example.com", "secret-pass", null);
        String oldToken = emulator.signIn("revoked@example.com", "secret-pass");
        Thread.sleep(1100);
        emulator.adminUpdate(revokedUser.get("localId").asText(),
                Map.of("validSince", Long.toString(System.currentTimeMillis() / 1000)));
        assertRefused(exchange(oldToken), "revoked");

        JsonNode disabledUser = emulator.signUp("disabled@example.com", "secret-pass", null);
        String token = emulator.signIn("disabled@example.com", "secret-pass");
        emulator.adminUpdate(disabledUser.get("localId").asText(), Map.of("disableUser", true));
        assertRefused(exchange(token), "disabled");
    }

    @Test
    @Order(5)
    void tokensOfAnotherProjectExpiredOrMalformedAreRefused() throws Exception {
        long now = System.currentTimeMillis() / 1000;
        String otherProject = FirebaseEmulator.unsignedToken(Map.of(
                "iss", "https://securetoken.google.com/demo-other", "aud", "demo-other",
                "sub", "someone", "user_id", "someone", "iat", now, "exp", now + 3600, "auth_time", now));
        assertRefused(exchange(otherProject), "another Firebase project");
        String expired = FirebaseEmulator.unsignedToken(Map.of(
                "iss", "https://securetoken.google.com/" + FirebaseEmulator.PROJECT, "aud", FirebaseEmulator.PROJECT,
                "sub", "someone", "user_id", "someone", "iat", now - 7200, "exp", now - 3600, "auth_time", now - 7200));
        assertRefused(exchange(expired), "expired");
        assertRefused(exchange("not-a-token"), "");
        Response missing = TestGateway.request(gateway.port(), "POST", "/api/auth/firebase", "{}", null);
        assertEquals(400, missing.status());
    }

    @Test
    @Order(6)
    void whenFirebaseIsUnreachableSignInAnswers503() throws Exception {
        emulator.signUp("late@example.com", "secret-pass", null);
        String token = emulator.signIn("late@example.com", "secret-pass");
        emulator.close();
        Response down = exchange(token);
        assertEquals(503, down.status(), down.raw());
        assertEquals("auth.unavailable", down.errorCode());
        assertEquals(200, TestGateway.request(gateway.port(), "GET", "/healthz", null, null).status(),
                "the gateway itself is fine");
    }
}
