package dev.parley.media.cc;

import static dev.parley.media.rtp.Rtp.writeUint16;
import static dev.parley.media.rtp.Rtp.writeUint32;

import dev.parley.media.rtp.Rtcp;

/**
 * Writes one transport-wide congestion control feedback packet (RTCP RTPFB, FMT 15;
 * draft-holmer-rmcat-transport-wide-cc-extensions-01, section 3.1) from packet statuses added in sequence order.
 * Statuses are packed into run-length chunks where they repeat and into status vector chunks (fourteen one-bit
 * symbols, or seven two-bit ones when a delta needs two bytes) where they do not; receive deltas are in 250 µs ticks
 * from the reference time (64 ms units), each relative to the previous received packet, so rounding never adds up.
 * {@link #add} refuses a status that would overflow the size limit or whose delta two bytes cannot hold: the caller
 * finishes this packet and starts the next one there. Reusable; allocates nothing after construction.
 */
public final class TransportFeedbackWriter {
    /** RTCP header, sender and media SSRC, base sequence, status count, reference time, feedback packet count. */
    public static final int HEADER_LENGTH = 20;
    public static final int FORMAT = 15;
    /** Packet status symbols. */
    public static final int NOT_RECEIVED = 0;
    public static final int SMALL_DELTA = 1;
    public static final int LARGE_DELTA = 2;
    private static final int ONE_BIT_CAPACITY = 14;
    private static final int TWO_BIT_CAPACITY = 7;
    private static final int MAX_RUN_LENGTH = 0x1fff;
    private static final int MAX_STATUS_COUNT = 0xffff;
    private static final long TICK_MICROS = 250;
    private static final long REFERENCE_MICROS = 64_000;

    private final byte[] deltas;
    private final int[] pending = new int[ONE_BIT_CAPACITY];
    private byte[] out;
    private int start;
    private int maxLength;
    private int chunkEnd;
    private int deltaLength;
    private int pendingSize;
    private boolean pendingAllSame;
    private boolean pendingHasLarge;
    private int statusCount;
    private boolean referenceSet;
    private long referenceTime;
    private long lastTicks;

    /** {@code maxPacketLength}: the largest packet {@link #begin} may be asked to write. */
    public TransportFeedbackWriter(int maxPacketLength) {
        this.deltas = new byte[maxPacketLength];
    }

    /** Starts a packet at {@code off}; the header is completed by {@link #finish}. */
    public void begin(byte[] buf, int off, int maxLength, long senderSsrc, long mediaSsrc, int baseSequence,
                      int feedbackCount) {
        if (maxLength < HEADER_LENGTH + 8 || maxLength > deltas.length) {
            throw new IllegalArgumentException("feedback packet limit " + maxLength + " outside 28.." + deltas.length);
        }
        this.out = buf;
        this.start = off;
        this.maxLength = maxLength;
        this.chunkEnd = off + HEADER_LENGTH;
        this.deltaLength = 0;
        this.pendingSize = 0;
        this.pendingAllSame = true;
        this.pendingHasLarge = false;
        this.statusCount = 0;
        this.referenceSet = false;
        buf[off] = (byte) (0x80 | FORMAT);
        buf[off + 1] = (byte) Rtcp.RTPFB;
        writeUint32(buf, off + 4, senderSsrc);
        writeUint32(buf, off + 8, mediaSsrc);
        writeUint16(buf, off + 12, baseSequence & 0xffff);
        buf[off + 19] = (byte) feedbackCount;
    }

    /** Statuses added so far. */
    public int statusCount() {
        return statusCount;
    }

    /** Adds a packet that did not arrive; false (nothing added) when the packet would grow past its limit. */
    public boolean addLost() {
        if (!fits(NOT_RECEIVED)) {
            return false;
        }
        push(NOT_RECEIVED);
        return true;
    }

    /**
     * Adds a packet that arrived at {@code arrivalMicros} (any monotonic clock, the same for the whole packet); false,
     * with nothing added, when it does not fit: the packet is full or the delta from the previous arrival is beyond
     * two bytes (±8.2 s).
     */
    public boolean addReceived(long arrivalMicros) {
        long ticks = Math.floorDiv(arrivalMicros, TICK_MICROS);
        if (!referenceSet) {
            // The first arrival sets the reference time (rounded down to 64 ms), so its own delta is 0..255.
            long reference = Math.floorDiv(arrivalMicros, REFERENCE_MICROS);
            long delta = ticks - reference * (REFERENCE_MICROS / TICK_MICROS);
            if (!fits(SMALL_DELTA)) {
                return false;
            }
            referenceSet = true;
            referenceTime = reference;
            lastTicks = ticks;
            deltas[deltaLength++] = (byte) delta;
            push(SMALL_DELTA);
            return true;
        }
        long delta = ticks - lastTicks;
        int symbol = delta >= 0 && delta <= 0xff ? SMALL_DELTA : LARGE_DELTA;
        if (delta < Short.MIN_VALUE || delta > Short.MAX_VALUE || !fits(symbol)) {
            return false;
        }
        lastTicks = ticks;
        if (symbol == SMALL_DELTA) {
            deltas[deltaLength++] = (byte) delta;
        } else {
            deltas[deltaLength++] = (byte) (delta >> 8);
            deltas[deltaLength++] = (byte) delta;
        }
        push(symbol);
        return true;
    }

    /** Whether the packet, padded, stays within its limit with one more status of this kind. */
    private boolean fits(int symbol) {
        if (statusCount == MAX_STATUS_COUNT) {
            return false;
        }
        // Chunks written, plus the pending chunk; one more chunk if the symbol makes the pending one full.
        int chunks = chunkEnd - start + 2 + (canAdd(symbol) ? 0 : 2);
        int deltaBytes = deltaLength + (symbol == SMALL_DELTA ? 1 : symbol == LARGE_DELTA ? 2 : 0);
        return ((chunks + deltaBytes + 3) & ~3) <= maxLength;
    }

    private void push(int symbol) {
        if (!canAdd(symbol)) {
            emit();
        }
        if (pendingSize < ONE_BIT_CAPACITY) {
            pending[pendingSize] = symbol;
        }
        pendingSize++;
        pendingAllSame = pendingAllSame && symbol == pending[0];
        pendingHasLarge |= symbol == LARGE_DELTA;
        statusCount++;
    }

    /**
     * Whether the pending chunk can take one more symbol: any as long as seven two-bit symbols hold them all,
     * fourteen without a large delta, and a run up to the longest run length.
     */
    private boolean canAdd(int symbol) {
        if (pendingSize < TWO_BIT_CAPACITY) {
            return true;
        }
        if (pendingSize < ONE_BIT_CAPACITY && !pendingHasLarge && symbol != LARGE_DELTA) {
            return true;
        }
        return pendingSize < MAX_RUN_LENGTH && pendingAllSame && symbol == pending[0];
    }

    /** Writes a full pending chunk: a run, fourteen one-bit symbols, or the first seven as two-bit symbols. */
    private void emit() {
        if (pendingAllSame) {
            writeChunk(runLength(pending[0], pendingSize));
            pendingSize = 0;
            pendingAllSame = true;
            pendingHasLarge = false;
            return;
        }
        if (pendingSize == ONE_BIT_CAPACITY) {
            writeChunk(oneBitVector(ONE_BIT_CAPACITY));
            pendingSize = 0;
            pendingAllSame = true;
            pendingHasLarge = false;
            return;
        }
        writeChunk(twoBitVector(TWO_BIT_CAPACITY));
        pendingSize -= TWO_BIT_CAPACITY;
        pendingAllSame = true;
        pendingHasLarge = false;
        for (int i = 0; i < pendingSize; i++) {
            pending[i] = pending[i + TWO_BIT_CAPACITY];
            pendingAllSame = pendingAllSame && pending[i] == pending[0];
            pendingHasLarge |= pending[i] == LARGE_DELTA;
        }
    }

    private static int runLength(int symbol, int length) {
        return (symbol << 13) | length;
    }

    private int oneBitVector(int size) {
        int chunk = 0x8000;
        for (int i = 0; i < size; i++) {
            chunk |= (pending[i] & 1) << (13 - i);
        }
        return chunk;
    }

    private int twoBitVector(int size) {
        int chunk = 0xc000;
        for (int i = 0; i < size; i++) {
            chunk |= pending[i] << (12 - 2 * i);
        }
        return chunk;
    }

    private void writeChunk(int chunk) {
        writeUint16(out, chunkEnd, chunk);
        chunkEnd += 2;
    }

    /**
     * Completes the packet: the last chunk, the deltas, padding to 32 bits (the padding bit set, the last byte
     * counting the padding, as RFC 3550 asks), the header's counts and length. Returns the packet's length, or 0
     * when nothing was added (no packet then).
     */
    public int finish() {
        if (statusCount == 0 || !referenceSet) {
            return 0;
        }
        if (pendingSize > 0) {
            if (pendingAllSame) {
                writeChunk(runLength(pending[0], pendingSize));
            } else if (pendingSize <= TWO_BIT_CAPACITY) {
                writeChunk(twoBitVector(pendingSize));
            } else {
                writeChunk(oneBitVector(pendingSize));
            }
            pendingSize = 0;
        }
        System.arraycopy(deltas, 0, out, chunkEnd, deltaLength);
        int length = chunkEnd - start + deltaLength;
        int padded = (length + 3) & ~3;
        if (padded > length) {
            for (int i = start + length; i < start + padded - 1; i++) {
                out[i] = 0;
            }
            out[start + padded - 1] = (byte) (padded - length);
            out[start] |= 0x20;
        }
        writeUint16(out, start + 2, padded / 4 - 1);
        writeUint16(out, start + 14, statusCount);
        out[start + 16] = (byte) (referenceTime >> 16);
        out[start + 17] = (byte) (referenceTime >> 8);
        out[start + 18] = (byte) referenceTime;
        return padded;
    }
}
