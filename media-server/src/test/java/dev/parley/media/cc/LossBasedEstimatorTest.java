package dev.parley.media.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The loss-based rate, from reported and lost packet counts. */
class LossBasedEstimatorTest {
    private static final long MIN = 30_000;
    private static final long MAX = 20_000_000;
    private static final long SECOND = 1_000_000;

    @Test
    void underTwoPercentLossTheRateGrowsEightPercentPerSecond() {
        LossBasedEstimator loss = new LossBasedEstimator(MIN, MAX, 1_000_000);
        loss.onReport(100, 0, 0, 0, 100);
        loss.onReport(100, 1, 0, SECOND, 100);
        assertEquals(0.005, loss.lossFraction(), 1e-9);
        assertEquals(1_081_000, loss.bps(), 10);
        loss.onReport(100, 1, 0, 2 * SECOND, 100);
        assertEquals(Math.round(1_081_000 * 1.08 + 1_000), loss.bps(), 10);
    }

    @Test
    void betweenTwoAndTenPercentTheRateHolds() {
        LossBasedEstimator loss = new LossBasedEstimator(MIN, MAX, 1_000_000);
        for (int s = 0; s <= 10; s++) {
            loss.onReport(100, 5, 0, s * SECOND, 100);
        }
        assertEquals(0.05, loss.lossFraction(), 1e-9);
        assertEquals(1_000_000, loss.bps());
    }

    @Test
    void overTenPercentTheRateIsCutByHalfTheLossFraction() {
        LossBasedEstimator loss = new LossBasedEstimator(MIN, MAX, 1_000_000);
        loss.onReport(100, 20, 0, 0, 100);
        loss.onReport(100, 20, 0, SECOND, 100);
        assertEquals(0.2, loss.lossFraction(), 1e-9);
        assertEquals(900_000, loss.bps());
    }

    @Test
    void aFractionNeedsTwentyPacketsAndOneSecond() {
        LossBasedEstimator loss = new LossBasedEstimator(MIN, MAX, 1_000_000);
        loss.onReport(10, 10, 0, 0, 100);
        loss.onReport(5, 5, 0, 2 * SECOND, 100);
        assertEquals(1_000_000, loss.bps(), "15 packets are too few");
        loss.onReport(5, 5, 0, 2 * SECOND + 1, 100);
        assertEquals(500_000, loss.bps(), "20 packets, all lost");
        loss.onReport(100, 100, 0, 2 * SECOND + 500_000, 100);
        assertEquals(500_000, loss.bps(), "half a second later is too soon");
    }

    @Test
    void aPacketReportedLostAndThenReceivedIsNotCountedLost() {
        LossBasedEstimator loss = new LossBasedEstimator(MIN, MAX, 1_000_000);
        loss.onReport(50, 20, 0, 0, 100);
        loss.onReport(50, 0, 20, SECOND, 100);
        assertEquals(0.0, loss.lossFraction(), 1e-9);
    }

    @Test
    void theRateStaysWithinTheConfiguredBounds() {
        LossBasedEstimator loss = new LossBasedEstimator(MIN, 1_200_000, 1_000_000);
        for (int s = 0; s <= 10; s++) {
            loss.onReport(100, 0, 0, s * SECOND, 100);
        }
        assertEquals(1_200_000, loss.bps());
        for (int s = 11; s <= 40; s++) {
            loss.onReport(100, 100, 0, s * SECOND, 100);
        }
        assertEquals(MIN, loss.bps());
    }
}
