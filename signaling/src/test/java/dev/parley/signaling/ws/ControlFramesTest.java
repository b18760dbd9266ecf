package dev.parley.signaling.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.session.SessionLock;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.parley.signaling.ws.WebSocketGatewayTest.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pings, pongs and the session heartbeat: what a client's control frames may cost the gateway and Redis. */
class ControlFramesTest {

    private static final long HEARTBEAT_MILLIS = 2_000;

    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.session.lock-ttl", "5s");
        settings.put("parley.session.heartbeat", HEARTBEAT_MILLIS + "ms");
        settings.put("parley.ws.messages-per-second", 50);
        settings.put("parley.ws.message-burst", 100);
        gateway = TestGateway.start(settings);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    @Test
    void aFloodOfUnsolicitedPongsCostsRedisNothingAndClosesTheSocketLikeAMessageFlood() throws Exception {
        JsonNode user = gateway.register("ponger");
        try (WsClient ws = gateway.ws()) {
            ws.hello(user.get("token").asText(), null);
            long scriptsBefore = luaScriptsRun();
            long started = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                ws.sendPong(randomPayload(), false);
            }
            ws.flush();
            Integer closeCode = closeCodeWithin(ws, 5_000);
            long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
            waitUntil(() -> lockOwner(user) == null || closeCode == null, 3_000);

            // At most one renewal per heartbeat while it lasted, and the release of the lock when it closed.
            long allowed = 2 + elapsedMillis / HEARTBEAT_MILLIS;
            long scripts = luaScriptsRun() - scriptsBefore;
            assertTrue(scripts <= allowed, scripts + " Redis scripts for 1000 unsolicited pongs in " + elapsedMillis
                    + " ms; at most " + allowed + " expected");
            assertEquals(1008, closeCode, "the pong flood is closed like a message flood");
        }
        // The burst (100 frames, the hello among them) is what gets through before the close; each of those pongs counts.
        assertTrue(gateway.metric("parley_ws_pongs_unsolicited_total") >= 50, "unsolicited pongs are counted");
    }

    @Test
    void blindPongsDoNotKeepAClientThatIgnoresPingsAlive() throws Exception {
        JsonNode user = gateway.register("blind");
        try (WsClient ws = gateway.ws()) {
            ws.hello(user.get("token").asText(), null);
            ws.stopAnsweringPings();
            long deadline = System.currentTimeMillis() + 4 * HEARTBEAT_MILLIS;
            while (ws.isOpen() && System.currentTimeMillis() < deadline) {
                ws.sendPong(randomPayload(), true);
                Thread.sleep(200);
            }
            assertEquals(4408, closeCodeWithin(ws, 3_000), "pongs that answer no ping do not count as answers");
        }
        waitUntil(() -> lockOwner(user) == null, 3_000);
    }

    @Test
    void aClientAnsweringPingsKeepsItsLockOnOneRenewalPerHeartbeat() throws Exception {
        JsonNode user = gateway.register("steady-pinger");
        try (WsClient ws = gateway.ws()) {
            String sessionId = ws.hello(user.get("token").asText(), null).get("sessionId").asText();
            long scriptsBefore = luaScriptsRun();
            Thread.sleep(4 * HEARTBEAT_MILLIS);
            long scripts = luaScriptsRun() - scriptsBefore;
            assertTrue(ws.pingsSeen() >= 3, ws.pingsSeen() + " pings");
            assertTrue(scripts >= 3 && scripts <= 5, scripts + " renewals in four heartbeats");
            assertEquals(sessionId, lockOwner(user), "the lock outlived its 5 s ttl");
        }
    }

    @Test
    void aFloodOfPingsClosesTheSocketWith1008() throws Exception {
        JsonNode user = gateway.register("pinger");
        try (WsClient ws = gateway.ws()) {
            ws.hello(user.get("token").asText(), null);
            ws.sendPing(randomPayload(), true);
            waitUntil(() -> ws.pongsSeen() == 1, 2_000);
            for (int i = 0; i < 1000; i++) {
                ws.sendPing(randomPayload(), false);
            }
            ws.flush();
            assertEquals(1008, closeCodeWithin(ws, 5_000));
            assertTrue(ws.pongsSeen() <= 150, ws.pongsSeen() + " pings answered; the burst is 100");
        }
    }

    @Test
    void pongsForAClientThatDoesNotReadAreNotQueuedWithoutBound() throws Exception {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        // Only the write buffer can stop this client: rate limits and the heartbeat are out of its way.
        settings.put("parley.ws.messages-per-second", 10_000_000);
        settings.put("parley.ws.message-burst", 10_000_000);
        settings.put("parley.session.heartbeat", "60s");
        settings.put("parley.session.lock-ttl", "90s");
        try (TestGateway lenient = TestGateway.start(settings)) {
            JsonNode user = lenient.register("deaf");
            try (WsClient ws = lenient.ws()) {
                ws.hello(user.get("token").asText(), null);
                ws.stopReading();
                byte[] payload = new byte[125];
                // 25 MB of pongs: far beyond what the kernel buffers for a client that reads nothing.
                for (int i = 0; i < 200_000 && ws.isOpen(); i++) {
                    ws.sendPing(payload, false);
                    if (i % 1000 == 999) {
                        ws.flush();
                    }
                }
                ws.flush();
                waitUntil(() -> lenient.metric("parley_ws_sockets") == 0, 10_000);
                assertTrue(lenient.metric("parley_errors_total{code=\"rate_limited\",transport=\"ws\"}") >= 1,
                        "cut off as a client that does not read");
            }
        }
    }

    private static byte[] randomPayload() {
        byte[] payload = new byte[8];
        ThreadLocalRandom.current().nextBytes(payload);
        return payload;
    }

    private static Integer closeCodeWithin(WsClient ws, long millis) throws Exception {
        try {
            return ws.awaitClose(millis);
        } catch (TimeoutException e) {
            return null;
        }
    }

    private static String lockOwner(JsonNode user) {
        return redis.inspect().get(SessionLock.lockKey(user.get("userId").asText()));
    }

    /** Lua scripts Redis has run so far (EVAL and EVALSHA), from its own command statistics. */
    private static long luaScriptsRun() {
        String stats = redis.inspect().info("commandstats");
        long calls = 0;
        Matcher m = Pattern.compile("(?m)^cmdstat_(eval|evalsha):calls=(\\d+)").matcher(stats);
        while (m.find()) {
            calls += Long.parseLong(m.group(2));
        }
        return calls;
    }

}
