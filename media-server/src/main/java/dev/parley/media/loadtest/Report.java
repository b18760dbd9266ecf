package dev.parley.media.loadtest;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.parley.media.loadtest.Results.Phase;
import dev.parley.media.loadtest.Results.Sample;
import dev.parley.media.loadtest.Results.Window;
import dev.parley.media.metrics.QueueDelays;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The run's outputs: a summary table on stdout, summary.json, windows.csv, samples.csv and report.html. */
final class Report {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .registerModule(new SimpleModule().addSerializer(Double.class, new FiniteDouble())
                    .addSerializer(double.class, new FiniteDouble()));

    /** JSON has no NaN or infinity: unknown figures are null. */
    private static final class FiniteDouble extends JsonSerializer<Double> {
        @Override
        public void serialize(Double value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            if (value == null || value.isNaN() || value.isInfinite()) {
                gen.writeNull();
            } else {
                gen.writeNumber(value);
            }
        }
    }

    /** Parley's figures over the baseline's for the same window. */
    record Ratio(int window, double serverCpuPerPacket, double latencyP50, double latencyP99, double addedP50Ms,
                 double addedP99Ms, double parleyLossPercent, double baselineLossPercent) {
    }

    private final LoadOptions options;
    private final List<Phase> phases;
    private final String command;
    private final String startedAt;
    private final String finishedAt;

    Report(LoadOptions options, List<Phase> phases, String command, String startedAt, String finishedAt) {
        this.options = options;
        this.phases = phases;
        this.command = command;
        this.startedAt = startedAt;
        this.finishedAt = finishedAt;
    }

    static String number(double v, int decimals) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "-";
        }
        return String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    Phase phase(String name) {
        for (Phase p : phases) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    List<Ratio> ratios() {
        Phase parley = phase("parley");
        Phase baseline = phase("baseline");
        List<Ratio> list = new ArrayList<>();
        if (parley == null || baseline == null) {
            return list;
        }
        for (Window p : parley.windows()) {
            Window b = baseline.window(p.index());
            if (b != null) {
                list.add(new Ratio(p.index(), p.serverCpuMicrosPerForwarded() / b.serverCpuMicrosPerForwarded(),
                        p.latencyP50Ms() / b.latencyP50Ms(), p.latencyP99Ms() / b.latencyP99Ms(),
                        p.latencyP50Ms() - b.latencyP50Ms(), p.latencyP99Ms() - b.latencyP99Ms(), p.lossPercent(),
                        b.lossPercent()));
            }
        }
        return list;
    }

    String shape() {
        return String.format(Locale.ROOT, "scenario %s: %d conference(s) x (%d publisher(s) + %d subscriber(s)), "
                        + "audio %s kbit/s every %d ms, video %s kbit/s in %d-byte packets; offered %s pkt/s, "
                        + "%d receiver(s) per stream", options.scenario(), options.conferences(), options.publishers(),
                options.subscribers(), number(options.audioBitrate() / 1000.0, 0), options.audioPtimeMs(),
                number(options.videoBitrate() / 1000.0, 0), options.packetSize(),
                number(options.offeredPacketsPerSecond(), 0), options.fanout())
                + (options.simulcast() ? "; video as 3 simulcast layers (" + layerShapes() + "), receiver i of a "
                + "conference takes layer i mod 3" : "");
    }

    private static String layerShapes() {
        List<String> parts = new ArrayList<>();
        for (int layer = 0; layer < SimulcastLayers.COUNT; layer++) {
            parts.add(SimulcastLayers.describe(layer) + " " + number(100 * SimulcastLayers.SHARES[layer], 0) + " %");
        }
        return String.join(", ", parts);
    }

    /** A queueing bound in ms as a person reads it ("over 8389 ms" for the open last bucket). */
    private static String queueBound(double ms) {
        return Double.isInfinite(ms) || ms > 1e9 ? "over " + number(QueueDelays.upperMicros(QueueDelays.BUCKETS - 2)
                / 1000.0, 0) + " ms" : number(ms, 3) + " ms";
    }

    void printSummary(PrintStream out, Path directory) {
        out.println();
        out.println("Parley load test: " + shape());
        for (Phase p : phases) {
            out.println("  " + p.name() + ": " + p.target() + (p.note().isEmpty() ? "" : " (" + p.note() + ")"));
        }
        out.println();
        String format = "%-9s %4s %6s %11s %11s %11s %8s %5s %6s %7s %8s %8s %8s %8s %8s %9s %8s%n";
        out.printf(Locale.ROOT, format, "phase", "win", "rate x", "sent pkt/s", "recv pkt/s", "fwd pkt/s", "loss %",
                "dup", "reord", "jitter", "p50 ms", "p99 ms", "max ms", "srv CPU", "µs/fwd", "client CPU",
                "rcvbuf");
        for (Phase p : phases) {
            for (Window w : p.windows()) {
                out.printf(Locale.ROOT, format, p.name(), w.index(), number(w.multiplier(), 2), number(w.sentPps(), 0),
                        number(w.receivedPps(), 0), number(w.serverOutPps(), 0), number(w.lossPercent(), 3),
                        w.duplicates(), w.reordered(), number(w.jitterMs(), 2), number(w.latencyP50Ms(), 2),
                        number(w.latencyP99Ms(), 2), number(w.latencyMaxMs(), 1),
                        number(w.serverCpuPercent(), 0) + "%", number(w.serverCpuMicrosPerForwarded(), 2),
                        number(w.clientCpuPercent(), 0) + "%", w.hostUdpReceiveBufferErrors());
                if (!w.serverDrops().isEmpty() || !w.clientDrops().isEmpty()) {
                    out.println("          drops: server " + w.serverDrops() + ", load generator " + w.clientDrops());
                }
                if (!Double.isNaN(w.serverQueueWorstMs())) {
                    out.println("          server queueing (socket to worker): p99 under " + queueBound(
                            w.serverQueueP99Ms()) + ", worst under " + queueBound(w.serverQueueWorstMs()));
                }
                for (Results.Layer l : w.layers()) {
                    out.printf(Locale.ROOT, "          layer %s: %d stream(s), %s pkt/s sent, %d expected, "
                                    + "%d received, loss %s %%, %d to receivers of other layers%n",
                            SimulcastLayers.describe(l.layer()), l.streams(), number(l.sentPps(), 0), l.expected(),
                            l.received(), number(l.lossPercent(), 3), l.toOtherReceivers());
                }
            }
            if (p.lastGoodWindow() != null) {
                Window good = p.window(p.lastGoodWindow());
                out.printf(Locale.ROOT, "%s capacity: last step under %s %% loss: %d (x%s), %s pkt/s sent, %s pkt/s "
                                + "received (%s forwarded by the server)%n", p.name(),
                        number(options.lossThresholdPercent(), 2), good.index(), number(good.multiplier(), 2),
                        number(good.sentPps(), 0), number(good.receivedPps(), 0), number(good.serverOutPps(), 0));
            } else if (options.findCapacity()) {
                out.printf("%s capacity: no step stayed under %s %% loss%n", p.name(),
                        number(options.lossThresholdPercent(), 2));
            }
        }
        for (Ratio r : ratios()) {
            out.printf(Locale.ROOT, "parley / baseline, window %d: server CPU per forwarded packet x%s, latency p50 "
                            + "x%s (+%s ms), p99 x%s (+%s ms)%n", r.window(), number(r.serverCpuPerPacket(), 1),
                    number(r.latencyP50(), 1), number(r.addedP50Ms(), 2), number(r.latencyP99(), 1),
                    number(r.addedP99Ms(), 2));
        }
        out.println();
        out.println("Reports: " + directory.resolve("report.html") + " (also summary.json, windows.csv, samples.csv)");
    }

    void write(Path directory) throws IOException {
        Files.createDirectories(directory);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("tool", "parley-loadtest");
        json.put("startedAt", startedAt);
        json.put("finishedAt", finishedAt);
        json.put("command", command);
        json.put("machine", machine());
        json.put("shape", shape());
        Map<String, Object> settings = JSON.convertValue(options, Map.class);
        if (!options.token().isEmpty()) {
            settings.put("token", "(set)");
        }
        json.put("options", settings);
        json.put("phases", phases);
        json.put("ratios", ratios());
        Files.writeString(directory.resolve("summary.json"), JSON.writeValueAsString(json), StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("windows.csv"), windowsCsv(), StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("samples.csv"), samplesCsv(), StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("report.html"), html(), StandardCharsets.UTF_8);
    }

    static Map<String, Object> machine() {
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cpus", Runtime.getRuntime().availableProcessors());
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        try {
            List<String> cpuinfo = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : cpuinfo) {
                if (line.startsWith("model name")) {
                    machine.put("cpu", line.substring(line.indexOf(':') + 1).trim());
                    break;
                }
            }
            machine.put("loadAverage", Files.readString(Path.of("/proc/loadavg")).trim());
        } catch (IOException | RuntimeException e) {
            // not Linux: leave them out
        }
        return machine;
    }

    private static final String[] WINDOW_COLUMNS = {"phase", "window", "multiplier", "seconds", "streams", "sent",
        "expected", "received", "lost", "loss_percent", "duplicates", "reordered", "late", "offered_pps", "sent_pps",
        "received_pps", "server_in_pps", "server_out_pps", "jitter_ms", "latency_p50_ms", "latency_p90_ms",
        "latency_p99_ms", "latency_p999_ms", "latency_max_ms", "latency_mean_ms", "server_cpu_percent",
        "client_cpu_percent", "server_cpu_us_per_forwarded", "client_cpu_us_per_packet", "server_gc_pause_ms",
        "server_heap_max_mb", "sender_skipped", "send_failures", "host_udp_receive_buffer_errors",
        "server_queue_p99_ms", "server_queue_worst_ms"};

    String windowsCsv() {
        StringBuilder csv = new StringBuilder(String.join(",", WINDOW_COLUMNS)).append('\n');
        for (Phase p : phases) {
            for (Window w : p.windows()) {
                row(csv, p.name(), w.index(), w.multiplier(), w.seconds(), w.streams(), w.sent(), w.expected(),
                        w.received(), w.lost(), w.lossPercent(), w.duplicates(), w.reordered(), w.late(),
                        w.offeredPps(), w.sentPps(), w.receivedPps(), w.serverInPps(), w.serverOutPps(), w.jitterMs(),
                        w.latencyP50Ms(), w.latencyP90Ms(), w.latencyP99Ms(), w.latencyP999Ms(), w.latencyMaxMs(),
                        w.latencyMeanMs(), w.serverCpuPercent(), w.clientCpuPercent(),
                        w.serverCpuMicrosPerForwarded(), w.clientCpuMicrosPerPacket(), w.serverGcPauseMs(),
                        w.serverHeapMaxMb(), w.senderSkipped(), w.sendFailures(), w.hostUdpReceiveBufferErrors(),
                        w.serverQueueP99Ms(), w.serverQueueWorstMs());
            }
        }
        return csv.toString();
    }

    private static final String[] SAMPLE_COLUMNS = {"phase", "t", "stage", "window", "multiplier", "sent_pps",
        "received_pps", "loss_percent", "latency_p50_ms", "latency_p99_ms", "server_cpu_percent",
        "client_cpu_percent", "server_in_pps", "server_out_pps", "server_drops_per_second", "server_heap_mb",
        "server_gc_pause_ms", "endpoints"};

    String samplesCsv() {
        StringBuilder csv = new StringBuilder(String.join(",", SAMPLE_COLUMNS)).append('\n');
        for (Phase p : phases) {
            for (Sample s : p.samples()) {
                row(csv, p.name(), s.t(), s.stage(), s.window(), s.multiplier(), s.sentPps(), s.receivedPps(),
                        s.lossPercent(), s.latencyP50Ms(), s.latencyP99Ms(), s.serverCpuPercent(),
                        s.clientCpuPercent(), s.serverInPps(), s.serverOutPps(), s.serverDropsPerSecond(),
                        s.serverHeapMb(), s.serverGcPauseMs(), s.endpoints());
            }
        }
        return csv.toString();
    }

    private static void row(StringBuilder csv, Object... values) {
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                csv.append(',');
            }
            Object v = values[i];
            if (v instanceof Double d) {
                csv.append(d.isNaN() || d.isInfinite() ? "" : String.format(Locale.ROOT, "%.4f", d));
            } else {
                String text = String.valueOf(v);
                csv.append(text.contains(",") || text.contains("\"") ? "\"" + text.replace("\"", "\"\"") + "\"" : text);
            }
        }
        csv.append('\n');
    }

    String html() {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Parley load test</title>\n")
                .append("<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}"
                        + "table{border-collapse:collapse;margin:8px 0 16px}"
                        + "td,th{border:1px solid #ccc;padding:3px 7px;"
                        + "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
                        + "h2{margin-top:28px}.muted{color:#666}svg{display:block;margin:8px 0 18px}</style>\n")
                .append("</head><body>\n<h1>Parley load test</h1>\n<p>").append(escape(shape())).append("</p>\n")
                .append("<p class=\"muted\">").append(escape(startedAt)).append(" – ").append(escape(finishedAt))
                .append(" · ").append(escape(String.valueOf(machine()))).append("<br/><code>").append(escape(command))
                .append("</code></p>\n<ul>");
        for (Phase p : phases) {
            h.append("<li><b>").append(escape(p.name())).append("</b>: ").append(escape(p.target()))
                    .append(p.note().isEmpty() ? "" : " — " + escape(p.note())).append("</li>");
        }
        h.append("</ul>\n<h2>Summary</h2>\n<div style=\"overflow-x:auto\"><table><tr>");
        for (String c : new String[] {"phase", "window", "rate ×", "seconds", "sent pkt/s", "received pkt/s",
            "forwarded pkt/s (server)", "expected", "received", "lost", "loss %", "duplicates", "reordered",
            "jitter ms", "p50 ms", "p90 ms", "p99 ms", "max ms", "server CPU %", "server µs/forwarded pkt",
            "client CPU %", "server GC pause ms", "server queueing p99 / worst ms (bounds)",
            "host UDP receive-buffer drops", "server drops",
            "load generator drops"}) {
            h.append("<th>").append(escape(c)).append("</th>");
        }
        h.append("</tr>\n");
        for (Phase p : phases) {
            for (Window w : p.windows()) {
                h.append("<tr>");
                for (String v : new String[] {p.name() + (Integer.valueOf(w.index()).equals(p.lastGoodWindow())
                        ? " (last good)" : ""), Integer.toString(w.index()), number(w.multiplier(), 2),
                    number(w.seconds(), 1), number(w.sentPps(), 0), number(w.receivedPps(), 0),
                    number(w.serverOutPps(), 0), Long.toString(w.expected()), Long.toString(w.received()),
                    Long.toString(w.lost()), number(w.lossPercent(), 3), Long.toString(w.duplicates()),
                    Long.toString(w.reordered()), number(w.jitterMs(), 3), number(w.latencyP50Ms(), 3),
                    number(w.latencyP90Ms(), 3), number(w.latencyP99Ms(), 3), number(w.latencyMaxMs(), 2),
                    number(w.serverCpuPercent(), 1), number(w.serverCpuMicrosPerForwarded(), 2),
                    number(w.clientCpuPercent(), 1), number(w.serverGcPauseMs(), 1),
                    Double.isNaN(w.serverQueueWorstMs()) ? "" : queueBound(w.serverQueueP99Ms()) + " / "
                            + queueBound(w.serverQueueWorstMs()),
                    Long.toString(w.hostUdpReceiveBufferErrors()), String.valueOf(w.serverDrops()),
                    String.valueOf(w.clientDrops())}) {
                    h.append("<td>").append(escape(v)).append("</td>");
                }
                h.append("</tr>\n");
            }
        }
        h.append("</table></div>\n");
        if (options.simulcast()) {
            h.append("<h2>Simulcast layers</h2>\n<table><tr>");
            for (String c : new String[] {"phase", "window", "layer", "streams", "sent pkt/s", "expected",
                "received", "lost", "loss %", "to receivers of other layers"}) {
                h.append("<th>").append(escape(c)).append("</th>");
            }
            h.append("</tr>\n");
            for (Phase p : phases) {
                for (Window w : p.windows()) {
                    for (Results.Layer l : w.layers()) {
                        h.append("<tr>");
                        for (String v : new String[] {p.name(), Integer.toString(w.index()),
                            SimulcastLayers.describe(l.layer()), Integer.toString(l.streams()), number(l.sentPps(), 0),
                            Long.toString(l.expected()), Long.toString(l.received()), Long.toString(l.lost()),
                            number(l.lossPercent(), 3), Long.toString(l.toOtherReceivers())}) {
                            h.append("<td>").append(escape(v)).append("</td>");
                        }
                        h.append("</tr>\n");
                    }
                }
            }
            h.append("</table>\n");
        }
        List<Ratio> ratios = ratios();
        if (!ratios.isEmpty()) {
            h.append("<h2>Parley against the plain UDP baseline</h2>\n<table><tr><th>window</th>"
                    + "<th>server CPU per forwarded packet</th><th>latency p50</th><th>latency p99</th>"
                    + "<th>added p50 ms</th><th>added p99 ms</th><th>loss % Parley / baseline</th></tr>\n");
            for (Ratio r : ratios) {
                h.append("<tr><td>").append(r.window()).append("</td><td>×").append(number(r.serverCpuPerPacket(), 2))
                        .append("</td><td>×").append(number(r.latencyP50(), 2)).append("</td><td>×")
                        .append(number(r.latencyP99(), 2)).append("</td><td>").append(number(r.addedP50Ms(), 3))
                        .append("</td><td>").append(number(r.addedP99Ms(), 3)).append("</td><td>")
                        .append(number(r.parleyLossPercent(), 3)).append(" / ")
                        .append(number(r.baselineLossPercent(), 3)).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
        h.append("<h2>Over time</h2>\n<p class=\"muted\">Seconds since each phase started; the baseline is dashed. "
                + "Loss is by send time, against the receivers connected then.</p>\n");
        h.append(chart("Throughput (packets/s)", List.of(
                new Line("sent", "#1f77b4", Sample::sentPps), new Line("received", "#2ca02c", Sample::receivedPps),
                new Line("server out", "#9467bd", Sample::serverOutPps))));
        h.append(chart("Loss (%)", List.of(new Line("loss", "#d62728", Sample::lossPercent))));
        h.append(chart("One-way latency (ms)", List.of(new Line("p50", "#1f77b4", Sample::latencyP50Ms),
                new Line("p99", "#ff7f0e", Sample::latencyP99Ms))));
        h.append(chart("CPU (% of one core)", List.of(new Line("server", "#8c564b", Sample::serverCpuPercent),
                new Line("load generator", "#7f7f7f", Sample::clientCpuPercent))));
        h.append(chart("Server heap (MB) and GC pauses (ms per second)", List.of(
                new Line("heap MB", "#17becf", Sample::serverHeapMb),
                new Line("GC pause ms", "#e377c2", Sample::serverGcPauseMs))));
        h.append("</body></html>\n");
        return h.toString();
    }

    private record Line(String name, String color, ToDoubleFunction<Sample> value) {
    }

    /** An inline SVG line chart of every phase's samples; no script and no network needed to view it. */
    private String chart(String title, List<Line> lines) {
        int width = 1000;
        int height = 260;
        int left = 70;
        int right = 20;
        int top = 30;
        int bottom = 40;
        double maxX = 1;
        double maxY = 0;
        for (Phase p : phases) {
            for (Sample s : p.samples()) {
                maxX = Math.max(maxX, s.t());
                for (Line line : lines) {
                    double v = line.value().applyAsDouble(s);
                    if (!Double.isNaN(v) && !Double.isInfinite(v)) {
                        maxY = Math.max(maxY, v);
                    }
                }
            }
        }
        maxY = niceCeiling(maxY);
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">", width, height, width, height,
                escape(title)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>",
                left, escape(title)));
        int plotW = width - left - right;
        int plotH = height - top - bottom;
        for (int i = 0; i <= 4; i++) {
            double y = top + plotH - plotH * i / 4.0;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
                    + "stroke=\"#e5e5e5\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>", left,
                    width - right, y, y, left - 6, y + 4, escape(number(maxY * i / 4, maxY >= 20 ? 0 : 2))));
            double x = left + plotW * i / 4.0;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">"
                    + "%s s</text>", x, height - bottom + 16, number(maxX * i / 4, 0)));
        }
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#999\"/>", left, top, plotW, plotH));
        int legendX = left + 10;
        for (Phase p : phases) {
            boolean dashed = !p.name().equals("parley");
            for (Line line : lines) {
                StringBuilder points = new StringBuilder();
                for (Sample s : p.samples()) {
                    double v = line.value().applyAsDouble(s);
                    if (Double.isNaN(v) || Double.isInfinite(v)) {
                        continue;
                    }
                    double x = left + plotW * s.t() / maxX;
                    double y = top + plotH - (maxY == 0 ? 0 : plotH * Math.min(v, maxY) / maxY);
                    points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
                }
                if (points.length() == 0) {
                    continue;
                }
                svg.append("<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"").append(line.color()).append('"')
                        .append(dashed ? " stroke-dasharray=\"5,3\"" : "").append(" points=\"")
                        .append(points.toString().trim()).append("\"/>");
                String label = p.name() + " " + line.name();
                svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
                                + "stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>", legendX,
                        legendX + 18, height - 8, height - 8, line.color(), dashed ? " stroke-dasharray=\"5,3\"" : "",
                        legendX + 22, height - 4, escape(label)));
                legendX += 30 + 6 * label.length();
            }
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static double niceCeiling(double v) {
        if (v <= 0 || Double.isNaN(v)) {
            return 1;
        }
        double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
        for (double step : new double[] {1, 2, 2.5, 5, 10}) {
            if (v <= step * magnitude) {
                return step * magnitude;
            }
        }
        return 10 * magnitude;
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
