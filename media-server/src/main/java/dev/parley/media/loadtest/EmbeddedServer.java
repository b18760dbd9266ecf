package dev.parley.media.loadtest;

import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A media server started for the run on loopback with free ports: in a JVM of its own (the default, so its CPU is
 * measured apart from the load generator's) or inside this JVM.
 */
final class EmbeddedServer implements AutoCloseable {
    private static final String READY = "Parley media server: ";

    private final MediaServer inProcess;
    private final Process process;
    private final URI uri;
    private final CpuClock threads = new CpuClock();

    private EmbeddedServer(MediaServer inProcess, Process process, URI uri) {
        this.inProcess = inProcess;
        this.process = process;
        this.uri = uri;
    }

    static EmbeddedServer inProcess() throws IOException {
        MediaServer server = MediaServer.start(MediaConfig.loopback());
        return new EmbeddedServer(server, null, server.httpUri());
    }

    /** Starts {@code MediaServerMain} with this JVM's class path; its output goes to {@code log}. */
    static EmbeddedServer process(List<String> jvmOptions, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        // Its own session, so the Ctrl-C meant for the load generator does not stop the server mid-window.
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            command.add("/usr/bin/setsid");
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.parley.media.MediaServerMain");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("PARLEY_MEDIA_"));
        env.put("PARLEY_MEDIA_HTTP_HOST", "127.0.0.1");
        env.put("PARLEY_MEDIA_HTTP_PORT", "0");
        env.put("PARLEY_MEDIA_UDP_PORT", "0");
        env.put("PARLEY_MEDIA_ADDRESSES", "127.0.0.1");
        env.put("PARLEY_MEDIA_ALLOWED_REMOTE_NETWORKS", "127.0.0.0/8");
        Files.createDirectories(log.toAbsolutePath().getParent());
        Process process = builder.start();
        CompletableFuture<URI> ready = new CompletableFuture<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8)); Writer out = Files.newBufferedWriter(log)) {
                String line;
                while ((line = in.readLine()) != null) {
                    out.write(line);
                    out.write('\n');
                    out.flush();
                    int at = line.indexOf(READY);
                    if (at >= 0 && !ready.isDone()) {
                        String rest = line.substring(at + READY.length()).trim();
                        ready.complete(URI.create(rest.split(" ")[0]));
                    }
                }
            } catch (IOException | RuntimeException e) {
                ready.completeExceptionally(e);
            }
            ready.completeExceptionally(new IOException("the media server process ended; see " + log));
        }, "lg-server-log");
        pump.setDaemon(true);
        pump.start();
        try {
            URI uri = ready.get(60, TimeUnit.SECONDS);
            return new EmbeddedServer(null, process, uri);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted while starting the media server");
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            throw new IOException("the media server did not start: " + e.getMessage() + " (log: " + log + ")");
        }
    }

    URI uri() {
        return uri;
    }

    String description() {
        return process != null ? "media server process " + process.pid() + " on " + uri
                : "media server inside the load generator's JVM on " + uri;
    }

    boolean isInProcess() {
        return inProcess != null;
    }

    /** The server's API when it runs in this JVM, else null. */
    dev.parley.media.api.MediaApi api() {
        return inProcess;
    }

    /** CPU seconds the server has used: its process, or its threads when it shares this JVM. */
    double cpuSeconds() {
        if (process != null) {
            return CpuClock.processSeconds(process.pid());
        }
        return threads.threadSeconds(name -> !CpuClock.isClientThread(name));
    }

    @Override
    public void close() {
        if (inProcess != null) {
            inProcess.close();
        }
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
