package dev.parley.media.sfu;

/**
 * Sequence, loss and jitter bookkeeping for one received stream (RFC 3550 appendix A), written by the publisher's
 * receive thread and read for receiver reports, where a slightly stale view is fine.
 */
final class ReceiveStatistics {
    private final int clockRate;
    private final long originNanos = System.nanoTime();
    private boolean started;
    private int maxSequence;
    private long cycles;
    private int baseSequence;
    private long received;
    private long expectedPrior;
    private long receivedPrior;
    private double jitter;
    private long lastTransit;
    private volatile double lastFractionLost;
    private volatile long bytes;

    ReceiveStatistics(int clockRate) {
        this.clockRate = clockRate;
    }

    void update(int sequence, long rtpTimestamp, long arrivalNanos, int length) {
        bytes += length;
        long arrival = (arrivalNanos - originNanos) / 1000 * clockRate / 1_000_000;
        long transit = arrival - rtpTimestamp;
        if (!started) {
            started = true;
            baseSequence = sequence;
            maxSequence = sequence;
            lastTransit = transit;
            received = 1;
            return;
        }
        received++;
        int delta = (sequence - maxSequence) & 0xffff;
        if (delta != 0 && delta < 0x8000) {
            if (sequence < maxSequence) {
                cycles += 0x10000;
            }
            maxSequence = sequence;
        }
        long d = Math.abs(transit - lastTransit);
        lastTransit = transit;
        jitter += (d - jitter) / 16.0;
    }

    boolean started() {
        return started;
    }

    long extendedHighestSequence() {
        return cycles + maxSequence;
    }

    long cumulativeLost() {
        long expected = extendedHighestSequence() - baseSequence + 1;
        return expected - received;
    }

    long jitter() {
        return (long) jitter;
    }

    long bytes() {
        return bytes;
    }

    long packets() {
        return received;
    }

    /** The fraction lost since the previous call, 0..255 as RTCP writes it. */
    int takeFractionLost() {
        long expected = extendedHighestSequence() - baseSequence + 1;
        long expectedInterval = expected - expectedPrior;
        long receivedInterval = received - receivedPrior;
        expectedPrior = expected;
        receivedPrior = received;
        long lostInterval = expectedInterval - receivedInterval;
        int fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : (int) ((lostInterval << 8) / expectedInterval);
        lastFractionLost = Math.min(255, fraction) / 256.0;
        return Math.min(255, fraction);
    }

    double lastFractionLost() {
        return lastFractionLost;
    }
}
