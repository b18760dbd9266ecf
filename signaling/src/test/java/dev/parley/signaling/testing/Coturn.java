package dev.parley.signaling.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A real coturn ({@code turnserver}) on loopback, started and stopped by the test, running a given config file with
 * its site-specific lines replaced (as web-client/e2e/nat-harness.mjs does for the browser tests): plain TURN over UDP
 * and TCP on a free port, relaying from 127.0.0.1, logging to target/.
 */
public final class Coturn implements AutoCloseable {

    /** Lines of the sample config that only make sense on a real host (TLS certificates, the system log). */
    private static final Set<String> HOST_ONLY = Set.of("tls-listening-port", "cert", "pkey", "syslog", "no-tlsv1",
            "no-tlsv1_1");

    private final Process process;
    private final int port;
    private final Path dir;
    private final Path log;

    private Coturn(Process process, int port, Path dir, Path log) {
        this.process = process;
        this.port = port;
        this.dir = dir;
        this.log = log;
    }

    /**
     * Starts coturn with {@code sample} (a turnserver.conf), each key in {@code overrides} replacing the sample's
     * lines of that key (an empty value writes the bare option).
     */
    public static Coturn start(Path sample, Map<String, String> overrides) throws IOException, InterruptedException {
        int port = freeUdpAndTcpPort();
        Path dir = Files.createTempDirectory("parley-coturn-");
        Path log = Path.of("target", "coturn-" + port + ".log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        int relayStart = 20_000 + ThreadLocalRandom.current().nextInt(20_000);
        Map<String, String> site = new LinkedHashMap<>();
        site.put("listening-ip", "127.0.0.1");
        site.put("relay-ip", "127.0.0.1");
        site.put("listening-port", Integer.toString(port));
        site.put("min-port", Integer.toString(relayStart));
        site.put("max-port", Integer.toString(relayStart + 200));
        site.put("no-tls", "");
        site.put("pidfile", dir.resolve("turnserver.pid").toString());
        site.put("userdb", dir.resolve("turndb").toString());
        site.put("log-file", log.toString());
        site.put("simple-log", "");
        site.putAll(overrides);
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(sample)) {
            String key = line.strip().split("=", 2)[0];
            if (!site.containsKey(key) && !HOST_ONLY.contains(key)) {
                lines.add(line);
            }
        }
        lines.add("# --- this test run");
        site.forEach((key, value) -> lines.add(value.isEmpty() ? key : key + "=" + value));
        Path conf = dir.resolve("turnserver.conf");
        Files.write(conf, lines);
        Process process = new ProcessBuilder("turnserver", "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(Path.of("target", "coturn-" + port + ".out").toFile()).start();
        Coturn coturn = new Coturn(process, port, dir, log);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                coturn.close();
                throw new IOException("turnserver exited at start (" + process.exitValue() + "); see " + log);
            }
            try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return coturn;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        coturn.close();
        throw new IOException("turnserver did not listen on port " + port + "; see " + log);
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** What coturn logged so far (its log file). */
    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder left behind
        }
    }

    private static int freeUdpAndTcpPort() throws IOException {
        for (int attempt = 0; attempt < 20; attempt++) {
            int port = RedisServer.freePort();
            try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    port))) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no free port for coturn");
    }
}
