package dev.parley.media.sfu;

import dev.parley.media.rtp.AudioLevel;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The recent audio levels of one audio track, in 20 ms intervals of the caller's clock ({@link System#nanoTime}).
 *
 * <p>One writer, the publisher's receive thread, calls {@link #add} for every packet; it allocates nothing. Readers on
 * other threads (the conference's speaker timer) call {@link #sample} for whole intervals in the past. Each interval is
 * one {@code long} slot of a preallocated ring holding the interval's number, the loudest level of its packets, whether
 * any of them had the V bit, and how many there were, so a reader never sees half of an update: a slot that has
 * moved on to a newer interval simply reads as "no packet".
 */
public final class AudioLevels {
    /** The length of one interval: one 20 ms audio frame, the packet time browsers use. */
    public static final long INTERVAL_NANOS = 20_000_000L;
    /** Intervals kept: 5.12 s, more than the longest window {@link DominantSpeaker} looks at. */
    public static final int CAPACITY = 256;
    /**
     * Empty intervals right after a packet's interval that still take its level, so packets of 40 and 60 ms (and
     * packets bunched by jitter) do not read as gaps. Longer gaps read as silence, which is what discontinuous
     * transmission (DTX) means.
     */
    public static final int HOLD_INTERVALS = 2;

    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final long TAG_MASK = (1L << 48) - 1;
    private static final int COUNT_SHIFT = 8;
    private static final int TAG_SHIFT = 16;

    private final long[] slots = new long[CAPACITY];
    private volatile long packets;
    private volatile long rejected;

    /** The interval {@code nanos} falls in. */
    public static long interval(long nanos) {
        return Math.floorDiv(nanos, INTERVAL_NANOS);
    }

    /**
     * Records one packet's level (0..127, -dBov as RFC 6464) and V bit at {@code nowNanos}. A level outside 0..127 is
     * not recorded and counted in {@link #rejected}. Only the publisher's receive thread may call this.
     */
    public void add(int level, boolean voice, long nowNanos) {
        if (level < 0 || level > AudioLevel.SILENCE) {
            rejected = rejected + 1;
            return;
        }
        long interval = interval(nowNanos);
        int slot = (int) Math.floorMod(interval, CAPACITY);
        long tag = interval & TAG_MASK;
        long current = slots[slot];
        long updated;
        if (count(current) > 0 && (current >>> TAG_SHIFT) == tag) {
            int loudest = Math.min(level, (int) (current & 0x7f));
            int count = Math.min(count(current) + 1, 0xff);
            long voiceBit = (current & AudioLevel.VOICE) | (voice ? AudioLevel.VOICE : 0);
            updated = (tag << TAG_SHIFT) | ((long) count << COUNT_SHIFT) | voiceBit | loudest;
        } else {
            updated = (tag << TAG_SHIFT) | (1L << COUNT_SHIFT) | (voice ? AudioLevel.VOICE : 0) | level;
        }
        SLOTS.setRelease(slots, slot, updated);
        packets = packets + 1;
    }

    /**
     * What was heard in {@code interval}, in {@link AudioLevel#read}'s form ({@link AudioLevel#VOICE} or'ed with the
     * loudest level 0..127), or -1 when no packet came in it or in the {@link #HOLD_INTERVALS} before it, or it is more
     * than {@link #CAPACITY} intervals old. Any thread; meant for intervals that are over.
     */
    public int sample(long interval) {
        for (int back = 0; back <= HOLD_INTERVALS; back++) {
            long wanted = interval - back;
            long value = (long) SLOTS.getAcquire(slots, (int) Math.floorMod(wanted, CAPACITY));
            if (count(value) > 0 && (value >>> TAG_SHIFT) == (wanted & TAG_MASK)) {
                return (int) (value & 0xff);
            }
        }
        return -1;
    }

    /** Packets recorded. */
    public long packets() {
        return packets;
    }

    /** Packets whose level was outside 0..127 and so not recorded. */
    public long rejected() {
        return rejected;
    }

    private static int count(long slot) {
        return (int) ((slot >>> COUNT_SHIFT) & 0xff);
    }
}
