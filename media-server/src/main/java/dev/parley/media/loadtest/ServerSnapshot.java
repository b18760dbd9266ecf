package dev.parley.media.loadtest;

import dev.parley.media.metrics.QueueDelays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The relay's counters at one moment, read from its Prometheus text (or from the baseline relay directly).
 * Figures the server does not expose are NaN ({@code queueDelays}: null).
 */
record ServerSnapshot(long nanos, double packetsIn, double bytesIn, double packetsOut, double bytesOut,
                      Map<String, Double> drops, double conferences, double endpoints, double cpuSeconds,
                      double gcPauseSeconds, double gcPauses, double heapBytes, QueueDelays queueDelays) {

    static ServerSnapshot empty(long nanos) {
        return new ServerSnapshot(nanos, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Map.of(), Double.NaN,
                Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, null);
    }

    ServerSnapshot withCpuSeconds(double seconds) {
        return new ServerSnapshot(nanos, packetsIn, bytesIn, packetsOut, bytesOut, drops, conferences, endpoints,
                seconds, gcPauseSeconds, gcPauses, heapBytes, queueDelays);
    }

    double totalDrops() {
        double sum = 0;
        for (double v : drops.values()) {
            sum += v;
        }
        return sum;
    }

    /** Parses the Prometheus text exposition of a Parley media server. */
    static ServerSnapshot parse(String text, long nanos) {
        Map<String, Double> drops = new LinkedHashMap<>();
        double packetsIn = Double.NaN;
        double bytesIn = Double.NaN;
        double packetsOut = Double.NaN;
        double bytesOut = Double.NaN;
        double conferences = Double.NaN;
        double endpoints = Double.NaN;
        double cpu = Double.NaN;
        double gcSum = Double.NaN;
        double gcCount = Double.NaN;
        double heap = Double.NaN;
        long[] waits = new long[QueueDelays.BUCKETS];
        boolean sawWaits = false;
        double maxWait = 0;
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            if (space < 0) {
                continue;
            }
            String key = line.substring(0, space);
            double value;
            try {
                value = Double.parseDouble(line.substring(space + 1));
            } catch (NumberFormatException e) {
                continue;
            }
            int brace = key.indexOf('{');
            String name = brace < 0 ? key : key.substring(0, brace);
            String labels = brace < 0 ? "" : key.substring(brace);
            switch (name) {
                case "parley_media_packets_in_total" -> packetsIn = value;
                case "parley_media_bytes_in_total", "parley_media_bytes_in_bytes_total" -> bytesIn = value;
                case "parley_media_packets_out_total" -> packetsOut = value;
                case "parley_media_bytes_out_total", "parley_media_bytes_out_bytes_total" -> bytesOut = value;
                case "parley_media_conferences" -> conferences = value;
                case "parley_media_endpoints" -> endpoints = value;
                case "parley_media_drops_total" -> drops.put(label(labels, "reason"), value);
                case "parley_media_worker_queue_delay_total" -> {
                    String le = label(labels, "le");
                    for (int i = 0; i < QueueDelays.BUCKETS; i++) {
                        if (QueueDelays.leLabel(i).equals(le)) {
                            waits[i] = Math.round(value);
                            sawWaits = true;
                        }
                    }
                }
                case "parley_media_worker_queue_delay_max_seconds" -> maxWait = value;
                case "process_cpu_time_ns_total" -> cpu = value / 1e9;
                case "process_cpu_seconds_total" -> cpu = Double.isNaN(cpu) ? value : cpu;
                case "jvm_gc_pause_seconds_sum" -> gcSum = (Double.isNaN(gcSum) ? 0 : gcSum) + value;
                case "jvm_gc_pause_seconds_count" -> gcCount = (Double.isNaN(gcCount) ? 0 : gcCount) + value;
                case "jvm_memory_used_bytes" -> {
                    if (labels.contains("area=\"heap\"")) {
                        heap = (Double.isNaN(heap) ? 0 : heap) + value;
                    }
                }
                default -> {
                }
            }
        }
        return new ServerSnapshot(nanos, packetsIn, bytesIn, packetsOut, bytesOut, drops, conferences, endpoints, cpu,
                gcSum, gcCount, heap, sawWaits ? QueueDelays.fromCumulative(waits, Math.round(maxWait * 1e9)) : null);
    }

    private static String label(String labels, String name) {
        int at = labels.indexOf(name + "=\"");
        if (at < 0) {
            return "";
        }
        int start = at + name.length() + 2;
        return labels.substring(start, labels.indexOf('"', start));
    }
}
