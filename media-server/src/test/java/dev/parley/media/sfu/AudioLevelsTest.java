package dev.parley.media.sfu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.rtp.AudioLevel;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** One audio track's recent levels, written packet by packet by one thread and read by another. */
class AudioLevelsTest {
    private static final long MS = 1_000_000L;
    /** An arbitrary clock origin, negative as System.nanoTime may be. */
    private static final long T0 = -7_000_000_000_000L;
    private static final long FIRST = AudioLevels.interval(T0);

    @Test
    void anIntervalReadsItsLoudestLevelAndWhetherAnyPacketHadVoice() {
        AudioLevels levels = new AudioLevels();
        levels.add(50, false, T0 + 1 * MS);
        levels.add(30, true, T0 + 8 * MS);
        levels.add(40, false, T0 + 15 * MS);
        levels.add(90, false, T0 + 21 * MS);

        int first = levels.sample(FIRST);
        assertEquals(30, AudioLevel.level(first));
        assertTrue(AudioLevel.voice(first));
        int second = levels.sample(FIRST + 1);
        assertEquals(90, AudioLevel.level(second));
        assertFalse(AudioLevel.voice(second));
        assertEquals(4, levels.packets());
    }

    @Test
    void longerPacketsLeaveNoGapsButDiscontinuousTransmissionReadsAsSilence() {
        AudioLevels levels = new AudioLevels();
        // 60 ms packets for 600 ms, then a comfort noise packet every 400 ms.
        for (int packet = 0; packet < 10; packet++) {
            levels.add(30, true, T0 + packet * 60 * MS);
        }
        for (int packet = 0; packet < 3; packet++) {
            levels.add(80, false, T0 + (600 + packet * 400) * MS);
        }

        for (long interval = FIRST; interval < FIRST + 30; interval++) {
            assertEquals(30, AudioLevel.level(levels.sample(interval)), "interval " + (interval - FIRST));
        }
        assertEquals(80, AudioLevel.level(levels.sample(FIRST + 30)));
        assertEquals(80, AudioLevel.level(levels.sample(FIRST + 32)), "held over 40 ms");
        assertEquals(-1, levels.sample(FIRST + 33), "no packet for 60 ms: silence");
        assertEquals(-1, levels.sample(FIRST + 49));
        assertEquals(80, AudioLevel.level(levels.sample(FIRST + 50)));
    }

    @Test
    void levelsOutsideTheRangeAreRejectedAndCounted() {
        AudioLevels levels = new AudioLevels();
        levels.add(-1, true, T0);
        levels.add(128, true, T0);
        levels.add(Integer.MIN_VALUE, false, T0);

        assertEquals(-1, levels.sample(FIRST));
        assertEquals(3, levels.rejected());
        assertEquals(0, levels.packets());
    }

    @Test
    void intervalsOlderThanTheRingReadAsAbsentNotAsNewerOnes() {
        AudioLevels levels = new AudioLevels();
        for (int packet = 0; packet < AudioLevels.CAPACITY + 10; packet++) {
            levels.add(packet % 100, false, T0 + packet * AudioLevels.INTERVAL_NANOS);
        }

        assertEquals(-1, levels.sample(FIRST + 5), "overwritten by a newer interval");
        assertEquals(15, AudioLevel.level(levels.sample(FIRST + 15)), "the oldest interval still kept");
        long newest = FIRST + AudioLevels.CAPACITY + 9;
        assertEquals((AudioLevels.CAPACITY + 9) % 100, AudioLevel.level(levels.sample(newest)));
        assertEquals(-1, levels.sample(FIRST + 2L * AudioLevels.CAPACITY + 5), "from the future");
    }

    @Test
    void recordingAPacketAllocatesNothing() {
        AudioLevels levels = new AudioLevels();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 200_000; i++) {
            levels.add(i % 128, (i & 1) == 0, T0 + i * 7 * MS);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1_000_000; i++) {
            levels.add(i % 128, (i & 1) == 0, T0 + i * 7 * MS);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertTrue(allocated < 1024, allocated + " bytes allocated for a million packets");
    }

    @Test
    void aReaderOnAnotherThreadNeverSeesAHalfWrittenInterval() throws InterruptedException {
        AudioLevels levels = new AudioLevels();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong written = new AtomicLong(FIRST);
        // The publisher's thread: a few packets per interval, the first one the loudest and the only one that may
        // have the V bit, so every state of an interval's slot reads as that interval's level and V bit. It pauses now
        // and then so that the reader, a slower loop, keeps up with the ring.
        Thread publisher = new Thread(() -> {
            long interval = FIRST;
            while (!stop.get()) {
                long start = interval * AudioLevels.INTERVAL_NANOS;
                levels.add(expectedLevel(interval), expectedVoice(interval), start);
                for (int packet = 1; packet < 4; packet++) {
                    levels.add(expectedLevel(interval) + packet, false, start + packet * 5 * MS);
                }
                written.set(interval);
                interval++;
                if (interval % 64 == 0) {
                    LockSupport.parkNanos(20_000);
                }
            }
        }, "publisher");
        publisher.start();
        long checked = 0;
        try {
            // Until enough reads were checked: on a loaded machine the publisher's thread may wait long to run.
            long deadline = System.nanoTime() + 20_000 * MS;
            while (checked < 2000 && System.nanoTime() < deadline) {
                long newest = written.get();
                // The interval being written now, many times over, then the ones written before it.
                for (int probe = 0; probe < 1000; probe++) {
                    checked += check(levels, newest + 1);
                }
                for (long interval = newest; interval > newest - AudioLevels.CAPACITY / 2; interval--) {
                    checked += check(levels, interval);
                }
            }
        } finally {
            stop.set(true);
            publisher.join();
        }
        assertTrue(checked > 1000, "only " + checked + " intervals checked");
    }

    @Test
    void aReaderProbingTheSlotBeingRewrittenSeesOnlyWholeIntervals() throws InterruptedException {
        AudioLevels levels = new AudioLevels();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong round = new AtomicLong();
        // The publisher's thread moves one slot of the ring on by a whole ring's length, again and again, as fast as
        // it can, while the reader asks for the interval it is writing and the one it will write next.
        Thread publisher = new Thread(() -> {
            for (long k = 0; !stop.get(); k++) {
                long interval = FIRST + k * AudioLevels.CAPACITY;
                long start = interval * AudioLevels.INTERVAL_NANOS;
                levels.add(expectedLevel(interval), expectedVoice(interval), start);
                levels.add(expectedLevel(interval) + 1, false, start + MS);
                round.set(k);
            }
        }, "publisher");
        publisher.start();
        long checked = 0;
        try {
            long deadline = System.nanoTime() + 300 * MS;
            while (System.nanoTime() < deadline) {
                long k = round.get();
                checked += check(levels, FIRST + k * AudioLevels.CAPACITY);
                checked += check(levels, FIRST + (k + 1) * AudioLevels.CAPACITY);
            }
        } finally {
            stop.set(true);
            publisher.join();
        }
        assertTrue(checked > 1000, "only " + checked + " reads checked");
    }

    /** 1 when {@code interval} reads as what the publisher wrote for it (or for an interval it holds), 0 if empty. */
    private static int check(AudioLevels levels, long interval) {
        int sample = levels.sample(interval);
        if (sample < 0) {
            return 0;
        }
        boolean matches = false;
        for (long held = interval; held >= interval - AudioLevels.HOLD_INTERVALS; held--) {
            matches |= AudioLevel.level(sample) == expectedLevel(held) && AudioLevel.voice(sample) == expectedVoice(held);
        }
        assertTrue(matches, "interval " + interval + " read " + sample);
        return 1;
    }

    private static int expectedLevel(long interval) {
        return (int) Math.floorMod(interval * 37, 124);
    }

    private static boolean expectedVoice(long interval) {
        return Math.floorMod(interval, 3) == 0;
    }
}
