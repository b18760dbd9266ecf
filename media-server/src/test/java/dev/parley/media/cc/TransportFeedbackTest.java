package dev.parley.media.cc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Transport feedback as the server writes it, checked byte for byte against packets derived by hand from
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1, and read back by the parser.
 *
 * <p>Header (20 bytes): V=2, P, FMT=15 | PT=205 | length in words - 1 | sender SSRC | media SSRC | base sequence
 * (16) | packet status count (16) | reference time (24, 64 ms units) | feedback packet count (8). Then 16-bit chunks:
 * run length {@code 0 SS LLLLLLLLLLLLL}, one-bit vector {@code 1 0 + 14 symbols} (0 lost, 1 small delta), two-bit
 * vector {@code 1 1 + 7 symbols} (00 lost, 01 small, 10 large). Then one delta per received packet in 250 µs ticks:
 * one unsigned byte (0..255) or two signed bytes, the first from the reference time, each next from the previous
 * received packet. Padded to 32 bits with the P bit set and the padding length in the last byte.
 */
class TransportFeedbackTest {
    private static final long SENDER = 0x11223344L;
    private static final long MEDIA = 0x55667788L;
    private static final String SSRCS = "11223344 55667788 ";

    private final MediaCounters counters = new MediaCounters();
    private final TransportArrivals arrivals = new TransportArrivals(1024, 1200, counters);
    private final byte[] buf = new byte[1500];

    @Test
    void packetsThatAllArriveWithSmallDeltasAreOneRunLengthChunk() {
        // Sequences 100..104, 1 ms apart from 641 000 µs. Reference time floor(641000 / 64000) = 10 (= 640 000 µs);
        // the first delta (641000 - 640000) / 250 = 4 ticks, then 4 ticks each. Five "small delta" symbols: run
        // length chunk 0 01 0000000000101 = 0x2005. 20 + 2 + 5 = 27 bytes, padded with 1 byte (P bit: 0xAF).
        for (int i = 0; i < 5; i++) {
            arrivals.record(100 + i, 641_000 + 1_000L * i);
        }
        assertPacket("AFCD0006 " + SSRCS + "0064 0005 00000A 00 2005 0404040404 01");
    }

    @Test
    void aLossInsideFourteenPacketsIsAOneBitVector() {
        // Sequences 200..209, 203 and 204 lost. Statuses 1110011111: ten symbols, no large delta, not all the same,
        // more than seven: one-bit vector 1 0 11100111110000 = 0xB9F0. Reference floor(1000000 / 64000) = 15
        // (960 000 µs), first delta 40000 µs = 160 ticks (0xA0); then 4 ticks, 4, 12 (202 -> 205: 3 ms), 4, 4, 4, 4.
        // 20 + 2 + 8 = 30 bytes, padded with 2.
        for (int seq = 200; seq <= 209; seq++) {
            if (seq != 203 && seq != 204) {
                arrivals.record(seq, 1_000_000 + 1_000L * (seq - 200));
            }
        }
        assertPacket("AFCD0007 " + SSRCS + "00C8 000A 00000F 00 B9F0 A004040C04040404 0002");
    }

    @Test
    void reorderedAndLateArrivalsGetLargeAndNegativeDeltasInATwoBitVector() {
        // 300 at 2 000 000 µs, then 302 at 2 001 000, 301 at 2 002 000 (reordered), 303 at 2 102 000.
        // Reference floor(2000000 / 64000) = 31 (1 984 000 µs). In sequence order the ticks are 8000, 8008, 8004,
        // 8408: deltas 64 (0x40, small), 8 (small), -4 (0xFFFC, large: negative), 404 (0x0194, large: > 255).
        // Symbols 01 01 10 10: two-bit vector 1 1 01 01 10 10 00 00 00 = 0xD680. 20 + 2 + 6 = 28 bytes, no padding.
        arrivals.record(300, 2_000_000);
        arrivals.record(302, 2_001_000);
        arrivals.record(301, 2_002_000);
        arrivals.record(303, 2_102_000);
        assertPacket("8FCD0006 " + SSRCS + "012C 0004 00001F 00 D680 4008FFFC0194");
    }

    @Test
    void sequenceNumbersWrapAt65535() {
        // 65534, 65535, 0, 1 from 64 000 µs, 1 ms apart: base 0xFFFE, four statuses, reference 1, deltas 0, 4, 4, 4
        // in a run length chunk 0x2004; 26 bytes padded with 2.
        int[] sequences = {65534, 65535, 0, 1};
        for (int i = 0; i < 4; i++) {
            arrivals.record(sequences[i], 64_000 + 1_000L * i);
        }
        assertPacket("AFCD0006 " + SSRCS + "FFFE 0004 000001 00 2004 00040404 0002");
        TransportFeedback parsed = parse(28);
        assertArrayEquals(sequences, new int[] {parsed.sequence(0), parsed.sequence(1), parsed.sequence(2),
                parsed.sequence(3)});
    }

    @Test
    void aGapOfLostPacketsIsARunOfLostSymbols() {
        // 500 received, 501..530 lost, 531 received: 32 statuses. The first fourteen (1 and thirteen lost) fill a
        // one-bit vector 1 0 10000000000000 = 0xA000; the next seventeen lost are a run 0 00 0000000010001 = 0x0011;
        // the last is a run of one small delta, 0x2001. Reference 3 200 000 / 64 000 = 50, delta 0; then 531 arrives
        // 31 ms later: 124 ticks (0x7C). 20 + 6 + 2 = 28 bytes.
        arrivals.record(500, 3_200_000);
        arrivals.record(531, 3_231_000);
        assertPacket("8FCD0006 " + SSRCS + "01F4 0020 000032 00 A000 0011 2001 007C");
        TransportFeedback parsed = parse(28);
        for (int i = 0; i < 32; i++) {
            assertEquals(i == 0 || i == 31, parsed.received(i), "status " + i);
        }
    }

    @Test
    void aSpanTooLargeForOnePacketIsSplitIntoTwo() {
        // Thirty packets, 1 ms apart from 128 000 µs (reference 2, first delta 0), with packets limited to 40 bytes:
        // the first holds 20 + 2 + 18 deltas = 40 (sequences 1000..1017, run 0x2012), the second the other twelve
        // from 1018 (0x03FA): its arrival 146 000 µs has reference 2 again, delta (146000 - 128000) / 250 = 72 (0x48);
        // 20 + 2 + 12 = 34 bytes, padded with 2. The feedback packet count goes 0, 1.
        TransportArrivals small = new TransportArrivals(1024, 40, counters);
        for (int i = 0; i < 30; i++) {
            small.record(1000 + i, 128_000 + 1_000L * i);
        }
        int first = small.writeFeedback(buf, 0, 40, SENDER, MEDIA);
        assertHex("8FCD0009 " + SSRCS + "03E8 0012 000002 00 2012 00" + "04".repeat(17), first);
        int second = small.writeFeedback(buf, 0, 40, SENDER, MEDIA);
        assertHex("AFCD0008 " + SSRCS + "03FA 000C 000002 01 200C 48" + "04".repeat(11) + "0002", second);
        assertEquals(0, small.writeFeedback(buf, 0, 40, SENDER, MEDIA), "nothing left");
    }

    @Test
    void aDeltaBeyondTwoBytesStartsANewFeedbackPacket() {
        // 10 s between two packets is 40 000 ticks, more than a signed 16-bit delta holds.
        arrivals.record(7, 1_000_000);
        arrivals.record(8, 11_000_000);
        int first = arrivals.writeFeedback(buf, 0, 1200, SENDER, MEDIA);
        TransportFeedback parsed = parse(first);
        assertEquals(1, parsed.statusCount());
        assertEquals(7, parsed.baseSequence());
        int second = arrivals.writeFeedback(buf, 0, 1200, SENDER, MEDIA);
        parsed = parse(second);
        assertEquals(8, parsed.baseSequence());
        assertEquals(11_000_000 / 64_000, parsed.referenceTime());
        assertEquals(1, parsed.feedbackCount());
    }

    @Test
    void whatIsWrittenReadsBackExactlyWhateverTheMixOfLossReorderingAndDelay() {
        // 3000 packets from sequence 65000 (so it wraps); one in 20 lost, one pair in 10 swapped, one gap in 10 long
        // (80-180 ms: two-byte deltas), feedback written every 100 packets as the timer would, in packets
        // of at most 160 bytes (so most spans are split). The first one arrives
        // first: the window starts there.
        Random random = new Random(42);
        int first = 65000;
        long[] expected = new long[3000];
        Arrays.fill(expected, Long.MIN_VALUE);
        long now = 5_000_000;
        int recorded = 0;
        int[] reported = new int[3];
        TransportFeedback parsed = new TransportFeedback(2000);
        long[] times = new long[2000];
        for (int pair = 0; pair < expected.length / 2; pair++) {
            boolean swap = pair > 0 && random.nextInt(10) == 0;
            for (int k = 0; k < 2; k++) {
                int i = 2 * pair + (swap ? 1 - k : k);
                now += random.nextInt(10) == 0 ? 80_000 + random.nextInt(100_000) : random.nextInt(3_000);
                if (i > 0 && random.nextInt(20) == 0) {
                    continue;
                }
                arrivals.record((first + i) & 0xffff, now);
                expected[i] = Math.floorDiv(now, 250) * 250;
                recorded++;
            }
            if (pair % 50 == 49) {
                drain(parsed, times, first, expected, reported);
            }
        }
        drain(parsed, times, first, expected, reported);
        assertEquals(recorded, reported[1]);
        assertTrue(reported[2] > 30, "feedback packets: " + reported[2]);
        assertEquals(0, counters.drops(DropReason.TRANSPORT_CC_LATE) + counters.drops(DropReason.TRANSPORT_CC_DUPLICATE));
    }

    /** Writes and reads back what waits; {@code reported}: next index, received count, packets. */
    private void drain(TransportFeedback parsed, long[] times, int first, long[] expected, int[] reported) {
        int length;
        while ((length = arrivals.writeFeedback(buf, 0, 160, SENDER, MEDIA)) > 0) {
            assertTrue(length <= 160 && length % 4 == 0, "length " + length);
            assertTrue(parsed.parse(buf, 0, length));
            assertEquals((first + reported[0]) & 0xffff, parsed.baseSequence(), "each packet starts where one ended");
            assertEquals(reported[2] & 0xff, parsed.feedbackCount());
            parsed.arrivalMicros(times);
            for (int i = 0; i < parsed.statusCount(); i++, reported[0]++) {
                assertEquals(expected[reported[0]], times[i], "arrival of " + parsed.sequence(i));
                if (parsed.received(i)) {
                    reported[1]++;
                }
            }
            reported[2]++;
        }
    }

    @Test
    void duplicateLateAndOverflowingArrivalsAreCountedAndLeftOut() {
        arrivals.record(10, 1_000);
        arrivals.record(10, 2_000);
        assertEquals(1, counters.drops(DropReason.TRANSPORT_CC_DUPLICATE));
        arrivals.record(12, 3_000);
        parse(arrivals.writeFeedback(buf, 0, 1200, SENDER, MEDIA));
        arrivals.record(11, 4_000);
        assertEquals(1, counters.drops(DropReason.TRANSPORT_CC_LATE), "11 was already reported lost");
        assertFalse(arrivals.hasPending());
        arrivals.record(20, 5_000);
        arrivals.record(20 + 1024, 6_000);
        assertEquals(1, counters.drops(DropReason.TRANSPORT_CC_OVERFLOW), "20 is beyond the ring's reach");
        TransportFeedback parsed = parse(arrivals.writeFeedback(buf, 0, 1200, SENDER, MEDIA));
        assertEquals(1024, parsed.statusCount());
        assertEquals(20 + 1024, parsed.sequence(1023));
        assertEquals(1, java.util.stream.IntStream.range(0, 1024).filter(parsed::received).count());
    }

    @Test
    void malformedFeedbackIsRefused() {
        TransportFeedback parsed = new TransportFeedback(100);
        assertFalse(parsed.parse(hex("8FCD0004 " + SSRCS + "0000 0005 000000 00 2005"), 0, 20), "truncated");
        assertFalse(parsed.parse(hex("8FCD0005 " + SSRCS + "0000 0005 000000 00 6005 0000"), 0, 24), "reserved");
        assertFalse(parsed.parse(hex("8FCD0005 " + SSRCS + "0000 0065 000000 00 2065 0000"), 0, 24), "too many");
        assertFalse(parsed.parse(hex("8FCD0005 " + SSRCS + "0000 0005 000000 00 2005 0404"), 0, 24),
                "five deltas announced, two present");
        assertTrue(parsed.parse(hex("8FCD0005 " + SSRCS + "0000 0002 FFFFFF 00 2002 0404"), 0, 24));
        assertEquals(-1, parsed.referenceTime(), "the reference time is signed");
    }

    private void assertPacket(String expectedHex) {
        int length = arrivals.writeFeedback(buf, 0, 1200, SENDER, MEDIA);
        assertHex(expectedHex, length);
        parse(length);
        assertFalse(arrivals.hasPending());
    }

    private void assertHex(String expected, int length) {
        assertEquals(expected.replace(" ", "").toUpperCase(), hex(buf, length));
    }

    private TransportFeedback parse(int length) {
        TransportFeedback parsed = new TransportFeedback(2000);
        assertTrue(parsed.parse(buf, 0, length), "parses: " + hex(buf, length));
        assertEquals(SENDER, parsed.senderSsrc());
        assertEquals(MEDIA, parsed.mediaSsrc());
        return parsed;
    }

    private static byte[] hex(String text) {
        return HexFormat.of().parseHex(text.replace(" ", ""));
    }

    private static String hex(byte[] bytes, int length) {
        return HexFormat.of().withUpperCase().formatHex(bytes, 0, length);
    }
}
