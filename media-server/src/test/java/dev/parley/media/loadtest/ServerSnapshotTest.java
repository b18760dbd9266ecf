package dev.parley.media.loadtest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.metrics.PrometheusMetrics;
import dev.parley.media.metrics.QueueDelays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The load generator reads the server's Prometheus text as the server writes it. */
class ServerSnapshotTest {
    @Test
    void theWorkerQueueHistogramReadsBackAsTheServerKeptIt() {
        long[] counts = new long[QueueDelays.BUCKETS];
        counts[0] = 1000;
        counts[6] = 40;
        counts[16] = 2;
        QueueDelays kept = new QueueDelays(counts, 61_000_000);
        PrometheusMetrics metrics = new PrometheusMetrics(new MediaCounters(), () -> 1, () -> 2, List.of(),
                () -> new long[5], () -> kept);
        try {
            ServerSnapshot snapshot = ServerSnapshot.parse(metrics.scrape(), 0);
            assertArrayEquals(counts, snapshot.queueDelays().counts());
            assertEquals(61_000_000, snapshot.queueDelays().maxNanos());
            assertEquals(65_536, snapshot.queueDelays().worstMicros());
        } finally {
            metrics.close();
        }
    }
}
