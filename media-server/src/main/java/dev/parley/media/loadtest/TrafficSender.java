package dev.parley.media.loadtest;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * One thread that paces every active stream at its packet rate (times the current load multiplier), stamping each
 * payload with the probe. When it falls more than {@link #MAX_LAG_NANOS} behind a stream's schedule it skips ahead
 * instead of bursting, and counts the packets it could not send.
 */
final class TrafficSender implements AutoCloseable {
    private static final long MAX_LAG_NANOS = 100_000_000L;

    private final Stream[] streams;
    private final long epochNanos;
    private final SplittableRandom random;
    private final Thread thread;
    final long[] sentBySecond;
    final long[] expectedBySecond;
    private volatile boolean running = true;
    private volatile int window;
    private volatile double multiplier = 1.0;
    private volatile long sentTotal;
    private volatile long skipped;
    private volatile long failed;

    TrafficSender(List<Stream> streams, long epochNanos, int seconds, long seed, String name) {
        this.streams = streams.toArray(new Stream[0]);
        this.epochNanos = epochNanos;
        this.random = new SplittableRandom(seed);
        this.sentBySecond = new long[seconds];
        this.expectedBySecond = new long[seconds];
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        long now = System.nanoTime();
        for (Stream s : streams) {
            s.nextDue = now + (long) (random.nextDouble() * 1e9 / s.packetsPerSecond);
            random.nextBytes(s.payload);
        }
        thread.start();
    }

    /** Packets sent from now on carry this window number. */
    void window(int index) {
        window = index;
    }

    void multiplier(double m) {
        multiplier = m;
    }

    double multiplier() {
        return multiplier;
    }

    long sent() {
        return sentTotal;
    }

    long skipped() {
        return skipped;
    }

    long failed() {
        return failed;
    }

    /** Packets each stream sent in each window; call after {@link #close()}. */
    long sentInWindow(Stream stream, int windowIndex) {
        return stream.sentInWindow[windowIndex];
    }

    Thread thread() {
        return thread;
    }

    private void run() {
        long sent = 0;
        long skips = 0;
        long failures = 0;
        while (running) {
            long now = System.nanoTime();
            int w = window;
            double m = multiplier;
            long earliest = Long.MAX_VALUE;
            for (Stream s : streams) {
                if (!s.active) {
                    s.nextDue = Math.max(s.nextDue, now);
                    continue;
                }
                if (s.nextDue <= now) {
                    long period = (long) (1e9 / (s.packetsPerSecond * m));
                    if (now - s.nextDue > MAX_LAG_NANOS) {
                        long behind = (now - s.nextDue) / Math.max(1, period);
                        skips += behind;
                        s.skippedInWindow[w] += behind;
                        s.nextDue = now;
                    }
                    long sequence = s.nextSequence++;
                    if (s.layer >= 0) {
                        SimulcastLayers.writeVp8Prefix(s, now);
                    }
                    Probe.write(s.payload, s.probeOffset, s.index, sequence, now, w);
                    long rtpTimestamp = (now - epochNanos) / 1000 * s.clockRate() / 1_000_000L;
                    Stream.Sink sink = s.sink;
                    if (sink != null && sink.send(s, sequence, rtpTimestamp)) {
                        sent++;
                        s.sentInWindow[w]++;
                        int second = (int) ((now - epochNanos) / 1_000_000_000L);
                        if (second >= 0 && second < sentBySecond.length) {
                            sentBySecond[second]++;
                            expectedBySecond[second] += s.readyReceivers.get();
                        }
                    } else {
                        failures++;
                        s.failedInWindow[w]++;
                        s.sentInWindow[w]++; // offered and counted: a packet the transport refused is lost
                    }
                    s.nextDue += period;
                    sentTotal = sent;
                }
                earliest = Math.min(earliest, s.nextDue);
            }
            skipped = skips;
            failed = failures;
            long wait = earliest == Long.MAX_VALUE ? 1_000_000L : earliest - System.nanoTime();
            if (wait > 20_000) {
                LockSupport.parkNanos(wait);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
