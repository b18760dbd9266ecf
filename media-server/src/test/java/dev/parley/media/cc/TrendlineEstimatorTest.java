package dev.parley.media.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.cc.BandwidthEstimate.DelayState;
import org.junit.jupiter.api.Test;

/** The trendline overuse detector and its adaptive threshold, fed group deltas directly. */
class TrendlineEstimatorTest {
    private static final double GROUP_MS = 10;

    /** Feeds {@code groups} groups sent 10 ms apart whose arrival spacing is 10 ms plus {@code extraMs}. */
    private static double feed(TrendlineEstimator trendline, int groups, double extraMs, double arrivalMs) {
        for (int i = 0; i < groups; i++) {
            arrivalMs += GROUP_MS + extraMs;
            trendline.update(GROUP_MS + extraMs, GROUP_MS, arrivalMs);
        }
        return arrivalMs;
    }

    @Test
    void aSteadyQueueIsNormalAndTheThresholdFallsToItsFloor() {
        TrendlineEstimator trendline = new TrendlineEstimator();
        feed(trendline, 2_000, 0, 1e9);
        assertEquals(DelayState.NORMAL, trendline.usage());
        assertEquals(TrendlineEstimator.MIN_THRESHOLD_MS, trendline.thresholdMs(), 1e-9);
    }

    @Test
    void aGrowingQueueIsOveruseOnlyAfterTwoOverSignalsSpanningTenMilliseconds() {
        TrendlineEstimator trendline = new TrendlineEstimator();
        double t = feed(trendline, 100, 0, 0);
        int groups = 0;
        while (trendline.usage() != DelayState.OVERUSING && groups < 100) {
            t = feed(trendline, 1, 1.0, t);
            groups++;
        }
        assertEquals(DelayState.OVERUSING, trendline.usage(), "a queue growing 1 ms per 10 ms group");
        assertTrue(groups >= 2, "overuse after " + groups + " group(s): one over-signal must not be enough");
        assertTrue(trendline.modifiedTrend() > trendline.thresholdMs(),
                trendline.modifiedTrend() + " vs threshold " + trendline.thresholdMs());
    }

    @Test
    void aSingleDelaySpikeIsNotOveruse() {
        TrendlineEstimator trendline = new TrendlineEstimator();
        double t = feed(trendline, 100, 0, 0);
        t = feed(trendline, 1, 30, t);
        boolean overused = trendline.usage() == DelayState.OVERUSING;
        t = feed(trendline, 1, -30, t);
        overused |= trendline.usage() == DelayState.OVERUSING;
        for (int i = 0; i < 50; i++) {
            t = feed(trendline, 1, 0, t);
            overused |= trendline.usage() == DelayState.OVERUSING;
        }
        assertTrue(!overused, "a 30 ms spike that went away was taken for overuse");
    }

    @Test
    void aDrainingQueueIsUnderuse() {
        TrendlineEstimator trendline = new TrendlineEstimator();
        double t = feed(trendline, 100, 0, 0);
        feed(trendline, 30, -1.0, t);
        assertEquals(DelayState.UNDERUSING, trendline.usage());
    }

    @Test
    void theThresholdRisesTowardsAPersistentModerateSignalButNotTowardsAnOutlier() {
        TrendlineEstimator trendline = new TrendlineEstimator();
        double t = feed(trendline, 200, 0, 0);
        assertEquals(TrendlineEstimator.MIN_THRESHOLD_MS, trendline.thresholdMs(), 1e-9);
        // A queue growing 0.5 ms per 10 ms group: a modified trend of about 12 ms, above the 6 ms threshold but
        // within 15 ms of it, so the threshold follows it up (K_UP).
        t = feed(trendline, 100, 0.5, t);
        double raised = trendline.thresholdMs();
        assertTrue(raised > 8 && raised < 15, "threshold after a persistent moderate signal: " + raised);

        TrendlineEstimator other = new TrendlineEstimator();
        double u = feed(other, 200, 0, 0);
        // A queue growing 5 ms per group: a modified trend of about 80 ms, far above threshold + 15 ms once the
        // window has filled. The threshold moves only while the trend ramps up through reach, then stops.
        feed(other, 300, 5, u);
        assertTrue(other.modifiedTrend() > 60, "modified trend " + other.modifiedTrend());
        assertTrue(other.thresholdMs() < 30, "threshold followed an outlier to " + other.thresholdMs());
        assertEquals(DelayState.OVERUSING, other.usage());
    }
}
