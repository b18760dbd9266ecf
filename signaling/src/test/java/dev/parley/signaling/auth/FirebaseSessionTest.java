package dev.parley.signaling.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.SignedJWT;
import dev.parley.signaling.testing.FirebaseEmulator;
import dev.parley.signaling.testing.GatewayProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Parley session from a Firebase sign-in lasts no longer than Firebase vouches for it: the client renews it with
 * fresh ID tokens, and a disabled or deleted Firebase account, which gets none, loses its socket within the
 * configured session lifetime. Real Firebase Auth emulator, real gateway process.
 */
class FirebaseSessionTest {

    private static final long SESSION_TTL_MILLIS = 4_000;

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
                "FIREBASE_AUTH_EMULATOR_HOST", emulator.host(),
                "PARLEY_FIREBASE_SESSION_TTL", SESSION_TTL_MILLIS + "ms"));
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

    private static String parleyToken(String idToken) throws Exception {
        Response response = exchange(idToken);
        assertEquals(200, response.status(), response.raw());
        return response.body().get("token").asText();
    }

    private static void renew(WsClient ws, String token, String id) throws Exception {
        ws.send(Map.of("type", "session.renew", "id", id, "token", token));
        JsonNode answer = ws.next(m -> id.equals(m.path("re").asText()), 5000);
        assertEquals("ok", answer.get("type").asText(), answer.toString());
    }

    @Test
    void aParleyTokenFromFirebaseLivesNoLongerThanTheSessionLifetime() throws Exception {
        emulator.signUp("short.life@example.com", "secret-pass", "Short Life");
        var claims = SignedJWT.parse(parleyToken(emulator.signIn("short.life@example.com", "secret-pass")))
                .getJWTClaimsSet();
        long life = claims.getExpirationTime().getTime() - claims.getIssueTime().getTime();
        assertTrue(life <= SESSION_TTL_MILLIS, "a Firebase-backed token lives " + life + " ms");
        // It cannot be stretched with the local refresh route either.
        Response refreshed = TestGateway.request(gateway.port(), "POST", "/api/auth/refresh", null,
                parleyToken(emulator.signIn("short.life@example.com", "secret-pass")));
        assertEquals(401, refreshed.status(), refreshed.raw());
    }

    @Test
    void aDisabledFirebaseUserLosesTheSocketWithinTheSessionLifetime() throws Exception {
        JsonNode user = emulator.signUp("to.disable@example.com", "secret-pass", "To Disable");
        try (WsClient ws = WsClient.connect(gateway.port())) {
            assertEquals("welcome", ws.hello(parleyToken(emulator.signIn("to.disable@example.com", "secret-pass")),
                    null).get("type").asText());
            // While the account is good, renewing with fresh ID tokens keeps the socket past the first token's life.
            for (int i = 0; i < 2; i++) {
                Thread.sleep(SESSION_TTL_MILLIS * 3 / 4);
                renew(ws, parleyToken(emulator.signIn("to.disable@example.com", "secret-pass")), "renew" + i);
            }
            String lastIdToken = emulator.signIn("to.disable@example.com", "secret-pass");
            long disabledAt = System.currentTimeMillis();
            emulator.adminUpdate(user.get("localId").asText(), Map.of("disableUser", true));

            // No fresh ID token, and the one still in hand no longer gets a Parley token.
            assertThrows(IOException.class, () -> emulator.signIn("to.disable@example.com", "secret-pass"));
            Response refused = exchange(lastIdToken);
            assertEquals(401, refused.status(), refused.raw());
            assertTrue(refused.raw().contains("disabled"), refused.raw());

            ws.next(m -> m.path("code").asText().equals("session.ended"), SESSION_TTL_MILLIS + 3_000);
            assertEquals(4410, ws.awaitClose(5000));
            long after = System.currentTimeMillis() - disabledAt;
            assertTrue(after <= SESSION_TTL_MILLIS + 1_500, "the socket closed " + after + " ms after disabling");
        }
    }

    @Test
    void aDeletedFirebaseUserLosesTheSocketToo() throws Exception {
        JsonNode user = emulator.signUp("to.delete@example.com", "secret-pass", "To Delete");
        String idToken = emulator.signIn("to.delete@example.com", "secret-pass");
        try (WsClient ws = WsClient.connect(gateway.port())) {
            assertEquals("welcome", ws.hello(parleyToken(idToken), null).get("type").asText());
            emulator.adminDelete(user.get("localId").asText());
            Response refused = exchange(idToken);
            assertEquals(401, refused.status(), refused.raw());
            ws.next(m -> m.path("code").asText().equals("session.ended"), SESSION_TTL_MILLIS + 3_000);
            assertEquals(4410, ws.awaitClose(5000));
        }
    }
}
