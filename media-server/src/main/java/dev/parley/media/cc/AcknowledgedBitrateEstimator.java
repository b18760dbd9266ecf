package dev.parley.media.cc;

/**
 * The rate at which the receiver acknowledged receiving packets, from their sizes and arrival times, as
 * libwebrtc's acknowledged-bitrate estimator does: bytes are summed over a window of arrival time (500 ms for the
 * first sample, then 150 ms), and each window's rate is merged into the estimate by a Bayesian update whose
 * sample uncertainty grows with the distance from the current estimate, so one short burst moves it little
 * and a sustained change moves it fast. The GCC draft measures the received rate over a plain 0.5–1 s window;
 * the Bayesian form follows a real change quicker with less noise.
 */
final class AcknowledgedBitrateEstimator {
    /** Window of the first sample (libwebrtc, 500 ms). */
    static final long INITIAL_WINDOW_US = 500_000;
    /** Window of later samples (libwebrtc, 150 ms). */
    static final long WINDOW_US = 150_000;
    /** Scales a sample's relative distance from the estimate into its uncertainty (libwebrtc, 10). */
    static final double UNCERTAINTY_SCALE = 10.0;
    /** Variance of the first estimate, (kbit/s)² (libwebrtc, 50). */
    static final double INITIAL_VARIANCE = 50.0;
    /** Variance added before each update: how far the true rate may drift per window (libwebrtc, 5). */
    static final double VARIANCE_INCREASE = 5.0;

    /**
     * A packet that arrived up to this long before the latest one counted (its report came late) is counted now;
     * further back, the receiver's clock jumped and the window starts over.
     */
    static final long REORDER_TOLERANCE_US = 1_000_000;

    private double estimateKbps = -1;
    private double variance = INITIAL_VARIANCE;
    private long previousArrivalUs = Long.MIN_VALUE;
    private long windowElapsedUs;
    private long windowBytes;

    /** Adds one received packet, in arrival order. */
    void onPacket(long arrivalTimeUs, int sizeBytes) {
        long window = estimateKbps < 0 ? INITIAL_WINDOW_US : WINDOW_US;
        double sampleKbps = closeWindow(arrivalTimeUs, sizeBytes, window);
        if (sampleKbps < 0) {
            return;
        }
        if (estimateKbps < 0) {
            estimateKbps = sampleKbps;
            return;
        }
        double sampleUncertainty = UNCERTAINTY_SCALE * Math.abs(estimateKbps - sampleKbps) / estimateKbps;
        double sampleVariance = sampleUncertainty * sampleUncertainty;
        double predictedVariance = variance + VARIANCE_INCREASE;
        estimateKbps = (sampleVariance * estimateKbps + predictedVariance * sampleKbps)
                / (sampleVariance + predictedVariance);
        estimateKbps = Math.max(estimateKbps, 0);
        variance = sampleVariance * predictedVariance / (sampleVariance + predictedVariance);
    }

    /** Accumulates the packet; returns a window's rate in kbit/s when one completed, else -1. */
    private double closeWindow(long arrivalTimeUs, int sizeBytes, long windowUs) {
        if (previousArrivalUs != Long.MIN_VALUE && arrivalTimeUs < previousArrivalUs) {
            if (previousArrivalUs - arrivalTimeUs <= REORDER_TOLERANCE_US) {
                // From a report that came late: its bytes still arrived, count them in the current window.
                arrivalTimeUs = previousArrivalUs;
            } else {
                // The receiver's clock went back: start the window over.
                previousArrivalUs = Long.MIN_VALUE;
                windowBytes = 0;
                windowElapsedUs = 0;
            }
        }
        if (previousArrivalUs != Long.MIN_VALUE) {
            long gap = arrivalTimeUs - previousArrivalUs;
            windowElapsedUs += gap;
            if (gap > windowUs) {
                // Nothing arrived for a whole window: what came before belongs to no window.
                windowBytes = 0;
                windowElapsedUs %= windowUs;
            }
        }
        previousArrivalUs = arrivalTimeUs;
        double sampleKbps = -1;
        if (windowElapsedUs >= windowUs) {
            sampleKbps = windowBytes * 8.0 / (windowUs / 1000.0);
            windowElapsedUs -= windowUs;
            windowBytes = 0;
        }
        windowBytes += sizeBytes;
        return sampleKbps;
    }

    /** The acknowledged rate, bit/s, or 0 while none is known. */
    long bps() {
        return estimateKbps < 0 ? 0 : Math.round(estimateKbps * 1000);
    }
}
