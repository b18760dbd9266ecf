package dev.parley.media.cc;

import static dev.parley.media.cc.EstimatorTestLink.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The estimator on simulated links: bottlenecks, capacity steps, loss and jitter. */
class SendSideEstimatorTraceTest {
    private static final long MIN = 30_000;
    private static final long MAX = 20_000_000;
    private static final long START = 300_000;

    private static EstimatorTestLink link(long seed) {
        return new EstimatorTestLink(new SendSideEstimator(MIN, MAX, START), seed);
    }

    @Test
    void aSenderAtTwiceTheCapacityIsEstimatedNearTheCapacityAndStaysThereForAMinute() {
        long capacity = 1_000_000;
        EstimatorTestLink link = link(1);
        link.capacityBps = t -> capacity;
        link.sendRateBps = 2 * capacity;
        link.runUntil(60 * SECOND);

        String trace = link.trace(0, 60 * SECOND) + link.details(0, 60 * SECOND);
        long converged = link.firstTimeAtOrAbove(Math.round(capacity * 0.8), 0);
        assertTrue(converged >= 0 && converged <= 10 * SECOND,
                "within ±20 % of " + capacity + " only at " + converged + " µs: " + trace);
        assertWithin(link, capacity, 0.2, converged, 60 * SECOND, trace);
    }

    @Test
    void aSenderFollowingTheEstimateConvergesOnTheCapacityAndDoesNotRatchetDown() {
        long capacity = 1_000_000;
        EstimatorTestLink link = link(2);
        link.capacityBps = t -> capacity;
        link.runUntil(60 * SECOND);

        String trace = link.trace(0, 60 * SECOND);
        // From 300 kbit/s, 8 % a second takes 13 s to reach 80 %; probing at start-up is what shortens that.
        long converged = link.firstTimeAtOrAbove(Math.round(capacity * 0.8), 0);
        assertTrue(converged >= 0 && converged <= 15 * SECOND,
                "reached 80 % of " + capacity + " only at " + converged + " µs: " + trace);
        assertWithin(link, capacity, 0.2, converged, 60 * SECOND, trace);
        long early = link.meanEstimate(15 * SECOND, 25 * SECOND);
        long late = link.meanEstimate(50 * SECOND, 60 * SECOND);
        assertTrue(late >= early * 0.9, "mean estimate fell from " + early + " (15–25 s) to " + late
                + " (50–60 s): " + trace);
    }

    @Test
    void anUnconstrainedLinkGrowsToTheMaximumAtABoundedRate() {
        EstimatorTestLink link = link(3);
        link.runUntil(120 * SECOND);

        String trace = link.trace(0, 120 * SECOND);
        long reached = link.firstTimeAtOrAbove(MAX, 0);
        // 300 kbit/s to 20 Mbit/s at 8 % per second takes ln(66.7) / ln(1.08) = 55 s.
        assertTrue(reached >= 40 * SECOND && reached <= 90 * SECOND,
                "reached the maximum " + MAX + " at " + reached + " µs: " + trace);
        double growth = link.maxGrowthOver(SECOND);
        assertTrue(growth <= 1.2, "grew by " + growth + "× within one second: " + trace);
        assertEquals(MAX, link.minEstimate(reached, 120 * SECOND), "fell after reaching the maximum: " + trace);
        assertEquals(0, link.overuseReports(), "overuse detected on an unconstrained link: " + trace);
    }

    @Test
    void aStepDownIsFollowedWithinThreeSecondsAndAStepUpIsRecoveredMultiplicatively() {
        long high = 2_000_000;
        long low = 300_000;
        long downAt = 30 * SECOND;
        long upAt = 60 * SECOND;
        EstimatorTestLink link = link(4);
        link.capacityBps = t -> t >= downAt && t < upAt ? low : high;
        link.runUntil(100 * SECOND);

        String trace = link.trace(0, 100 * SECOND);
        long before = link.meanEstimate(downAt - 5 * SECOND, downAt);
        assertTrue(before >= high * 0.8, "before the step down the estimate was " + before + ": " + trace);
        long below = link.firstTimeBelow(400_000, downAt);
        assertTrue(below >= 0 && below - downAt <= 3 * SECOND,
                "below 400 kbit/s only " + (below - downAt) + " µs after the step down: " + trace);
        assertWithin(link, low, 0.3, downAt + 10 * SECOND, upAt, trace);
        // Growth after the step up must be multiplicative (8 %/s: 0.3 to 1 Mbit/s in ~16 s); had the estimator kept
        // the low link capacity it learnt, it would add about one packet per response time, ~40 kbit/s a second.
        long half = link.firstTimeAtOrAbove(high / 2, upAt);
        assertTrue(half >= 0 && half - upAt <= 20 * SECOND,
                "back at half the new capacity only " + (half - upAt) + " µs after the step up: " + trace);
        long most = link.firstTimeAtOrAbove(Math.round(high * 0.8), upAt);
        assertTrue(most >= 0 && most - upAt <= 30 * SECOND,
                "back at 80 % of the new capacity only " + (most - upAt) + " µs after the step up: " + trace);
    }

    @Test
    void fivePercentRandomLossWithoutQueueingHoldsTheEstimate() {
        long start = 1_000_000;
        EstimatorTestLink link = new EstimatorTestLink(new SendSideEstimator(MIN, MAX, start), 5);
        link.randomLoss = 0.05;
        link.runUntil(20 * SECOND);

        String trace = link.trace(0, 20 * SECOND) + link.details(0, 20 * SECOND);
        assertTrue(link.minEstimate(0, 20 * SECOND) >= start * 0.9, "fell under 5 % loss: " + trace);
        // Without loss it would grow 8 % a second, 4.7× in 20 s. A one-second window of ~100 packets reads under 2 %
        // about one time in ten at 5 % loss, and each such window allows one 8 % step: ~1.2× expected, 1.5× rare.
        assertTrue(link.maxEstimate(0, 20 * SECOND) <= start * 1.5, "grew under 5 % loss: " + trace);
        double loss = link.estimator.state().lossFraction();
        assertTrue(loss > 0.02 && loss < 0.10, "measured loss " + loss);
    }

    @Test
    void twentyPercentRandomLossDecreasesTheEstimate() {
        EstimatorTestLink link = link(6);
        link.randomLoss = 0.20;
        link.runUntil(10 * SECOND);

        String trace = link.trace(0, 10 * SECOND);
        long end = link.meanEstimate(9 * SECOND, 10 * SECOND);
        assertTrue(end < START / 2, "under 20 % loss the estimate is still " + end + ": " + trace);
        assertTrue(link.maxEstimate(0, 10 * SECOND) <= START, "grew under 20 % loss: " + trace);
    }

    @Test
    void fiveMillisecondsOfArrivalJitterOnAnUnconstrainedLinkIsNotOveruse() {
        EstimatorTestLink link = link(7);
        link.jitterUs = 5_000;
        link.runUntil(60 * SECOND);

        String trace = link.trace(0, 60 * SECOND);
        assertEquals(0, link.overuseReports(), "overuse detected from jitter alone: " + trace);
        assertTrue(link.firstTimeAtOrAbove(MAX / 2, 0) >= 0, "never reached half the maximum: " + trace);
    }

    private static void assertWithin(EstimatorTestLink link, long target, double tolerance, long fromUs, long toUs,
            String trace) {
        long min = link.minEstimate(fromUs, toUs);
        long max = link.maxEstimate(fromUs, toUs);
        assertTrue(min >= target * (1 - tolerance) && max <= target * (1 + tolerance),
                "between " + fromUs / SECOND + " s and " + toUs / SECOND + " s the estimate ranged " + min + ".."
                        + max + ", not within ±" + Math.round(tolerance * 100) + " % of " + target + ": " + trace);
    }
}
