package dev.parley.media.sfu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.sdp.MediaKind;
import org.junit.jupiter.api.Test;

class LayerTest {
    private static final long SECOND = 1_000_000_000L;

    /** Two seconds of 30 equal frames a second, one 1000-byte packet each; {@code tid} of each frame, or -1 for none. */
    private static Layer send(java.util.function.IntUnaryOperator tid) {
        Layer layer = new Layer(null, 0, "q", MediaKind.VIDEO, 90_000, 1234, 0, false, null);
        layer.measure(1);
        for (int frame = 0; frame < 60; frame++) {
            layer.statistics.update(frame, frame * 3000L, frame * SECOND / 30, 1000);
            int temporal = tid.applyAsInt(frame);
            if (temporal >= 0) {
                layer.countTemporal(temporal, 1000);
            }
        }
        layer.measure(2 * SECOND);
        return layer;
    }

    @Test
    void aLayerInThreeTemporalLayersKnowsWhatEachFrameRateNeeds() {
        // L1T3 as VP8 encoders send it: TID 0 every fourth frame, 1 between them, 2 every other frame.
        Layer layer = send(frame -> frame % 4 == 0 ? 0 : frame % 2 == 0 ? 1 : 2);
        long full = layer.bitrateBps();
        assertTrue(full > 200_000 && full < 260_000, "about 240 kbit/s: " + full);
        assertEquals(full / 4, layer.bitrateBps(0), full / 100.0, "a quarter of the frames");
        assertEquals(full / 2, layer.bitrateBps(1), full / 100.0, "half of them");
        assertEquals(full, layer.bitrateBps(2));
    }

    @Test
    void aLayerWithoutTemporalLayersHasNoLowerFrameRate() {
        Layer plain = send(frame -> -1);
        assertEquals(0, plain.bitrateBps(0));
        assertEquals(0, plain.bitrateBps(1));
        Layer baseOnly = send(frame -> 0);
        assertEquals(0, baseOnly.bitrateBps(0), "one temporal layer is no lower frame rate");
    }
}
