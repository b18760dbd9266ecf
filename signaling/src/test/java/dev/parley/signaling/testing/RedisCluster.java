package dev.parley.signaling.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Redis Cluster of three masters, without replicas or with some for each, real redis-server processes on free
 * loopback ports (each also opens port + 10000 for the cluster bus), started and stopped by their own PIDs by the
 * test. Their cluster state lives in a temporary folder under target, deleted on close; their logs stay in
 * target/redis-cluster-PORT.log. A node unreachable for a second is failed, and a replica takes over however long
 * ago it last heard from its master, so failovers are quick.
 */
public final class RedisCluster implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);
    private static final int MASTERS = 3;

    private final Path dir;
    private final List<Integer> ports = new ArrayList<>();
    private final Map<Integer, Process> servers = new LinkedHashMap<>();
    /** Stops the nodes when the JVM exits without close(), e.g. after a test class's set-up failed half-way. */
    private final Thread stopAtExit = new Thread(this::stopNodes, "redis-cluster-stop");

    private RedisCluster(Path dir) {
        this.dir = dir;
        Runtime.getRuntime().addShutdownHook(stopAtExit);
    }

    /** Three masters, no replicas. */
    public static RedisCluster start() throws IOException, InterruptedException {
        return start(0);
    }

    /** Three masters with {@code replicasPerMaster} replicas each. */
    public static RedisCluster start(int replicasPerMaster) throws IOException, InterruptedException {
        for (String program : List.of("redis-server", "redis-cli")) {
            if (!RedisServer.onPath(program)) {
                throw new IllegalStateException(program + " is missing: install Debian's redis-server package (it"
                        + " brings redis-cli; scripts/test does), Redis 7 or later for sharded pub/sub");
            }
        }
        Path target = Path.of("target").toAbsolutePath();
        Files.createDirectories(target);
        RedisCluster cluster = new RedisCluster(Files.createTempDirectory(target, "redis-cluster-"));
        try {
            for (int i = 0; i < MASTERS * (1 + replicasPerMaster); i++) {
                cluster.startNode(cluster.freeNodePort());
            }
            cluster.create(replicasPerMaster);
            cluster.awaitReady();
            return cluster;
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** What a gateway is given: {@code redis-cluster://} and every node as a seed. */
    public String uri() {
        StringBuilder uri = new StringBuilder("redis-cluster://");
        for (int i = 0; i < ports.size(); i++) {
            uri.append(i == 0 ? "" : ",").append("127.0.0.1:").append(ports.get(i));
        }
        return uri.toString();
    }

    /** The nodes' client ports, in the order they were started. */
    public List<Integer> ports() {
        return List.copyOf(ports);
    }

    /** kill -9 of one node: no chance to hand anything on. */
    public void kill(int port) throws InterruptedException {
        Process process = servers.get(port);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Starts a killed node again on its port with its cluster state; a replaced master comes back as a replica. */
    public void restart(int port) throws IOException, InterruptedException {
        startNode(port);
    }

    /** A plain connection to one node, for looking at what it holds (CLUSTER commands, its own keys). Close it. */
    public StatefulRedisConnection<String, String> nodeClient(RedisClient client, int port) {
        return client.connect(RedisURI.builder().withHost("127.0.0.1").withPort(port)
                .withTimeout(Duration.ofSeconds(2)).build());
    }

    /** A free loopback port whose cluster bus port (+10000) is free as well. */
    private int freeNodePort() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = RedisServer.freePort();
            if (port + 10000 <= 65535 && !ports.contains(port) && isFree(port + 10000)) {
                return port;
            }
        }
        throw new IOException("found no free loopback port P with P+10000 free too");
    }

    private static boolean isFree(int port) {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(port, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void startNode(int port) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("redis-server", "--cluster-enabled", "yes",
                "--cluster-config-file", dir.resolve("nodes-" + port + ".conf").toString(),
                "--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0",
                "--bind", "127.0.0.1", "--port", Integer.toString(port), "--save", "", "--appendonly", "no",
                "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log(port).toFile()))
                .start();
        servers.put(port, process);
        if (!ports.contains(port)) {
            ports.add(port);
        }
        Eventually.await(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited at start; see " + log(port));
            }
            return RedisServer.ping(port);
        }, Duration.ofSeconds(10), "redis-server answering PING on port " + port + "; see " + log(port));
    }

    /** redis-cli --cluster create: spreads the 16384 slots over the masters, gives them replicas, makes all meet. */
    private void create(int replicasPerMaster) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        ports.forEach(port -> command.add("127.0.0.1:" + port));
        command.addAll(List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
        Path output = dir.resolve("create.log");
        Process cli = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!cli.waitFor(30, TimeUnit.SECONDS)) {
            cli.destroyForcibly().waitFor();
            throw new IOException("redis-cli --cluster create did not finish within 30 s: " + Files.readString(output));
        }
        if (cli.exitValue() != 0) {
            throw new IOException("redis-cli --cluster create failed: " + Files.readString(output));
        }
    }

    /** Until every node says cluster_state:ok and knows all others: before that a client may see half a cluster. */
    private void awaitReady() throws InterruptedException {
        RedisClient client = RedisClient.create();
        try {
            Eventually.await(() -> everyNodeReady(client), READY_TIMEOUT,
                    "the cluster on ports " + ports + " ready; logs in target/redis-cluster-PORT.log");
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    private boolean everyNodeReady(RedisClient client) {
        for (int port : ports) {
            try (StatefulRedisConnection<String, String> node = nodeClient(client, port)) {
                String info = node.sync().clusterInfo();
                if (!info.contains("cluster_state:ok") || !info.contains("cluster_known_nodes:" + ports.size())) {
                    return false;
                }
            } catch (RuntimeException e) {
                return false;
            }
        }
        return true;
    }

    private static Path log(int port) {
        return Path.of("target", "redis-cluster-" + port + ".log");
    }

    /** Stops every node by its own PID, then deletes the cluster's folder. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(stopAtExit);
        } catch (IllegalStateException e) {
            // The JVM is exiting already; the hook does the same.
        }
        stopNodes();
    }

    private void stopNodes() {
        for (Process process : servers.values()) {
            process.destroy();
        }
        for (Process process : servers.values()) {
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // A leftover folder under target costs nothing; the next mvn clean removes it.
        }
    }
}
