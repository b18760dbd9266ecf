package dev.parley.signaling.call;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.signaling.testing.MediaNodeProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.parley.signaling.call.CallSignalingTest.next;
import static dev.parley.signaling.call.CallSignalingTest.receives;
import static dev.parley.signaling.call.CallSignalingTest.send;
import static dev.parley.signaling.call.MediaFailoverTest.connect;

/**
 * Benchmark (not a test): standalone media nodes seen from one gateway. Two node processes, a gateway without media
 * of its own, Redis, Java WebRTC clients, all on loopback.
 *
 * <ul>
 *   <li><b>Failover</b>, {@code bench.kills} (20) times: Ann's audio reaches Bob through the call's node; the node is
 *   killed with kill -9; both get call.moved, join again with new transports, and Bob hears Ann again. Reports the
 *   time from the kill to the last call.moved and to Bob's first packets again (median, max); the killed node is
 *   started again before the next round.</li>
 *   <li><b>Placement rate</b>: {@code bench.calls} (180; the two nodes hold 100 conferences each) one-person calls joined through the gateway, at most
 *   {@code bench.concurrency} (16) joins under way; calls placed per second, each a conference and an endpoint
 *   created on a node over HTTP.</li>
 * </ul>
 */
public final class MediaFailoverBench {

    private static final String SECRET = "a-media-secret-of-at-least-thirty-two-bytes";
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private static final Map<String, String> NODE_ENV = Map.of("PARLEY_MEDIA_AUTH_SECRET", SECRET,
            "PARLEY_MEDIA_CONSENT_TIMEOUT", "15s");

    public static void main(String[] args) throws Exception {
        int kills = Integer.getInteger("bench.kills", 20);
        int calls = Integer.getInteger("bench.calls", 180);
        int concurrency = Integer.getInteger("bench.concurrency", 16);
        try (RedisServer redis = RedisServer.start()) {
            List<MediaNodeProcess> nodes = new ArrayList<>(List.of(MediaNodeProcess.start(redis.uri(), NODE_ENV),
                    MediaNodeProcess.start(redis.uri(), NODE_ENV)));
            Map<String, Object> settings = TestGateway.testSettings(redis);
            settings.put("parley.calls.enabled", true);
            settings.put("parley.calls.embedded-media", false);
            settings.put("parley.media.auth-secret", SECRET);
            try (TestGateway gateway = TestGateway.start(settings)) {
                if (kills > 0) {
                    failover(gateway, redis, nodes, kills);
                }
                placementRate(gateway, calls, concurrency);
            } finally {
                for (MediaNodeProcess node : nodes) {
                    node.close();
                }
            }
        }
    }

    private static void failover(TestGateway gateway, RedisServer redis, List<MediaNodeProcess> nodes, int kills)
            throws Exception {
        List<Long> told = new ArrayList<>();
        List<Long> flowing = new ArrayList<>();
        ClientTrack audio = ClientTrack.audio("ann-mic");
        for (int round = 0; round < kills; round++) {
            JsonNode ann = gateway.register("fb-ann-" + round);
            JsonNode bob = gateway.register("fb-bob-" + round);
            String meeting = gateway.post("/api/meetings", Map.of("title", "Round " + round),
                    ann.get("token").asText()).body().get("meetingId").asText();
            gateway.post("/api/meetings/" + meeting + "/members", Map.of("username", "fb-bob-" + round),
                    ann.get("token").asText());
            try (WsClient annWs = gateway.signedIn(ann); WsClient bobWs = gateway.signedIn(bob);
                 ClientEndpoint annOut = client(); ClientEndpoint bobIn = client();
                 ClientEndpoint annAgain = client(); ClientEndpoint bobAgain = client()) {
                connect(annWs, bobWs, meeting, audio, annOut, bobIn);
                if (!receives(annOut, audio, bobIn)) {
                    throw new IllegalStateException("round " + round + ": no media before the kill");
                }
                int hosting = conferences(nodes.get(0)) > 0 ? 0 : 1;
                long killed = System.nanoTime();
                nodes.get(hosting).kill();
                next(annWs, "call.moved");
                next(bobWs, "call.moved");
                told.add((System.nanoTime() - killed) / 1_000_000);
                connect(annWs, bobWs, meeting, audio, annAgain, bobAgain);
                if (!receives(annAgain, audio, bobAgain)) {
                    throw new IllegalStateException("round " + round + ": no media after the move");
                }
                flowing.add((System.nanoTime() - killed) / 1_000_000);
                send(annWs, "call.leave", meeting);
                send(bobWs, "call.leave", meeting);
                nodes.set(hosting, MediaNodeProcess.start(redis.uri(), NODE_ENV));
                // Let the gateway read the new node and forget nothing else: the next round may land on either.
                Thread.sleep(1_500);
            }
            System.out.printf(Locale.ROOT, "round %d: told after %d ms, media again after %d ms%n", round,
                    told.get(round), flowing.get(round));
        }
        System.out.printf(Locale.ROOT, "failover over %d kills: told median %d ms, max %d ms; media again median %d"
                + " ms, max %d ms%n", kills, median(told), Collections.max(told), median(flowing),
                Collections.max(flowing));
    }

    private static void placementRate(TestGateway gateway, int calls, int concurrency) throws Exception {
        List<WsClient> sockets = new ArrayList<>();
        List<String> meetings = new ArrayList<>();
        try {
            for (int i = 0; i < calls; i++) {
                JsonNode user = gateway.register("pr-" + i);
                meetings.add(gateway.post("/api/meetings", Map.of("title", "Rate " + i), user.get("token").asText())
                        .body().get("meetingId").asText());
                sockets.add(gateway.signedIn(user));
            }
            Semaphore window = new Semaphore(concurrency);
            AtomicInteger failed = new AtomicInteger();
            List<Thread> waiters = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                window.acquire();
                WsClient ws = sockets.get(i);
                send(ws, "call.join", meetings.get(i));
                Thread waiter = new Thread(() -> {
                    try {
                        JsonNode answer = ws.next(m -> m.path("type").asText().equals("call.joined")
                                || m.path("type").asText().equals("error"), 30_000);
                        if (!answer.path("type").asText().equals("call.joined")) {
                            failed.incrementAndGet();
                            System.out.println("a join failed: " + answer);
                        }
                    } catch (Exception | AssertionError e) {
                        failed.incrementAndGet();
                        System.out.println("a join failed: " + e);
                    } finally {
                        window.release();
                    }
                });
                waiter.start();
                waiters.add(waiter);
            }
            for (Thread waiter : waiters) {
                waiter.join(TimeUnit.SECONDS.toMillis(60));
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "placement: %d calls in %.2f s = %.0f calls/s placed (%d under way at"
                    + " most), %d failed%n", calls, seconds, calls / seconds, concurrency, failed.get());
        } finally {
            sockets.forEach(WsClient::close);
        }
    }


    private static int conferences(MediaNodeProcess node) throws Exception {
        return node.conferenceIds(SECRET).size();
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    private static ClientEndpoint client() throws Exception {
        return ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK, List.of(SrtpProfile.values()));
    }
}
