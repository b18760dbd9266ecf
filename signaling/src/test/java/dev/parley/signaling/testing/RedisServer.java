package dev.parley.signaling.testing;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * A real redis-server on a free loopback port, started and stopped by the test. It can be stopped and started again
 * on the same port to test outages; with a data folder it keeps an append-only file across restarts.
 *
 * <p>With {@code -Dparley.test.redis-cluster=true}, {@link #start()} gives a three-node {@link RedisCluster} instead,
 * so the tests built on it run a whole gateway on a cluster; stopping and starting it is not offered then.
 */
public final class RedisServer implements AutoCloseable {

    /** The system property that puts {@link #start()} on a Redis Cluster. */
    public static final String CLUSTER_PROPERTY = "parley.test.redis-cluster";

    private final int port;
    private final Path dataDir;
    private final String appendfsync;
    private final RedisCluster cluster;
    private Process process;
    private AbstractRedisClient inspectClient;
    private RedisClusterCommands<String, String> inspect;

    private RedisServer(int port, Path dataDir, String appendfsync, RedisCluster cluster) {
        this.port = port;
        this.dataDir = dataDir;
        this.appendfsync = appendfsync;
        this.cluster = cluster;
    }

    /** A plain Redis, or a Redis Cluster when {@value #CLUSTER_PROPERTY} is true. */
    public static RedisServer start() throws IOException, InterruptedException {
        if (Boolean.getBoolean(CLUSTER_PROPERTY)) {
            RedisCluster cluster = RedisCluster.start();
            return new RedisServer(cluster.ports().get(0), null, null, cluster);
        }
        RedisServer server = new RedisServer(freePort(), null, null, null);
        server.startProcess();
        return server;
    }

    /** A Redis with AOF persistence in {@code dataDir}, every write fsynced before Redis answers. */
    public static RedisServer startPersistent(Path dataDir) throws IOException, InterruptedException {
        return startPersistent(dataDir, "always");
    }

    /** A Redis with AOF persistence in {@code dataDir}, fsynced as {@code appendfsync} says: always, everysec, no. */
    public static RedisServer startPersistent(Path dataDir, String appendfsync) throws IOException,
            InterruptedException {
        RedisServer server = new RedisServer(freePort(), dataDir, appendfsync, null);
        server.startProcess();
        return server;
    }

    /** {@code redis://} and the port, or a cluster's {@code redis-cluster://} and its nodes. */
    /**
     * The gateway's own Redis connections to this Redis (or cluster), as a store under test uses them: 2 s per
     * command, no replicas waited for. The caller closes them.
     */
    public dev.parley.signaling.store.RedisConnections connections() {
        return dev.parley.signaling.store.RedisConnections.connect(new dev.parley.signaling.config.GatewayConfig.Redis(
                java.net.URI.create(uri()), Duration.ofSeconds(2), 0, Duration.ofMillis(500)));
    }

    public String uri() {
        return cluster != null ? cluster.uri() : "redis://127.0.0.1:" + port;
    }

    /** The port of this Redis, or of a cluster's first node. */
    public int port() {
        return port;
    }

    /**
     * Commands for looking at what Redis holds, whatever it is: on a cluster each goes to its key's master, and
     * KEYS asks every master. Closed with this server.
     */
    public synchronized RedisClusterCommands<String, String> inspect() {
        if (inspect == null) {
            if (cluster != null) {
                RedisClusterClient client = RedisClusterClient.create(cluster.ports().stream()
                        .map(node -> RedisURI.create("redis://127.0.0.1:" + node)).toList());
                inspectClient = client;
                inspect = client.connect().sync();
            } else {
                RedisClient client = RedisClient.create(uri());
                inspectClient = client;
                inspect = client.connect().sync();
            }
        }
        return inspect;
    }

    public void startProcess() throws IOException, InterruptedException {
        refuseOnCluster("startProcess");
        ProcessBuilder builder = dataDir == null
                ? new ProcessBuilder("redis-server", "--bind", "127.0.0.1", "--port", Integer.toString(port),
                "--save", "", "--appendonly", "no")
                : new ProcessBuilder("redis-server", "--bind", "127.0.0.1", "--port", Integer.toString(port),
                "--save", "", "--appendonly", "yes", "--appendfsync", appendfsync, "--dir", dataDir.toString());
        Files.createDirectories(dataDir == null ? Path.of("target") : dataDir);
        process = builder.redirectErrorStream(true)
                .redirectOutput(Path.of("target", "redis-" + port + ".log").toFile()).start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            if (ping()) {
                return;
            }
            if (!process.isAlive()) {
                throw new IOException("redis-server exited at start; see target/redis-" + port + ".log");
            }
            Thread.sleep(20);
        }
        throw new IOException("redis-server did not answer PING on port " + port);
    }

    /** Stops redis-server itself (by its own PID) and waits for it to exit. */
    public void stopProcess() throws InterruptedException {
        refuseOnCluster("stopProcess");
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** kill -9: no chance to flush anything beyond what is already on disk. */
    public void killProcess() throws InterruptedException {
        refuseOnCluster("killProcess");
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }

    public boolean ping() {
        return ping(port);
    }

    /** Whether something on this loopback port answers a Redis PING (redis-server and redis-sentinel do). */
    public static boolean ping(int port) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(1000);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] reply = new byte[7];
            int read = in.read(reply);
            return read > 0 && new String(reply, 0, read, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    private void refuseOnCluster(String what) {
        if (cluster != null) {
            throw new UnsupportedOperationException(what + " stops or starts one redis-server, which a Redis Cluster"
                    + " (-D" + CLUSTER_PROPERTY + "=true) does not have: run this test without that property");
        }
    }

    @Override
    public void close() throws InterruptedException {
        synchronized (this) {
            if (inspectClient != null) {
                inspectClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
                inspectClient = null;
                inspect = null;
            }
        }
        if (cluster != null) {
            cluster.close();
        } else {
            stopProcess();
        }
    }

    /** Whether {@code program} is an executable on the PATH. */
    static boolean onPath(String program) {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(entry, program))) {
                return true;
            }
        }
        return false;
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
