package dev.parley.media.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProbeMeasurementTest {
    /** Packets of {@code size} bytes sent every {@code sendGapUs}, arriving every {@code arrivalGapUs}. */
    private static ProbeMeasurement cluster(int packets, int size, long sendGapUs, long arrivalGapUs) {
        ProbeMeasurement probe = new ProbeMeasurement();
        probe.start(100, 100 + packets - 1, packets * sendGapUs);
        for (int i = 0; i < packets; i++) {
            probe.onPacket(100 + i, i * sendGapUs, size, 50_000 + i * arrivalGapUs, false);
        }
        return probe;
    }

    @Test
    void aLinkThatCarriesTheClusterGivesItsSendRate() {
        // 1000-byte packets every 4 ms: 2 Mbit/s sent, arriving as sent.
        ProbeMeasurement probe = cluster(20, 1000, 4000, 4000);
        assertEquals(2_000_000, probe.finish(200_000));
        assertEquals(2_000_000, probe.resultBps());
    }

    @Test
    void aLinkThatCannotCarryItGivesWhatItDelivers() {
        // Sent at 2 Mbit/s, arriving at 1 Mbit/s: the link carries about 1 Mbit/s (taken at 95 %).
        ProbeMeasurement probe = cluster(20, 1000, 4000, 8000);
        assertEquals(950_000, probe.finish(200_000));
    }

    @Test
    void aClusterThatQueuesAfterABurstAllowanceIsJudgedFromWhereTheQueueFormed() {
        // Sent at 2 Mbit/s; the first 10 packets pass at once (a token bucket's allowance), the other 20 queue and
        // leave every 16 ms (500 kbit/s). Over the whole cluster it arrives at about 760 kbit/s; the link carries 500.
        ProbeMeasurement probe = new ProbeMeasurement();
        probe.start(0, 29, 120_000);
        long arrival = 50_000;
        for (int i = 0; i < 30; i++) {
            arrival = i == 0 ? arrival : arrival + (i < 10 ? 4_000 : 16_000);
            probe.onPacket(i, i * 4000L, 1000, arrival, false);
        }
        assertEquals(475_000, probe.finish(200_000), "95 % of the queued part's 500 kbit/s");
        assertTrue(!probe.carried());
    }

    @Test
    void aClusterThatFitsTheAllowanceLooksCarried() {
        ProbeMeasurement probe = cluster(20, 1000, 4000, 4000);
        assertEquals(2_000_000, probe.finish(200_000));
        assertTrue(probe.carried(), "carried at its rate: the estimator waits for the next cluster to confirm it");
    }

    @Test
    void noVerdictUntilEveryPacketIsReportedOrTheWaitIsOver() {
        ProbeMeasurement probe = new ProbeMeasurement();
        probe.start(0, 9, 40_000);
        for (int i = 0; i < 8; i++) {
            probe.onPacket(i, i * 4000L, 1000, 50_000 + i * 4000L, false);
        }
        assertEquals(0, probe.finish(100_000), "two packets not reported yet");
        assertTrue(probe.active());
        assertEquals(2_000_000, probe.finish(40_000 + ProbeMeasurement.REPORT_WAIT_US));
        assertTrue(!probe.active());
    }

    @Test
    void tooFewPacketsOrTooMuchLossGiveNoVerdict() {
        assertEquals(0, cluster(ProbeMeasurement.MIN_PACKETS - 1, 1000, 4000, 4000).finish(1_000_000));
        ProbeMeasurement lossy = new ProbeMeasurement();
        lossy.start(0, 19, 80_000);
        for (int i = 0; i < 20; i++) {
            lossy.onPacket(i, i * 4000L, 1000, 50_000 + i * 4000L, i % 4 == 0);
        }
        assertEquals(0, lossy.finish(100_000), "a quarter lost");
    }

    @Test
    void packetsOutsideTheClusterAreNotCounted() {
        ProbeMeasurement probe = cluster(20, 1000, 4000, 4000);
        probe.onPacket(99, 0, 60_000, 1, false);
        probe.onPacket(120, 0, 60_000, 1, false);
        assertEquals(2_000_000, probe.finish(200_000));
        assertEquals(0, probe.finish(300_000), "a cluster gives one verdict");
    }

    @Test
    void packetsReportedWhileTheClusterIsStillBeingSentCountTowardIt() {
        // The feedback for the first 12 packets of a 20-packet cluster comes before the cluster ends: they count,
        // and the verdict waits for the end and the rest.
        ProbeMeasurement probe = new ProbeMeasurement();
        probe.begin(100);
        for (int i = 0; i < 12; i++) {
            probe.onPacket(100 + i, i * 4000L, 1000, 50_000 + i * 4000L, false);
        }
        assertEquals(0, probe.finish(60_000), "still being sent");
        assertTrue(probe.active());
        probe.end(100, 119, 80_000);
        for (int i = 12; i < 20; i++) {
            probe.onPacket(100 + i, i * 4000L, 1000, 50_000 + i * 4000L, false);
        }
        assertEquals(2_000_000, probe.finish(140_000), "all 20 packets judged");

        // An end for another cluster than the one begun starts that one afresh.
        probe.begin(500);
        probe.onPacket(500, 0, 1000, 10_000, false);
        probe.end(600, 619, 80_000);
        probe.onPacket(500, 0, 1000, 10_000, false);
        assertEquals(0, probe.finish(80_000 + ProbeMeasurement.REPORT_WAIT_US), "nothing of 600..619 reported");
    }
}
