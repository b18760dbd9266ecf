package dev.parley.signaling.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A standalone media node in its own process (as scripts/media-node runs it), on loopback, for kill -9 and SIGTERM. */
public final class MediaNodeProcess implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("Parley media node (\\S+) at (\\S+) \\(UDP");

    private final Process process;
    private final String id;
    private final String apiUrl;
    private final StringBuffer output;

    private MediaNodeProcess(Process process, String id, String apiUrl, StringBuffer output) {
        this.process = process;
        this.id = id;
        this.apiUrl = apiUrl;
        this.output = output;
    }

    /** Starts a node on free ports; {@code env} adds or overrides PARLEY_* settings. */
    public static MediaNodeProcess start(String redisUri, Map<String, String> env) throws Exception {
        return start(redisUri, env, List.of());
    }

    /** As {@link #start(String, Map)}, with JVM options (e.g. -Dparley.media-node.orphan-grace=2s). */
    public static MediaNodeProcess start(String redisUri, Map<String, String> env, List<String> jvmArgs)
            throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m"));
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", classpath, "dev.parley.signaling.medianode.MediaNodeMain"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PARLEY_REDIS_URI", redisUri);
        builder.environment().put("PARLEY_MEDIA_UDP_PORT", "0");
        builder.environment().put("PARLEY_MEDIA_HTTP_PORT", "0");
        builder.environment().put("PARLEY_MEDIA_ADDRESSES", "127.0.0.1");
        builder.environment().put("PARLEY_MEDIA_ALLOWED_REMOTE_NETWORKS", "127.0.0.0/8");
        builder.environment().putAll(env);
        Process process = builder.start();
        CompletableFuture<Matcher> ready = new CompletableFuture<>();
        StringBuffer[] kept = new StringBuffer[1];
        kept[0] = ProcessLines.follow(process, "media-node", line -> {
            Matcher m = READY.matcher(line);
            if (m.find()) {
                ready.complete(m);
            }
        }, () -> ready.completeExceptionally(new IllegalStateException("media node exited:\n" + kept[0])));
        StringBuffer output = kept[0];
        try {
            Matcher m = ready.get(60, TimeUnit.SECONDS);
            return new MediaNodeProcess(process, m.group(1), m.group(2), output);
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    public String id() {
        return id;
    }

    public String apiUrl() {
        return apiUrl;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** kill -9: no drain, no goodbye; its registration is left to expire. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Freezes (STOP) or thaws (CONT) the node: a machine that stops answering without closing a connection. */
    public void signal(String signal) throws IOException, InterruptedException {
        if (new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start().waitFor() != 0) {
            throw new IOException("kill -" + signal + " failed");
        }
    }

    /** SIGTERM without waiting: the node drains. */
    public void terminate() {
        process.destroy();
    }

    /** Waits for the exit code; fails after {@code seconds}. */
    public int awaitExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("media node did not exit within " + seconds + " s:\n" + output);
        }
        return process.exitValue();
    }

    /** The node's conference ids, read with an admin token signed with {@code secret}, as an operator would. */
    public List<String> conferenceIds(String secret) throws IOException, InterruptedException {
        String token = dev.parley.media.api.MediaToken.mint(secret, "*", null,
                dev.parley.media.api.MediaToken.Grant.ADMIN, java.time.Duration.ofMinutes(1));
        java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(apiUrl + "/v1/conferences"))
                        .header("Authorization", "Bearer " + token).GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET /v1/conferences answered " + response.statusCode() + ": " + response.body());
        }
        List<String> ids = new ArrayList<>();
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body())
                .forEach(c -> ids.add(c.get("conferenceId").asText()));
        return ids;
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
