package dev.parley.media.metrics;

/**
 * How long received datagrams waited between the socket and their worker: counts in power-of-two buckets (bucket
 * {@code i} holds waits under 2<sup>i</sup> µs, the last everything longer) and the longest wait seen. Cumulative
 * since the start, so a window is the difference of two snapshots ({@link #since}).
 */
public record QueueDelays(long[] counts, long maxNanos) {
    /** Bucket 0 is under 1 µs, bucket 23 under 8.4 s; 24 and above is everything longer. */
    public static final int BUCKETS = 25;

    public QueueDelays {
        counts = counts.clone();
    }

    /** The bucket a wait falls in. */
    public static int bucket(long waitedNanos) {
        long micros = waitedNanos / 1000;
        return micros <= 0 ? 0 : Math.min(BUCKETS - 1, 64 - Long.numberOfLeadingZeros(micros));
    }

    /** The upper bound of bucket {@code i} in microseconds ({@link Long#MAX_VALUE} for the last). */
    public static long upperMicros(int bucket) {
        return bucket >= BUCKETS - 1 ? Long.MAX_VALUE : 1L << bucket;
    }

    /** Bucket {@code i}'s upper bound as Prometheus's {@code le} label: seconds, or {@code +Inf}. */
    public static String leLabel(int bucket) {
        long micros = upperMicros(bucket);
        return micros == Long.MAX_VALUE ? "+Inf" : Double.toString(micros / 1e6);
    }

    /** From cumulative counts (as exported: waits in buckets 0..i), with the longest wait. */
    public static QueueDelays fromCumulative(long[] cumulative, long maxNanos) {
        long[] counts = new long[BUCKETS];
        for (int i = 0; i < BUCKETS && i < cumulative.length; i++) {
            counts[i] = Math.max(0, cumulative[i] - (i == 0 ? 0 : cumulative[i - 1]));
        }
        return new QueueDelays(counts, maxNanos);
    }

    /** How many waits fell in buckets 0..{@code bucket}: at most {@link #upperMicros}({@code bucket}) µs. */
    public long cumulative(int bucket) {
        long sum = 0;
        for (int i = 0; i <= bucket && i < BUCKETS; i++) {
            sum += counts[i];
        }
        return sum;
    }

    public long total() {
        long sum = 0;
        for (long count : counts) {
            sum += count;
        }
        return sum;
    }

    /** The counts of this snapshot minus an earlier one's (the longest wait stays the one since the start). */
    public QueueDelays since(QueueDelays earlier) {
        long[] window = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            window[i] = counts[i] - (earlier == null ? 0 : earlier.counts[i]);
        }
        return new QueueDelays(window, maxNanos);
    }

    /**
     * The upper bound (µs) of the bucket the {@code quantile} (0..1) of the waits falls in; 0 with no waits. A
     * bound, not an estimate: the wait was at most this.
     */
    public long quantileMicros(double quantile) {
        long total = total();
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(quantile * total);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= Math.max(1, rank)) {
                return upperMicros(i);
            }
        }
        return upperMicros(BUCKETS - 1);
    }

    /** The upper bound (µs) of the highest bucket holding a wait; 0 with no waits. */
    public long worstMicros() {
        for (int i = BUCKETS - 1; i >= 0; i--) {
            if (counts[i] > 0) {
                return upperMicros(i);
            }
        }
        return 0;
    }
}
