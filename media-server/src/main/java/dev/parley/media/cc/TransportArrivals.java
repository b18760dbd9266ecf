package dev.parley.media.cc;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.util.Arrays;

/**
 * When each packet of one transport arrived, by transport-wide sequence number, until it is reported in transport
 * feedback. A fixed ring indexed by the unwrapped sequence number holds the arrivals not yet reported; the window runs
 * from the first sequence not yet reported to the highest seen. Packets that arrive out of order inside the window
 * take their place; an arrival the ring cannot hold is dropped and counted (the packet itself is still forwarded):
 * {@code transport_cc_duplicate} (its sequence number was already recorded), {@code transport_cc_late} (its sequence
 * number was already reported, as lost, or lies before the window), {@code transport_cc_overflow} (recorded arrivals
 * the window moved past before they were reported: a jump ahead of more than the ring's size).
 *
 * <p>Recording allocates nothing. One thread records (the transport's receive thread) and another reports (the
 * timer thread): both hold this object's monitor, which is uncontended except while a feedback packet is written.
 */
public final class TransportArrivals {
    private static final long NOT_RECEIVED = Long.MIN_VALUE;

    private final long[] arrivals;
    private final int mask;
    private final MediaCounters counters;
    private final TransportFeedbackWriter writer;
    /** The first sequence number (unwrapped) not yet reported, and the highest recorded; -1 before any. */
    private long nextToReport = -1;
    private long highest = -1;
    private int feedbackCount;

    /** {@code capacity}: a power of two, the most arrivals held unreported. */
    public TransportArrivals(int capacity, int maxPacketLength, MediaCounters counters) {
        if (Integer.bitCount(capacity) != 1 || capacity < 16) {
            throw new IllegalArgumentException("capacity must be a power of two >= 16: " + capacity);
        }
        this.arrivals = new long[capacity];
        this.mask = capacity - 1;
        this.counters = counters;
        this.writer = new TransportFeedbackWriter(maxPacketLength);
        Arrays.fill(arrivals, NOT_RECEIVED);
    }

    /** Records the arrival of the packet carrying transport-wide sequence number {@code sequence} (16 bits). */
    public synchronized void record(int sequence, long arrivalMicros) {
        long unwrapped;
        if (highest < 0) {
            unwrapped = sequence & 0xffff;
            // Unwrapped numbers start one wrap up, so a packet a little older than the first stays positive.
            unwrapped += 0x10000;
            nextToReport = unwrapped;
            highest = unwrapped;
        } else {
            unwrapped = highest + (short) ((sequence & 0xffff) - (highest & 0xffff));
        }
        if (unwrapped < nextToReport) {
            counters.drop(DropReason.TRANSPORT_CC_LATE);
            return;
        }
        if (unwrapped - nextToReport >= arrivals.length) {
            // The window cannot reach this far back: what it held unreported is given up.
            long newStart = unwrapped - arrivals.length + 1;
            for (long s = nextToReport; s < newStart && s <= highest; s++) {
                int slot = (int) (s & mask);
                if (arrivals[slot] != NOT_RECEIVED) {
                    arrivals[slot] = NOT_RECEIVED;
                    counters.drop(DropReason.TRANSPORT_CC_OVERFLOW);
                }
            }
            nextToReport = newStart;
        }
        int slot = (int) (unwrapped & mask);
        if (arrivals[slot] != NOT_RECEIVED) {
            counters.drop(DropReason.TRANSPORT_CC_DUPLICATE);
            return;
        }
        arrivals[slot] = arrivalMicros;
        if (unwrapped > highest) {
            highest = unwrapped;
        }
    }

    /** Whether arrivals wait to be reported. */
    public synchronized boolean hasPending() {
        return highest >= 0 && nextToReport <= highest;
    }

    /**
     * Writes the next feedback packet, from the first sequence number not yet reported up to the highest recorded
     * or as far as fits in {@code maxLength} bytes, and forgets what it reported. Returns its length, 0 when nothing
     * waits.
     */
    public synchronized int writeFeedback(byte[] buf, int off, int maxLength, long senderSsrc, long mediaSsrc) {
        if (!hasPending()) {
            return 0;
        }
        writer.begin(buf, off, maxLength, senderSsrc, mediaSsrc, (int) nextToReport, feedbackCount);
        long s = nextToReport;
        for (; s <= highest; s++) {
            long arrival = arrivals[(int) (s & mask)];
            boolean added = arrival == NOT_RECEIVED ? writer.addLost() : writer.addReceived(arrival);
            if (!added) {
                break;
            }
        }
        int length = writer.finish();
        if (length == 0) {
            return 0;
        }
        for (long r = nextToReport; r < s; r++) {
            arrivals[(int) (r & mask)] = NOT_RECEIVED;
        }
        nextToReport = s;
        feedbackCount = (feedbackCount + 1) & 0xff;
        return length;
    }
}
