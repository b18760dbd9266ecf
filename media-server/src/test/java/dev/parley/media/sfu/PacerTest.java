package dev.parley.media.sfu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.RtpSender;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacerTest {
    private static final long MS = 1_000_000L;

    private final MediaCounters counters = new MediaCounters();
    private final List<Integer> stamped = new ArrayList<>();
    private final Pacer pacer = new Pacer(counters, packet -> stamped.add(numberOf(packet)));
    private final Link link = new Link();
    private int wakes;
    private final Runnable wake = () -> wakes++;

    /** Records what leaves: each packet's number (its first two bytes) and when the test's clock said it left. */
    private static final class Link implements RtpSender {
        final List<Integer> numbers = new ArrayList<>();
        final List<Long> times = new ArrayList<>();
        final List<Integer> sizes = new ArrayList<>();
        long now;

        @Override
        public boolean isSecure() {
            return true;
        }

        @Override
        public boolean sendRtp(PacketBuffer packet) {
            numbers.add(numberOf(packet));
            times.add(now);
            sizes.add(packet.getLength());
            return true;
        }

        long bytesBy(long time) {
            long bytes = 0;
            for (int i = 0; i < times.size(); i++) {
                if (times.get(i) <= time) {
                    bytes += sizes.get(i);
                }
            }
            return bytes;
        }
    }

    private static int numberOf(PacketBuffer packet) {
        return ((packet.getBuffer()[packet.getOffset()] & 0xff) << 8) | (packet.getBuffer()[packet.getOffset() + 1] & 0xff);
    }

    private static PacketBuffer packet(int number, int size) {
        PacketBuffer packet = new PacketBuffer();
        byte[] bytes = new byte[size];
        bytes[0] = (byte) (number >> 8);
        bytes[1] = (byte) number;
        packet.copyFrom(bytes, 0, size);
        return packet;
    }

    private boolean send(int number, int size, long now) {
        link.now = now;
        return pacer.send(packet(number, size), link, now, wake);
    }

    /** Runs the timer's 5 ms ticks from {@code from} to {@code to}. */
    private void drainUntil(long from, long to) {
        for (long now = from; now <= to; now += 5 * MS) {
            link.now = now;
            pacer.drain(now);
        }
    }

    @Test
    void withoutAnEstimateEverythingLeavesAtOnce() {
        for (int i = 0; i < 50; i++) {
            send(i, 1200, MS);
        }
        assertEquals(50, link.numbers.size());
        assertEquals(0, pacer.delayedPackets());
        assertEquals(0, wakes);
    }

    @Test
    void aBurstOnALimitedLinkLeavesAtTheEstimateInOrder() {
        // 400 kbit/s estimated, the link limiting the video: paced at 440 kbit/s (55 000 bytes a second).
        pacer.rate(400_000, true, 0);
        // A publisher's 400 ms stall released at once: 20 packets of 1000 bytes (400 ms of what the estimate carries).
        for (int i = 0; i < 20; i++) {
            send(i, 1000, MS);
        }
        assertTrue(link.numbers.size() <= 3, "the bucket's burst leaves at once, the rest waits: " + link.numbers);
        assertEquals(1, wakes, "the timer is woken once, when the queue starts");
        drainUntil(5 * MS, 1000 * MS);
        assertEquals(20, link.numbers.size(), "all of it left");
        for (int i = 0; i < 20; i++) {
            assertEquals(i, link.numbers.get(i), "in order");
        }
        assertEquals(link.numbers, stamped, "each stamped as it left");
        long rate = (long) (400_000 * Pacer.LIMITED_FACTOR / 8);
        for (long t = 50 * MS; t <= 400 * MS; t += 50 * MS) {
            long allowed = Pacer.MIN_BURST_BYTES + 1000 + rate * t / 1_000_000_000L;
            assertTrue(link.bytesBy(t) <= allowed, "by " + t / MS + " ms: " + link.bytesBy(t) + " > " + allowed);
        }
        long last = link.times.get(19);
        // What the bucket did not let through at once (17 600 bytes) at 55 000 bytes a second: about 320 ms.
        assertTrue(last > 280 * MS && last < 360 * MS, "left by " + last / MS + " ms");
        assertEquals(0, counters.drops(DropReason.PACER_LATE));
    }

    @Test
    void aPacketArrivingWhileOthersWaitQueuesBehindThem() {
        pacer.rate(400_000, true, 0);
        for (int i = 0; i < 10; i++) {
            send(i, 1000, MS);
        }
        drainUntil(5 * MS, 30 * MS);
        int before = link.numbers.size();
        assertTrue(send(10, 200, 31 * MS), "the small packet is taken");
        assertEquals(before, link.numbers.size(), "but waits behind the queue");
        drainUntil(35 * MS, 400 * MS);
        assertEquals(11, link.numbers.size());
        assertEquals(10, link.numbers.get(10));
    }

    @Test
    void withoutALimitBurstsAreOnlySmoothedAtTwoAndAHalfTimesTheEstimate() {
        pacer.rate(1_000_000, false, 0);
        for (int i = 0; i < 20; i++) {
            send(i, 1000, MS);
        }
        drainUntil(5 * MS, 200 * MS);
        assertEquals(20, link.numbers.size());
        long last = link.times.get(19);
        // 20 000 bytes at 2.5 Mbit/s (312 500 bytes a second): about 60 ms.
        assertTrue(last >= 40 * MS && last <= 80 * MS, "left by " + last / MS + " ms");
    }

    @Test
    void whatWaitedTooLongIsDroppedAndCounted() {
        pacer.rate(100_000, true, 0);
        for (int i = 0; i < 100; i++) {
            send(i, 1000, MS);
        }
        drainUntil(5 * MS, 2000 * MS);
        long late = counters.drops(DropReason.PACER_LATE);
        assertTrue(late > 0, "some waited over " + Pacer.MAX_DELAY_NANOS / MS + " ms");
        assertEquals(100, link.numbers.size() + late, "each packet either left or was counted");
        for (int i = 0; i < link.numbers.size(); i++) {
            long queued = MS;
            assertTrue(link.times.get(i) - queued <= Pacer.MAX_DELAY_NANOS + 5 * MS, "none left later than allowed");
        }
        assertEquals(0, pacer.queuedPackets());
    }

    @Test
    void aFullQueueDropsTheNewcomerAndCountsIt() {
        pacer.rate(100_000, true, 0);
        for (int i = 0; i < Pacer.MAX_QUEUED_PACKETS + 20; i++) {
            send(i, 1000, MS);
        }
        assertEquals(Pacer.MAX_QUEUED_PACKETS, pacer.queuedPackets());
        long full = counters.drops(DropReason.PACER_QUEUE_FULL);
        assertEquals(Pacer.MAX_QUEUED_PACKETS + 20, link.numbers.size() + Pacer.MAX_QUEUED_PACKETS + full);
    }

    @Test
    void whatAudioSendsAroundThePacerSlowsTheVideo() {
        long alone = lastVideoLeaves(false);
        long withAudio = lastVideoLeaves(true);
        // Video alone: 17 600 bytes after the bucket's at 55 000 a second, about 320 ms; with 10 000 bytes a second of
        // audio taken from the same pace, about 390.
        assertTrue(withAudio - alone >= 40 * MS, "the audio's share was taken from the video's pace: "
                + alone / MS + " ms alone, " + withAudio / MS + " ms beside the audio");
    }

    /** When the last of a 20-packet video burst leaves at 400 kbit/s (limited), with 80 kbit/s of audio or not. */
    private static long lastVideoLeaves(boolean audio) {
        PacerTest test = new PacerTest();
        test.pacer.rate(400_000, true, 0);
        for (int i = 0; i < 20; i++) {
            test.send(i, 1000, MS);
        }
        for (long t = 5 * MS; t <= 1000 * MS; t += 5 * MS) {
            if (audio && t % (20 * MS) == 0) {
                test.pacer.charge(200, t);
            }
            test.link.now = t;
            test.pacer.drain(t);
        }
        assertEquals(20, test.link.numbers.size());
        return test.link.times.get(19);
    }

    @Test
    void clearingDropsWhatWaits() {
        pacer.rate(100_000, true, 0);
        for (int i = 0; i < 10; i++) {
            send(i, 1000, MS);
        }
        pacer.clear();
        assertEquals(0, pacer.queuedPackets());
        assertFalse(pacer.drain(10 * MS));
    }
}
