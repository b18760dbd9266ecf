package dev.parley.media.sfu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.media.sfu.BandwidthAllocator.Reason;
import dev.parley.media.sfu.BandwidthAllocator.Video;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BandwidthAllocatorTest {
    /** A camera in three simulcast layers, as browsers send them: q 150, h 500, f 1500 kbit/s. */
    private static final long[] CAMERA = {150_000, 500_000, 1_500_000};
    private static final long SECOND = 1_000_000_000L;

    private static Video camera(String name, long area) {
        // name: for reading the tests only
        Video video = new Video();
        video.target = 2;
        video.layerBps = CAMERA.clone();
        video.tileArea = area;
        return video;
    }

    private static long allocate(long budget, long now, Video... videos) {
        return BandwidthAllocator.allocate(new ArrayList<>(List.of(videos)), budget, now);
    }

    @Test
    void aLinkThatCarriesEverythingGivesEveryTileWhatItAsksFor() {
        Video a = camera("a", 1000);
        Video b = camera("b", 1000);
        b.target = 1;
        long used = allocate(5_000_000, 0, a, b);
        assertEquals(2, a.layer);
        assertEquals(1, b.layer, "never above what the tile asks for");
        assertEquals(Reason.TILE, a.reason);
        assertEquals(Reason.TILE, b.reason);
        assertEquals(2_000_000, used);
    }

    @Test
    void theMoreImportantVideoGetsTheBetterLayer() {
        Video small = camera("small", 320 * 180);
        Video dominant = camera("dominant", 320 * 180);
        dominant.dominant = true;
        // 150 + 150 at least; 1.25 x 1500 - 150 = 1725 more for the dominant speaker's full layer.
        allocate(2_100_000, 0, small, dominant);
        assertEquals(2, dominant.layer);
        assertEquals(0, small.layer);
        assertEquals(Reason.BANDWIDTH, small.reason);
    }

    @Test
    void priorityIsScreenThenDominantThenPinnedThenLargerThenRecent() {
        Video screen = camera("screen", 100);
        screen.screen = true;
        Video dominant = camera("dominant", 100);
        dominant.dominant = true;
        Video pinned = camera("pinned", 100);
        pinned.pinned = true;
        Video large = camera("large", 10_000);
        Video recent = camera("recent", 100);
        recent.recency = 0;
        Video other = camera("other", 100);
        List<Video> videos = new ArrayList<>(List.of(other, recent, large, pinned, dominant, screen));
        videos.sort(BandwidthAllocator.PRIORITY);
        assertEquals(List.of(screen, dominant, pinned, large, recent, other), videos);
    }

    @Test
    void withLessThanEveryLowestLayerTheLeastImportantVideosPause() {
        Video first = camera("first", 1000);
        first.recency = 0;
        Video second = camera("second", 1000);
        second.recency = 1;
        Video third = camera("third", 1000);
        third.recency = 2;
        allocate(320_000, 0, third, second, first);
        assertEquals(0, first.layer);
        assertEquals(0, second.layer);
        assertEquals(-1, third.layer);
        assertEquals(Reason.PAUSED_BANDWIDTH, third.reason);
        assertEquals(Reason.BANDWIDTH, first.reason, "the lowest layer is below what the tile asks for");
    }

    @Test
    void keepingALayerNeedsItsBitrateButMovingUpNeedsHeadroom() {
        Video video = camera("a", 1000);
        allocate(1_000_000, 0, video);
        assertEquals(1, video.layer);
        // 1.6 Mbit/s would carry the full layer, but not with 25 % to spare: it stays on the half layer.
        allocate(1_600_000, 10 * SECOND, video);
        assertEquals(1, video.layer);
        allocate(1_900_000, 11 * SECOND, video);
        assertEquals(2, video.layer);
        // Once there, 1.5 Mbit/s is enough to keep it.
        allocate(1_500_000, 12 * SECOND, video);
        assertEquals(2, video.layer);
        allocate(1_450_000, 13 * SECOND, video);
        assertEquals(1, video.layer, "below its bitrate, the layer goes at once");
    }

    @Test
    void aVideoMovedDownIsNotMovedUpAgainForAWhile() {
        Video video = camera("a", 1000);
        allocate(5_000_000, 0, video);
        assertEquals(2, video.layer);
        allocate(600_000, SECOND, video);
        assertEquals(1, video.layer);
        allocate(5_000_000, 2 * SECOND, video);
        assertEquals(1, video.layer, "held after moving down");
        allocate(5_000_000, SECOND + BandwidthAllocator.UPGRADE_HOLD_NANOS, video);
        assertEquals(2, video.layer);
    }

    @Test
    void aPausedVideoResumesOnlyWithHeadroomAndAfterTheHold() {
        Video video = camera("a", 1000);
        allocate(100_000, 0, video);
        assertEquals(-1, video.layer);
        assertEquals(Reason.PAUSED_BANDWIDTH, video.reason);
        allocate(160_000, 10 * SECOND, video);
        assertEquals(-1, video.layer, "150 kbit/s fits in 160 but not with 25 % to spare");
        allocate(200_000, 11 * SECOND, video);
        assertEquals(0, video.layer);
    }

    /** The camera with VP8 temporal layers: each layer at a quarter of its frame rate 40 %, at half 60 %. */
    private static Video temporalCamera(String name, long area) {
        Video video = camera(name, area);
        video.reducedBps = new long[CAMERA.length][2];
        for (int i = 0; i < CAMERA.length; i++) {
            video.reducedBps[i][0] = CAMERA[i] * 4 / 10;
            video.reducedBps[i][1] = CAMERA[i] * 6 / 10;
        }
        return video;
    }

    @Test
    void aVideoWhoseLowestLayerDoesNotFitGetsALowerFrameRateBeforeItPauses() {
        Video dominant = temporalCamera("dominant", 1000);
        dominant.dominant = true;
        Video other = temporalCamera("other", 1000);
        // 120 kbit/s: not the lowest layer's 150, but its half frame rate (90) fits; the other video pauses.
        allocate(120_000, 0, dominant, other);
        assertEquals(0, dominant.layer);
        assertEquals(1, dominant.temporal);
        assertEquals(Reason.BANDWIDTH, dominant.reason);
        assertEquals(Reason.PAUSED_BANDWIDTH, other.reason);
        assertEquals(-1, other.layer);

        // 70: a quarter of the frame rate (60).
        allocate(70_000, SECOND, dominant, other);
        assertEquals(0, dominant.layer);
        assertEquals(0, dominant.temporal);
        // 50: nothing fits, it pauses too.
        allocate(50_000, 2 * SECOND, dominant, other);
        assertEquals(Reason.PAUSED_BANDWIDTH, dominant.reason);
        assertEquals(2, dominant.temporal, "a paused video counts as at full rate again");
    }

    @Test
    void aHigherFrameRateNeedsHeadroomAndTheHoldLikeAHigherLayer() {
        Video video = temporalCamera("video", 1000);
        allocate(200_000, 0, video);
        assertEquals(2, video.temporal);
        allocate(100_000, SECOND, video);
        assertEquals(1, video.temporal, "90 of the 150 fit");
        // The full 150 needs 1.25 x 150 = 187.5 to come back, and not before the hold is over.
        allocate(190_000, 2 * SECOND, video);
        assertEquals(1, video.temporal, "held");
        allocate(160_000, 10 * SECOND, video);
        assertEquals(1, video.temporal, "no headroom");
        allocate(190_000, 11 * SECOND, video);
        assertEquals(0, video.layer);
        assertEquals(2, video.temporal);
        assertEquals(Reason.BANDWIDTH, video.reason, "still under the tile's full layer");
    }

    @Test
    void layersThePublisherDoesNotSendAreSkipped() {
        Video video = camera("a", 1000);
        video.layerBps = new long[] {150_000, 0, 1_500_000};
        allocate(1_000_000, 0, video);
        assertEquals(0, video.layer, "the half layer is not sent and the full one does not fit");
    }

    @Test
    void hiddenAndWithheldVideosTakeNothing() {
        Video hidden = camera("hidden", 1000);
        hidden.target = -1;
        hidden.reason = Reason.HIDDEN;
        Video shown = camera("shown", 1000);
        long used = allocate(2_000_000, 0, hidden, shown);
        assertEquals(-1, hidden.layer);
        assertEquals(Reason.HIDDEN, hidden.reason);
        assertEquals(2, shown.layer);
        assertEquals(1_500_000, used);
    }

    @Test
    void anEstimateWaveringAFewPercentDoesNotFlap() {
        Video a = camera("a", 1000);
        a.dominant = true;
        Video b = camera("b", 1000);
        int switches = 0;
        int lastA = -2;
        int lastB = -2;
        for (int i = 0; i < 100; i++) {
            long budget = 2_000_000 + (i % 2 == 0 ? 90_000 : -90_000);
            allocate(budget, i * SECOND / 5, a, b);
            switches += (a.layer != lastA ? 1 : 0) + (b.layer != lastB ? 1 : 0);
            lastA = a.layer;
            lastB = b.layer;
        }
        assertEquals(2, switches, "each video settles once and stays: " + a.layer + ", " + b.layer);
    }

    @Test
    void withoutAnEstimateEveryVideoGetsItsTarget() {
        Video a = camera("a", 1000);
        allocate(100_000, 0, a);
        BandwidthAllocator.unlimited(List.of(a));
        assertEquals(2, a.layer);
        assertEquals(Reason.TILE, a.reason);
    }
}
