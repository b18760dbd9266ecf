package dev.parley.media.cc;

/**
 * The packets one transport feedback report covers, as the send-side estimator reads them: for each, its
 * transport-wide sequence number, when the server sent it, its size and when the receiver got it (or that it was
 * lost). One instance is filled and reused report after report ({@link #clear()}, then {@code add}), so reading a
 * report allocates nothing.
 *
 * <p>Sequence numbers are the server's unwrapped counter (the 16-bit wire value extended by the server, which
 * assigned them); only packets the server sent can be reported, since their send time and size come from it. Send times are microseconds on the server's clock; arrival times are microseconds on the
 * receiver's clock, whose origin is arbitrary: only differences between arrivals are used.
 */
public final class PacketResults {
    /** Arrival time of a packet the receiver reported as not received. */
    public static final long LOST = Long.MIN_VALUE;

    private final long[] sequence;
    private final long[] sendTimeUs;
    private final int[] sizeBytes;
    private final long[] arrivalTimeUs;
    private int size;
    private long overflowed;

    /** @param capacity the most packets one report may carry; more are refused and counted */
    public PacketResults(int capacity) {
        if (capacity < 1 || capacity > 65_536) {
            throw new IllegalArgumentException("capacity must be 1..65536 packets, was " + capacity);
        }
        sequence = new long[capacity];
        sendTimeUs = new long[capacity];
        sizeBytes = new int[capacity];
        arrivalTimeUs = new long[capacity];
    }

    public void clear() {
        size = 0;
    }

    /**
     * Adds a received packet; returns false (and counts it) when the report is already at capacity.
     *
     * @param arrivalTimeUs on the receiver's clock, or {@link #LOST}
     */
    public boolean add(long sequenceNumber, long sendTimeUs, int sizeBytes, long arrivalTimeUs) {
        if (size == sequence.length) {
            overflowed++;
            return false;
        }
        this.sequence[size] = sequenceNumber;
        this.sendTimeUs[size] = sendTimeUs;
        this.sizeBytes[size] = sizeBytes;
        this.arrivalTimeUs[size] = arrivalTimeUs;
        size++;
        return true;
    }

    public boolean addLost(long sequenceNumber, long sendTimeUs, int sizeBytes) {
        return add(sequenceNumber, sendTimeUs, sizeBytes, LOST);
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return sequence.length;
    }

    /** Packets refused because a report held more than {@link #capacity()}. */
    public long overflowed() {
        return overflowed;
    }

    public long sequence(int i) {
        return sequence[check(i)];
    }

    public long sendTimeUs(int i) {
        return sendTimeUs[check(i)];
    }

    public int sizeBytes(int i) {
        return sizeBytes[check(i)];
    }

    public long arrivalTimeUs(int i) {
        return arrivalTimeUs[check(i)];
    }

    public boolean isLost(int i) {
        return arrivalTimeUs[check(i)] == LOST;
    }

    private int check(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("packet " + i + " of " + size);
        }
        return i;
    }
}
