package dev.parley.signaling.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Logout, sign-out everywhere and password changes end tokens and close their sockets, on any gateway. */
class SignOutTest {

    private static final int SIGNED_OUT = 4410;

    private static RedisServer redis;
    private static TestGateway nodeA;
    private static TestGateway nodeB;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        nodeA = TestGateway.start(redis);
        nodeB = TestGateway.start(redis);
    }

    @AfterAll
    static void stop() throws Exception {
        nodeA.close();
        nodeB.close();
        redis.close();
    }

    private static String login(TestGateway gateway, String username, String password) throws Exception {
        Response response = gateway.post("/api/auth/login", Map.of("username", username, "password", password), null);
        assertEquals(200, response.status(), response.raw());
        return response.body().get("token").asText();
    }

    private static void assertSignedOut(WsClient ws) throws Exception {
        JsonNode error = ws.next(m -> m.path("code").asText().equals("session.ended"), 5000);
        assertTrue(error.get("message").asText().contains("sign in again"), error.toString());
        assertEquals(SIGNED_OUT, ws.awaitClose(5000));
    }

    private static void assertRefused(TestGateway gateway, String token) throws Exception {
        Response me = gateway.get("/api/me", token);
        assertEquals(401, me.status(), me.raw());
        assertEquals("auth.invalid", me.errorCode());
    }

    @Test
    void logoutClosesTheSocketOpenedWithThatToken() throws Exception {
        String token = nodeA.register("leaver").get("token").asText();
        try (WsClient ws = nodeA.ws()) {
            assertEquals("welcome", ws.hello(token, null).get("type").asText());
            assertEquals(204, nodeA.post("/api/auth/logout", Map.of(), token).status());
            assertSignedOut(ws);
        }
        assertRefused(nodeA, token);
    }

    @Test
    void logoutOnOneGatewayClosesTheSocketOnAnother() throws Exception {
        String token = nodeA.register("farleaver").get("token").asText();
        try (WsClient onB = nodeB.ws()) {
            assertEquals("welcome", onB.hello(token, null).get("type").asText());
            assertEquals(204, nodeA.post("/api/auth/logout", Map.of(), token).status());
            assertSignedOut(onB);
        }
    }

    @Test
    void logoutOfAnotherTokenLeavesTheSocketOpen() throws Exception {
        String socketToken = nodeA.register("twodevices").get("token").asText();
        String otherToken = login(nodeA, "twodevices", "correct horse");
        try (WsClient ws = nodeA.ws()) {
            assertEquals("welcome", ws.hello(socketToken, null).get("type").asText());
            assertEquals(204, nodeA.post("/api/auth/logout", Map.of(), otherToken).status());
            assertEquals(null, ws.poll(1000));
            assertTrue(ws.isOpen());
        }
        assertEquals(200, nodeA.get("/api/me", socketToken).status());
    }

    @Test
    void signOutEverywhereRevokesEveryTokenAndClosesSocketsOnEveryGateway() throws Exception {
        String first = nodeA.register("everywhere").get("token").asText();
        String second = login(nodeB, "everywhere", "correct horse");
        try (WsClient onB = nodeB.ws()) {
            assertEquals("welcome", onB.hello(first, null).get("type").asText());
            assertEquals(204, nodeA.post("/api/auth/logout-everywhere", Map.of(), second).status());
            assertSignedOut(onB);
        }
        for (TestGateway gateway : new TestGateway[]{nodeA, nodeB}) {
            assertRefused(gateway, first);
            assertRefused(gateway, second);
        }
        try (WsClient again = nodeA.ws()) {
            assertEquals("auth.invalid", again.hello(first, null).get("code").asText());
        }
        // Signing in afterwards works as before.
        String fresh = login(nodeA, "everywhere", "correct horse");
        assertEquals(200, nodeB.get("/api/me", fresh).status());
        try (WsClient ws = nodeB.ws()) {
            assertEquals("welcome", ws.hello(fresh, null).get("type").asText());
        }
    }

    @Test
    void aPasswordChangeRevokesOtherTokensAndKeepsTheCallerSignedIn() throws Exception {
        String elsewhere = nodeA.register("changer").get("token").asText();
        String caller = login(nodeA, "changer", "correct horse");
        try (WsClient ws = nodeB.ws()) {
            String sessionId = ws.hello(caller, null).get("sessionId").asText();
            Response changed = nodeA.post("/api/auth/password", Map.of("currentPassword", "correct horse",
                    "newPassword", "battery staple", "keepSessionId", sessionId), caller);
            assertEquals(200, changed.status(), changed.raw());
            String fresh = changed.body().get("token").asText();

            assertRefused(nodeA, elsewhere);
            assertRefused(nodeB, caller);
            assertEquals(200, nodeB.get("/api/me", fresh).status());
            // The caller's own socket stays, and takes the fresh token.
            assertEquals(null, ws.poll(1000));
            assertTrue(ws.isOpen());
            ws.send(Map.of("type", "session.renew", "id", "r1", "token", fresh));
            assertEquals("ok", ws.next(m -> "r1".equals(m.path("re").asText()), 5000).get("type").asText());
        }
        Response oldPassword = nodeB.post("/api/auth/login", Map.of("username", "changer",
                "password", "correct horse"), null);
        assertEquals(401, oldPassword.status());
        login(nodeB, "changer", "battery staple");
    }

    @Test
    void aPasswordChangeClosesTheSocketsOfOtherSessions() throws Exception {
        String onSocket = nodeA.register("stolen").get("token").asText();
        String caller = login(nodeA, "stolen", "correct horse");
        try (WsClient ws = nodeB.ws()) {
            assertEquals("welcome", ws.hello(onSocket, null).get("type").asText());
            Response changed = nodeA.post("/api/auth/password", Map.of("currentPassword", "correct horse",
                    "newPassword", "battery staple"), caller);
            assertEquals(200, changed.status(), changed.raw());
            assertSignedOut(ws);
        }
    }

    @Test
    void aPasswordChangeNeedsTheCurrentPasswordAndAValidNewOne() throws Exception {
        String token = nodeA.register("careful").get("token").asText();
        Response wrong = nodeA.post("/api/auth/password", Map.of("currentPassword", "not my password",
                "newPassword", "battery staple"), token);
        assertEquals(403, wrong.status(), wrong.raw());
        assertEquals("forbidden", wrong.errorCode());
        Response tooShort = nodeA.post("/api/auth/password", Map.of("currentPassword", "correct horse",
                "newPassword", "short"), token);
        assertEquals(400, tooShort.status(), tooShort.raw());
        assertTrue(tooShort.body().get("error").get("message").asText().contains("8-256"), tooShort.raw());
        // Nothing changed: the token still works, and so does the password.
        assertEquals(200, nodeA.get("/api/me", token).status());
        login(nodeA, "careful", "correct horse");
    }
}
