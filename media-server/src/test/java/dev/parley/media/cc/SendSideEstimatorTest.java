package dev.parley.media.cc;

import static dev.parley.media.cc.EstimatorTestLink.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** How the estimator reads reports: duplicates, reordering, lost packets, clocks, malformed input, allocation. */
class SendSideEstimatorTest {
    private static final long MIN = 30_000;
    private static final long MAX = 20_000_000;
    private static final long START = 300_000;
    private static final long CAPACITY = 1_000_000;

    private static EstimatorTestLink bottleneck(long seed) {
        EstimatorTestLink link = new EstimatorTestLink(new SendSideEstimator(MIN, MAX, START), seed);
        link.capacityBps = t -> CAPACITY;
        return link;
    }

    @Test
    void everyReportDeliveredTwiceGivesTheSameEstimatesAsOnce() {
        EstimatorTestLink once = bottleneck(11);
        once.runUntil(40 * SECOND);
        EstimatorTestLink twice = bottleneck(11);
        twice.duplicateFeedback = true;
        twice.runUntil(40 * SECOND);

        assertEquals(once.trace(0, 40 * SECOND), twice.trace(0, 40 * SECOND));
        assertEquals(once.details(0, 40 * SECOND), twice.details(0, 40 * SECOND));
        assertTrue(twice.estimator.state().ignoredPackets() > 1_000,
                "duplicates counted: " + twice.estimator.state().ignoredPackets());
        assertEquals(0, once.estimator.state().ignoredPackets());
    }

    @Test
    void reportsArrivingInSwappedPairsStillConvergeOnTheCapacity() {
        EstimatorTestLink link = bottleneck(12);
        link.reorderFeedback = true;
        link.runUntil(60 * SECOND);

        // The older report of each pair is too late for the delay signal, so overuse is seen later and the cuts are
        // deeper than in order, but the estimate neither collapses nor runs away.
        String trace = link.trace(0, 60 * SECOND);
        long min = link.minEstimate(20 * SECOND, 60 * SECOND);
        long max = link.maxEstimate(20 * SECOND, 60 * SECOND);
        long mean = link.meanEstimate(20 * SECOND, 60 * SECOND);
        assertTrue(min >= CAPACITY * 0.55 && max <= CAPACITY * 1.25 && Math.abs(mean - CAPACITY) <= CAPACITY * 0.2,
                "ranged " + min + ".." + max + ", mean " + mean + ": " + trace);
    }

    @Test
    void theReceiversClockOriginChangesNothing() {
        long[] origins = {0, -5_000_000_000_000L, 4_000_000_000_000_000L};
        String first = null;
        for (long origin : origins) {
            EstimatorTestLink link = bottleneck(13);
            link.jitterUs = 2_000;
            link.receiverClockOffsetUs = origin;
            link.runUntil(30 * SECOND);
            String details = link.details(0, 30 * SECOND);
            if (first == null) {
                first = details;
            } else {
                assertEquals(first, details, "receiver clock origin " + origin);
            }
        }
    }

    @Test
    void videoFramesSentAsBurstsAreGroupedAndNotTakenForQueueing() {
        EstimatorTestLink link = new EstimatorTestLink(new SendSideEstimator(MIN, MAX, START), 14);
        link.burstPackets = 4;
        link.runUntil(40 * SECOND);
        String trace = link.trace(0, 40 * SECOND);
        assertEquals(0, link.overuseReports(), "overuse from bursts on an unconstrained link: " + trace);
        assertTrue(link.firstTimeAtOrAbove(START * 6, 0) >= 0, "did not grow: " + trace);

        EstimatorTestLink limited = bottleneck(15);
        limited.burstPackets = 4;
        limited.runUntil(60 * SECOND);
        String limitedTrace = limited.trace(0, 60 * SECOND);
        long min = limited.minEstimate(20 * SECOND, 60 * SECOND);
        long max = limited.maxEstimate(20 * SECOND, 60 * SECOND);
        assertTrue(min >= CAPACITY * 0.75 && max <= CAPACITY * 1.25, "ranged " + min + ".." + max + ": "
                + limitedTrace);
    }

    @Test
    void aPacketReportedLostAndLaterReceivedCountsAsReceived() {
        assertEquals(0.0, lossAfterReports(true), 1e-9);
        assertEquals(0.1, lossAfterReports(false), 1e-9);
    }

    /** 100 packets, 10 of them first reported lost; optionally reported received in the next report. */
    private static double lossAfterReports(boolean reReport) {
        SendSideEstimator estimator = new SendSideEstimator(MIN, MAX, START);
        PacketResults report = new PacketResults(128);
        long arrivalBase = 987_654_321;
        for (int seq = 0; seq < 50; seq++) {
            if (seq >= 40) {
                report.addLost(seq, seq * 10_000L, 1_000);
            } else {
                report.add(seq, seq * 10_000L, 1_000, arrivalBase + seq * 10_000L + 30_000);
            }
        }
        estimator.onFeedback(report, 600_000);
        report.clear();
        for (int seq = reReport ? 40 : 50; seq < 100; seq++) {
            report.add(seq, seq * 10_000L, 1_000, arrivalBase + seq * 10_000L + 30_000);
        }
        estimator.onFeedback(report, 1_700_000);
        assertEquals(0, estimator.state().ignoredPackets());
        return estimator.state().lossFraction();
    }

    @Test
    void malformedAndTooOldPacketsAreSkippedAndCounted() {
        SendSideEstimator estimator = new SendSideEstimator(MIN, MAX, START);
        PacketResults report = new PacketResults(16);
        report.add(SendSideEstimator.SEQUENCE_HISTORY + 10, 0, 1_000, 5_000);
        report.add(-1, 1_000, 1_000, 6_000);
        report.add(SendSideEstimator.SEQUENCE_HISTORY + 11, 2_000, 0, 7_000);
        report.add(SendSideEstimator.SEQUENCE_HISTORY + 12, 3_000, 70_000, 8_000);
        report.add(5, 4_000, 1_000, 9_000);
        long estimate = estimator.onFeedback(report, 100_000);

        assertEquals(START, estimate);
        assertEquals(4, estimator.state().ignoredPackets());

        PacketResults small = new PacketResults(2);
        small.add(1, 0, 100, 0);
        small.add(2, 0, 100, 0);
        assertEquals(false, small.add(3, 0, 100, 0));
        assertEquals(1, small.overflowed());
    }

    @Test
    void aReportInAnyArrivalOrderIsReadInArrivalOrderAndCheaply() {
        // The same 2 000 packets, arriving 1 ms apart with a queue building up, reported in order, reversed and
        // shuffled: the order they are read in is the arrival order each time, so the estimates agree.
        int packets = 2_000;
        long[] estimates = new long[3];
        String[] states = new String[3];
        for (int variant = 0; variant < 3; variant++) {
            SendSideEstimator estimator = new SendSideEstimator(MIN, MAX, 3_000_000);
            PacketResults report = new PacketResults(packets);
            int[] permutation = new int[packets];
            for (int i = 0; i < packets; i++) {
                permutation[i] = variant == 1 ? packets - 1 - i : i;
            }
            if (variant == 2) {
                java.util.Random random = new java.util.Random(3);
                for (int i = packets - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    int swap = permutation[i];
                    permutation[i] = permutation[j];
                    permutation[j] = swap;
                }
            }
            for (int i : permutation) {
                long send = i * 1_000L;
                report.add(i, send, 1_200, 42_000_000 + send + 20_000 + i * 100L);
            }
            long started = System.nanoTime();
            estimates[variant] = estimator.onFeedback(report, 2_100_000);
            long tookUs = (System.nanoTime() - started) / 1_000;
            assertTrue(tookUs < 200_000, "variant " + variant + " took " + tookUs + " µs");
            BandwidthEstimate state = estimator.state();
            states[variant] = state.delayState() + " acked " + state.ackedBps();
        }
        assertEquals(BandwidthEstimate.DelayState.OVERUSING.name(), states[0].split(" ")[0], states[0]);
        assertEquals(states[0], states[1]);
        assertEquals(states[0], states[2]);
        assertEquals(estimates[0], estimates[1]);
        assertEquals(estimates[0], estimates[2]);
    }

    @Test
    void boundsThatCannotHoldAreRefusedWithTheirValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SendSideEstimator(500_000, 100_000, 300_000));
        assertTrue(e.getMessage().contains("min 500000") && e.getMessage().contains("max 100000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SendSideEstimator(0, 100_000, 50_000));
        assertThrows(IllegalArgumentException.class, () -> new PacketResults(0));
    }

    @Test
    void readingReportsAllocatesNothing() {
        SendSideEstimator estimator = new SendSideEstimator(MIN, MAX, START);
        PacketResults report = new PacketResults(64);
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] seq = {0};
        feedReports(estimator, report, seq, 20_000);
        long before = threads.getCurrentThreadAllocatedBytes();
        feedReports(estimator, report, seq, 20_000);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertTrue(allocated < 1024, allocated + " bytes allocated for 20 000 reports of 50 packets");
    }

    @Test
    void aProbeClusterTheLinkCarriedRaisesTheEstimateOnceTheNextConfirmsIt() {
        SendSideEstimator estimator = new SendSideEstimator(30_000, 20_000_000, 500_000);
        PacketResults report = new PacketResults(256);
        long[] at = {1000, 0};
        steadyTwoSeconds(estimator, report, at);
        long before = estimator.estimateBps();
        assertTrue(before < 800_000, "no reason yet to think the link carries more: " + before);

        // A cluster paced at 2.4 Mbit/s (one packet every 4 ms for 100 ms), carried as sent: a candidate only.
        cluster(estimator, report, at, 25, 4_000, i -> 4_000);
        assertEquals(2_400_000, estimator.probeResultBps());
        assertEquals(2_400_000, estimator.probeCandidateBps(), "awaits confirmation");
        assertEquals(before, estimator.estimateBps(), "no raise on one carried cluster");

        // The next, at 4.8 Mbit/s, carried too: the first is confirmed, the second is the new candidate.
        cluster(estimator, report, at, 25, 2_000, i -> 2_000);
        assertEquals(2_400_000, estimator.estimateBps(), "the estimate takes the confirmed rate");
        assertEquals(4_800_000, estimator.probeCandidateBps());
        assertEquals(1, estimator.probeRaises());

        // A cluster the link spread out to 600 kbit/s gives no raise above what the estimate already is.
        long estimate = estimator.estimateBps();
        cluster(estimator, report, at, 25, 4_000, i -> 16_000);
        assertEquals(570_000, estimator.probeResultBps(), "95 % of what the link delivered");
        assertTrue(estimator.estimateBps() <= estimate, "no raise: " + estimator.estimateBps());
        assertEquals(0, estimator.probeCandidateBps(), "nothing left to confirm");
    }

    @Test
    void aConfirmingClusterAtTheCandidatesRateRaisesTheEstimateAndLeavesNoNewCandidate() {
        SendSideEstimator estimator = new SendSideEstimator(30_000, 20_000_000, 500_000);
        PacketResults report = new PacketResults(256);
        long[] at = {1000, 0};
        steadyTwoSeconds(estimator, report, at);

        // 2.4 Mbit/s carried: a candidate. The confirming cluster at its rate (media and padding land a little above
        // it: 2.53 Mbit/s) is carried too: the estimate takes the candidate, and 5 % more is no new candidate, so the
        // next probe may climb at once instead of confirming again.
        cluster(estimator, report, at, 25, 4_000, i -> 4_000);
        assertEquals(2_400_000, estimator.probeCandidateBps());
        cluster(estimator, report, at, 75, 3_800, i -> 3_800);
        assertEquals(2_400_000, estimator.estimateBps(), "confirmed");
        assertEquals(0, estimator.probeCandidateBps(), "a few % above the raise is not worth confirming");
        assertEquals(1, estimator.probeRaises());
    }

    @Test
    void aClusterThatFitsABurstAllowanceIsNotTakenForTheLinksRate() {
        // An 800 kbit/s link with a 16 KiB burst allowance (a token bucket): a 100 ms cluster at 1.2 Mbit/s (15 KB)
        // passes as sent; the next, at 2.4 Mbit/s (30 KB), passes as sent until the allowance is spent, then queues
        // and arrives at 800 kbit/s.
        SendSideEstimator estimator = new SendSideEstimator(30_000, 20_000_000, 500_000);
        PacketResults report = new PacketResults(256);
        long[] at = {1000, 0};
        steadyTwoSeconds(estimator, report, at);
        long before = estimator.estimateBps();

        cluster(estimator, report, at, 13, 8_000, i -> 8_000);
        assertEquals(before, estimator.estimateBps(), "one carried cluster proves nothing yet");
        // 1200-byte packets every 4 ms; the first 12 pass at once, the rest leave every 12 ms (800 kbit/s).
        cluster(estimator, report, at, 25, 4_000, i -> i < 12 ? 4_000 : 12_000);
        long verdict = estimator.probeResultBps();
        assertTrue(verdict >= 700_000 && verdict <= 800_000, "the queued part measures the link: " + verdict);
        assertEquals(Math.max(before, verdict), estimator.estimateBps(),
                "the estimate goes no higher than what the link carried, not to the first cluster's 1.2 Mbit/s");
        assertEquals(0, estimator.probeCandidateBps());
    }

    @Test
    void aProbeRaiseTheLinkContradictsHoldsLaterProbesToWhatItDelivered() {
        SendSideEstimator estimator = new SendSideEstimator(30_000, 20_000_000, 500_000);
        PacketResults report = new PacketResults(256);
        long[] at = {1000, 0};
        steadyTwoSeconds(estimator, report, at);
        cluster(estimator, report, at, 25, 4_000, i -> 4_000);
        cluster(estimator, report, at, 25, 2_000, i -> 2_000);
        assertEquals(2_400_000, estimator.estimateBps(), "raised by a confirmed probe");

        // Then the link says otherwise: the 480 kbit/s sent arrive at 320 (a queue growing 10 ms every 20 ms).
        long delay = 30_000;
        for (int r = 0; r < 20; r++) {
            report.clear();
            for (int i = 0; i < 3; i++, at[0]++, at[1] += 20_000, delay += 10_000) {
                report.add(at[0], at[1], 1_200, 9_000_000 + at[1] + delay);
            }
            estimator.onFeedback(report, at[1] + delay);
        }
        assertEquals(1, estimator.probeContradictions(), "the raise was contradicted: " + estimator.state());
        long ceiling = estimator.probeCeilingBps();
        assertTrue(ceiling > 200_000 && ceiling < 500_000, "probes held to about what got through: " + ceiling);

        // The queue drains; a probe pair confirming 500 kbit/s raises nothing above the ceiling.
        at[1] += delay;
        steadyTwoSeconds(estimator, report, at);
        long raises = estimator.probeRaises();
        cluster(estimator, report, at, 13, 19_200, i -> 19_200);
        cluster(estimator, report, at, 25, 9_600, i -> 9_600);
        assertTrue(estimator.estimateBps() < 500_000, "not raised to the probes' 500 kbit/s: " + estimator.state());
        assertEquals(raises, estimator.probeRaises());

        // A link shown to carry over twice the ceiling has changed: that raise passes.
        cluster(estimator, report, at, 25, 4_000, i -> 4_000);
        cluster(estimator, report, at, 25, 2_000, i -> 2_000);
        assertEquals(2_400_000, estimator.estimateBps(), "raised again: " + estimator.state());
        assertTrue(estimator.probeRaises() > raises);
    }

    /** Two seconds at about 480 kbit/s (1200-byte packets every 20 ms), arriving as sent. {@code at}: seq, time. */
    private static void steadyTwoSeconds(SendSideEstimator estimator, PacketResults report, long[] at) {
        for (int r = 0; r < 40; r++) {
            report.clear();
            for (int i = 0; i < 3; i++, at[0]++, at[1] += 20_000) {
                report.add(at[0], at[1], 1_200, 9_000_000 + at[1] + 30_000);
            }
            estimator.onFeedback(report, at[1] + 40_000);
        }
    }

    /**
     * A probe cluster of {@code packets} 1200-byte packets sent every {@code sendGapUs}, the i-th arriving
     * {@code arrivalGap.applyAsLong(i)} after the one before, reported at once; then 50 ms of quiet.
     */
    private static void cluster(SendSideEstimator estimator, PacketResults report, long[] at, int packets,
                                long sendGapUs, java.util.function.IntToLongFunction arrivalGap) {
        long first = at[0];
        report.clear();
        long arrival = 9_000_000 + at[1] + 30_000;
        for (int i = 0; i < packets; i++, at[0]++, at[1] += sendGapUs) {
            if (i > 0) {
                arrival += arrivalGap.applyAsLong(i);
            }
            report.add(at[0], at[1], 1_200, arrival);
        }
        estimator.onProbeSent(first, at[0] - 1, at[1]);
        estimator.onFeedback(report, arrival - 9_000_000 + 10_000);
        at[1] += 50_000;
    }

    /** Reports of 50 packets sent 1 ms apart, one lost, arriving with a slowly varying delay. */
    private static void feedReports(SendSideEstimator estimator, PacketResults report, long[] seq, int reports) {
        for (int r = 0; r < reports; r++) {
            report.clear();
            for (int i = 0; i < 50; i++) {
                long s = seq[0]++;
                long send = s * 1_000;
                if (i == 17) {
                    report.addLost(s, send, 1_200);
                } else {
                    report.add(s, send, 1_200, 3_000_000_000L + send + 20_000 + (s % 97) * 30);
                }
            }
            estimator.onFeedback(report, seq[0] * 1_000 + 40_000);
        }
    }

    @Test
    void aDelaySignalWhileSendingWellUnderTheEstimateHoldsItInsteadOfCuttingItToWhatIsSent() {
        // Two seconds at 1.2 Mbit/s, then the server sends only 300 kbit/s (a video moved down), all of it delivered,
        // while every other second the arrivals fall behind by up to 150 ms and catch up: a delay trend, at a rate
        // the link plainly carries. Cutting to 85 % of the 300 kbit/s would make that choice the link's capacity.
        EstimatorTestLink link = new EstimatorTestLink(new SendSideEstimator(MIN, MAX, 1_000_000), 5);
        link.sendRateBps = 1_200_000;
        link.runUntil(2 * SECOND);
        long before = link.estimator.estimateBps();
        link.sendRateBps = 300_000;
        link.extraDelayUs = t -> t < 3 * SECOND ? 0 : (t % (2 * SECOND) < SECOND ? (t % SECOND) * 150 / 1_000 : 0);
        link.runUntil(12 * SECOND);

        assertTrue(link.overuseReports() > 0, "the trend read as overuse: " + link.details(2 * SECOND, 12 * SECOND));
        assertTrue(link.estimator.state().applicationLimited(), "application-limited: " + link.estimator.state());
        assertTrue(link.minEstimate(2 * SECOND, 12 * SECOND) >= 0.8 * before,
                "held near " + before / 1000 + "k: " + link.trace(2 * SECOND, 12 * SECOND) + " / "
                        + link.details(2 * SECOND, 12 * SECOND));
    }

    @Test
    void aBottleneckBelowWhatIsSentStillCutsTheEstimateWhenSendingUnderIt() {
        // The server sends 300 kbit/s against an estimate of 1.5 Mbit/s; after 3 s the link narrows to 150 kbit/s.
        // The receiver then acknowledges less than is sent, which no application limit explains: cut.
        EstimatorTestLink link = new EstimatorTestLink(new SendSideEstimator(MIN, MAX, 1_500_000), 6);
        link.sendRateBps = 300_000;
        link.capacityBps = t -> t < 3 * SECOND ? 0 : 150_000;
        link.runUntil(9 * SECOND);

        long fell = link.firstTimeBelow(250_000, 3 * SECOND);
        assertTrue(fell > 0 && fell <= 6 * SECOND, "below 250k by 6 s: " + link.trace(0, 9 * SECOND) + " / "
                + link.details(0, 9 * SECOND));
        assertTrue(link.maxEstimate(7 * SECOND, 9 * SECOND) <= 250_000, link.trace(0, 9 * SECOND));
    }

    @Test
    void aProbeClusterTheLinkCouldNotCarryLeavesAnApplicationLimitedEstimateWhereItWas() {
        // 300 kbit/s of media against an estimate of 1 Mbit/s, all of it delivered; then a 150 ms cluster of padding
        // at 2 Mbit/s on a link that carries 1 Mbit/s queues up (overuse). The cluster is the server's own test,
        // not what it chose to send (the sent rate leaves it out): the estimate stays, the probe finds nothing more.
        SendSideEstimator estimator = new SendSideEstimator(MIN, MAX, 1_000_000);
        PacketResults report = new PacketResults(1_024);
        long seq = 1_000;
        long t = 0;
        long queueFreeUs = 0;
        long lastArrival = 0;
        long clusterFirst = -1;
        for (int round = 0; round < 80; round++) {
            report.clear();
            long roundEnd = t + 50_000;
            boolean probing = round == 60 || round == 61 || round == 62;
            if (round == 60) {
                clusterFirst = seq;
                estimator.onProbeStarted(seq);
            }
            long nextMedia = t;
            while (t < roundEnd) {
                int size = 0;
                if (t >= nextMedia) {
                    size = 1_200;
                    nextMedia = t + 32_000;
                } else if (probing) {
                    size = 300;
                }
                if (size > 0) {
                    // A 1 Mbit/s bottleneck: each packet leaves after the one before it.
                    queueFreeUs = Math.max(queueFreeUs, t) + size * 8L;
                    long arrival = Math.max(lastArrival, queueFreeUs + 20_000);
                    lastArrival = arrival;
                    report.add(seq++, t, size, 7_000_000 + arrival);
                }
                t += probing ? 1_200 : 4_000;
            }
            if (round == 62) {
                estimator.onProbeSent(clusterFirst, seq - 1, t);
            }
            estimator.onFeedback(report, t + 60_000);
        }
        BandwidthEstimate state = estimator.state();
        assertTrue(estimator.estimateBps() >= 800_000, "the estimate held: " + state);
        assertTrue(state.applicationLimited(), "still application-limited: " + state);
    }
}
