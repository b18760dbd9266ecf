package dev.parley.media.loadtest;

import dev.parley.media.loadtest.Results.Phase;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;

/**
 * {@code scripts/loadtest}: load-tests a Parley media server with synthetic WebRTC endpoints, optionally beside a
 * plain UDP relay, and writes the summary and reports. Ctrl-C ends the current window, then reports.
 */
public final class LoadTestMain {
    private static final List<java.util.logging.Logger> QUIET = new ArrayList<>();

    private LoadTestMain() {
    }

    public static void main(String[] args) {
        quietLogs();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (finished.getCount() > 0) {
                stop.set(true);
                System.err.println("\n[loadtest] stopping: finishing the current window and writing the reports");
                try {
                    finished.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    main.interrupt();
                }
            }
        }, "lg-stop"));
        int status;
        try {
            status = run(args, System.out, System.err, stop::get);
        } finally {
            finished.countDown();
        }
        System.exit(status);
    }

    /** Runs the command line; returns the exit status (0 done, 1 failed, 2 bad usage). */
    static int run(String[] args, PrintStream out, PrintStream err, BooleanSupplier stop) {
        LoadOptions options;
        try {
            options = LoadOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("loadtest: " + e.getMessage());
            return 2;
        }
        if (options == null) {
            out.print(LoadOptions.HELP);
            return 0;
        }
        try {
            Report report = execute(options, stop, options.progress() ? err : null,
                    "scripts/loadtest " + String.join(" ", args));
            report.printSummary(out, options.out());
            return 0;
        } catch (Exception e) {
            err.println("\nloadtest: failed: " + e.getMessage());
            return 1;
        }
    }

    /** Runs the Parley phase and, if asked, the baseline phase, and writes the reports to {@code options.out()}. */
    static Report execute(LoadOptions options, BooleanSupplier stop, PrintStream progress, String command)
            throws Exception {
        String startedAt = Instant.now().toString();
        Files.createDirectories(options.out());
        List<Phase> phases = new ArrayList<>();
        EmbeddedServer embedded = null;
        try {
            if (options.target() == null) {
                embedded = options.embedded().equals("in-process") ? EmbeddedServer.inProcess()
                        : EmbeddedServer.process(options.serverJvmOptions(), options.out().resolve("server.log"));
            }
            MediaTarget target = new MediaTarget(embedded != null ? embedded.uri() : options.target(),
                    options.token());
            String runId = "lt" + Long.toString(System.currentTimeMillis(), 36);
            EmbeddedServer server = embedded;
            phases.add(new LoadRun(options, stop, progress).run((streams, newReceiver, receivers) ->
                    new ParleyFleet(options, target, server, streams, newReceiver, receivers, runId)));
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
        if (options.baseline() && !stop.getAsBoolean()) {
            phases.add(new LoadRun(options, stop, progress).run((streams, newReceiver, receivers) ->
                    new BaselineFleet(options, streams, newReceiver, receivers)));
        }
        Report report = new Report(options, phases, command, startedAt, Instant.now().toString());
        report.write(options.out());
        return report;
    }

    /** Library chatter would break the progress line: warnings and errors only, on stderr. */
    private static void quietLogs() {
        for (String name : List.of("", "org.ice4j", "org.jitsi")) {
            java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
            logger.setLevel(Level.SEVERE);
            QUIET.add(logger);
        }
        if (System.getProperty("logback.configurationFile") == null) {
            try {
                Path config = Files.createTempFile("parley-loadtest-logback", ".xml");
                config.toFile().deleteOnExit();
                Files.writeString(config, """
                        <configuration>
                          <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
                            <target>System.err</target>
                            <encoder><pattern>%n%d{HH:mm:ss.SSS} %-5level %logger{30} - %msg%n</pattern></encoder>
                          </appender>
                          <root level="WARN"><appender-ref ref="STDERR"/></root>
                        </configuration>
                        """);
                System.setProperty("logback.configurationFile", config.toString());
            } catch (IOException e) {
                // default logging then
            }
        }
    }
}
