package dev.parley.media.api;

/**
 * The server's send-side estimate of what a subscriber's downlink carries, from the transport feedback it returns
 * (subscribers that negotiated transport-cc only), and how it was shared among the videos the subscriber gets (each
 * video's layer and why: {@link VideoForwardStats#reason()}).
 *
 * @param estimateBps   the estimate, bit/s: min(delay-based, loss-based), never under 0.85 × acknowledged; 0 until
 *                      the first feedback is read
 * @param delayBasedBps the delay-based (trendline and AIMD) rate
 * @param lossBasedBps  the loss-based rate
 * @param ackedBps      what the subscriber acknowledged receiving lately
 * @param sentBps       what was sent to it lately (the packets its feedback reported, lost ones included, probe
 *                      clusters left out)
 * @param applicationLimited the server sends well under the estimate and all of it arrives: a delay signal then
 *                      holds the estimate rather than cutting it to what the server chose to send
 * @param delayState    what the delay says about the bottleneck queue: normal, overusing or underusing; null before
 *                      the first feedback
 * @param lossFraction  the share of packets the feedback reported lost, 0..1
 * @param reports       transport feedback packets read so far
 * @param budgetBps     what the last allocation shared among the videos (the estimate less a margin and the audio),
 *                      bit/s; -1 before the first feedback or with estimation turned off
 * @param allocatedBps  what the chosen layers need of it, bit/s; -1 likewise
 * @param linkLimited   the downlink limits the subscriber: some video it shows comes lower than its tile asks for,
 *                      or is paused
 * @param probes        probe clusters sent to find out whether the downlink carries more
 * @param probeResultBps what the last probe cluster found the downlink carries, bit/s (0: none yet)
 * @param probeCeilingBps what probes may raise the estimate to for now, after the downlink contradicted a probe's
 *                      raise, bit/s (0: no limit)
 * @param pacingBps     the rate the subscriber's video is paced to, bit/s (0: not paced yet)
 * @param pacerQueuedPackets video packets waiting in the pacer now
 * @param pacerDelayedPackets video packets that waited in the pacer so far (instead of leaving at once)
 */
public record ReceiveEstimate(long estimateBps, long delayBasedBps, long lossBasedBps, long ackedBps,
                              long sentBps, boolean applicationLimited, String delayState, double lossFraction,
                              long reports, long budgetBps, long allocatedBps, boolean linkLimited, long probes,
                              long probeResultBps, long probeCeilingBps, long pacingBps, int pacerQueuedPackets,
                              long pacerDelayedPackets) {
}
