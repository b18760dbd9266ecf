package dev.parley.media.sfu;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;

/**
 * The packets of one publisher's video stream that did not arrive, asked for again with generic NACKs (RFC 4585
 * section 6.2.1) until they come, as RTX (RFC 4588) or late, or are given up: after {@link #MAX_REQUESTS} requests,
 * {@value #MAX_AGE_MILLIS} ms after they were missed, or when more than {@link #MAX_MISSING} are missing at once.
 * A request is repeated once a round trip has passed without an answer (at least {@link #MIN_RETRY_NANOS} apart).
 *
 * <p>Loss on a publisher's uplink is loss for every receiver of the stream; the server's own cache cannot answer their
 * NACKs for a packet it never got, so it asks the publisher, as libwebrtc's receivers do.
 *
 * <p>{@link #received} and {@link #recovered} run on the publisher's receive thread, {@link #writeDue} on the media
 * timer; they meet under this object's monitor, held for a few array writes. Preallocated: nothing is allocated per
 * packet or per request.
 */
final class RetransmissionRequests {
    private final MediaCounters counters;
    /** Packets missing at once that are asked for; a longer gap is not repaired (the receivers ask for a keyframe). */
    static final int MAX_MISSING = 256;
    /** Requests for one packet before it is given up. */
    static final int MAX_REQUESTS = 10;
    static final long MAX_AGE_MILLIS = 1000;
    private static final long MAX_AGE_NANOS = MAX_AGE_MILLIS * 1_000_000L;
    /** Repeated requests for one packet are at least this far apart, however short the round trip. */
    static final long MIN_RETRY_NANOS = 20_000_000L;

    // A ring of missing sequence numbers in the order they were missed (so also by age); -1 marks one no longer
    // missing. head: the oldest entry; size: entries from head, those marked included.
    private final int[] sequences = new int[MAX_MISSING];
    private final long[] missedAtNanos = new long[MAX_MISSING];
    private final long[] requestedAtNanos = new long[MAX_MISSING];
    private final long[] firstRequestedAtNanos = new long[MAX_MISSING];
    private final int[] requests = new int[MAX_MISSING];
    private int head;
    private int size;
    private int missing;
    private boolean started;
    private int highest;
    // Counts, read by the stats; written under the monitor.
    private long requested;
    private long recoveredCount;
    private long givenUp;

    RetransmissionRequests(MediaCounters counters) {
        this.counters = counters;
    }

    /**
     * A media packet of the stream arrived. Returns true when it revealed a gap (packets to ask for: the caller makes
     * sure the timer runs {@link #writeDue}).
     */
    synchronized boolean received(int sequence, long nowNanos) {
        sequence &= 0xffff;
        if (!started) {
            started = true;
            highest = sequence;
            return false;
        }
        int delta = (sequence - highest) & 0xffff;
        if (delta == 1) {
            highest = sequence;
            return false;
        }
        if (delta == 0) {
            return false;
        }
        if (delta >= 0x8000) {
            // Older than the newest: a packet that came late on its own, no longer missing.
            remove(sequence);
            return false;
        }
        highest = sequence;
        int gap = delta - 1;
        if (gap > MAX_MISSING) {
            // A jump, not a loss worth repairing (the stream restarted, or an outage): what was missing goes too.
            givenUp(missing);
            clear();
            return false;
        }
        for (int i = gap; i >= 1; i--) {
            add((sequence - i) & 0xffff, nowNanos);
        }
        return true;
    }

    /** What {@link #recover} answers for a packet that is not on the list (not missing, or given up). */
    static final long NOT_WANTED = -2;

    /**
     * A retransmission of {@code sequence} arrived: if the packet is on the list, it leaves it (counted as recovered)
     * and the answer is the age of its first request, a round-trip sample, or -1 if it was not asked for yet;
     * otherwise {@link #NOT_WANTED} (a second copy, or one that arrived in the first place). When the packet was asked
     * for again before the answer came, the answer may be to a later request, so the sample may be too long: that
     * errs towards asking less often, where one taken from the last request would, on a link slower than assumed,
     * keep the requests coming faster than the answers and never learn better.
     */
    synchronized long recover(int sequence, long nowNanos) {
        int i = find(sequence & 0xffff);
        if (i < 0) {
            return NOT_WANTED;
        }
        long age = requests[i] > 0 ? nowNanos - firstRequestedAtNanos[i] : -1;
        sequences[i] = -1;
        missing--;
        trimHead();
        recoveredCount++;
        counters.packetRecovered();
        return age;
    }

    /**
     * Gives up what is too old, or was asked for {@link #MAX_REQUESTS} times and a round trip has passed since, and
     * writes the FCI entries (a packet id and a bitmask of the 16 after it) of a generic NACK for every packet due a
     * request into {@code buf} from {@code off}, at most {@code maxEntries}. A request is due when none was made, or
     * the last is {@code retryNanos} old (a round trip). Returns the number of entries written (0: nothing due).
     */
    synchronized int writeDue(long nowNanos, long retryNanos, byte[] buf, int off, int maxEntries) {
        long retry = Math.max(MIN_RETRY_NANOS, retryNanos);
        int entries = 0;
        int entryPacketId = -1;
        int entryMask = 0;
        int asked = 0;
        for (int k = 0; k < size; k++) {
            int i = (head + k) & (MAX_MISSING - 1);
            int sequence = sequences[i];
            if (sequence < 0) {
                continue;
            }
            boolean answerDue = requests[i] > 0 && nowNanos - requestedAtNanos[i] < retry;
            if (nowNanos - missedAtNanos[i] > MAX_AGE_NANOS || (requests[i] >= MAX_REQUESTS && !answerDue)) {
                sequences[i] = -1;
                missing--;
                givenUp(1);
                continue;
            }
            if (answerDue) {
                continue;
            }
            int offset = (sequence - entryPacketId) & 0xffff;
            if (entryPacketId >= 0 && offset >= 1 && offset <= 16) {
                entryMask |= 1 << (offset - 1);
            } else {
                if (entryPacketId >= 0) {
                    writeEntry(buf, off + 4 * entries++, entryPacketId, entryMask);
                    entryPacketId = -1;
                }
                if (entries == maxEntries) {
                    break;
                }
                entryPacketId = sequence;
                entryMask = 0;
            }
            if (requests[i]++ == 0) {
                firstRequestedAtNanos[i] = nowNanos;
            }
            requestedAtNanos[i] = nowNanos;
            asked++;
        }
        if (entryPacketId >= 0) {
            writeEntry(buf, off + 4 * entries++, entryPacketId, entryMask);
        }
        if (asked > 0) {
            requested += asked;
            counters.retransmissionsRequested(asked);
        }
        trimHead();
        return entries;
    }

    /** Whether any packet is still missing (the timer keeps calling {@link #writeDue} while one is). */
    synchronized boolean pending() {
        return missing > 0;
    }

    synchronized long requested() {
        return requested;
    }

    synchronized long recoveredCount() {
        return recoveredCount;
    }

    synchronized long givenUp() {
        return givenUp;
    }

    private void givenUp(int count) {
        if (count > 0) {
            givenUp += count;
            counters.drop(DropReason.PUBLISHER_PACKET_LOST, count);
        }
    }

    private static void writeEntry(byte[] buf, int at, int packetId, int mask) {
        buf[at] = (byte) (packetId >>> 8);
        buf[at + 1] = (byte) packetId;
        buf[at + 2] = (byte) (mask >>> 8);
        buf[at + 3] = (byte) mask;
    }

    private void add(int sequence, long nowNanos) {
        if (size == MAX_MISSING) {
            // Full: the oldest goes first (at worst it is one of those marked, which costs nothing).
            if (sequences[head] >= 0) {
                missing--;
                givenUp(1);
            }
            head = (head + 1) & (MAX_MISSING - 1);
            size--;
        }
        int i = (head + size) & (MAX_MISSING - 1);
        sequences[i] = sequence;
        missedAtNanos[i] = nowNanos;
        requestedAtNanos[i] = 0;
        requests[i] = 0;
        size++;
        missing++;
    }

    private int find(int sequence) {
        for (int k = 0; k < size; k++) {
            int i = (head + k) & (MAX_MISSING - 1);
            if (sequences[i] == sequence) {
                return i;
            }
        }
        return -1;
    }

    private boolean remove(int sequence) {
        int i = find(sequence);
        if (i < 0) {
            return false;
        }
        sequences[i] = -1;
        missing--;
        trimHead();
        return true;
    }

    private void trimHead() {
        while (size > 0 && sequences[head] < 0) {
            head = (head + 1) & (MAX_MISSING - 1);
            size--;
        }
    }

    private void clear() {
        head = 0;
        size = 0;
        missing = 0;
    }
}
