package dev.parley.signaling.chaos;

import dev.parley.signaling.testing.ChildPids;
import dev.parley.signaling.testing.GatewayProcess;
import dev.parley.signaling.testing.MediaNodeProcess;
import dev.parley.signaling.testing.SentinelRedis;
import dev.parley.signaling.testing.TestGateway;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a chaos run kills: two gateway processes and two standalone media node processes on a Redis primary with one
 * replica and three sentinels, everyone given the sentinels' {@code redis-sentinel://} URI; all on 127.0.0.1. The
 * gateways host no media themselves, wait for a replica before acknowledging chat, and place calls on the nodes.
 */
final class ChaosCluster implements AutoCloseable {

    static final String MEDIA_SECRET = "a-media-secret-of-at-least-thirty-two-bytes";
    private static final Map<String, String> GATEWAY_ENV = Map.of("PARLEY_CALLS_ENABLED", "true",
            "PARLEY_CALLS_EMBEDDED_MEDIA", "false", "PARLEY_MEDIA_AUTH_SECRET", MEDIA_SECRET,
            "PARLEY_REDIS_DURABLE_REPLICAS", "1");
    private static final List<String> GATEWAY_JVM = List.of("-Dparley.auth.argon2-memory-kib=1024",
            "-Dparley.auth.argon2-iterations=1");
    private static final Map<String, String> NODE_ENV = Map.of("PARLEY_MEDIA_AUTH_SECRET", MEDIA_SECRET,
            "PARLEY_MEDIA_CONSENT_TIMEOUT", "15s");
    private static final Pattern SESSIONS_LIVE = Pattern.compile("(?m)^parley_sessions_live ([0-9.eE+-]+)$");

    private final SentinelRedis redis;
    private final GatewayProcess[] gateways = new GatewayProcess[2];
    private final MediaNodeProcess[] nodes = new MediaNodeProcess[2];
    private volatile List<Integer> liveGatewayPorts = List.of();

    private ChaosCluster(SentinelRedis redis) {
        this.redis = redis;
    }

    static ChaosCluster start() throws Exception {
        ChaosCluster cluster = new ChaosCluster(SentinelRedis.start());
        try {
            ChildPids.record();
            for (int i = 0; i < 2; i++) {
                cluster.restartNode(i);
                cluster.restartGateway(i);
            }
            return cluster;
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** The HTTP ports of the gateways that are up, gateway 1's first while it is up. */
    List<Integer> liveGatewayPorts() {
        return liveGatewayPorts;
    }

    int gatewayPort(int index) {
        return gateways[index].port();
    }

    void killGateway(int index) throws InterruptedException {
        gateways[index].kill();
        gateways[index] = null;
        refreshLivePorts();
    }

    void restartGateway(int index) throws Exception {
        gateways[index] = GatewayProcess.start(redis.uri(), GATEWAY_ENV, GATEWAY_JVM);
        ChildPids.record();
        refreshLivePorts();
    }

    private synchronized void refreshLivePorts() {
        List<Integer> ports = new ArrayList<>();
        for (GatewayProcess gateway : gateways) {
            if (gateway != null) {
                ports.add(gateway.port());
            }
        }
        liveGatewayPorts = List.copyOf(ports);
    }

    void killNode(int index) throws InterruptedException {
        nodes[index].kill();
        nodes[index] = null;
    }

    void restartNode(int index) throws Exception {
        nodes[index] = MediaNodeProcess.start(redis.uri(), NODE_ENV);
        ChildPids.record();
    }

    int primaryPort() {
        return redis.primaryPort();
    }

    void killRedis(int port) throws InterruptedException {
        redis.kill(port);
    }

    /** Waits until the sentinels promote the replica; returns the new primary's port. */
    int awaitFailover(int oldPrimary, Duration timeout) throws Exception {
        return redis.awaitFailover(oldPrimary, timeout);
    }

    /** Starts the killed server again, empty; waits until it follows the new primary as its replica. */
    void restartRedisAsReplica(int oldPrimary, int newPrimary, Duration timeout) throws Exception {
        redis.restart(oldPrimary);
        ChildPids.record();
        redis.awaitReplicas(newPrimary, 1, timeout);
    }

    /** The sum over the gateways that are up of their {@code parley_sessions_live}. */
    int sessionsLive() throws Exception {
        int sum = 0;
        for (GatewayProcess gateway : gateways) {
            if (gateway == null) {
                continue;
            }
            TestGateway.Response metrics = TestGateway.request(gateway.metricsPort(), "GET", "/metrics", null, null);
            Matcher m = SESSIONS_LIVE.matcher(metrics.raw());
            if (!m.find()) {
                throw new IllegalStateException("gateway on port " + gateway.port() + " reports no "
                        + "parley_sessions_live");
            }
            sum += (int) Double.parseDouble(m.group(1));
        }
        return sum;
    }

    @Override
    public void close() throws InterruptedException {
        for (int i = 0; i < 2; i++) {
            if (gateways[i] != null) {
                gateways[i].close();
            }
            if (nodes[i] != null) {
                nodes[i].close();
            }
        }
        redis.close();
    }
}
