package dev.parley.media.api;

/**
 * The server's send-side estimate of what a subscriber's downlink carries, from the transport feedback it returns
 * (subscribers that negotiated transport-cc only). Shown in the stats; the layers a subscriber gets do not depend on
 * it yet.
 *
 * @param estimateBps   the estimate, bit/s: min(delay-based, loss-based), never under 0.85 × acknowledged; 0 until
 *                      the first feedback is read
 * @param delayBasedBps the delay-based (trendline and AIMD) rate
 * @param lossBasedBps  the loss-based rate
 * @param ackedBps      what the subscriber acknowledged receiving lately
 * @param delayState    what the delay says about the bottleneck queue: normal, overusing or underusing; null before
 *                      the first feedback
 * @param lossFraction  the share of packets the feedback reported lost, 0..1
 * @param reports       transport feedback packets read so far
 */
public record ReceiveEstimate(long estimateBps, long delayBasedBps, long lossBasedBps, long ackedBps,
                              String delayState, double lossFraction, long reports) {
}
