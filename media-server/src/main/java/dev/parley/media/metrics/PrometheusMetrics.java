package dev.parley.media.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * Exposes the media counters in Prometheus text format through Micrometer, with the process's CPU time
 * ({@code process_cpu_time_ns_total}), GC pauses ({@code jvm_gc_pause_seconds}) and heap
 * ({@code jvm_memory_used_bytes}), which explain load-test results. No per-state thread gauges: each scrape would
 * read every thread's state.
 */
public final class PrometheusMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final java.util.function.Supplier<QueueDelays> queueDelays;
    /** The queue delays as of the current scrape. */
    private volatile QueueDelays scraped = new QueueDelays(new long[QueueDelays.BUCKETS], 0);

    /** @param refusalCodes the HTTP API's error codes, each exported as {@code parley_media_http_refused_total} */
    /**
     * @param videoLayers how many video forwards send each layer now: 0..2, then paused, then waiting (see
     *                    {@code Sfu.videoForwardsByLayer})
     */
    /** @param queueDelays how long received packets waited for their worker thread */
    public PrometheusMetrics(MediaCounters counters, IntSupplier conferences, IntSupplier endpoints,
                             List<String> refusalCodes, java.util.function.Supplier<long[]> videoLayers,
                             java.util.function.Supplier<QueueDelays> queueDelays) {
        for (String code : refusalCodes) {
            FunctionCounter.builder("parley.media.http.refused", counters, c -> c.refusals(code))
                    .description("HTTP API, WHIP and WHEP requests answered with an error, by code").tag("code", code)
                    .register(registry);
        }
        FunctionCounter.builder("parley.media.packets.in", counters, MediaCounters::packetsIn)
                .description("UDP packets received on ICE transports").register(registry);
        FunctionCounter.builder("parley.media.bytes.in", counters, MediaCounters::bytesIn)
                .baseUnit("bytes").register(registry);
        FunctionCounter.builder("parley.media.packets.out", counters, MediaCounters::packetsOut)
                .description("UDP packets sent on ICE transports").register(registry);
        FunctionCounter.builder("parley.media.bytes.out", counters, MediaCounters::bytesOut)
                .baseUnit("bytes").register(registry);
        FunctionCounter.builder("parley.media.ice.checks", counters, MediaCounters::iceChecks)
                .description("STUN binding requests with valid credentials, each answered with success")
                .register(registry);
        FunctionCounter.builder("parley.media.ice.path.selections", counters, MediaCounters::icePathSwitches)
                .description("times a transport started sending on a remote address (first path or a new nomination)")
                .register(registry);
        for (DropReason reason : DropReason.values()) {
            FunctionCounter.builder("parley.media.drops", counters, c -> c.drops(reason))
                    .description("packets or requests dropped, by reason").tag("reason", reason.metricName())
                    .register(registry);
        }
        FunctionCounter.builder("parley.media.layer.switches", counters, MediaCounters::layerSwitches)
                .description("times a receiver's video started, resumed or moved to another layer").register(registry);
        FunctionCounter.builder("parley.media.publisher.retransmissions.requested", counters,
                        MediaCounters::retransmissionsRequested)
                .description("video packets the server asked publishers to send again (NACK), repeats included")
                .register(registry);
        FunctionCounter.builder("parley.media.publisher.packets.recovered", counters, MediaCounters::packetsRecovered)
                .description("publishers' lost video packets whose retransmission arrived and was forwarded")
                .register(registry);
        FunctionCounter.builder("parley.media.dominant.speaker.changes", counters,
                        MediaCounters::dominantSpeakerChanges)
                .description("times a conference's dominant speaker changed").register(registry);
        String[] states = {"0", "1", "2", "paused", "waiting"};
        for (int i = 0; i < states.length; i++) {
            int index = i;
            Gauge.builder("parley.media.video.forwards", videoLayers, s -> s.get()[index]).strongReference(true)
                    .description("receivers' videos by the layer they get now (0 lowest), paused (tile not shown)"
                            + " or waiting (for a first packet or keyframe)")
                    .tag("layer", states[i]).register(registry);
        }
        this.queueDelays = queueDelays;
        for (int i = 0; i < QueueDelays.BUCKETS; i++) {
            int upTo = i;
            FunctionCounter.builder("parley.media.worker.queue.delay", this, m -> m.scraped.cumulative(upTo))
                    .description("received packets that waited for their worker thread at most le seconds")
                    .tag("le", QueueDelays.leLabel(i)).register(registry);
        }
        Gauge.builder("parley.media.worker.queue.delay.max", this, m -> m.scraped.maxNanos() / 1e9)
                .strongReference(true).baseUnit("seconds")
                .description("the longest a received packet waited for its worker thread since the start")
                .register(registry);
        Gauge.builder("parley.media.conferences", conferences, s -> s.getAsInt()).strongReference(true)
                .register(registry);
        Gauge.builder("parley.media.endpoints", endpoints, s -> s.getAsInt()).strongReference(true)
                .register(registry);
        new ProcessorMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
    }

    /** One histogram snapshot per scrape, so its buckets agree with each other (each read alone, they would not). */
    public synchronized String scrape() {
        scraped = queueDelays.get();
        return registry.scrape();
    }

    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
