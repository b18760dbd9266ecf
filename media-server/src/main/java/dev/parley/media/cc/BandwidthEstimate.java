package dev.parley.media.cc;

/**
 * What a receiver's send-side estimator currently believes, for statistics and allocation.
 *
 * @param estimateBps     the rate the receiver's link is believed to carry: min(delay-based, loss-based), clamped
 * @param delayBasedBps   the AIMD rate controller's rate
 * @param lossBasedBps    the loss-based controller's rate
 * @param ackedBps        what the receiver acknowledged receiving lately, 0 before it is known
 * @param sentBps         what was sent to it lately (the reported packets, lost ones included, probe clusters left
 *                        out), 0 before it is known
 * @param applicationLimited the server sends well under the estimate and the link delivers it all: the acknowledged
 *                        rate is the server's choice, and a delay signal does not cut the estimate to it
 * @param delayState      what the trendline says about the bottleneck queue
 * @param lossFraction    the loss fraction last computed, 0..1
 * @param thresholdMs     the adaptive overuse threshold
 * @param ignoredPackets  packets skipped so far as duplicate, too old or malformed
 */
public record BandwidthEstimate(
        long estimateBps,
        long delayBasedBps,
        long lossBasedBps,
        long ackedBps,
        long sentBps,
        boolean applicationLimited,
        DelayState delayState,
        double lossFraction,
        double thresholdMs,
        long ignoredPackets) {

    /** What the delay says about the bottleneck queue. */
    public enum DelayState {
        /** The queue is steady: the rate may grow. */
        NORMAL,
        /** The queue is growing: the rate must come down. */
        OVERUSING,
        /** The queue is draining: hold the rate until it has drained. */
        UNDERUSING
    }
}
