package dev.parley.media.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import org.junit.jupiter.api.Test;

/** Numbering what is sent, and matching a receiver's transport feedback to it. */
class SentPacketsTest {
    private final MediaCounters counters = new MediaCounters();
    private final SentPackets sent = new SentPackets(64, 256, counters);
    private final TransportFeedbackWriter writer = new TransportFeedbackWriter(1200);
    private final TransportFeedback feedback = new TransportFeedback(256);
    private final PacketResults results = new PacketResults(256);
    private final byte[] packet = new byte[1200];

    @Test
    void feedbackIsMatchedToWhatWasSentWithItsSendTimeSizeAndArrivalOrLoss() {
        int first = sent.next(1_000, 100);
        for (int i = 1; i < 10; i++) {
            assertEquals((first + i) & 0xffff, sent.next(1_000 + 5_000L * i, 100 + i));
        }
        // The receiver got all but the fourth, 20 ms after each was sent on its own clock, whose origin is its own.
        writer.begin(packet, 0, 1200, 1, 2, first, 0);
        for (int i = 0; i < 10; i++) {
            assertTrue(i == 3 ? writer.addLost() : writer.addReceived(7_000_000 + 5_000L * i));
        }
        assertTrue(feedback.parse(packet, 0, writer.finish()));
        assertEquals(10, sent.match(feedback, results));
        long base = results.sequence(0);
        for (int i = 0; i < 10; i++) {
            assertEquals(base + i, results.sequence(i));
            assertEquals(1_000 + 5_000L * i, results.sendTimeUs(i));
            assertEquals(100 + i, results.sizeBytes(i));
            assertEquals(i == 3, results.isLost(i));
            if (i != 3) {
                assertEquals(7_000_000 + 5_000L * i, results.arrivalTimeUs(i), "arrival of " + i);
            }
        }
        assertEquals((int) (base & 0xffff), first);
    }

    @Test
    void numbersNotSentOrForgottenAreCountedAndUnreportedPacketsPushedOutAreCounted() {
        int first = sent.next(0, 100);
        // Reports a number not sent yet and the one sent.
        writer.begin(packet, 0, 1200, 1, 2, first, 0);
        writer.addReceived(1_000);
        writer.addReceived(2_000);
        assertTrue(feedback.parse(packet, 0, writer.finish()));
        assertEquals(1, sent.match(feedback, results));
        assertEquals(1, counters.drops(DropReason.TRANSPORT_FEEDBACK_UNKNOWN));

        // 64 more fill the ring: the last takes the reported first's place quietly, the next pushes out one unreported.
        for (int i = 0; i < 64; i++) {
            sent.next(1_000L * i, 100);
        }
        assertEquals(0, counters.drops(DropReason.TRANSPORT_CC_UNREPORTED), "the reported one left quietly");
        sent.next(100_000, 100);
        assertEquals(1, counters.drops(DropReason.TRANSPORT_CC_UNREPORTED), "an unreported one pushed out");
        // The first, now forgotten, is unknown if reported again.
        assertEquals(0, sent.match(parse(first, 5_000), results));
        assertEquals(2, counters.drops(DropReason.TRANSPORT_FEEDBACK_UNKNOWN));
    }

    @Test
    void arrivalTimesStayContinuousWhenTheReferenceTimeWraps() {
        int a = sent.next(0, 100);
        int b = sent.next(10_000, 100);
        long beforeWrap = ((1L << 23) - 1) * 64_000 + 10_000;
        assertEquals(1, sent.match(parse(a, beforeWrap), results));
        long first = results.arrivalTimeUs(0);
        // 64 ms later the 24-bit reference time reads as negative once sign-extended; the arrival must not jump.
        assertEquals(1, sent.match(parse(b, beforeWrap + 64_000), results));
        assertEquals(64_000, results.arrivalTimeUs(0) - first);
    }

    private TransportFeedback parse(int sequence, long arrivalMicros) {
        writer.begin(packet, 0, 1200, 1, 2, sequence, 0);
        writer.addReceived(arrivalMicros);
        assertTrue(feedback.parse(packet, 0, writer.finish()));
        return feedback;
    }
}
