package dev.parley.signaling.bench;

import dev.parley.signaling.session.SessionLock;
import dev.parley.signaling.testing.ChildPids;
import dev.parley.signaling.testing.GatewayProcess;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real redis-server and one gateway in its own JVM, set up for a benchmark: cheap password hashing so thousands of
 * users can be registered quickly (the hello path never hashes), and readings of the gateway's own numbers — its
 * /metrics, its heap after a full GC, its resident memory.
 */
final class BenchGateway implements AutoCloseable {

    /** Argon2id cost for benchmark users only; the default cost would make registering 20,000 users take minutes. */
    static final List<String> CHEAP_HASHING = List.of("-Dparley.auth.argon2-memory-kib=1024",
            "-Dparley.auth.argon2-iterations=1");

    private static final Pattern HEAP_USED = Pattern.compile(
            "(?m)^jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*} ([0-9.eE+-]+)");

    private final RedisServer redis;
    private final GatewayProcess gateway;
    private final List<String> jvmArgs;

    private BenchGateway(RedisServer redis, GatewayProcess gateway, List<String> jvmArgs) {
        this.redis = redis;
        this.gateway = gateway;
        this.jvmArgs = jvmArgs;
    }

    /** Starts Redis and the gateway; their PIDs are appended to the file named by -Dbench.pidFile, if set. */
    static BenchGateway start(List<String> extraJvmArgs) throws Exception {
        List<String> jvmArgs = new ArrayList<>(CHEAP_HASHING);
        jvmArgs.addAll(extraJvmArgs);
        RedisServer redis = RedisServer.start();
        try {
            ChildPids.record();
            GatewayProcess gateway = GatewayProcess.start(redis, Map.of(), jvmArgs);
            ChildPids.record();
            return new BenchGateway(redis, gateway, jvmArgs);
        } catch (Exception e) {
            redis.close();
            throw e;
        }
    }

    int port() {
        return gateway.port();
    }

    long pid() {
        return gateway.pid();
    }

    List<String> jvmArgs() {
        return jvmArgs;
    }

    boolean isAlive() {
        return ProcessHandle.of(gateway.pid()).map(ProcessHandle::isAlive).orElse(false);
    }

    String output() {
        return gateway.output();
    }

    String metrics() throws Exception {
        TestGateway.Response response = TestGateway.request(gateway.metricsPort(), "GET", "/metrics", null, null);
        if (response.status() != 200) {
            throw new IllegalStateException("/metrics answered " + response.status());
        }
        return response.raw();
    }

    /** A gauge or counter without labels, e.g. {@code parley_sessions_live}. */
    static double value(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+-]+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** The sum of {@code jvm_memory_used_bytes} over the heap pools. */
    static long heapUsed(String metrics) {
        Matcher m = HEAP_USED.matcher(metrics);
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return (long) sum;
    }

    /** How many users hold a session lock in Redis right now (on every master of a cluster). */
    long sessionLocks() {
        return redis.inspect().keys(SessionLock.lockKey("*")).size();
    }

    /** Runs a full GC in the gateway (jcmd GC.run), then reads its heap use from /metrics. */
    long heapUsedAfterGc() throws Exception {
        jcmd("GC.run");
        return heapUsed(metrics());
    }

    String heapInfo() throws Exception {
        return jcmd("GC.heap_info");
    }

    /** The first {@code classes} rows of the gateway's class histogram (live objects, by bytes). */
    String classHistogram(int classes) throws Exception {
        List<String> lines = jcmd("GC.class_histogram").lines().toList();
        return String.join("\n", lines.subList(0, Math.min(lines.size(), classes + 3)));
    }

    /** The gateway's resident set size from /proc, in bytes. */
    long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    /** The gateway process's open-files limit, from /proc. */
    String openFilesLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "limits"))) {
            if (line.startsWith("Max open files")) {
                return line.replaceAll("\\s+", " ").trim();
            }
        }
        return "unknown";
    }

    private String jcmd(String command) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path jcmd = Path.of(java).resolveSibling("jcmd");
        Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid()), command)
                .redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("jcmd " + command + " did not finish within 60 s");
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /** SIGTERM, then the exit code; fails when the gateway is still running 20 s later. */
    int terminate() throws InterruptedException {
        return gateway.terminate();
    }

    @Override
    public void close() throws Exception {
        try {
            gateway.close();
        } finally {
            redis.close();
        }
    }
}
