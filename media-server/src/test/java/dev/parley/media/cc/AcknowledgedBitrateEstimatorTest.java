package dev.parley.media.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The acknowledged rate from received packets' arrival times and sizes. */
class AcknowledgedBitrateEstimatorTest {
    private static final int BYTES = 1_000;

    /** Feeds packets of 1000 bytes at {@code bps} for {@code durationUs}; returns the last arrival time. */
    private static long feed(AcknowledgedBitrateEstimator acked, long bps, long fromUs, long durationUs) {
        long gap = BYTES * 8L * 1_000_000 / bps;
        long t = fromUs;
        for (; t < fromUs + durationUs; t += gap) {
            acked.onPacket(t, BYTES);
        }
        return t;
    }

    @Test
    void nothingIsKnownBeforeTheFirstHalfSecond() {
        AcknowledgedBitrateEstimator acked = new AcknowledgedBitrateEstimator();
        feed(acked, 1_000_000, 7_000_000_000L, 400_000);
        assertEquals(0, acked.bps());
    }

    @Test
    void aSteadyRateIsMeasuredAFallFollowedWithinASecondAndARiseTrustedMoreSlowly() {
        AcknowledgedBitrateEstimator acked = new AcknowledgedBitrateEstimator();
        long t = feed(acked, 1_000_000, -3_000_000, 3_000_000);
        assertEquals(1_000_000, acked.bps(), 30_000);
        t = feed(acked, 300_000, t, 1_000_000);
        assertEquals(300_000, acked.bps(), 30_000, "one second after a step down");
        t = feed(acked, 2_000_000, t, 1_000_000);
        // A sample's uncertainty is its distance relative to the current estimate: a 7× rise is believed gradually.
        long afterOneSecond = acked.bps();
        assertTrue(afterOneSecond > 400_000 && afterOneSecond < 2_000_000, "one second after a step up: "
                + afterOneSecond);
        feed(acked, 2_000_000, t, 2_000_000);
        assertEquals(2_000_000, acked.bps(), 100_000, "three seconds after a step up");
    }

    @Test
    void oneShortBurstMovesTheEstimateLittle() {
        AcknowledgedBitrateEstimator acked = new AcknowledgedBitrateEstimator();
        long t = feed(acked, 1_000_000, 0, 3_000_000);
        // 30 packets at once (a keyframe released by a queue), then the steady rate again.
        for (int i = 0; i < 30; i++) {
            acked.onPacket(t + i * 10, BYTES);
        }
        t = feed(acked, 1_000_000, t + 300, 160_000);
        assertTrue(acked.bps() < 1_500_000, "after a burst: " + acked.bps());
    }

    @Test
    void aReceiverClockGoingBackRestartsTheWindowAndKeepsTheEstimate() {
        AcknowledgedBitrateEstimator acked = new AcknowledgedBitrateEstimator();
        long t = feed(acked, 1_000_000, 0, 2_000_000);
        long before = acked.bps();
        feed(acked, 1_000_000, t - 5_000_000, 1_000_000);
        assertEquals(before, acked.bps(), 50_000);
    }

    @Test
    void packetsFromReportsThatCameLateStillCount() {
        AcknowledgedBitrateEstimator acked = new AcknowledgedBitrateEstimator();
        long gap = BYTES * 8L;
        // 1 Mbit/s in 50 ms batches, each pair of batches read newer first. A 150 ms window then holds two or
        // three batches' bytes, so single readings swing by a third and their average reads somewhat low, but
        // nowhere near the third of the rate that starting the window over on every late report would read.
        long sum = 0;
        int readings = 0;
        for (long batch = 0; batch < 200; batch += 2) {
            long newer = (batch + 1) * 50_000;
            long older = batch * 50_000;
            for (long t = newer; t < newer + 50_000; t += gap) {
                acked.onPacket(t, BYTES);
            }
            for (long t = older; t < older + 50_000; t += gap) {
                acked.onPacket(t, BYTES);
            }
            if (batch >= 100) {
                sum += acked.bps();
                readings++;
            }
        }
        assertEquals(1_000_000, sum / readings, 200_000);
    }
}
