package dev.parley.media.sfu;

/**
 * Maps the numbers one source layer gives its packets or pictures (RTP sequence numbers, VP8 PictureIDs) onto an
 * outgoing numbering that keeps real gaps (loss upstream) but closes the ones left by numbers dropped on purpose.
 * A window of recent numbers remembers the outgoing number each got and what became of it, so a late (reordered)
 * number gets the number reserved for it, and a repeated one is recognised instead of being numbered twice.
 * Numbers are extended (no wrap-around) internally; callers mask the outgoing number to the field's width.
 * Single-threaded; preallocated, nothing allocated per number.
 */
final class ContinuousNumbering {
    /** Newer than every number seen so far; {@link #forward} or {@link #drop} it. */
    static final int NEW = 0;
    /** Older than the newest but not seen before (it arrived late); its outgoing number is reserved. */
    static final int LATE = 1;
    static final int FORWARDED = 2;
    static final int DROPPED = 3;
    /** Outside the window or from before {@link #restart}: its outgoing number can no longer be told. */
    static final int UNKNOWN = 4;

    private final int capacity;
    private final long[] sources;
    private final long[] outs;
    private final int[] states;
    private final int[] generations;
    private int generation;
    private boolean started;
    private int bits;
    private long mask;
    private int window;
    private long highest;
    private long offset;
    private int slot;
    private boolean slotIsNew;

    /** {@code capacity}: how many recent numbers are remembered, a power of two. */
    ContinuousNumbering(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        this.capacity = capacity;
        sources = new long[capacity];
        outs = new long[capacity];
        states = new int[capacity];
        generations = new int[capacity];
    }

    /**
     * Starts a new source (after a layer switch) whose first number is {@code firstSource} in a field of {@code bits}
     * bits; that number will go out as {@code firstOut}. Everything remembered before is forgotten.
     */
    void restart(int bits, int firstSource, long firstOut) {
        generation++;
        started = true;
        this.bits = bits;
        mask = (1L << bits) - 1;
        window = Math.min(capacity, 1 << (bits - 1));
        highest = (firstSource & mask) - 1;
        offset = firstOut - (firstSource & mask);
    }

    void stop() {
        started = false;
    }

    boolean started() {
        return started;
    }

    int bits() {
        return bits;
    }

    /**
     * Classifies {@code number}; a NEW number, and the ones skipped before it, get their outgoing numbers here. The
     * skipped ones are reserved for late arrival, unless {@code skippedAreDropped} (the caller knows they belong to
     * something dropped on purpose): then they take no numbers.
     */
    int classify(int number, boolean skippedAreDropped) {
        long delta = ((number & mask) - (highest & mask)) & mask;
        if (delta >= (mask + 1) >> 1) {
            delta -= mask + 1;
        }
        long extended = highest + delta;
        if (delta > 0) {
            for (long s = Math.max(highest + 1, extended - window + 1); s < extended; s++) {
                remember(s, skippedAreDropped ? DROPPED : LATE);
            }
            if (skippedAreDropped) {
                offset -= delta - 1;
            }
            highest = extended;
            remember(extended, LATE);
            slot = (int) (extended & (capacity - 1));
            slotIsNew = true;
            return NEW;
        }
        slotIsNew = false;
        if (-delta >= window) {
            return UNKNOWN;
        }
        slot = (int) (extended & (capacity - 1));
        if (sources[slot] != extended || generations[slot] != generation) {
            return UNKNOWN;
        }
        return states[slot];
    }

    private void remember(long source, int state) {
        int i = (int) (source & (capacity - 1));
        sources[i] = source;
        outs[i] = source + offset;
        states[i] = state;
        generations[i] = generation;
    }

    /** The outgoing (extended) number of the number last classified NEW or LATE. */
    long out() {
        return outs[slot];
    }

    void forward() {
        states[slot] = FORWARDED;
    }

    /** Drops the number last classified; a NEW one's outgoing number goes to the next new number instead. */
    void drop() {
        states[slot] = DROPPED;
        if (slotIsNew) {
            offset--;
        }
    }
}
