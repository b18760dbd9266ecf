package dev.parley.media.loadtest;

/**
 * Counts of values in microseconds in log-linear buckets (16 per power of two, so about 6 % resolution), up to
 * about 2^36 µs. Recording never allocates; one thread records, others may read an approximate copy.
 */
final class LatencyHistogram {
    private static final int SUB_BITS = 4;
    private static final int SUB = 1 << SUB_BITS;
    static final int BUCKETS = SUB + (36 - SUB_BITS) * SUB;

    final long[] counts = new long[BUCKETS];
    long total;
    long sum;
    long max;

    void record(long micros) {
        long v = Math.max(0, micros);
        counts[index(v)]++;
        total++;
        sum += v;
        if (v > max) {
            max = v;
        }
    }

    static int index(long v) {
        if (v < SUB) {
            return (int) v;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(v);
        if (exponent >= 36) {
            return BUCKETS - 1;
        }
        int sub = (int) ((v >>> (exponent - SUB_BITS)) & (SUB - 1));
        return SUB + (exponent - SUB_BITS) * SUB + sub;
    }

    /** The midpoint of a bucket, in microseconds. */
    static double value(int index) {
        if (index < SUB) {
            return index;
        }
        int exponent = (index - SUB) / SUB + SUB_BITS;
        int sub = (index - SUB) % SUB;
        double low = (double) (SUB + sub) * (1L << (exponent - SUB_BITS));
        double width = 1L << (exponent - SUB_BITS);
        return low + width / 2;
    }

    void add(LatencyHistogram other) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        sum += other.sum;
        max = Math.max(max, other.max);
    }

    /** this − earlier, for the values recorded between two copies. */
    LatencyHistogram minus(LatencyHistogram earlier) {
        LatencyHistogram d = new LatencyHistogram();
        for (int i = 0; i < BUCKETS; i++) {
            d.counts[i] = counts[i] - earlier.counts[i];
            d.total += d.counts[i];
        }
        d.sum = sum - earlier.sum;
        d.max = max;
        return d;
    }

    LatencyHistogram copy() {
        LatencyHistogram c = new LatencyHistogram();
        c.add(this);
        return c;
    }

    /** The value at quantile q (0..1) in microseconds, or NaN when empty. */
    double quantile(double q) {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        if (n <= 0) {
            return Double.NaN;
        }
        long rank = Math.max(1, (long) Math.ceil(q * n));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(value(i), max > 0 ? max : value(i));
            }
        }
        return max;
    }

    double mean() {
        return total == 0 ? Double.NaN : (double) sum / total;
    }
}
