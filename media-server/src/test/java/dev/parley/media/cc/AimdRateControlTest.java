package dev.parley.media.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.cc.BandwidthEstimate.DelayState;
import org.junit.jupiter.api.Test;

/** The AIMD rate controller, driven by detector verdicts every 50 ms. */
class AimdRateControlTest {
    private static final long MIN = 30_000;
    private static final long MAX = 20_000_000;
    private static final long STEP_US = 50_000;

    /** Applies {@code updates} verdicts 50 ms apart from {@code nowUs}; returns the time after the last. */
    private static long run(AimdRateControl aimd, DelayState state, long ackedBps, int updates, long nowUs) {
        for (int i = 0; i < updates; i++) {
            nowUs += STEP_US;
            aimd.update(state, ackedBps, false, nowUs);
        }
        return nowUs;
    }

    @Test
    void farFromAnyKnownCapacityTheRateGrowsEightPercentPerSecond() {
        AimdRateControl aimd = new AimdRateControl(MIN, MAX, 1_000_000);
        long t = run(aimd, DelayState.NORMAL, 0, 1, 0);
        long start = aimd.bps();
        run(aimd, DelayState.NORMAL, 0, 20, t);
        double growth = (double) aimd.bps() / start;
        assertEquals(1.08, growth, 0.005, "growth over one second");
        assertFalse(aimd.nearCapacity());
    }

    @Test
    void overuseCutsToEightyFivePercentOfTheAcknowledgedRateOncePerRoundTrip() {
        AimdRateControl aimd = new AimdRateControl(MIN, MAX, 2_000_000);
        aimd.onRtt(100);
        long t = 1_000_000;
        aimd.update(DelayState.OVERUSING, 1_500_000, false, t);
        assertEquals(1_275_000, aimd.bps());
        assertTrue(aimd.nearCapacity(), "an overuse records the link capacity");

        aimd.update(DelayState.OVERUSING, 1_400_000, false, t + 50_000);
        assertEquals(1_275_000, aimd.bps(), "a second cut within the 100 ms RTT");
        aimd.update(DelayState.OVERUSING, 1_400_000, false, t + 100_000);
        assertEquals(1_190_000, aimd.bps(), "a cut one RTT later");
        aimd.update(DelayState.OVERUSING, 500_000, false, t + 120_000);
        assertEquals(425_000, aimd.bps(), "acknowledged under half the rate: no waiting");
    }

    @Test
    void nearTheKnownCapacityTheRateGrowsByAboutOnePacketPerResponseTime() {
        AimdRateControl aimd = new AimdRateControl(MIN, MAX, 1_000_000);
        aimd.onRtt(100);
        long t = 1_000_000;
        aimd.update(DelayState.OVERUSING, 600_000, false, t);
        long cut = aimd.bps();
        assertEquals(510_000, cut);
        run(aimd, DelayState.NORMAL, 600_000, 20, t);
        // At 510..550 kbit/s a 30 fps frame is 17 000..18 300 bits, two packets of 8 500..9 150 bits; one packet
        // per 200 ms response time (100 ms RTT + 100 ms) is 42.5..45.8 kbit/s per second.
        long growth = aimd.bps() - cut;
        assertTrue(growth > 42_500 && growth < 45_800, "growth over one second: " + growth);
    }

    @Test
    void growthNeverTakesTheRateAboveOneAndAHalfTimesTheAcknowledgedRatePlusTenKilobits() {
        AimdRateControl aimd = new AimdRateControl(MIN, MAX, 1_000_000);
        run(aimd, DelayState.NORMAL, 400_000, 200, 0);
        assertEquals(1_000_000, aimd.bps(), "an estimate above the limit is not raised, and not cut either");
        AimdRateControl low = new AimdRateControl(MIN, MAX, 300_000);
        run(low, DelayState.NORMAL, 400_000, 400, 0);
        assertEquals(610_000, low.bps());
    }

    @Test
    void underuseHoldsTheRate() {
        AimdRateControl aimd = new AimdRateControl(MIN, MAX, 1_000_000);
        run(aimd, DelayState.UNDERUSING, 1_000_000, 100, 0);
        assertEquals(1_000_000, aimd.bps());
    }

    @Test
    void overuseBeforeAnyAcknowledgedRateHalvesTheRate() {
        AimdRateControl aimd = new AimdRateControl(MIN, MAX, 1_000_000);
        aimd.update(DelayState.OVERUSING, 0, false, 1_000_000);
        assertEquals(500_000, aimd.bps());
    }

    @Test
    void theRateStaysWithinTheConfiguredBounds() {
        AimdRateControl aimd = new AimdRateControl(MIN, 2_000_000, 1_000_000);
        run(aimd, DelayState.NORMAL, 0, 400, 0);
        assertEquals(2_000_000, aimd.bps());
        aimd.onRtt(0);
        run(aimd, DelayState.OVERUSING, 1_000, 100, 100_000_000);
        assertEquals(MIN, aimd.bps());
    }

    @Test
    void overuseWhileApplicationLimitedHoldsTheRate() {
        AimdRateControl aimd = new AimdRateControl(MIN, MAX, 1_000_000);
        aimd.update(DelayState.OVERUSING, 100_000, true, 1_000_000);
        aimd.update(DelayState.OVERUSING, 100_000, true, 2_000_000);
        assertEquals(1_000_000, aimd.bps());
        aimd.update(DelayState.OVERUSING, 100_000, false, 3_000_000);
        assertEquals(85_000, aimd.bps());
    }
}
