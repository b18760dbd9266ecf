package dev.parley.media.loadtest;

import dev.parley.media.loadtest.Results.Layer;
import dev.parley.media.loadtest.Results.Phase;
import dev.parley.media.loadtest.Results.Sample;
import dev.parley.media.loadtest.Results.Window;
import dev.parley.media.metrics.QueueDelays;
import dev.parley.media.sdp.MediaKind;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Runs one phase: builds the streams, connects the conferences (spread over the ramp-up), warms up, then measures
 * one window (or, to find capacity, steps of rising rate until loss passes the threshold), stops sending, lets the
 * last packets arrive and accounts for every packet. Samples the relay and both sides' CPU once a second.
 */
final class LoadRun {
    /** Window 0 holds everything not measured: ramp-up, warm-up, the pauses between capacity steps. */
    static final int UNMEASURED = 0;
    private static final long SECOND = 1_000_000_000L;
    private static final long DRAIN_NANOS = 2 * SECOND;
    private static final int SETUP_THREADS = 4;

    /** Makes the fleet for a phase, given the streams and the receivers' factory. */
    interface FleetFactory {
        Fleet create(List<Stream> streams, java.util.function.Supplier<ReceiverStats> newReceiver,
                     List<ReceiverStats> receivers) throws Exception;
    }

    /** Counters at a window boundary. */
    private record Mark(long nanos, ServerSnapshot server, double clientCpu, long sent, long udpErrors,
                        Map<String, Long> clientDrops) {
    }

    private final LoadOptions options;
    private final BooleanSupplier stopRequested;
    private final PrintStream progress;
    private final int windows;
    private final int seconds;
    private final List<Sample> samples = new ArrayList<>();
    private final List<ReceiverStats> receivers = new CopyOnWriteArrayList<>();
    private final Map<Integer, Mark[]> marks = new LinkedHashMap<>();
    private final Map<Integer, Double> multipliers = new LinkedHashMap<>();
    private List<Stream> streams;
    private TrafficSender sender;
    private Fleet fleet;
    private long epoch;
    private String stage = "setup";
    private int window = UNMEASURED;
    private long lastTick;
    private ServerSnapshot lastServer;
    private double lastClientCpu;
    private long lastSent;
    private long lastReceived;
    private LatencyHistogram lastLatency = new LatencyHistogram();
    private boolean interrupted;
    private String note = "";

    LoadRun(LoadOptions options, BooleanSupplier stopRequested, PrintStream progress) {
        this.options = options;
        this.stopRequested = stopRequested;
        this.progress = progress;
        this.windows = (options.findCapacity() ? options.maxSteps() : 1) + 1;
        this.seconds = options.plannedSeconds();
    }

    Phase run(FleetFactory factory) throws Exception {
        epoch = System.nanoTime();
        streams = buildStreams();
        Stream[] byIndex = streams.toArray(new Stream[0]);
        fleet = factory.create(streams, () -> new ReceiverStats(byIndex, epoch, windows, seconds), receivers);
        sender = new TrafficSender(streams, epoch, seconds, options.seed(), "lg-send-" + fleet.name());
        sender.multiplier(options.startMultiplier());
        try {
            lastTick = System.nanoTime();
            lastServer = fleet.serverSnapshot();
            lastClientCpu = fleet.clientCpuSeconds();
            sender.start();
            connect();
            if (!stopped()) {
                stage = "warm-up";
                tickUntil(System.nanoTime() + options.warmUpSeconds() * SECOND);
            }
            if (!stopped()) {
                measure();
            }
            sender.close();
            stage = "drain";
            window = UNMEASURED;
            tickUntil(System.nanoTime() + DRAIN_NANOS, true);
            return result();
        } finally {
            sender.close();
            fleet.close();
            if (progress != null) {
                progress.println();
            }
        }
    }

    private List<Stream> buildStreams() {
        List<Stream> list = new ArrayList<>();
        for (int c = 0; c < options.conferences(); c++) {
            for (int p = 0; p < options.publishers(); p++) {
                if (options.audioBitrate() > 0) {
                    list.add(new Stream(list.size(), c, p, MediaKind.AUDIO, options.audioPacketsPerSecond(),
                            options.audioPayloadBytes(), windows));
                }
                if (options.videoBitrate() > 0 && options.simulcast()) {
                    for (int layer = 0; layer < SimulcastLayers.COUNT; layer++) {
                        list.add(new Stream(list.size(), c, p, MediaKind.VIDEO, layer,
                                options.videoPacketsPerSecond() * SimulcastLayers.SHARES[layer], options.packetSize(),
                                windows));
                    }
                } else if (options.videoBitrate() > 0) {
                    list.add(new Stream(list.size(), c, p, MediaKind.VIDEO, options.videoPacketsPerSecond(),
                            options.packetSize(), windows));
                }
            }
        }
        for (Stream s : list) {
            s.fanout = options.fanout(s.publisher, s.layer);
        }
        return list;
    }

    private boolean stopped() {
        if (stopRequested.getAsBoolean() && !interrupted) {
            interrupted = true;
            note = "stopped early on request";
        }
        return interrupted;
    }

    /** Connects conference c at ramp-up × c / conferences, a few at a time, sampling meanwhile. */
    private void connect() throws Exception {
        stage = "ramp-up";
        ExecutorService setup = Executors.newFixedThreadPool(SETUP_THREADS, r -> {
            Thread t = new Thread(r, "lg-setup");
            t.setDaemon(true);
            return t;
        });
        try {
            long start = System.nanoTime();
            List<Future<?>> pending = new ArrayList<>();
            for (int c = 0; c < options.conferences(); c++) {
                final int conference = c;
                tickUntil(start + (long) ((double) options.rampUpSeconds() * SECOND * c / options.conferences()));
                if (stopped()) {
                    return;
                }
                pending.add(setup.submit(() -> {
                    fleet.connectConference(conference);
                    return null;
                }));
            }
            for (Future<?> connecting : pending) {
                waitFor(connecting);
                if (stopped()) {
                    return;
                }
            }
        } finally {
            setup.shutdownNow();
        }
    }

    /** Waits for a future while sampling every second; rethrows a connection failure. */
    private void waitFor(Future<?> future) throws Exception {
        while (!future.isDone()) {
            if (stopped()) {
                future.cancel(true);
                return;
            }
            tickUntil(Math.min(System.nanoTime() + 200_000_000L, lastTick + SECOND), false);
        }
        try {
            future.get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof Exception ex ? ex : new RuntimeException(cause);
        }
    }

    private void measure() {
        if (!options.findCapacity()) {
            sender.multiplier(options.startMultiplier());
            openWindow(1, options.startMultiplier());
            stage = "measure";
            tickUntil(System.nanoTime() + options.durationSeconds() * SECOND);
            closeWindow(1);
            return;
        }
        double multiplier = options.startMultiplier();
        Integer lastGood = null;
        for (int step = 1; step <= options.maxSteps() && !stopped(); step++) {
            sender.multiplier(multiplier);
            openWindow(step, multiplier);
            stage = "step " + step;
            tickUntil(System.nanoTime() + options.stepSeconds() * SECOND);
            closeWindow(step);
            stage = "settle";
            tickUntil(System.nanoTime() + SECOND);
            Window result = window(step);
            if (result.lossPercent() > options.lossThresholdPercent()) {
                note = String.format(Locale.ROOT, "step %d (x%.2f) lost %.3f %% > %.3f %%", step, multiplier,
                        result.lossPercent(), options.lossThresholdPercent());
                break;
            }
            lastGood = step;
            multiplier *= options.stepFactor();
            if (step == options.maxSteps()) {
                note = "every step stayed under the loss threshold (raise --max-steps or --start-multiplier)";
            }
        }
        this.lastGood = lastGood;
    }

    private Integer lastGood;

    private void openWindow(int index, double multiplier) {
        multipliers.put(index, multiplier);
        Mark start = mark();
        marks.put(index, new Mark[] {start, null});
        sender.window(index);
        window = index;
    }

    private void closeWindow(int index) {
        sender.window(UNMEASURED);
        window = UNMEASURED;
        marks.get(index)[1] = mark();
    }

    private Mark mark() {
        return new Mark(System.nanoTime(), fleet.serverSnapshot(), fleet.clientCpuSeconds(), sender.sent(),
                CpuClock.udpReceiveBufferErrors(), fleet.clientDrops());
    }

    private void tickUntil(long deadline) {
        tickUntil(deadline, false);
    }

    /** Samples once a second until the deadline (or a stop request, unless draining). */
    private void tickUntil(long deadline, boolean ignoreStop) {
        while (true) {
            long now = System.nanoTime();
            if (now >= deadline || (!ignoreStop && stopped())) {
                return;
            }
            long next = Math.min(deadline, lastTick + SECOND);
            if (next > now) {
                try {
                    TimeUnit.NANOSECONDS.sleep(next - now);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    interrupted = true;
                    return;
                }
            }
            if (System.nanoTime() - lastTick >= SECOND - 1_000_000L) {
                sample();
            }
        }
    }

    private void sample() {
        long now = System.nanoTime();
        double elapsed = (now - lastTick) / 1e9;
        ServerSnapshot server = fleet.serverSnapshot();
        double clientCpu = fleet.clientCpuSeconds();
        long sent = sender.sent();
        long received = 0;
        LatencyHistogram latency = new LatencyHistogram();
        for (ReceiverStats r : receivers) {
            r.sync();
            received += r.totalReceived;
            latency.add(r.allLatency);
        }
        LatencyHistogram recent = latency.minus(lastLatency);
        int second = (int) ((now - epoch) / SECOND) - 2;
        double loss = Double.NaN;
        if (second >= 0 && second < seconds) {
            loss = lossPercent(second);
        }
        Sample s = new Sample((now - epoch) / 1e9, stage, window, sender.multiplier(), (sent - lastSent) / elapsed,
                (received - lastReceived) / elapsed, loss, recent.quantile(0.5) / 1000, recent.quantile(0.99) / 1000,
                percent(server.cpuSeconds() - lastServer.cpuSeconds(), elapsed),
                percent(clientCpu - lastClientCpu, elapsed), (server.packetsIn() - lastServer.packetsIn()) / elapsed,
                (server.packetsOut() - lastServer.packetsOut()) / elapsed,
                (server.totalDrops() - lastServer.totalDrops()) / elapsed, server.heapBytes() / 1e6,
                (server.gcPauseSeconds() - lastServer.gcPauseSeconds()) * 1000, server.endpoints());
        samples.add(s);
        fleet.tick();
        lastTick = now;
        lastServer = server;
        lastClientCpu = clientCpu;
        lastSent = sent;
        lastReceived = received;
        lastLatency = latency;
        boolean console = System.console() != null;
        if (progress != null && (console || samples.size() % 5 == 0)) {
            progress.print(String.format(Locale.ROOT, (console ? "\r" : "")
                            + "[%s] %-9s %5.0f s  sent %,8.0f pkt/s  received %,9.0f pkt/s"
                            + "  loss %6s  latency p50 %6s p99 %6s ms  CPU server %5s client %5s   ",
                    fleet.name(), stage, s.t(), s.sentPps(), s.receivedPps(), Report.number(s.lossPercent(), 2) + "%",
                    Report.number(s.latencyP50Ms(), 2), Report.number(s.latencyP99Ms(), 2),
                    Report.number(s.serverCpuPercent(), 0) + "%", Report.number(s.clientCpuPercent(), 0) + "%")
                    + (console ? "" : "\n"));
            progress.flush();
        }
    }

    /** Loss of the packets sent in one second (by send time), against the receivers that were ready then. */
    private double lossPercent(int second) {
        long expected = sender.expectedBySecond[second];
        if (expected <= 0) {
            return Double.NaN;
        }
        long got = 0;
        for (ReceiverStats r : receivers) {
            got += r.receivedBySendSecond[second];
        }
        return Math.max(0, 100.0 * (expected - got) / expected);
    }

    private static double percent(double cpuSeconds, double wallSeconds) {
        return 100 * cpuSeconds / wallSeconds;
    }

    /** Accounts for every packet sent in a window; exact once the window's packets have arrived or been lost. */
    private Window window(int index) {
        sender.sent();
        Mark[] m = marks.get(index);
        Mark start = m[0];
        Mark end = m[1] != null ? m[1] : mark();
        double wall = (end.nanos() - start.nanos()) / 1e9;
        long sent = 0;
        long expected = 0;
        long skipped = 0;
        long failed = 0;
        int active = 0;
        for (Stream s : streams) {
            long n = s.sentInWindow[index];
            skipped += s.skippedInWindow[index];
            failed += s.failedInWindow[index];
            sent += n;
            expected += n * s.fanout;
            if (n > 0) {
                active++;
            }
        }
        long received = 0;
        long duplicates = 0;
        long reordered = 0;
        long late = 0;
        double jitterSum = 0;
        LatencyHistogram latency = new LatencyHistogram();
        for (ReceiverStats r : receivers) {
            r.sync();
            received += r.received[index];
            duplicates += r.duplicates[index];
            reordered += r.reordered[index];
            late += r.late[index];
            jitterSum += r.jitterSumMs[index];
            latency.add(r.latency[index]);
        }
        long lost = expected - received;
        ServerSnapshot a = start.server();
        ServerSnapshot b = end.server();
        Map<String, Long> drops = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : b.drops().entrySet()) {
            long d = Math.round(e.getValue() - a.drops().getOrDefault(e.getKey(), 0.0));
            if (d != 0) {
                drops.put(e.getKey(), d);
            }
        }
        Map<String, Long> clientDrops = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : end.clientDrops().entrySet()) {
            long d = e.getValue() - start.clientDrops().getOrDefault(e.getKey(), 0L);
            if (d != 0) {
                clientDrops.put(e.getKey(), d);
            }
        }
        double serverCpu = b.cpuSeconds() - a.cpuSeconds();
        double clientCpu = end.clientCpu() - start.clientCpu();
        double forwarded = b.packetsOut() - a.packetsOut();
        double offered = options.offeredPacketsPerSecond() * multipliers.getOrDefault(index, 1.0);
        return new Window(index, multipliers.getOrDefault(index, 1.0), wall, active, sent, expected, received, lost,
                expected == 0 ? Double.NaN : 100.0 * lost / expected, duplicates, reordered, late, offered,
                sent / wall, received / wall, (b.packetsIn() - a.packetsIn()) / wall, forwarded / wall,
                received == 0 ? Double.NaN : jitterSum / received, latency.quantile(0.5) / 1000,
                latency.quantile(0.9) / 1000, latency.quantile(0.99) / 1000, latency.quantile(0.999) / 1000,
                latency.max / 1000.0, latency.mean() / 1000, percent(serverCpu, wall), percent(clientCpu, wall),
                serverCpu * 1e6 / forwarded, clientCpu * 1e6 / (sent + received), drops,
                (b.gcPauseSeconds() - a.gcPauseSeconds()) * 1000, b.gcPauses() - a.gcPauses(),
                Math.max(a.heapBytes(), b.heapBytes()) / 1e6, skipped, failed,
                start.udpErrors() < 0 ? -1 : end.udpErrors() - start.udpErrors(), clientDrops, layers(index, wall),
                queueWait(a, b, 0.99), queueWait(a, b, 1));
    }

    /**
     * The bound (ms) on the {@code quantile} of how long the server's received packets waited for its worker threads
     * in the window (1: the worst), from its histogram; NaN when the server does not report it.
     */
    private static double queueWait(ServerSnapshot a, ServerSnapshot b, double quantile) {
        if (a.queueDelays() == null || b.queueDelays() == null) {
            return Double.NaN;
        }
        QueueDelays window = b.queueDelays().since(a.queueDelays());
        return (quantile >= 1 ? window.worstMicros() : window.quantileMicros(quantile)) / 1000.0;
    }

    /** The window's figures per simulcast layer (empty without {@code --simulcast}). */
    private List<Layer> layers(int index, double wall) {
        List<Layer> list = new ArrayList<>();
        if (!options.simulcast()) {
            return list;
        }
        for (int layer = 0; layer < SimulcastLayers.COUNT; layer++) {
            long sent = 0;
            long expected = 0;
            int count = 0;
            for (Stream s : streams) {
                if (s.layer == layer) {
                    sent += s.sentInWindow[index];
                    expected += s.sentInWindow[index] * s.fanout;
                    count++;
                }
            }
            long received = 0;
            long toOthers = 0;
            for (ReceiverStats r : receivers) {
                r.sync();
                long n = r.receivedByLayer[layer][index];
                received += n;
                if (r.wantedLayer != layer) {
                    toOthers += n;
                }
            }
            long lost = expected - received;
            list.add(new Layer(layer, SimulcastLayers.RIDS[layer], SimulcastLayers.WIDTHS[layer],
                    SimulcastLayers.HEIGHTS[layer], count, sent, expected, received, lost,
                    expected == 0 ? Double.NaN : 100.0 * lost / expected, sent / wall, toOthers));
        }
        return list;
    }

    private Phase result() {
        List<Window> list = new ArrayList<>();
        for (Integer index : marks.keySet()) {
            list.add(window(index));
        }
        // Per-second loss, now that every packet has arrived or been given up.
        List<Sample> finalSamples = new ArrayList<>();
        for (Sample s : samples) {
            int second = (int) Math.floor(s.t()) - 1;
            double loss = second >= 0 && second < seconds ? lossPercent(second) : Double.NaN;
            finalSamples.add(new Sample(s.t(), s.stage(), s.window(), s.multiplier(), s.sentPps(), s.receivedPps(),
                    loss, s.latencyP50Ms(), s.latencyP99Ms(), s.serverCpuPercent(), s.clientCpuPercent(),
                    s.serverInPps(), s.serverOutPps(), s.serverDropsPerSecond(), s.serverHeapMb(), s.serverGcPauseMs(),
                    s.endpoints()));
        }
        return new Phase(fleet.name(), fleet.target(), list, finalSamples, options.findCapacity() ? lastGood : null,
                interrupted, note);
    }
}
