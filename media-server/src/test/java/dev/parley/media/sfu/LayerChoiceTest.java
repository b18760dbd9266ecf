package dev.parley.media.sfu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.sdp.MediaKind;
import org.junit.jupiter.api.Test;

class LayerChoiceTest {
    private static final long MS = 1_000_000L;
    /** A clock far from 0, as System.nanoTime() is. */
    private static final long T0 = 5_000_000_000L;

    private final Layer[] layers = {
        new Layer(null, 0, "q", MediaKind.VIDEO, 90_000, 0, 0, false, null),
        new Layer(null, 1, "h", MediaKind.VIDEO, 90_000, 0, 0, false, null)};

    /** Packets of {@code layer} every 33 ms from {@code from} to {@code to} (milliseconds after T0). */
    private void send(Layer layer, long from, long to) {
        for (long t = from; t <= to; t += 33) {
            layer.arrived(T0 + t * MS);
        }
    }

    @Test
    void anUpperLayerSilentWhileTheLowerOneKeepsComingIsStoppedAfterHalfASecond() {
        send(layers[0], 0, 3000);
        send(layers[1], 0, 2000);
        assertTrue(LayerChoice.sending(layers, 1, T0 + 2400 * MS), "400 ms of silence: still taken as sent");
        assertEquals(1, LayerChoice.available(layers, 1, T0 + 2400 * MS));
        assertFalse(LayerChoice.sending(layers, 1, T0 + 2600 * MS), "600 ms: stopped, the lower layer went on");
        assertEquals(0, LayerChoice.available(layers, 1, T0 + 2600 * MS), "the receiver gets the lower layer");
    }

    @Test
    void whenEveryLayerGoesQuietAtOnceNothingSwitches() {
        // The publisher's browser stalls for 800 ms (a busy CPU), then everything comes back.
        send(layers[0], 0, 2000);
        send(layers[1], 0, 2000);
        assertTrue(LayerChoice.sending(layers, 1, T0 + 2700 * MS), "no lower layer kept coming: not stopped");
        send(layers[0], 2800, 2800);
        assertTrue(LayerChoice.sending(layers, 1, T0 + 2810 * MS), "the lower layer's first packet after the stall");
        send(layers[1], 2805, 3500);
        send(layers[0], 2833, 3500);
        assertTrue(LayerChoice.sending(layers, 1, T0 + 3500 * MS));
        assertEquals(1, LayerChoice.available(layers, 1, T0 + 3500 * MS));
    }

    @Test
    void aLayerSilentForTheLongWindowIsStoppedWhateverTheOthersDo() {
        send(layers[0], 0, 1000);
        send(layers[1], 0, 1000);
        assertFalse(LayerChoice.sending(layers, 1, T0 + 2600 * MS));
        assertFalse(LayerChoice.sending(layers, 0, T0 + 2600 * MS));
        assertEquals(1, LayerChoice.available(layers, 1, T0 + 2600 * MS), "nothing arrives: keep what was asked for");
    }

    @Test
    void theLowestLayerIsNeverStoppedByTheRule() {
        send(layers[1], 0, 3000);
        send(layers[0], 0, 2000);
        assertTrue(LayerChoice.sending(layers, 0, T0 + 2700 * MS), "no layer below it: the long window applies");
    }
}
