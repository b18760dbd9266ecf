package dev.parley.media.cc;

import dev.parley.media.cc.BandwidthEstimate.DelayState;

/**
 * The delay-based rate: additive increase, multiplicative decrease, driven by the trendline's verdict
 * (draft-ietf-rmcat-gcc-02 section 5.5; libwebrtc's AIMD rate control). Overuse cuts the rate to
 * {@link #BETA} × the acknowledged rate; a steady queue lets it grow, by {@link #MULTIPLICATIVE_INCREASE} per
 * second while far from the link's last known capacity, by about one packet per response time near it; a
 * draining queue holds it.
 */
final class AimdRateControl {
    /** Decrease to this share of the acknowledged rate on overuse (draft and libwebrtc, 0.85). */
    static final double BETA = 0.85;
    /** Growth per second far from convergence (libwebrtc, 1.08). */
    static final double MULTIPLICATIVE_INCREASE = 1.08;
    /** Smallest multiplicative step, bit/s per update (libwebrtc, 1000). */
    static final long MIN_MULTIPLICATIVE_INCREASE_BPS = 1_000;
    /** Frame interval assumed when sizing the additive step (30 fps). */
    static final double ASSUMED_FRAME_INTERVAL_S = 1.0 / 30;
    /** Largest packet assumed when sizing the additive step, bytes (libwebrtc, 1200). */
    static final int ASSUMED_PACKET_BYTES = 1_200;
    /** Smallest additive growth, bit/s per second (libwebrtc, 4000). */
    static final double MIN_ADDITIVE_INCREASE_BPS_PER_S = 4_000;
    /** Added to the RTT to get the response time of the control loop, ms (libwebrtc, 100). */
    static final long RESPONSE_TIME_EXTRA_MS = 100;
    /** RTT assumed before one is known, ms (libwebrtc, 200). */
    static final long DEFAULT_RTT_MS = 200;
    /** Growth never takes the rate above this times the acknowledged rate plus {@link #INCREASE_LIMIT_EXTRA_BPS}. */
    static final double INCREASE_LIMIT_FACTOR = 1.5;
    static final long INCREASE_LIMIT_EXTRA_BPS = 10_000;
    /** Repeated decreases while overuse persists are at least the RTT apart, within these bounds, ms. */
    static final long MIN_REDUCE_INTERVAL_MS = 10;
    static final long MAX_REDUCE_INTERVAL_MS = 200;
    /** Longest time step of one increase, ms (libwebrtc, 1000). */
    static final long MAX_INCREASE_STEP_MS = 1_000;
    /** Weight of a new sample in the link capacity average (libwebrtc, 0.05). */
    static final double LINK_CAPACITY_ALPHA = 0.05;
    /** The capacity is "near" within this many deviations of its average (libwebrtc, 3). */
    static final double LINK_CAPACITY_DEVIATIONS = 3;
    /** Bounds of the normalized capacity variance (libwebrtc, 0.4 and 2.5). */
    static final double MIN_CAPACITY_DEVIATION = 0.4;
    static final double MAX_CAPACITY_DEVIATION = 2.5;

    /** Whether a normal verdict grows the rate now, or first ends a hold (after a cut or underuse). */
    private enum Mode { HOLD, INCREASE }

    private final long minBps;
    private final long maxBps;
    private long currentBps;
    private Mode mode = Mode.INCREASE;
    private long lastChangeUs = Long.MIN_VALUE;
    private long rttMs = DEFAULT_RTT_MS;
    /** Average acknowledged rate at overuse, kbit/s (NaN: unknown), and its normalized variance. */
    private double capacityKbps = Double.NaN;
    private double capacityDeviation = MIN_CAPACITY_DEVIATION;

    AimdRateControl(long minBps, long maxBps, long startBps) {
        this.minBps = minBps;
        this.maxBps = maxBps;
        this.currentBps = startBps;
    }

    void onRtt(long rttMs) {
        this.rttMs = rttMs;
    }

    /**
     * Moves the rate by the detector's verdict.
     *
     * @param ackedBps the acknowledged rate, 0 when not yet known
     * @param applicationLimited the sender sends well under the rate and the link delivers it all (then overuse
     *                           holds the rate rather than cutting it to the acknowledged rate)
     * @return the new rate, bit/s
     */
    long update(DelayState state, long ackedBps, boolean applicationLimited, long nowUs) {
        if (state == DelayState.OVERUSING && applicationLimited) {
            // The link delivers all of a rate well under the estimate: cutting to that rate would make the server's
            // own choice the link's capacity (and each pause a ratchet). Hold; a real bottleneck below the sent rate
            // spreads the packets out on arrival (or loses them), the caller no longer says application-limited, and
            // it is cut then.
            mode = Mode.HOLD;
            return currentBps;
        }
        if (state == DelayState.OVERUSING) {
            if (ackedBps > 0) {
                if (timeToReduceFurther(nowUs, ackedBps)) {
                    decrease(ackedBps, nowUs);
                }
            } else if (lastChangeUs == Long.MIN_VALUE || nowUs - lastChangeUs >= reduceIntervalUs()) {
                // No measured throughput to anchor on yet: halve.
                currentBps = clamp(currentBps / 2);
                lastChangeUs = nowUs;
                mode = Mode.HOLD;
            }
            return currentBps;
        }
        if (state == DelayState.UNDERUSING) {
            mode = Mode.HOLD;
            return currentBps;
        }
        if (mode == Mode.HOLD) {
            mode = Mode.INCREASE;
        }
        increase(ackedBps, nowUs);
        return currentBps;
    }

    private boolean timeToReduceFurther(long nowUs, long ackedBps) {
        if (lastChangeUs == Long.MIN_VALUE || nowUs - lastChangeUs >= reduceIntervalUs()) {
            return true;
        }
        // Still far above what gets through: do not wait.
        return ackedBps < currentBps / 2;
    }

    private long reduceIntervalUs() {
        return Math.max(MIN_REDUCE_INTERVAL_MS, Math.min(rttMs, MAX_REDUCE_INTERVAL_MS)) * 1000;
    }

    private void decrease(long ackedBps, long nowUs) {
        long decreased = Math.round(BETA * ackedBps);
        if (decreased > currentBps && !Double.isNaN(capacityKbps)) {
            decreased = Math.round(BETA * capacityKbps * 1000);
        }
        if (decreased < currentBps) {
            currentBps = clamp(decreased);
        }
        double ackedKbps = ackedBps / 1000.0;
        if (!Double.isNaN(capacityKbps) && ackedKbps < capacityLowerKbps()) {
            // Far below the capacity seen before: the link changed, forget it.
            capacityKbps = Double.NaN;
        }
        updateCapacity(ackedKbps);
        lastChangeUs = nowUs;
        mode = Mode.HOLD;
    }

    private void increase(long ackedBps, long nowUs) {
        double ackedKbps = ackedBps / 1000.0;
        if (ackedBps > 0 && !Double.isNaN(capacityKbps) && ackedKbps > capacityUpperKbps()) {
            // Above the capacity seen before: the link grew, forget it and grow fast again.
            capacityKbps = Double.NaN;
        }
        long elapsedMs = lastChangeUs == Long.MIN_VALUE
                ? MAX_INCREASE_STEP_MS
                : Math.max(0, Math.min((nowUs - lastChangeUs) / 1000, MAX_INCREASE_STEP_MS));
        long step;
        if (Double.isNaN(capacityKbps)) {
            double alpha = Math.pow(MULTIPLICATIVE_INCREASE, elapsedMs / 1000.0);
            step = Math.max(Math.round(currentBps * (alpha - 1)), MIN_MULTIPLICATIVE_INCREASE_BPS);
        } else {
            step = Math.round(additiveIncreaseBpsPerSecond() * elapsedMs / 1000.0);
        }
        long increased = currentBps + step;
        if (ackedBps > 0) {
            long limit = Math.round(INCREASE_LIMIT_FACTOR * ackedBps) + INCREASE_LIMIT_EXTRA_BPS;
            if (currentBps < limit) {
                currentBps = clamp(Math.min(increased, limit));
            }
        } else {
            currentBps = clamp(increased);
        }
        lastChangeUs = nowUs;
    }

    /** About one packet per response time, with packets sized as a 30 fps stream at the current rate would. */
    private double additiveIncreaseBpsPerSecond() {
        double frameBits = currentBps * ASSUMED_FRAME_INTERVAL_S;
        double packetsPerFrame = Math.ceil(frameBits / (8.0 * ASSUMED_PACKET_BYTES));
        double packetBits = frameBits / Math.max(packetsPerFrame, 1);
        double responseTimeS = (rttMs + RESPONSE_TIME_EXTRA_MS) / 1000.0;
        return Math.max(MIN_ADDITIVE_INCREASE_BPS_PER_S, packetBits / responseTimeS);
    }

    private void updateCapacity(double sampleKbps) {
        if (Double.isNaN(capacityKbps)) {
            capacityKbps = sampleKbps;
        } else {
            capacityKbps = (1 - LINK_CAPACITY_ALPHA) * capacityKbps + LINK_CAPACITY_ALPHA * sampleKbps;
        }
        double error = capacityKbps - sampleKbps;
        capacityDeviation = (1 - LINK_CAPACITY_ALPHA) * capacityDeviation
                + LINK_CAPACITY_ALPHA * error * error / Math.max(capacityKbps, 1.0);
        capacityDeviation = Math.max(MIN_CAPACITY_DEVIATION, Math.min(MAX_CAPACITY_DEVIATION, capacityDeviation));
    }

    private double capacitySpreadKbps() {
        return LINK_CAPACITY_DEVIATIONS * Math.sqrt(capacityDeviation * capacityKbps);
    }

    private double capacityUpperKbps() {
        return capacityKbps + capacitySpreadKbps();
    }

    private double capacityLowerKbps() {
        return capacityKbps - capacitySpreadKbps();
    }

    private long clamp(long bps) {
        return Math.max(minBps, Math.min(maxBps, bps));
    }

    long bps() {
        return currentBps;
    }

    /** A probe found the link carries {@code bps}: the rate is at least that from now on. */
    void raiseTo(long bps) {
        currentBps = clamp(Math.max(currentBps, bps));
    }

    /** Whether the rate grows additively (near a known link capacity) rather than multiplicatively. */
    boolean nearCapacity() {
        return !Double.isNaN(capacityKbps);
    }
}
