package dev.parley.signaling.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A gateway in its own process, started from the test classpath, for crash (kill -9) and SIGTERM tests. */
public final class GatewayProcess implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("Parley is running at http://[^:]+:(\\d+)/");
    private static final Pattern METRICS = Pattern.compile("Prometheus metrics at http://[^ ]+:(\\d+)/metrics");

    private final Process process;
    private final int port;
    private final int metricsPort;
    private final StringBuffer output;

    private GatewayProcess(Process process, int port, int metricsPort, StringBuffer output) {
        this.process = process;
        this.port = port;
        this.metricsPort = metricsPort;
        this.output = output;
    }

    public static GatewayProcess start(RedisServer redis, Map<String, String> env) throws Exception {
        return start(redis, env, List.of());
    }

    /** As {@link #start(RedisServer, Map)}, with extra JVM options after the default ones (a later -Xmx wins). */
    public static GatewayProcess start(RedisServer redis, Map<String, String> env, List<String> jvmArgs)
            throws Exception {
        return start(redis.uri(), env, jvmArgs);
    }

    /** As {@link #start(RedisServer, Map, List)} for any Redis URI, a {@code redis-sentinel://} one included. */
    public static GatewayProcess start(String redisUri, Map<String, String> env, List<String> jvmArgs)
            throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("-Xmx256m");
        // Tests and benchmarks register many users from 127.0.0.1.
        command.add("-Dparley.auth.max-registrations-per-address=1000000");
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", classpath, "dev.parley.signaling.ParleyServer"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PARLEY_HTTP_HOST", "127.0.0.1");
        builder.environment().put("PARLEY_HTTP_PORT", "0");
        builder.environment().put("PARLEY_METRICS_PORT", "0");
        builder.environment().put("PARLEY_REDIS_URI", redisUri);
        // No embedded media server unless a test asks for one: several gateways would contend for its ports.
        builder.environment().put("PARLEY_CALLS_ENABLED", "false");
        builder.environment().put("PARLEY_MEDIA_UDP_PORT", "0");
        builder.environment().put("PARLEY_MEDIA_HTTP_PORT", "0");
        builder.environment().putAll(env);
        Process process = builder.start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        CompletableFuture<Integer> metricsPort = new CompletableFuture<>();
        StringBuffer[] kept = new StringBuffer[1];
        kept[0] = ProcessLines.follow(process, "gateway", line -> {
            Matcher m = READY.matcher(line);
            if (m.find()) {
                port.complete(Integer.parseInt(m.group(1)));
            }
            Matcher metrics = METRICS.matcher(line);
            if (metrics.find()) {
                metricsPort.complete(Integer.parseInt(metrics.group(1)));
            }
        }, () -> {
            port.completeExceptionally(new IllegalStateException("gateway exited:\n" + kept[0]));
            metricsPort.completeExceptionally(new IllegalStateException("gateway exited:\n" + kept[0]));
        });
        StringBuffer output = kept[0];
        try {
            int httpPort = port.get(60, TimeUnit.SECONDS);
            return new GatewayProcess(process, httpPort, metricsPort.get(5, TimeUnit.SECONDS), output);
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    public int port() {
        return port;
    }

    /** The port of its /metrics listener. */
    public int metricsPort() {
        return metricsPort;
    }

    public long pid() {
        return process.pid();
    }

    /** kill -9: no shutdown code runs, locks are left to expire. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, then the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            throw new AssertionError("gateway did not exit within 20 s of SIGTERM:\n" + output);
        }
        return process.exitValue();
    }

    public String output() {
        return output.toString();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
