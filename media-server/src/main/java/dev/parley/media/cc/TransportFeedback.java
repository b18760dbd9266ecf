package dev.parley.media.cc;

import static dev.parley.media.rtp.Rtp.readUint16;
import static dev.parley.media.rtp.Rtp.readUint32;

import dev.parley.media.rtp.Rtcp;

/**
 * Reads one transport-wide congestion control feedback packet (RTCP RTPFB, FMT 15;
 * draft-holmer-rmcat-transport-wide-cc-extensions-01, section 3.1) into arrays allocated once: for each reported
 * packet its status and, when it arrived, its arrival time relative to the reference time. Reads every chunk kind
 * (run length, one-bit and two-bit status vectors) and both delta sizes; refuses (returns false from {@link #parse})
 * a packet that is truncated, uses the reserved status, reports more packets than it was sized for, or reports none.
 */
public final class TransportFeedback {
    private final int[] statuses;
    private final int[] deltaTicks;
    private long senderSsrc;
    private long mediaSsrc;
    private int baseSequence;
    private int statusCount;
    private int referenceTime;
    private int feedbackCount;

    /** {@code maxStatusCount}: the most packets one feedback may report to be accepted. */
    public TransportFeedback(int maxStatusCount) {
        this.statuses = new int[maxStatusCount];
        this.deltaTicks = new int[maxStatusCount];
    }

    /** Reads the RTCP packet (one, not a compound) at {@code off}; false when it is not valid transport feedback. */
    public boolean parse(byte[] buf, int off, int len) {
        statusCount = 0;
        if (len < TransportFeedbackWriter.HEADER_LENGTH || (buf[off] & 0xc0) != 0x80
                || (buf[off] & 0x1f) != TransportFeedbackWriter.FORMAT || (buf[off + 1] & 0xff) != Rtcp.RTPFB) {
            return false;
        }
        int length = (readUint16(buf, off + 2) + 1) * 4;
        if (length > len) {
            return false;
        }
        int end = off + length;
        if ((buf[off] & 0x20) != 0) {
            int padding = buf[end - 1] & 0xff;
            if (padding == 0 || padding > length - TransportFeedbackWriter.HEADER_LENGTH) {
                return false;
            }
            end -= padding;
        }
        int count = readUint16(buf, off + 14);
        if (count == 0 || count > statuses.length) {
            return false;
        }
        senderSsrc = readUint32(buf, off + 4);
        mediaSsrc = readUint32(buf, off + 8);
        baseSequence = readUint16(buf, off + 12);
        int reference = ((buf[off + 16] & 0xff) << 16) | ((buf[off + 17] & 0xff) << 8) | (buf[off + 18] & 0xff);
        referenceTime = (reference << 8) >> 8;
        feedbackCount = buf[off + 19] & 0xff;
        int pos = off + TransportFeedbackWriter.HEADER_LENGTH;
        int read = 0;
        while (read < count) {
            if (pos + 2 > end) {
                return false;
            }
            int chunk = readUint16(buf, pos);
            pos += 2;
            if ((chunk & 0x8000) == 0) {
                int symbol = (chunk >> 13) & 0x3;
                int run = chunk & 0x1fff;
                if (symbol == 3) {
                    return false;
                }
                for (int i = 0; i < run && read < count; i++) {
                    statuses[read++] = symbol;
                }
            } else if ((chunk & 0x4000) == 0) {
                for (int i = 0; i < 14 && read < count; i++) {
                    statuses[read++] = (chunk >> (13 - i)) & 1;
                }
            } else {
                for (int i = 0; i < 7 && read < count; i++) {
                    int symbol = (chunk >> (12 - 2 * i)) & 3;
                    if (symbol == 3) {
                        return false;
                    }
                    statuses[read++] = symbol;
                }
            }
        }
        for (int i = 0; i < count; i++) {
            if (statuses[i] == TransportFeedbackWriter.SMALL_DELTA) {
                if (pos + 1 > end) {
                    return false;
                }
                deltaTicks[i] = buf[pos++] & 0xff;
            } else if (statuses[i] == TransportFeedbackWriter.LARGE_DELTA) {
                if (pos + 2 > end) {
                    return false;
                }
                deltaTicks[i] = (short) readUint16(buf, pos);
                pos += 2;
            } else {
                deltaTicks[i] = 0;
            }
        }
        statusCount = count;
        return true;
    }

    public long senderSsrc() {
        return senderSsrc;
    }

    public long mediaSsrc() {
        return mediaSsrc;
    }

    /** The transport-wide sequence number of the first packet reported. */
    public int baseSequence() {
        return baseSequence;
    }

    /** How many packets are reported (from the base sequence on, wrapping at 65535). */
    public int statusCount() {
        return statusCount;
    }

    /** In 64 ms units, sign-extended from 24 bits. */
    public int referenceTime() {
        return referenceTime;
    }

    public int feedbackCount() {
        return feedbackCount;
    }

    /** The transport-wide sequence number of the {@code index}-th packet reported. */
    public int sequence(int index) {
        return (baseSequence + index) & 0xffff;
    }

    /** Its status: {@link TransportFeedbackWriter#NOT_RECEIVED}, {@code SMALL_DELTA} or {@code LARGE_DELTA}. */
    public int status(int index) {
        return statuses[index];
    }

    public boolean received(int index) {
        return statuses[index] != TransportFeedbackWriter.NOT_RECEIVED;
    }

    /** Its receive delta in 250 µs ticks (from the previous received packet, or the reference time); 0 if lost. */
    public int deltaTicks(int index) {
        return deltaTicks[index];
    }

    /**
     * Arrival time of every received packet, in µs from the reference time's origin: the reference time plus the
     * deltas up to it. Fills {@code into} (at least {@link #statusCount()} long); lost packets get Long.MIN_VALUE.
     */
    public void arrivalMicros(long[] into) {
        long at = referenceTime * 64_000L;
        for (int i = 0; i < statusCount; i++) {
            if (received(i)) {
                at += deltaTicks[i] * 250L;
                into[i] = at;
            } else {
                into[i] = Long.MIN_VALUE;
            }
        }
    }
}
