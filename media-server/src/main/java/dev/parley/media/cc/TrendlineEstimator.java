package dev.parley.media.cc;

import dev.parley.media.cc.BandwidthEstimate.DelayState;

/**
 * Delay-based overuse detection: is the bottleneck queue growing, steady or draining? Each completed packet group
 * adds its one-way delay variation (arrival delta minus send delta) to an accumulated delay, which is smoothed
 * and fitted with a least-squares line over the last {@link #WINDOW_SIZE} groups; the slope (the trend) is
 * compared with an adaptive threshold (draft-ietf-rmcat-gcc-02 sections 5.4 and 5.5, with the trendline filter
 * libwebrtc uses in place of the draft's Kalman filter).
 */
final class TrendlineEstimator {
    /** Exponential smoothing of the accumulated delay before fitting (libwebrtc, 0.9). */
    static final double SMOOTHING = 0.9;
    /** Groups the line is fitted over (libwebrtc, 20). */
    static final int WINDOW_SIZE = 20;
    /** The slope is scaled by this times the number of groups seen (capped) before it meets the threshold (4). */
    static final double THRESHOLD_GAIN = 4.0;
    /** The cap on that number of groups (libwebrtc, 60). */
    static final int MIN_NUM_DELTAS = 60;
    /** Bound on the group counter (libwebrtc, 1000). */
    static final int DELTA_COUNTER_MAX = 1000;
    /** Initial threshold, ms (draft: del_var_th initial value 12.5 ms). */
    static final double INITIAL_THRESHOLD_MS = 12.5;
    /** Threshold adaptation rate when the signal is above it (draft: K_u = 0.01; libwebrtc 0.0087). */
    static final double K_UP = 0.0087;
    /** Threshold adaptation rate when the signal is below it (draft: K_d = 0.00018; libwebrtc 0.039). */
    static final double K_DOWN = 0.039;
    /** The threshold stays within these bounds, ms (draft section 5.4: [6, 600]). */
    static final double MIN_THRESHOLD_MS = 6;
    static final double MAX_THRESHOLD_MS = 600;
    /**
     * A signal more than this above the threshold is an outlier (e.g. a route change) and does not move the
     * threshold (draft: 15 ms).
     */
    static final double MAX_ADAPT_OFFSET_MS = 15;
    /** Longest step of the threshold adaptation, ms (libwebrtc, 100). */
    static final double MAX_ADAPT_TIME_DELTA_MS = 100;
    /** Overuse must be signalled this long before it is declared (draft: overuse_time_th 10 ms). */
    static final double OVERUSING_TIME_THRESHOLD_MS = 10;

    private final double[] windowX = new double[WINDOW_SIZE];
    private final double[] windowY = new double[WINDOW_SIZE];
    private int windowStart;
    private int windowCount;

    private int numDeltas;
    private double firstArrivalMs = Double.NaN;
    private double accumulatedDelayMs;
    private double smoothedDelayMs;
    private double trend;
    private double previousTrend;
    private double modifiedTrend;
    private double thresholdMs = INITIAL_THRESHOLD_MS;
    private double lastThresholdUpdateMs = Double.NaN;
    private double timeOverUsingMs = -1;
    private int overuseCounter;
    private DelayState usage = DelayState.NORMAL;

    /**
     * Adds one group's deltas.
     *
     * @param arrivalDeltaMs  arrival of this group minus arrival of the previous one (receiver's clock)
     * @param sendDeltaMs     the same for send times (server's clock)
     * @param arrivalTimeMs   this group's arrival time on the receiver's clock (any origin)
     */
    void update(double arrivalDeltaMs, double sendDeltaMs, double arrivalTimeMs) {
        double delayVariationMs = arrivalDeltaMs - sendDeltaMs;
        numDeltas = Math.min(numDeltas + 1, DELTA_COUNTER_MAX);
        if (Double.isNaN(firstArrivalMs)) {
            firstArrivalMs = arrivalTimeMs;
        }
        accumulatedDelayMs += delayVariationMs;
        smoothedDelayMs = SMOOTHING * smoothedDelayMs + (1 - SMOOTHING) * accumulatedDelayMs;

        int slot;
        if (windowCount < WINDOW_SIZE) {
            slot = (windowStart + windowCount) % WINDOW_SIZE;
            windowCount++;
        } else {
            slot = windowStart;
            windowStart = (windowStart + 1) % WINDOW_SIZE;
        }
        windowX[slot] = arrivalTimeMs - firstArrivalMs;
        windowY[slot] = smoothedDelayMs;

        trend = previousTrend;
        if (windowCount == WINDOW_SIZE) {
            double slope = fitSlope();
            if (!Double.isNaN(slope)) {
                trend = slope;
            }
        }
        detect(sendDeltaMs, arrivalTimeMs);
    }

    /** Least-squares slope of the window, or NaN when all its points share one x. */
    private double fitSlope() {
        double sumX = 0;
        double sumY = 0;
        for (int i = 0; i < windowCount; i++) {
            sumX += windowX[i];
            sumY += windowY[i];
        }
        double meanX = sumX / windowCount;
        double meanY = sumY / windowCount;
        double numerator = 0;
        double denominator = 0;
        for (int i = 0; i < windowCount; i++) {
            double dx = windowX[i] - meanX;
            numerator += dx * (windowY[i] - meanY);
            denominator += dx * dx;
        }
        return denominator == 0 ? Double.NaN : numerator / denominator;
    }

    private void detect(double sendDeltaMs, double nowMs) {
        if (numDeltas < 2) {
            usage = DelayState.NORMAL;
            return;
        }
        modifiedTrend = Math.min(numDeltas, MIN_NUM_DELTAS) * trend * THRESHOLD_GAIN;
        if (modifiedTrend > thresholdMs) {
            if (timeOverUsingMs == -1) {
                // First over-signal: assume it began half a group ago.
                timeOverUsingMs = sendDeltaMs / 2;
            } else {
                timeOverUsingMs += sendDeltaMs;
            }
            overuseCounter++;
            if (timeOverUsingMs > OVERUSING_TIME_THRESHOLD_MS && overuseCounter > 1 && trend >= previousTrend) {
                timeOverUsingMs = 0;
                overuseCounter = 0;
                usage = DelayState.OVERUSING;
            }
        } else if (modifiedTrend < -thresholdMs) {
            timeOverUsingMs = -1;
            overuseCounter = 0;
            usage = DelayState.UNDERUSING;
        } else {
            timeOverUsingMs = -1;
            overuseCounter = 0;
            usage = DelayState.NORMAL;
        }
        previousTrend = trend;
        adaptThreshold(nowMs);
    }

    private void adaptThreshold(double nowMs) {
        if (Double.isNaN(lastThresholdUpdateMs)) {
            lastThresholdUpdateMs = nowMs;
        }
        double magnitude = Math.abs(modifiedTrend);
        if (magnitude > thresholdMs + MAX_ADAPT_OFFSET_MS) {
            lastThresholdUpdateMs = nowMs;
            return;
        }
        double k = magnitude < thresholdMs ? K_DOWN : K_UP;
        double timeDeltaMs = Math.max(0, Math.min(nowMs - lastThresholdUpdateMs, MAX_ADAPT_TIME_DELTA_MS));
        thresholdMs += k * (magnitude - thresholdMs) * timeDeltaMs;
        thresholdMs = Math.max(MIN_THRESHOLD_MS, Math.min(MAX_THRESHOLD_MS, thresholdMs));
        lastThresholdUpdateMs = nowMs;
    }

    DelayState usage() {
        return usage;
    }

    /** The fitted slope of the smoothed accumulated delay (ms of delay per ms). */
    double trend() {
        return trend;
    }

    /** The scaled trend the threshold is compared with, ms. */
    double modifiedTrend() {
        return modifiedTrend;
    }

    double thresholdMs() {
        return thresholdMs;
    }
}
