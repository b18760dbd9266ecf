package dev.parley.media.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.IntSupplier;

/** Exposes the media counters in Prometheus text format through Micrometer. */
public final class PrometheusMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    public PrometheusMetrics(MediaCounters counters, IntSupplier conferences, IntSupplier endpoints) {
        FunctionCounter.builder("parley.media.packets.in", counters, MediaCounters::packetsIn)
                .description("UDP packets received on ICE transports").register(registry);
        FunctionCounter.builder("parley.media.bytes.in", counters, MediaCounters::bytesIn)
                .baseUnit("bytes").register(registry);
        FunctionCounter.builder("parley.media.packets.out", counters, MediaCounters::packetsOut)
                .description("UDP packets sent on ICE transports").register(registry);
        FunctionCounter.builder("parley.media.bytes.out", counters, MediaCounters::bytesOut)
                .baseUnit("bytes").register(registry);
        for (DropReason reason : DropReason.values()) {
            FunctionCounter.builder("parley.media.drops", counters, c -> c.drops(reason))
                    .description("packets or requests dropped, by reason").tag("reason", reason.metricName())
                    .register(registry);
        }
        Gauge.builder("parley.media.conferences", conferences, s -> s.getAsInt()).register(registry);
        Gauge.builder("parley.media.endpoints", endpoints, s -> s.getAsInt()).register(registry);
    }

    public String scrape() {
        return registry.scrape();
    }

    public void close() {
        registry.close();
    }
}
