package dev.parley.media.cc;

import dev.parley.media.cc.BandwidthEstimate.DelayState;
import java.util.Arrays;

/**
 * One receiver's send-side bandwidth estimate, from the transport feedback it returns
 * (draft-ietf-rmcat-gcc-02 as libwebrtc implements it): a delay-based rate (packet groups → trendline → AIMD), a
 * loss-based rate, and the acknowledged rate that anchors every decrease. The estimate is the smaller of the two
 * rates, clamped to the configured bounds.
 *
 * <p>Single-threaded and deterministic: every call carries the time, nothing reads a clock. Reading a report
 * allocates nothing.
 */
public final class SendSideEstimator {
    /**
     * Sequence numbers remembered to recognise a packet reported twice (duplicate or overlapping reports) and a
     * lost packet reported received later. Larger than the packets in flight at the highest rate over a few
     * seconds.
     */
    static final int SEQUENCE_HISTORY = 1 << 14;
    /** Most packets one report may hold. */
    static final int MAX_PACKETS_PER_REPORT = 1 << 14;
    /** Largest packet size accepted, bytes. */
    static final int MAX_PACKET_BYTES = 65_535;
    /**
     * The estimate never falls below this share of the acknowledged rate: what got through got through. It is the
     * share a delay-based decrease keeps ({@link AimdRateControl#BETA}), so a decrease can still drain the queue.
     */
    static final double ACKED_FLOOR = AimdRateControl.BETA;
    /** Longest RTT taken into account, ms; longer values are clamped. */
    static final long MAX_RTT_MS = 10_000;
    /**
     * Sending less than this share of the estimate makes the link application-limited (when it also delivers what
     * is sent, {@link #DELIVERED_SHARE}, with little loss): what the receiver acknowledges is then the server's own
     * choice of what to send, not the link's capacity.
     */
    static final double APPLICATION_LIMITED_SHARE = 0.5;
    /**
     * The link delivers what is sent while packets arrive at least this share as fast as they were sent: measured on
     * the same packets (each report's received packets, their send span against their arrival span), so a receiver
     * that stalls and then reads a burst does not look slower than it is, as a windowed acknowledged rate would.
     */
    static final double DELIVERED_SHARE = 0.8;
    /** Weight kept by the span sums at each report: they follow the last few reports (a few hundred ms). */
    static final double SPAN_MEMORY = 0.8;
    /** A report's spans count only up to this long, µs: a report covering more (late, or gaps) says little. */
    static final long MAX_REPORT_SPAN_US = 1_000_000;
    /**
     * A probe cluster the link carried at its rate raises the estimate only once the next cluster, judged within this
     * long, confirms it (µs): a link with a burst allowance carries a small cluster whatever its rate, and the
     * estimate would jump above what it carries for as long as media takes to overfill it.
     */
    static final long PROBE_CONFIRM_WINDOW_US = 2_000_000;
    /** The next cluster confirms a carried one when its verdict is at least this share of it. */
    static final double PROBE_CONFIRM_SHARE = 0.9;
    /**
     * A carried cluster becomes a candidate only this far above the estimate (and above what it confirms): the
     * cluster that confirms one runs at its rate and comes out a little above it, and a new candidate of a few % would
     * only start another round of confirming.
     */
    static final double PROBE_CANDIDATE_GAIN = 1.1;
    /**
     * A probe's raise that the link contradicts within this long (µs), the estimate falling under
     * {@link #PROBE_CONTRADICTED_SHARE} of it on overuse or loss, was wrong: probe verdicts are then held to what the
     * link was delivering when it fell, for {@link #PROBE_CEILING_US}; a verdict at least {@link #PROBE_CEILING_ESCAPE}
     * times the ceiling is a link that changed, and passes. Otherwise every probe would repeat the raise, the
     * allocation would resume a video, and the link would overflow again.
     */
    static final long PROBE_TRUST_US = 5_000_000;
    static final double PROBE_CONTRADICTED_SHARE = 0.8;
    static final long PROBE_CEILING_US = 20_000_000;
    static final double PROBE_CEILING_ESCAPE = 2.0;
    /**
     * Media sent this long after a probe cluster (µs) waits behind what the cluster queued, if the link could not
     * carry it: left out of the delay trend like the cluster itself, or each probe of a narrow link would read as
     * overuse and cut the estimate.
     */
    static final long PROBE_DRAIN_US = 200_000;

    private static final byte UNSEEN = 0;
    private static final byte SEEN_LOST = 1;
    private static final byte SEEN_RECEIVED = 2;

    private final long minBps;
    private final long maxBps;
    private final InterArrival interArrival = new InterArrival();
    private final TrendlineEstimator trendline = new TrendlineEstimator();
    private final AcknowledgedBitrateEstimator acked = new AcknowledgedBitrateEstimator();
    /**
     * The acknowledged rate without probe clusters: the estimate's floor. A cluster that fits in a burst allowance
     * gets through at its rate without the link carrying that rate, and would lift the floor past its verdict.
     */
    private final AcknowledgedBitrateEstimator ackedMedia = new AcknowledgedBitrateEstimator();
    /**
     * The rate packets were sent at, over the reported packets (lost ones too; probe clusters left out), by send
     * time.
     */
    private final AcknowledgedBitrateEstimator sent = new AcknowledgedBitrateEstimator();
    private final AimdRateControl aimd;
    private final LossBasedEstimator lossBased;
    private final ProbeMeasurement probe = new ProbeMeasurement();

    private final long[] historySequence = new long[SEQUENCE_HISTORY];
    private final byte[] historyStatus = new byte[SEQUENCE_HISTORY];
    private long highestSequence = -1;
    private int[] order = new int[64];

    private long rttMs = AimdRateControl.DEFAULT_RTT_MS;
    private long estimateBps;
    private boolean applicationLimited;
    /** Recent reports' send spans and arrival spans of their received packets, decayed by {@link #SPAN_MEMORY}. */
    private double sendSpanSum;
    private double arrivalSpanSum;
    private long probeRaises;
    /** A carried cluster's verdict awaiting confirmation by the next, bit/s (0: none), and when it was judged. */
    private long probeCandidateBps;
    private long probeCandidateUs;
    private long probeVerdicts;
    /** The last probe raise, bit/s, and when (µs); 0: none being watched. */
    private long probeRaisedBps;
    private long probeRaisedUs;
    /** What probes may raise the estimate to after a contradicted raise, bit/s, and until when (µs); 0: no limit. */
    private long probeCeilingBps;
    private long probeCeilingUntilUs;
    private long probeContradictions;
    /** Packets after this one sent until {@link #drainUntilUs} follow the last probe cluster (see PROBE_DRAIN_US). */
    private long drainAfterSequence = Long.MAX_VALUE;
    private long drainUntilUs;
    private long ignoredPackets;

    /**
     * @param minBps   the estimate never goes below this (e.g. 30 kbit/s: audio and the lowest video layer)
     * @param maxBps   nor above this (e.g. 20 Mbit/s)
     * @param startBps the estimate before any feedback
     */
    public SendSideEstimator(long minBps, long maxBps, long startBps) {
        if (minBps <= 0 || maxBps < minBps || startBps < minBps || startBps > maxBps) {
            throw new IllegalArgumentException("need 0 < min <= start <= max bit/s, got min " + minBps
                    + ", start " + startBps + ", max " + maxBps);
        }
        this.minBps = minBps;
        this.maxBps = maxBps;
        this.aimd = new AimdRateControl(minBps, maxBps, startBps);
        this.lossBased = new LossBasedEstimator(minBps, maxBps, startBps);
        this.estimateBps = startBps;
        Arrays.fill(historySequence, -1);
    }

    /** The latest round-trip time to this receiver, from RTCP. */
    public void onRtt(long rttMs) {
        if (rttMs < 0) {
            return;
        }
        this.rttMs = Math.min(rttMs, MAX_RTT_MS);
        aimd.onRtt(this.rttMs);
    }

    /**
     * Reads one feedback report. Packets already reported, older than the remembered history, or malformed
     * (negative sequence, size outside 1..65535) are skipped and counted in {@link BandwidthEstimate#ignoredPackets}.
     *
     * @param nowUs the server's clock, microseconds, when the report was received
     * @return the new estimate, bit/s
     */
    public long onFeedback(PacketResults report, long nowUs) {
        int n = Math.min(report.size(), MAX_PACKETS_PER_REPORT);
        ignoredPackets += report.size() - n;
        if (order.length < n) {
            // Grows to the largest report seen, once.
            order = new int[Math.max(n, order.length * 2)];
        }
        int received = 0;
        int reported = 0;
        int reportedLost = 0;
        int recovered = 0;
        for (int i = 0; i < n; i++) {
            long seq = report.sequence(i);
            int size = report.sizeBytes(i);
            if (seq < 0 || size <= 0 || size > MAX_PACKET_BYTES
                    || (highestSequence >= 0 && seq <= highestSequence - SEQUENCE_HISTORY)) {
                ignoredPackets++;
                continue;
            }
            int slot = (int) (seq & (SEQUENCE_HISTORY - 1));
            byte status = historySequence[slot] == seq ? historyStatus[slot] : UNSEEN;
            boolean lost = report.isLost(i);
            if (status == SEEN_RECEIVED || (lost && status == SEEN_LOST)) {
                ignoredPackets++;
                continue;
            }
            historySequence[slot] = seq;
            historyStatus[slot] = lost ? SEEN_LOST : SEEN_RECEIVED;
            boolean probing = probe.covers(seq);
            if (status == UNSEEN) {
                if (!probing) {
                    // What the server chose to send; a probe cluster is sent on purpose above it.
                    sent.onPacket(report.sendTimeUs(i), size);
                }
                probe.onPacket(seq, report.sendTimeUs(i), size, lost ? 0 : report.arrivalTimeUs(i), lost);
            }
            highestSequence = Math.max(highestSequence, seq);
            // A cluster the link could not carry may overflow its queue: that loss is the probe's verdict, not the
            // media's.
            if (!probing && status == SEEN_LOST) {
                recovered++;
            } else if (!probing) {
                reported++;
                if (lost) {
                    reportedLost++;
                }
            }
            if (!lost) {
                order[received++] = i;
            }
        }
        sortByArrival(report, received);
        long firstSendUs = Long.MAX_VALUE;
        long lastSendUs = Long.MIN_VALUE;
        long firstArrivalUs = Long.MAX_VALUE;
        long lastArrivalUs = Long.MIN_VALUE;
        int spanned = 0;
        for (int k = 0; k < received; k++) {
            int i = order[k];
            long arrivalUs = report.arrivalTimeUs(i);
            boolean probing = probe.covers(report.sequence(i));
            if (!probing) {
                // A probe cluster queues on purpose: what the link does with it is the probe's verdict, and neither
                // the spans nor the delay trend count it (a cluster the link could not carry would read as overuse).
                firstSendUs = Math.min(firstSendUs, report.sendTimeUs(i));
                lastSendUs = Math.max(lastSendUs, report.sendTimeUs(i));
                firstArrivalUs = Math.min(firstArrivalUs, arrivalUs);
                lastArrivalUs = Math.max(lastArrivalUs, arrivalUs);
                spanned++;
            }
            int size = report.sizeBytes(i);
            acked.onPacket(arrivalUs, size);
            if (!probing) {
                ackedMedia.onPacket(arrivalUs, size);
            }
            boolean draining = report.sequence(i) > drainAfterSequence && report.sendTimeUs(i) <= drainUntilUs;
            if (!probing && !draining && interArrival.onPacket(report.sendTimeUs(i), arrivalUs, nowUs, size)) {
                trendline.update(interArrival.arrivalDeltaUs() / 1000.0, interArrival.sendDeltaUs() / 1000.0,
                        arrivalUs / 1000.0);
            }
        }
        if (spanned >= 2) {
            long sendSpan = lastSendUs - firstSendUs;
            long arrivalSpan = lastArrivalUs - firstArrivalUs;
            if (sendSpan > 0 && sendSpan <= MAX_REPORT_SPAN_US) {
                sendSpanSum = sendSpanSum * SPAN_MEMORY + sendSpan;
                arrivalSpanSum = arrivalSpanSum * SPAN_MEMORY + Math.min(Math.max(arrivalSpan, 0), MAX_REPORT_SPAN_US);
            }
        }
        long ackedBps = acked.bps();
        long sentBps = sent.bps();
        boolean delivered = sendSpanSum > 0 && sendSpanSum >= DELIVERED_SHARE * arrivalSpanSum
                && reportedLost * 10L <= reported && lossBased.lossFraction() <= LossBasedEstimator.HIGH_LOSS;
        applicationLimited = sentBps > 0 && sentBps < APPLICATION_LIMITED_SHARE * estimateBps && delivered;
        long delayBased = received > 0
                ? aimd.update(trendline.usage(), ackedBps, applicationLimited, nowUs)
                : aimd.bps();
        lossBased.onReport(reported, reportedLost, recovered, nowUs, rttMs);
        long floor = Math.round(ACKED_FLOOR * ackedMedia.bps());
        estimateBps = Math.max(minBps, Math.min(maxBps, Math.max(Math.min(delayBased, lossBased.bps()), floor)));
        watchProbeRaise(ackedBps, nowUs);
        long verdict = probe.finish(nowUs);
        if (verdict > 0) {
            onProbeVerdict(verdict, probe.carried(), nowUs);
        }
        lossBased.capTo(estimateBps);
        return estimateBps;
    }

    /**
     * Takes a probe cluster's verdict. A cluster the link queued measured what it carries: a verdict above the
     * estimate raises it at once. A cluster it carried at its rate proves less (a burst allowance lets a small one
     * through whatever the rate), so its verdict waits as a candidate: the next cluster, sent at its rate for longer,
     * confirms it (the estimate then rises to it) or shows what the link really carries. Nothing is raised while the
     * delay says the link is overused.
     */
    private void onProbeVerdict(long verdict, boolean carried, long nowUs) {
        probeVerdicts++;
        if (trendline.usage() == DelayState.OVERUSING) {
            probeCandidateBps = 0;
            return;
        }
        long raise = 0;
        if (probeCandidateBps > 0 && nowUs - probeCandidateUs <= PROBE_CONFIRM_WINDOW_US
                && verdict >= PROBE_CONFIRM_SHARE * probeCandidateBps) {
            raise = probeCandidateBps;
        }
        if (!carried) {
            raise = Math.max(raise, verdict);
        }
        probeCandidateBps = carried && verdict > PROBE_CANDIDATE_GAIN * Math.max(estimateBps, raise) ? verdict : 0;
        probeCandidateUs = nowUs;
        if (probeCeilingBps > 0 && raise < PROBE_CEILING_ESCAPE * probeCeilingBps) {
            raise = Math.min(raise, probeCeilingBps);
        }
        if (raise > estimateBps) {
            aimd.raiseTo(raise);
            lossBased.raiseTo(raise);
            estimateBps = Math.max(minBps, Math.min(maxBps, raise));
            probeRaises++;
            probeRaisedBps = estimateBps;
            probeRaisedUs = nowUs;
        }
    }

    /**
     * Watches the last probe raise for {@link #PROBE_TRUST_US}: an estimate that falls well under it meanwhile sets
     * the probes' ceiling to what the link was delivering, for {@link #PROBE_CEILING_US}.
     */
    private void watchProbeRaise(long ackedBps, long nowUs) {
        if (probeCeilingBps > 0 && nowUs - probeCeilingUntilUs >= 0) {
            probeCeilingBps = 0;
        }
        if (probeRaisedBps == 0) {
            return;
        }
        if (nowUs - probeRaisedUs > PROBE_TRUST_US) {
            probeRaisedBps = 0;
        } else if (estimateBps < PROBE_CONTRADICTED_SHARE * probeRaisedBps) {
            probeCeilingBps = Math.max(estimateBps, Math.min(ackedBps, probeRaisedBps));
            probeCeilingUntilUs = nowUs + PROBE_CEILING_US;
            probeRaisedBps = 0;
            probeContradictions++;
        }
    }

    /** How many probe raises the link contradicted so far (see {@link #PROBE_TRUST_US}). */
    public long probeContradictions() {
        return probeContradictions;
    }

    /** What probes may raise the estimate to now, bit/s; 0: no limit. */
    public long probeCeilingBps() {
        return probeCeilingBps;
    }

    /**
     * The verdict of a carried probe cluster awaiting the next cluster's confirmation, bit/s (0: none): the next
     * cluster should be sent at this rate, long enough to spend any burst allowance.
     */
    public long probeCandidateBps() {
        return probeCandidateBps;
    }

    /** How many probe clusters gave a verdict so far. */
    public long probeVerdicts() {
        return probeVerdicts;
    }

    /** Whether the last judged probe cluster was carried at its rate (see {@link ProbeMeasurement#carried}). */
    public boolean lastProbeCarried() {
        return probe.carried();
    }

    /**
     * The sender paced out packets {@code first..last} (unwrapped transport-wide numbers, media and padding) faster
     * than the estimate, ending at {@code nowUs}: the feedback that reports them says whether the link carries that
     * rate, and the estimate jumps to it if it does. A cluster still being measured is given up for the new one.
     */
    public void onProbeSent(long first, long last, long nowUs) {
        if (first >= 0 && last >= first) {
            probe.end(first, last, nowUs);
            drainAfterSequence = last;
            drainUntilUs = nowUs + PROBE_DRAIN_US;
        }
    }

    /**
     * The sender began a probe cluster at packet {@code first} (unwrapped transport-wide number): reports of its
     * first packets may come while it is still being sent, and count toward it. {@link #onProbeSent} ends it.
     */
    public void onProbeStarted(long first) {
        if (first >= 0) {
            probe.begin(first);
        }
    }

    /** How many probe clusters raised the estimate so far: each is a link shown to carry more than believed. */
    public long probeRaises() {
        return probeRaises;
    }

    /** The last probe cluster's verdict, bit/s (0: none yet). */
    public long probeResultBps() {
        return probe.resultBps();
    }

    /**
     * Puts the received packets' indices in arrival order (then sequence order). Reports are nearly sorted, so an
     * insertion sort does it in about one pass; one that needs more than a few shifts a packet (arrival times out
     * of order on purpose, say) is heap-sorted instead, so no report costs more than n log n.
     */
    private void sortByArrival(PacketResults report, int count) {
        long budget = 8L * count;
        for (int k = 1; k < count; k++) {
            int index = order[k];
            int j = k - 1;
            while (j >= 0 && arrivesAfter(report, order[j], index)) {
                order[j + 1] = order[j];
                j--;
                if (--budget < 0) {
                    order[j + 1] = index;
                    heapSort(report, count);
                    return;
                }
            }
            order[j + 1] = index;
        }
    }

    private void heapSort(PacketResults report, int count) {
        for (int root = count / 2 - 1; root >= 0; root--) {
            siftDown(report, root, count);
        }
        for (int end = count - 1; end > 0; end--) {
            int top = order[0];
            order[0] = order[end];
            order[end] = top;
            siftDown(report, 0, end);
        }
    }

    private void siftDown(PacketResults report, int root, int count) {
        while (true) {
            int child = 2 * root + 1;
            if (child >= count) {
                return;
            }
            if (child + 1 < count && arrivesAfter(report, order[child + 1], order[child])) {
                child++;
            }
            if (!arrivesAfter(report, order[child], order[root])) {
                return;
            }
            int swap = order[root];
            order[root] = order[child];
            order[child] = swap;
            root = child;
        }
    }

    /** Whether packet {@code a} of the report comes after packet {@code b} in arrival, then sequence, order. */
    private static boolean arrivesAfter(PacketResults report, int a, int b) {
        long arrivalA = report.arrivalTimeUs(a);
        long arrivalB = report.arrivalTimeUs(b);
        return arrivalA > arrivalB || (arrivalA == arrivalB && report.sequence(a) > report.sequence(b));
    }

    public long estimateBps() {
        return estimateBps;
    }

    public BandwidthEstimate state() {
        return new BandwidthEstimate(estimateBps, aimd.bps(), lossBased.bps(), acked.bps(), sent.bps(),
                applicationLimited, trendline.usage(), lossBased.lossFraction(), trendline.thresholdMs(),
                ignoredPackets);
    }

    DelayState delayState() {
        return trendline.usage();
    }
}
