package dev.parley.media.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class QueueDelaysTest {
    @Test
    void waitsFallInPowerOfTwoMicrosecondBuckets() {
        assertEquals(0, QueueDelays.bucket(500));
        assertEquals(1, QueueDelays.bucket(1_000));
        assertEquals(2, QueueDelays.bucket(3_999));
        assertEquals(11, QueueDelays.bucket(1_500_000));
        assertEquals(QueueDelays.BUCKETS - 1, QueueDelays.bucket(60_000_000_000L));
        assertEquals(2048, QueueDelays.upperMicros(11));
    }

    @Test
    void aWindowIsTheDifferenceOfTwoSnapshotsAndItsBoundsComeFromIt() {
        long[] before = new long[QueueDelays.BUCKETS];
        before[3] = 100;
        long[] after = before.clone();
        after[3] += 98;
        after[10] += 1;
        after[15] += 1;
        QueueDelays window = new QueueDelays(after, 20_000_000).since(new QueueDelays(before, 1_000));
        assertEquals(100, window.total());
        assertEquals(8, window.quantileMicros(0.5));
        assertEquals(1024, window.quantileMicros(0.99));
        assertEquals(32_768, window.worstMicros());
        assertEquals(0, new QueueDelays(before, 0).since(new QueueDelays(before, 0)).worstMicros());
    }

    @Test
    void cumulativeCountsAsExportedReadBackAsTheSameBuckets() {
        long[] counts = new long[QueueDelays.BUCKETS];
        counts[0] = 5;
        counts[4] = 7;
        counts[QueueDelays.BUCKETS - 1] = 2;
        QueueDelays delays = new QueueDelays(counts, 9);
        long[] cumulative = new long[QueueDelays.BUCKETS];
        for (int i = 0; i < QueueDelays.BUCKETS; i++) {
            cumulative[i] = delays.cumulative(i);
        }
        QueueDelays read = QueueDelays.fromCumulative(cumulative, 9);
        for (int i = 0; i < QueueDelays.BUCKETS; i++) {
            assertEquals(counts[i], read.counts()[i], "bucket " + i);
        }
        assertEquals("+Inf", QueueDelays.leLabel(QueueDelays.BUCKETS - 1));
        assertEquals("1.0E-6", QueueDelays.leLabel(0));
    }
}
