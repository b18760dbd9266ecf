package dev.parley.signaling.testing;

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
 */
public final class RedisServer implements AutoCloseable {

    private final int port;
    private final Path dataDir;
    private final String appendfsync;
    private Process process;

    private RedisServer(int port, Path dataDir, String appendfsync) {
        this.port = port;
        this.dataDir = dataDir;
        this.appendfsync = appendfsync;
    }

    public static RedisServer start() throws IOException, InterruptedException {
        RedisServer server = new RedisServer(freePort(), null, null);
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
        RedisServer server = new RedisServer(freePort(), dataDir, appendfsync);
        server.startProcess();
        return server;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public void startProcess() throws IOException, InterruptedException {
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
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** kill -9: no chance to flush anything beyond what is already on disk. */
    public void killProcess() throws InterruptedException {
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

    @Override
    public void close() throws InterruptedException {
        stopProcess();
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
