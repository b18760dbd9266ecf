package dev.parley.media.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Grouping packets into send-time bursts and the deltas between groups. */
class InterArrivalTest {
    private static final long MS = 1_000;
    private static final long NOW = 5_000_000;

    @Test
    void packetsSentWithinFiveMillisecondsFormOneGroupAndTheDeltasAreBetweenGroupsLastPackets() {
        InterArrival groups = new InterArrival();
        long base = 777 * MS;
        // Group A: sent 0..4 ms, 100 bytes each; group B: sent 10..11 ms; then the first packet of group C.
        assertFalse(groups.onPacket(0, base + 20 * MS, NOW, 100));
        assertFalse(groups.onPacket(1 * MS, base + 21 * MS, NOW, 100));
        assertFalse(groups.onPacket(4 * MS, base + 25 * MS, NOW, 100));
        assertFalse(groups.onPacket(10 * MS, base + 31 * MS, NOW, 300), "the first packet of B closes A only");
        assertFalse(groups.onPacket(11 * MS, base + 33 * MS, NOW, 300));
        assertTrue(groups.onPacket(20 * MS, base + 40 * MS, NOW, 100), "C's first packet closes B");

        assertEquals(7 * MS, groups.sendDeltaUs());
        assertEquals(8 * MS, groups.arrivalDeltaUs());
        assertEquals(300, groups.sizeDeltaBytes());
    }

    @Test
    void packetsSentApartButReleasedTogetherByAQueueAreOneBurst() {
        InterArrival groups = new InterArrival();
        // Sent 8 ms apart, so each would be its own group, but they arrive 1 ms apart: a queue released them.
        assertFalse(groups.onPacket(0, 100 * MS, NOW, 1200));
        for (int i = 1; i < 6; i++) {
            assertFalse(groups.onPacket(i * 8 * MS, 100 * MS + i * MS, NOW, 1200), "packet " + i + " joins the burst");
        }
        assertFalse(groups.onPacket(60 * MS, 150 * MS, NOW, 1200), "the next group starts");
        assertTrue(groups.onPacket(70 * MS, 160 * MS, NOW, 1200));
        assertEquals(60 * MS - 40 * MS, groups.sendDeltaUs());
        assertEquals(150 * MS - 105 * MS, groups.arrivalDeltaUs());
        assertEquals(1200 - 6 * 1200, groups.sizeDeltaBytes());
    }

    @Test
    void aPacketSentBeforeTheCurrentGroupIsIgnored() {
        InterArrival groups = new InterArrival();
        groups.onPacket(0, 20 * MS, NOW, 100);
        groups.onPacket(10 * MS, 30 * MS, NOW, 100);
        assertFalse(groups.onPacket(3 * MS, 31 * MS, NOW, 5_000), "late packet of the closed group");
        assertTrue(groups.onPacket(20 * MS, 40 * MS, NOW, 100));
        assertEquals(0, groups.sizeDeltaBytes(), "the late packet's size was not counted in either group");
        assertEquals(10 * MS, groups.arrivalDeltaUs());
    }

    @Test
    void theDeltasDoNotDependOnTheReceiverClocksOrigin() {
        long[] origins = {0, -9_000_000_000_000L, 4_000_000_000_000_000L};
        long[] first = null;
        for (long origin : origins) {
            InterArrival groups = new InterArrival();
            long[] deltas = new long[40];
            int n = 0;
            for (int i = 0; i < 60; i++) {
                long send = i * 3 * MS;
                long arrival = origin + send + 20 * MS + (i % 7) * 300;
                if (groups.onPacket(send, arrival, NOW + send, 1000 + i)) {
                    deltas[n++] = groups.arrivalDeltaUs() - groups.sendDeltaUs();
                }
            }
            assertTrue(n > 10, n + " deltas");
            if (first == null) {
                first = deltas;
            } else {
                assertEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(deltas),
                        "origin " + origin);
            }
        }
    }

    @Test
    void aJumpOfTheReceiversClockStartsOverInsteadOfYieldingAHugeDelta() {
        InterArrival groups = new InterArrival();
        long now = NOW;
        long arrival = 50 * MS;
        long send = 0;
        for (int i = 0; i < 5; i++) {
            groups.onPacket(send, arrival, now, 1000);
            send += 10 * MS;
            arrival += 10 * MS;
            now += 10 * MS;
        }
        arrival += 10_000 * MS;
        for (int i = 0; i < 5; i++) {
            if (groups.onPacket(send, arrival, now, 1000)) {
                assertTrue(groups.arrivalDeltaUs() < 100 * MS, "delta across the jump: " + groups.arrivalDeltaUs());
            }
            send += 10 * MS;
            arrival += 10 * MS;
            now += 10 * MS;
        }
        assertEquals(1, groups.resets());
    }
}
