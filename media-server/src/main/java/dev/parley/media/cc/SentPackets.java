package dev.parley.media.cc;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The transport-wide numbering of everything the server sends on one transport, and each packet's send time and
 * size, kept until the receiver's transport feedback reports it: a fixed ring indexed by the unwrapped sequence
 * number. {@link #next} numbers a packet and records it; {@link #match} turns one feedback packet into the
 * {@link PacketResults} the receiver's {@link SendSideEstimator} reads.
 *
 * <p>Counted: {@code transport_cc_unreported} (a packet the ring dropped to make room before any feedback reported
 * it: the receiver's feedback lags more than the ring holds), {@code transport_feedback_unknown} (a reported sequence
 * number the ring does not hold: never sent, or sent too long ago).
 *
 * <p>Numbering allocates nothing. Packets are numbered on the forwarding threads (one per publisher, and the
 * receiver's own for retransmissions) and feedback is matched on the receiver's transport's receive thread; both hold
 * this object's monitor, for a few array writes per packet and one pass over a report.
 */
public final class SentPackets {
    private static final long EMPTY = -1;
    /** Reference times are 24-bit counts of 64 ms. */
    private static final long REFERENCE_TIME_UNIT_US = 64_000;

    private final long[] sequences;
    private final long[] sendTimesUs;
    private final int[] sizes;
    private final boolean[] reported;
    private final int mask;
    private final long[] arrivals;
    private final MediaCounters counters;
    /** The unwrapped number the next packet gets; starts one wrap up from a random 16-bit value. */
    private long next = 0x10000 + ThreadLocalRandom.current().nextInt(0x10000);
    private boolean haveReference;
    private int lastReferenceTime;
    private long unwrappedReferenceTime;

    /**
     * @param capacity          a power of two: the most packets held until feedback reports them
     * @param maxReportedPackets the most packets one feedback packet may report (the parser's limit)
     */
    public SentPackets(int capacity, int maxReportedPackets, MediaCounters counters) {
        if (Integer.bitCount(capacity) != 1 || capacity < 16 || capacity > 0x8000) {
            throw new IllegalArgumentException("capacity must be a power of two in 16..32768: " + capacity);
        }
        this.sequences = new long[capacity];
        this.sendTimesUs = new long[capacity];
        this.sizes = new int[capacity];
        this.reported = new boolean[capacity];
        this.mask = capacity - 1;
        this.arrivals = new long[maxReportedPackets];
        this.counters = counters;
        Arrays.fill(sequences, EMPTY);
    }

    /**
     * Numbers the packet about to be sent and records it.
     *
     * @return its transport-wide sequence number, 16 bits, for the header extension
     */
    public synchronized int next(long sendTimeUs, int sizeBytes) {
        long sequence = next++;
        int slot = (int) (sequence & mask);
        if (sequences[slot] != EMPTY && !reported[slot]) {
            counters.drop(DropReason.TRANSPORT_CC_UNREPORTED);
        }
        sequences[slot] = sequence;
        sendTimesUs[slot] = sendTimeUs;
        sizes[slot] = sizeBytes;
        reported[slot] = false;
        return (int) (sequence & 0xffff);
    }

    /**
     * Fills {@code into} (cleared first) with the packets {@code feedback} reports, by unwrapped sequence number, with
     * their send time and size and their arrival time on the receiver's clock (reference times unwrapped across
     * reports, so a wrap of the 24-bit reference is not a jump) or {@link PacketResults#LOST}. Reported numbers the
     * ring does not hold are left out and counted; so are packets beyond {@code into}'s capacity (by it).
     *
     * @return how many packets were matched
     */
    public synchronized int match(TransportFeedback feedback, PacketResults into) {
        into.clear();
        int count = feedback.statusCount();
        if (count > arrivals.length) {
            return 0;
        }
        int reference = feedback.referenceTime();
        if (!haveReference) {
            haveReference = true;
            unwrappedReferenceTime = reference;
        } else {
            unwrappedReferenceTime += ((reference - lastReferenceTime) << 8) >> 8;
        }
        lastReferenceTime = reference;
        long shiftUs = (unwrappedReferenceTime - reference) * REFERENCE_TIME_UNIT_US;
        feedback.arrivalMicros(arrivals);
        long highest = next - 1;
        int matched = 0;
        for (int i = 0; i < count; i++) {
            long sequence = highest - (((highest & 0xffff) - feedback.sequence(i)) & 0xffff);
            int slot = (int) (sequence & mask);
            if (sequences[slot] != sequence) {
                counters.drop(DropReason.TRANSPORT_FEEDBACK_UNKNOWN);
                continue;
            }
            reported[slot] = true;
            long arrival = feedback.received(i) ? arrivals[i] + shiftUs : PacketResults.LOST;
            if (into.add(sequence, sendTimesUs[slot], sizes[slot], arrival)) {
                matched++;
            }
        }
        return matched;
    }
}
