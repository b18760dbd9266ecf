package dev.parley.signaling.medianode;

import dev.parley.signaling.store.RedisConnections;
import dev.parley.signaling.testing.MediaNodeProcess;
import dev.parley.signaling.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Standalone media nodes (each its own process, as scripts/media-node runs it) on a real Redis: they register with
 * their load every 2 s, a node killed with kill -9 leaves the registry within its ttl, and SIGTERM drains one.
 */
class MediaNodeTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static RedisServer redisServer;
    private static RedisConnections redis;
    private static MediaNodeRegistry registry;

    @BeforeAll
    static void startRedis() throws Exception {
        redisServer = RedisServer.start();
        redis = redisServer.connections();
        registry = new MediaNodeRegistry(redis.async());
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.close();
        redisServer.close();
    }

    @Test
    void twoNodesReportWhereTheyAreAndTheirLoadAndAKilledOneLeavesWithinItsTtl() throws Exception {
        try (MediaNodeProcess a = MediaNodeProcess.start(redisServer.uri(), Map.of("PARLEY_MEDIA_NODE_ID", "node-a",
                "PARLEY_MEDIA_NODE_REGION", "eu-west"));
             MediaNodeProcess b = MediaNodeProcess.start(redisServer.uri(), Map.of())) {
            assertEquals("node-a", a.id());
            assertTrue(b.id().matches("m[0-9a-f]{12}"), b.id());
            MediaNodeReport first = node("node-a").orElseThrow();
            assertEquals(a.apiUrl(), first.apiUrl());
            assertEquals("eu-west", first.region());
            assertEquals(1000, first.capacity(), "parley.media.max-endpoints");
            assertFalse(first.draining());
            assertEquals(1, first.addresses().size(), first.addresses().toString());
            assertTrue(first.addresses().get(0).startsWith("127.0.0.1:"), first.addresses().toString());
            assertEquals("", node(b.id()).orElseThrow().region());
            long ttl = redis.async().pttl(MediaNodeRegistry.nodeKey("node-a")).toCompletableFuture().get();
            assertTrue(ttl > 0 && ttl <= 6000, "registered for the ttl (6 s), got " + ttl + " ms");

            // Load: endpoints opened through the node's own API show in its next reports.
            post(a.apiUrl() + "/v1/conferences", "{\"id\":\"room\"}");
            for (String endpoint : List.of("ann", "bob", "cat")) {
                post(a.apiUrl() + "/v1/conferences/room/endpoints", "{\"id\":\"" + endpoint + "\"}");
            }
            MediaNodeReport loaded = await("node-a", r -> r.endpoints() == 3 && r.conferences() == 1, 5_000);
            assertTrue(loaded.reportedAt() > first.reportedAt(), "reports again");
            assertTrue(loaded.capacity() > 0 && loaded.cpu() >= 0 && loaded.cpu() <= 1,
                    "capacity and CPU share reported: " + loaded);

            a.kill();
            long killed = System.nanoTime();
            awaitGone("node-a", 10_000);
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killed);
            assertTrue(seconds <= 7, "a killed node leaves within its ttl, took " + seconds + " s");
            assertTrue(node(b.id()).isPresent(), "the other node stays");
            assertFalse(redis.async().smembers(MediaNodeRegistry.IDS).toCompletableFuture().get().contains("node-a"),
                    "its id is pruned");
        }
    }

    @Test
    void sigtermMarksTheNodeDrainingAtOnceLetsCallsRunForTheGraceThenLeaves() throws Exception {
        try (MediaNodeProcess node = MediaNodeProcess.start(redisServer.uri(), Map.of("PARLEY_MEDIA_NODE_ID",
                "node-drain", "PARLEY_MEDIA_NODE_DRAIN_GRACE", "3s"))) {
            post(node.apiUrl() + "/v1/conferences", "{\"id\":\"room\"}");
            post(node.apiUrl() + "/v1/conferences/room/endpoints", "{\"id\":\"ann\"}");
            long sent = System.nanoTime();
            node.terminate();
            await("node-drain", MediaNodeReport::draining, 1_000);
            Thread.sleep(1_500);
            assertTrue(node.isAlive(), "the running call goes on during the grace");
            assertEquals(200, get(node.apiUrl() + "/v1/conferences/room/tracks"), "its API still answers");
            node.awaitExit(10);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            assertTrue(millis >= 2_900, "stopped only after the grace, took " + millis + " ms");
            assertTrue(node("node-drain").isEmpty(), "a drained node takes itself out without waiting for its ttl");
        }
        try (MediaNodeProcess idle = MediaNodeProcess.start(redisServer.uri(), Map.of("PARLEY_MEDIA_NODE_ID",
                "node-idle", "PARLEY_MEDIA_NODE_DRAIN_GRACE", "30s"))) {
            long sent = System.nanoTime();
            idle.terminate();
            idle.awaitExit(10);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            assertTrue(millis < 5_000, "a node without calls stops at once, took " + millis + " ms");
            assertTrue(node("node-idle").isEmpty());
        }
    }

    @Test
    void aConferenceLeftWithoutEndpointsIsClosedAfterTheOrphanGraceAndOneInUseIsNot() throws Exception {
        try (MediaNodeProcess node = MediaNodeProcess.start(redisServer.uri(), Map.of("PARLEY_MEDIA_NODE_ID",
                "node-orphans"), List.of("-Dparley.media-node.orphan-grace=2s"))) {
            post(node.apiUrl() + "/v1/conferences", "{\"id\":\"orphan\"}");
            post(node.apiUrl() + "/v1/conferences", "{\"id\":\"busy\"}");
            post(node.apiUrl() + "/v1/conferences/busy/endpoints", "{\"id\":\"ann\"}");
            long deadline = System.currentTimeMillis() + 10_000;
            while (get(node.apiUrl() + "/v1/conferences/orphan/tracks") != 404) {
                assertTrue(System.currentTimeMillis() < deadline, "the orphan conference was never closed");
                Thread.sleep(200);
            }
            assertEquals(200, get(node.apiUrl() + "/v1/conferences/busy/tracks"), "a conference in use stays");
        }
    }

    private static Optional<MediaNodeReport> node(String id) throws Exception {
        return registry.nodes().toCompletableFuture().get(5, TimeUnit.SECONDS).stream()
                .filter(r -> r.id().equals(id)).findFirst();
    }

    private static MediaNodeReport await(String id, Predicate<MediaNodeReport> wanted, long millis)
            throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        Optional<MediaNodeReport> last = Optional.empty();
        while (System.currentTimeMillis() < deadline) {
            last = node(id);
            if (last.isPresent() && wanted.test(last.get())) {
                return last.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("node " + id + " never reported as wanted within " + millis + " ms; last: " + last);
    }

    private static void awaitGone(String id, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (node(id).isPresent()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("node " + id + " still registered after " + millis + " ms");
            }
            Thread.sleep(100);
        }
    }

    private static void post(String url, String json) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, response.statusCode(), url + ": " + response.body());
    }

    private static int get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString())
                .statusCode();
    }
}
