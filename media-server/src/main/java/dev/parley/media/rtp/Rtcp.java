package dev.parley.media.rtp;

import static dev.parley.media.rtp.Rtp.readUint16;
import static dev.parley.media.rtp.Rtp.readUint32;
import static dev.parley.media.rtp.Rtp.writeUint16;
import static dev.parley.media.rtp.Rtp.writeUint32;

/**
 * Parses compound RTCP (RFC 3550, 4585, 5104, REMB and transport-wide congestion control drafts) and writes the packets
 * the server sends.
 */
public final class Rtcp {
    public static final int SR = 200;
    public static final int RR = 201;
    public static final int SDES = 202;
    public static final int BYE = 203;
    public static final int RTPFB = 205;
    public static final int PSFB = 206;
    /** The RTPFB format of transport-wide congestion control feedback. */
    public static final int TRANSPORT_FEEDBACK = 15;

    private Rtcp() {
    }

    /** Whether the compound packet is well formed: version 2 and lengths that add up exactly. */
    public static boolean isValidCompound(byte[] buf, int off, int len) {
        int pos = off;
        int end = off + len;
        if (len < 8) {
            return false;
        }
        while (pos < end) {
            if (end - pos < 4 || (buf[pos] & 0xc0) != 0x80) {
                return false;
            }
            int length = (readUint16(buf, pos + 2) + 1) * 4;
            if (length > end - pos) {
                return false;
            }
            pos += length;
        }
        return pos == end;
    }

    /** The sender SSRC of the first packet, which keys the SRTCP context. */
    public static long senderSsrc(byte[] buf, int off) {
        return readUint32(buf, off + 4);
    }

    /** Walks a compound packet already checked by {@link #isValidCompound}. */
    public static void parse(byte[] buf, int off, int len, RtcpVisitor visitor) {
        int pos = off;
        int end = off + len;
        while (pos + 8 <= end) {
            int count = buf[pos] & 0x1f;
            int pt = buf[pos + 1] & 0xff;
            int length = (readUint16(buf, pos + 2) + 1) * 4;
            long sender = readUint32(buf, pos + 4);
            switch (pt) {
                case SR -> {
                    if (length >= 28) {
                        long ntpMiddle = readUint32(buf, pos + 10) & 0xffffffffL;
                        long rtpTs = readUint32(buf, pos + 16);
                        visitor.senderReport(sender, ntpMiddle, rtpTs, buf, pos, length);
                        reportBlocks(buf, pos + 28, pos + length, count, sender, visitor);
                    }
                }
                case RR -> {
                    visitor.receiverReport(sender);
                    reportBlocks(buf, pos + 8, pos + length, count, sender, visitor);
                }
                case RTPFB -> {
                    if (count == 1 && length >= 16) {
                        long media = readUint32(buf, pos + 8);
                        for (int p = pos + 12; p + 4 <= pos + length; p += 4) {
                            visitor.nack(sender, media, readUint16(buf, p), readUint16(buf, p + 2));
                        }
                    } else if (count == TRANSPORT_FEEDBACK && length >= 20) {
                        visitor.transportFeedback(sender, readUint32(buf, pos + 8), buf, pos, length);
                    }
                }
                case PSFB -> {
                    if (length >= 12) {
                        long media = readUint32(buf, pos + 8);
                        if (count == 1) {
                            visitor.pli(sender, media);
                        } else if (count == 4) {
                            for (int p = pos + 12; p + 8 <= pos + length; p += 8) {
                                visitor.fir(sender, readUint32(buf, p));
                            }
                        } else if (count == 15 && length >= 20 && buf[pos + 12] == 'R' && buf[pos + 13] == 'E'
                                && buf[pos + 14] == 'M' && buf[pos + 15] == 'B') {
                            int ssrcs = buf[pos + 16] & 0xff;
                            int exp = (buf[pos + 17] & 0xff) >> 2;
                            long mantissa = ((buf[pos + 17] & 0x03L) << 16) | ((buf[pos + 18] & 0xff) << 8)
                                    | (buf[pos + 19] & 0xff);
                            int available = Math.min(ssrcs, (length - 20) / 4);
                            // A 6-bit exponent can shift the 18-bit mantissa out of a long (found by fuzzing):
                            // anything that large means "no limit".
                            long bitrate = exp > 45 ? Long.MAX_VALUE : mantissa << exp;
                            visitor.remb(sender, bitrate, buf, pos + 20, available);
                        }
                    }
                }
                default -> {
                }
            }
            pos += length;
        }
    }

    private static void reportBlocks(byte[] buf, int pos, int end, int count, long reporter, RtcpVisitor visitor) {
        for (int i = 0; i < count && pos + 24 <= end; i++, pos += 24) {
            int cumulative = ((buf[pos + 5] & 0xff) << 16) | ((buf[pos + 6] & 0xff) << 8) | (buf[pos + 7] & 0xff);
            if ((cumulative & 0x800000) != 0) {
                cumulative |= 0xff000000;
            }
            visitor.reportBlock(reporter, readUint32(buf, pos), buf[pos + 4] & 0xff, cumulative,
                    readUint32(buf, pos + 8), readUint32(buf, pos + 12), readUint32(buf, pos + 16),
                    readUint32(buf, pos + 20));
        }
    }

    /** Writes an RR header for {@code blocks} report blocks; the caller then writes each with {@link #writeReportBlock}. */
    public static int writeReceiverReportHeader(byte[] buf, int off, long senderSsrc, int blocks) {
        buf[off] = (byte) (0x80 | blocks);
        buf[off + 1] = (byte) RR;
        writeUint16(buf, off + 2, 1 + 6 * blocks);
        writeUint32(buf, off + 4, senderSsrc);
        return 8;
    }

    public static int writeReportBlock(byte[] buf, int off, long sourceSsrc, int fractionLost, int cumulativeLost,
                                       long extendedHighestSeq, long jitter, long lastSr, long delaySinceLastSr) {
        writeUint32(buf, off, sourceSsrc);
        int lost = Math.max(-0x800000, Math.min(0x7fffff, cumulativeLost));
        writeUint32(buf, off + 4, ((long) (fractionLost & 0xff) << 24) | (lost & 0xffffff));
        writeUint32(buf, off + 8, extendedHighestSeq);
        writeUint32(buf, off + 12, jitter);
        writeUint32(buf, off + 16, lastSr);
        writeUint32(buf, off + 20, delaySinceLastSr);
        return 24;
    }

    /** A sender report without report blocks. */
    public static int writeSenderReport(byte[] buf, int off, long ssrc, long ntpTime, long rtpTimestamp,
                                        long packets, long octets) {
        buf[off] = (byte) 0x80;
        buf[off + 1] = (byte) SR;
        writeUint16(buf, off + 2, 6);
        writeUint32(buf, off + 4, ssrc);
        writeUint32(buf, off + 8, ntpTime >>> 32);
        writeUint32(buf, off + 12, ntpTime);
        writeUint32(buf, off + 16, rtpTimestamp);
        writeUint32(buf, off + 20, packets);
        writeUint32(buf, off + 24, octets);
        return 28;
    }

    public static int writePli(byte[] buf, int off, long senderSsrc, long mediaSsrc) {
        buf[off] = (byte) (0x80 | 1);
        buf[off + 1] = (byte) PSFB;
        writeUint16(buf, off + 2, 2);
        writeUint32(buf, off + 4, senderSsrc);
        writeUint32(buf, off + 8, mediaSsrc);
        return 12;
    }

    public static int writeFir(byte[] buf, int off, long senderSsrc, long mediaSsrc, int sequence) {
        buf[off] = (byte) (0x80 | 4);
        buf[off + 1] = (byte) PSFB;
        writeUint16(buf, off + 2, 4);
        writeUint32(buf, off + 4, senderSsrc);
        writeUint32(buf, off + 8, 0);
        writeUint32(buf, off + 12, mediaSsrc);
        buf[off + 16] = (byte) sequence;
        buf[off + 17] = 0;
        buf[off + 18] = 0;
        buf[off + 19] = 0;
        return 20;
    }

    public static int writeNack(byte[] buf, int off, long senderSsrc, long mediaSsrc, int packetId, int lostBitmask) {
        writeNackHeader(buf, off, senderSsrc, mediaSsrc, 1);
        writeUint16(buf, off + 12, packetId);
        writeUint16(buf, off + 14, lostBitmask);
        return 16;
    }

    /**
     * The 12-byte header of a generic NACK (RFC 4585 section 6.2.1) whose {@code entries} FCI entries (packet id,
     * bitmask of the 16 after it; 4 bytes each) follow it; the whole packet is {@code 12 + 4 * entries} bytes.
     */
    public static int writeNackHeader(byte[] buf, int off, long senderSsrc, long mediaSsrc, int entries) {
        buf[off] = (byte) (0x80 | 1);
        buf[off + 1] = (byte) RTPFB;
        writeUint16(buf, off + 2, 2 + entries);
        writeUint32(buf, off + 4, senderSsrc);
        writeUint32(buf, off + 8, mediaSsrc);
        return 12;
    }

    /** REMB (draft-alvestrand-rmcat-remb) for the given media SSRCs. */
    public static int writeRemb(byte[] buf, int off, long senderSsrc, long bitrate, long[] ssrcs, int ssrcCount) {
        int exp = 0;
        long mantissa = bitrate;
        while (mantissa > 0x3ffff) {
            mantissa >>= 1;
            exp++;
        }
        buf[off] = (byte) (0x80 | 15);
        buf[off + 1] = (byte) PSFB;
        writeUint16(buf, off + 2, 4 + ssrcCount);
        writeUint32(buf, off + 4, senderSsrc);
        writeUint32(buf, off + 8, 0);
        buf[off + 12] = 'R';
        buf[off + 13] = 'E';
        buf[off + 14] = 'M';
        buf[off + 15] = 'B';
        buf[off + 16] = (byte) ssrcCount;
        buf[off + 17] = (byte) ((exp << 2) | (mantissa >> 16));
        buf[off + 18] = (byte) (mantissa >> 8);
        buf[off + 19] = (byte) mantissa;
        for (int i = 0; i < ssrcCount; i++) {
            writeUint32(buf, off + 20 + 4 * i, ssrcs[i]);
        }
        return 20 + 4 * ssrcCount;
    }

    /** NTP time (RFC 5905 format) for a wall clock in milliseconds. */
    public static long ntpTime(long epochMillis) {
        long seconds = epochMillis / 1000 + 2_208_988_800L;
        long fraction = ((epochMillis % 1000) << 32) / 1000;
        return (seconds << 32) | fraction;
    }

    /** The middle 32 bits of an NTP time, as used by LSR and DLSR. */
    public static long ntpMiddle(long ntpTime) {
        return (ntpTime >>> 16) & 0xffffffffL;
    }
}
