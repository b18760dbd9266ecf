package dev.parley.media.cc;

import dev.parley.media.cc.BandwidthEstimate.DelayState;
import java.util.Random;
import java.util.function.IntFunction;
import java.util.function.LongPredicate;
import java.util.function.LongUnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

/**
 * A simulated path from the server to one receiver, driving a {@link SendSideEstimator}: a sender paces packets
 * (at a fixed rate or at the current estimate), a bottleneck queue drains them at a capacity that may change over
 * time and drops what would wait longer than its buffer, random loss and arrival jitter may be added, and every
 * {@link #FEEDBACK_INTERVAL_US} the receiver reports every packet settled since its last report (arrived, or known
 * lost), on its own clock. Deterministic for a given seed.
 */
final class EstimatorTestLink {
    static final long FEEDBACK_INTERVAL_US = 50_000;
    static final int PACKET_BYTES = 1_200;
    static final long SECOND = 1_000_000;

    final SendSideEstimator estimator;
    private PacketResults report = new PacketResults(8_192);
    private PacketResults held = new PacketResults(8_192);
    private boolean holding;
    private final Random random;

    /** Capacity of the bottleneck at a time, bit/s; 0 means unconstrained. */
    LongUnaryOperator capacityBps = t -> 0;
    /** Fixed send rate, bit/s, or 0 to send at the current estimate. */
    long sendRateBps;
    long oneWayDelayUs = 20_000;
    long bufferUs = 300_000;
    double randomLoss;
    long jitterUs;
    /**
     * Delay added to a packet sent at a time, µs, beyond the bottleneck (never reordering): a receiver that falls
     * behind and catches up looks like this.
     */
    LongUnaryOperator extraDelayUs = t -> 0;
    /** Packets sent at the same instant, as a video frame leaves; the rate is kept. */
    int burstPackets = 1;
    /** Deliver each report twice. */
    boolean duplicateFeedback;
    /** Deliver reports in swapped pairs: the second before the first. */
    boolean reorderFeedback;
    /** Origin of the receiver's clock relative to the server's. */
    long receiverClockOffsetUs = 123_456_789_000L;

    private static final int RING = 1 << 16;
    private final long[] sendUs = new long[RING];
    private final long[] arrivalUs = new long[RING];
    private final boolean[] lost = new boolean[RING];
    private long nextSeq;
    private long nextToReport;
    private long nowUs;
    private long nextSendUs;
    private long nextFeedbackUs = FEEDBACK_INTERVAL_US;
    private long bottleneckFreeUs;
    private long lastQueueDelayUs;
    private long lastArrivalUs;

    private final long[] sampleTimes = new long[1 << 16];
    private final long[] sampleEstimates = new long[1 << 16];
    private final String[] sampleDetails = new String[1 << 16];
    private int samples;
    private int overuseReports;

    EstimatorTestLink(SendSideEstimator estimator, long seed) {
        this.estimator = estimator;
        this.random = new Random(seed);
    }

    /** Runs the simulation until {@code untilUs}. */
    void runUntil(long untilUs) {
        while (true) {
            long next = Math.min(nextSendUs, nextFeedbackUs);
            if (next > untilUs) {
                nowUs = untilUs;
                return;
            }
            nowUs = next;
            if (nextSendUs <= nextFeedbackUs) {
                send();
            } else {
                feedback();
            }
        }
    }

    private void send() {
        long seq = nextSeq++;
        int slot = (int) (seq & (RING - 1));
        sendUs[slot] = nowUs;
        long capacity = capacityBps.applyAsLong(nowUs);
        long departureUs;
        boolean dropped = false;
        if (capacity <= 0) {
            departureUs = nowUs;
        } else {
            long startUs = Math.max(nowUs, bottleneckFreeUs);
            if (startUs - nowUs > bufferUs) {
                dropped = true;
                departureUs = startUs;
            } else {
                departureUs = startUs + PACKET_BYTES * 8L * SECOND / capacity;
                bottleneckFreeUs = departureUs;
            }
        }
        if (!dropped) {
            lastQueueDelayUs = departureUs - nowUs;
        }
        if (randomLoss > 0 && random.nextDouble() < randomLoss) {
            dropped = true;
        }
        long jitter = jitterUs > 0 ? (long) ((random.nextDouble() * 2 - 1) * jitterUs) : 0;
        lost[slot] = dropped;
        // A FIFO path: jitter delays a packet, and those behind it, but never lets one overtake another.
        long arrival = Math.max(departureUs + oneWayDelayUs + jitter + extraDelayUs.applyAsLong(nowUs), lastArrivalUs);
        arrivalUs[slot] = arrival;
        if (!dropped) {
            lastArrivalUs = arrival;
        }
        long rate = sendRateBps > 0 ? sendRateBps : estimator.estimateBps();
        if (nextSeq % burstPackets != 0) {
            nextSendUs = nowUs;
        } else {
            nextSendUs = nowUs + burstPackets * PACKET_BYTES * 8L * SECOND / rate;
        }
    }

    private void feedback() {
        report.clear();
        while (nextToReport < nextSeq) {
            int slot = (int) (nextToReport & (RING - 1));
            if (lost[slot]) {
                report.addLost(nextToReport, sendUs[slot], PACKET_BYTES);
            } else if (arrivalUs[slot] <= nowUs) {
                report.add(nextToReport, sendUs[slot], PACKET_BYTES, arrivalUs[slot] + receiverClockOffsetUs);
            } else {
                break;
            }
            nextToReport++;
        }
        nextFeedbackUs = nowUs + FEEDBACK_INTERVAL_US;
        if (report.size() == 0) {
            return;
        }
        estimator.onRtt((2 * oneWayDelayUs + lastQueueDelayUs) / 1000);
        long estimate;
        if (reorderFeedback && !holding) {
            PacketResults first = report;
            report = held;
            held = first;
            holding = true;
            return;
        }
        estimate = deliver(report);
        if (holding) {
            estimate = deliver(held);
            holding = false;
        }
        if (estimator.delayState() == DelayState.OVERUSING) {
            overuseReports++;
        }
        if (samples < sampleTimes.length) {
            sampleTimes[samples] = nowUs;
            sampleEstimates[samples] = estimate;
            BandwidthEstimate state = estimator.state();
            sampleDetails[samples] = state.delayBasedBps() / 1000 + "/" + state.lossBasedBps() / 1000 + "/"
                    + state.ackedBps() / 1000 + "/" + state.delayState().name().charAt(0);
            samples++;
        }
    }

    private long deliver(PacketResults results) {
        long estimate = estimator.onFeedback(results, nowUs + oneWayDelayUs);
        if (duplicateFeedback) {
            estimate = estimator.onFeedback(results, nowUs + oneWayDelayUs);
        }
        return estimate;
    }

    /** The estimates reported within [fromUs, toUs). */
    private LongStream estimates(long fromUs, long toUs) {
        return IntStream.range(0, samples)
                .filter(i -> sampleTimes[i] >= fromUs && sampleTimes[i] < toUs)
                .mapToLong(i -> sampleEstimates[i]);
    }

    long minEstimate(long fromUs, long toUs) {
        return estimates(fromUs, toUs).min().orElse(Long.MAX_VALUE);
    }

    long maxEstimate(long fromUs, long toUs) {
        return estimates(fromUs, toUs).max().orElse(Long.MIN_VALUE);
    }

    long meanEstimate(long fromUs, long toUs) {
        return Math.round(estimates(fromUs, toUs).average().orElse(0));
    }

    /** The first time at or after {@code fromUs} the estimate met {@code condition}, or -1. */
    private long firstTime(LongPredicate condition, long fromUs) {
        return IntStream.range(0, samples)
                .filter(i -> sampleTimes[i] >= fromUs && condition.test(sampleEstimates[i]))
                .mapToLong(i -> sampleTimes[i])
                .findFirst()
                .orElse(-1);
    }

    long firstTimeBelow(long bps, long fromUs) {
        return firstTime(e -> e < bps, fromUs);
    }

    long firstTimeAtOrAbove(long bps, long fromUs) {
        return firstTime(e -> e >= bps, fromUs);
    }

    /** Largest growth of the estimate over any span of {@code spanUs}, as a ratio. */
    double maxGrowthOver(long spanUs) {
        double max = 0;
        int j = 0;
        for (int i = 0; i < samples; i++) {
            while (sampleTimes[i] - sampleTimes[j] > spanUs) {
                j++;
            }
            for (int k = j; k < i; k++) {
                max = Math.max(max, (double) sampleEstimates[i] / sampleEstimates[k]);
            }
        }
        return max;
    }

    int overuseReports() {
        return overuseReports;
    }

    /** Delay-based/loss-based/acked kbit/s and delay state, one line per second, for diagnosis. */
    String details(long fromUs, long toUs) {
        return perSecond(fromUs, toUs, i -> sampleDetails[i]);
    }

    /** The estimate, one figure per second, for assertion messages. */
    String trace(long fromUs, long toUs) {
        return perSecond(fromUs, toUs, i -> sampleEstimates[i] / 1000 + "k");
    }

    private String perSecond(long fromUs, long toUs, IntFunction<String> sample) {
        StringBuilder s = new StringBuilder();
        long next = fromUs;
        for (int i = 0; i < samples; i++) {
            if (sampleTimes[i] >= next && sampleTimes[i] < toUs) {
                s.append(sampleTimes[i] / SECOND).append("s:").append(sample.apply(i)).append(' ');
                next = sampleTimes[i] - sampleTimes[i] % SECOND + SECOND;
            }
        }
        return s.toString();
    }
}
