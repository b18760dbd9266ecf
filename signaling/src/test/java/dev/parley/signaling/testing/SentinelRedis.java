package dev.parley.signaling.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Redis primary, its replica and three sentinels watching them, all real processes on free loopback ports, started
 * and stopped (by their own PIDs) by the test. Sentinels mark a silent primary down after one second, so a failover
 * takes a few seconds.
 */
public final class SentinelRedis implements AutoCloseable {

    /** The name the sentinels monitor, the fragment of {@link #uri()}. */
    public static final String MASTER = "parley";

    private final Path dir;
    private final Map<Integer, Process> servers = new HashMap<>();
    private final List<Process> sentinels = new ArrayList<>();
    private final List<Integer> sentinelPorts = new ArrayList<>();
    private final RedisClient client = RedisClient.create();

    private SentinelRedis(Path dir) {
        this.dir = dir;
    }

    public static SentinelRedis start() throws Exception {
        if (!RedisServer.onPath("redis-sentinel")) {
            throw new IllegalStateException("redis-sentinel is missing: install Debian's redis-sentinel package "
                    + "(scripts/test does)");
        }
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "sentinel-");
        SentinelRedis group = new SentinelRedis(dir);
        try {
            int primary = RedisServer.freePort();
            group.startServer(primary, null);
            group.startServer(RedisServer.freePort(), primary);
            group.awaitReplicas(primary, 1, Duration.ofSeconds(10));
            for (int i = 0; i < 3; i++) {
                group.startSentinel(primary);
            }
            group.awaitWatching(Duration.ofSeconds(20));
            return group;
        } catch (Exception | Error e) {
            group.close();
            throw e;
        }
    }

    /** What a gateway is given: {@code redis-sentinel://} and the three sentinels. */
    public String uri() {
        StringBuilder uri = new StringBuilder("redis-sentinel://");
        for (int i = 0; i < sentinelPorts.size(); i++) {
            uri.append(i == 0 ? "" : ",").append("127.0.0.1:").append(sentinelPorts.get(i));
        }
        return uri.append("/0#").append(MASTER).toString();
    }

    /** The port of the server the sentinels currently call primary. */
    public int primaryPort() {
        try (StatefulRedisSentinelConnection<String, String> sentinel = sentinelClient(0)) {
            SocketAddress address = sentinel.sync().getMasterAddrByName(MASTER);
            return ((InetSocketAddress) address).getPort();
        }
    }

    public long pid(int port) {
        return servers.get(port).pid();
    }

    /** kill -9 of one server: no chance to hand anything on. */
    public void kill(int port) throws InterruptedException {
        Process process = servers.get(port);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Starts a killed server again, empty, on its old port; the sentinels make it a replica of the current primary. */
    public void restart(int port) throws Exception {
        startServer(port, null);
    }

    /** Waits until the sentinels name another primary than {@code oldPort}; returns its port. */
    public int awaitFailover(int oldPort, Duration timeout) throws Exception {
        int[] now = {oldPort};
        Eventually.await(() -> {
            try {
                now[0] = primaryPort();
                return now[0] != oldPort;
            } catch (RuntimeException e) {
                return false;
            }
        }, timeout, "the sentinels did not promote a replica");
        return now[0];
    }

    /** Waits until the primary on {@code port} has {@code count} replicas whose link is up. */
    public void awaitReplicas(int port, int count, Duration timeout) throws Exception {
        Eventually.await(() -> {
            try (StatefulRedisConnection<String, String> c = serverClient(port)) {
                String info = c.sync().info("replication");
                return info.contains("role:master") && connectedReplicas(info) >= count;
            } catch (RuntimeException e) {
                return false;
            }
        }, timeout, "the primary on port " + port + " did not get " + count + " replica(s)");
    }

    /** A plain connection to one server, for looking at what it holds. Close it. */
    public StatefulRedisConnection<String, String> serverClient(int port) {
        return client.connect(local(port));
    }

    private StatefulRedisSentinelConnection<String, String> sentinelClient(int index) {
        return client.connectSentinel(local(sentinelPorts.get(index)));
    }

    private static RedisURI local(int port) {
        return RedisURI.builder().withHost("127.0.0.1").withPort(port).withTimeout(Duration.ofSeconds(2)).build();
    }

    private void startServer(int port, Integer primary) throws Exception {
        Path data = dir.resolve("redis-" + port);
        Files.createDirectories(data);
        List<String> command = new ArrayList<>(List.of("redis-server", "--bind", "127.0.0.1", "--port",
                Integer.toString(port), "--save", "", "--appendonly", "no", "--dir", data.toString()));
        if (primary != null) {
            command.addAll(List.of("--replicaof", "127.0.0.1", Integer.toString(primary)));
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis-" + port + ".log").toFile()).start();
        servers.put(port, process);
        awaitPing(port, process, "redis-server");
    }

    private void startSentinel(int primary) throws Exception {
        int port = RedisServer.freePort();
        Path conf = dir.resolve("sentinel-" + port + ".conf");
        Files.writeString(conf, String.join("\n",
                "port " + port,
                "bind 127.0.0.1",
                "dir " + dir,
                "sentinel monitor " + MASTER + " 127.0.0.1 " + primary + " 2",
                "sentinel down-after-milliseconds " + MASTER + " 1000",
                "sentinel failover-timeout " + MASTER + " 10000",
                "sentinel parallel-syncs " + MASTER + " 1",
                ""));
        Process process = new ProcessBuilder("redis-sentinel", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("sentinel-" + port + ".log").toFile()).start();
        sentinels.add(process);
        sentinelPorts.add(port);
        awaitPing(port, process, "redis-sentinel");
    }

    /** Until every sentinel sees the replica and both other sentinels: only then can they agree on a failover. */
    private void awaitWatching(Duration timeout) throws Exception {
        Eventually.await(() -> {
            for (int i = 0; i < sentinelPorts.size(); i++) {
                try (StatefulRedisSentinelConnection<String, String> s = sentinelClient(i)) {
                    Map<String, String> master = s.sync().master(MASTER);
                    if (!"2".equals(master.get("num-other-sentinels")) || !"1".equals(master.get("num-slaves"))) {
                        return false;
                    }
                } catch (RuntimeException e) {
                    return false;
                }
            }
            return true;
        }, timeout, "the sentinels did not find each other and the replica; logs in " + dir);
    }

    private void awaitPing(int port, Process process, String what) throws Exception {
        Eventually.await(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(what + " exited at start; log in " + dir);
            }
            return RedisServer.ping(port);
        }, Duration.ofSeconds(10), what + " did not answer PING on port " + port);
    }

    private static int connectedReplicas(String info) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("connected_slaves:")) {
                return Integer.parseInt(line.substring("connected_slaves:".length()).trim());
            }
        }
        return 0;
    }

    @Override
    public void close() throws InterruptedException {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        for (Process process : sentinels) {
            process.destroy();
        }
        for (Process process : servers.values()) {
            process.destroy();
        }
        for (Process process : sentinels) {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
        for (Process process : servers.values()) {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Freezes (SIGSTOP) or thaws (SIGCONT) one server: a replica that stops answering without dropping its link. */
    public void signal(int port, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid(port))).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " failed");
        }
    }

    /** The ports of every server started (primary and replicas), in no order. */
    public List<Integer> serverPorts() {
        return List.copyOf(servers.keySet());
    }
}
