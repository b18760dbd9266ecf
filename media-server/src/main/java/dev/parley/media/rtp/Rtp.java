package dev.parley.media.rtp;

/**
 * Reads and rewrites RTP headers in place (RFC 3550, RFC 8285). Every method works on a byte array region and
 * allocates nothing, so the forwarding path can use them per packet.
 */
public final class Rtp {
    public static final int FIXED_HEADER = 12;

    private Rtp() {
    }

    /** RFC 7983 demultiplexing: first byte 128..191 is RTP or RTCP. */
    public static boolean isRtpOrRtcp(byte[] buf, int off, int len) {
        if (len < 2) {
            return false;
        }
        int b = buf[off] & 0xff;
        return b >= 128 && b <= 191;
    }

    /** RTCP packet types 192..223 sit where RTP has marker + payload type (RFC 5761). */
    public static boolean isRtcp(byte[] buf, int off, int len) {
        int pt = buf[off + 1] & 0xff;
        return len >= 8 && pt >= 192 && pt <= 223;
    }

    /** True when the region holds at least a fixed header, its CSRCs and extension. */
    public static boolean isValid(byte[] buf, int off, int len) {
        if (len < FIXED_HEADER || (buf[off] & 0xc0) != 0x80) {
            return false;
        }
        return headerLength(buf, off, len) <= len;
    }

    public static int payloadType(byte[] buf, int off) {
        return buf[off + 1] & 0x7f;
    }

    public static void setPayloadType(byte[] buf, int off, int pt) {
        buf[off + 1] = (byte) ((buf[off + 1] & 0x80) | (pt & 0x7f));
    }

    public static boolean marker(byte[] buf, int off) {
        return (buf[off + 1] & 0x80) != 0;
    }

    public static int sequenceNumber(byte[] buf, int off) {
        return ((buf[off + 2] & 0xff) << 8) | (buf[off + 3] & 0xff);
    }

    public static void setSequenceNumber(byte[] buf, int off, int seq) {
        buf[off + 2] = (byte) (seq >> 8);
        buf[off + 3] = (byte) seq;
    }

    public static long timestamp(byte[] buf, int off) {
        return readUint32(buf, off + 4);
    }

    public static long ssrc(byte[] buf, int off) {
        return readUint32(buf, off + 8);
    }

    public static void setSsrc(byte[] buf, int off, long ssrc) {
        writeUint32(buf, off + 8, ssrc);
    }

    public static boolean hasExtension(byte[] buf, int off) {
        return (buf[off] & 0x10) != 0;
    }

    /** Header length including CSRCs and the extension block; may exceed len for a malformed packet. */
    public static int headerLength(byte[] buf, int off, int len) {
        int cc = buf[off] & 0x0f;
        int length = FIXED_HEADER + 4 * cc;
        if (hasExtension(buf, off)) {
            if (length + 4 > len) {
                return Integer.MAX_VALUE;
            }
            int words = ((buf[off + length + 2] & 0xff) << 8) | (buf[off + length + 3] & 0xff);
            length += 4 + 4 * words;
        }
        return length;
    }

    /** Payload length without padding; -1 when the padding count is impossible. */
    public static int payloadLength(byte[] buf, int off, int len) {
        int header = headerLength(buf, off, len);
        int padding = (buf[off] & 0x20) != 0 ? buf[off + len - 1] & 0xff : 0;
        int payload = len - header - padding;
        return payload < 0 ? -1 : payload;
    }

    /**
     * Rewrites header extension ids through {@code idMap} (index: sender's id, value: receiver's id, 0 = the
     * receiver did not negotiate it). Unnegotiated elements become padding, so the packet keeps its length.
     */
    public static void rewriteExtensions(byte[] buf, int off, int len, byte[] idMap) {
        if (!hasExtension(buf, off)) {
            return;
        }
        int start = off + FIXED_HEADER + 4 * (buf[off] & 0x0f);
        int profile = ((buf[start] & 0xff) << 8) | (buf[start + 1] & 0xff);
        int words = ((buf[start + 2] & 0xff) << 8) | (buf[start + 3] & 0xff);
        int pos = start + 4;
        int end = Math.min(pos + 4 * words, off + len);
        if (profile == 0xBEDE) {
            while (pos < end) {
                int b = buf[pos] & 0xff;
                int id = b >> 4;
                if (id == 0) {
                    pos++;
                    continue;
                }
                if (id == 15) {
                    return;
                }
                int elementLength = (b & 0x0f) + 1;
                int mapped = idMap[id] & 0xff;
                if (mapped == 0 || mapped > 14) {
                    int stop = Math.min(pos + 1 + elementLength, end);
                    for (int i = pos; i < stop; i++) {
                        buf[i] = 0;
                    }
                } else {
                    buf[pos] = (byte) ((mapped << 4) | (b & 0x0f));
                }
                pos += 1 + elementLength;
            }
        } else if ((profile & 0xfff0) == 0x1000) {
            while (pos < end) {
                int id = buf[pos] & 0xff;
                if (id == 0) {
                    pos++;
                    continue;
                }
                if (pos + 1 >= end) {
                    return;
                }
                int elementLength = buf[pos + 1] & 0xff;
                int mapped = idMap[id] & 0xff;
                if (mapped == 0) {
                    int stop = Math.min(pos + 2 + elementLength, end);
                    for (int i = pos; i < stop; i++) {
                        buf[i] = 0;
                    }
                } else {
                    buf[pos] = (byte) mapped;
                }
                pos += 2 + elementLength;
            }
        }
    }

    /**
     * Finds a one-byte or two-byte header extension element; returns its data offset, or -1 (also when the element,
     * or one before it, does not fit inside the extension block and the packet).
     */
    public static int findExtension(byte[] buf, int off, int len, int wantedId) {
        return Math.max(-1, scanExtensions(buf, off, len, wantedId));
    }

    /**
     * Walks the extension block: the data offset of element {@code wantedId}; -2 when the walk reached the block's
     * end without it (0 is never found: it is padding); -1 when there is no block or the walk stopped early (an
     * element that does not fit, or a one-byte element with the reserved id 15).
     */
    private static int scanExtensions(byte[] buf, int off, int len, int wantedId) {
        if (!hasExtension(buf, off)) {
            return -1;
        }
        int start = off + FIXED_HEADER + 4 * (buf[off] & 0x0f);
        int profile = ((buf[start] & 0xff) << 8) | (buf[start + 1] & 0xff);
        int words = ((buf[start + 2] & 0xff) << 8) | (buf[start + 3] & 0xff);
        int pos = start + 4;
        int end = Math.min(pos + 4 * words, off + len);
        boolean oneByte = profile == 0xBEDE;
        while (pos < end) {
            int id = oneByte ? (buf[pos] & 0xff) >> 4 : buf[pos] & 0xff;
            if (id == 0) {
                pos++;
                continue;
            }
            if (oneByte && id == 15) {
                return -1;
            }
            if (!oneByte && pos + 1 >= end) {
                return -1;
            }
            int elementLength = oneByte ? (buf[pos] & 0x0f) + 1 : buf[pos + 1] & 0xff;
            int dataStart = pos + (oneByte ? 1 : 2);
            if (dataStart + elementLength > end) {
                // An element that claims more bytes than the block holds (found by fuzzing): its data would be read
                // from beyond the packet.
                return -1;
            }
            if (id == wantedId) {
                return dataStart;
            }
            pos = dataStart + elementLength;
        }
        return -2;
    }

    /**
     * The length of the header extension element whose data {@link #findExtension} found at {@code dataOffset}:
     * one-byte elements say it in their header byte's low nibble (plus one), two-byte elements in their second byte.
     */
    public static int extensionLength(byte[] buf, int off, int dataOffset) {
        int start = off + FIXED_HEADER + 4 * (buf[off] & 0x0f);
        boolean oneByte = (((buf[start] & 0xff) << 8) | (buf[start + 1] & 0xff)) == 0xBEDE;
        return oneByte ? (buf[dataOffset - 1] & 0x0f) + 1 : buf[dataOffset - 1] & 0xff;
    }

    /** Bytes {@link #addExtension16} may add to a packet: a new extension block with one element. */
    public static final int EXTENSION16_GROWTH = 8;

    /**
     * Makes sure the packet carries header extension element {@code id} (1..14) with two bytes of data, to be written
     * by the caller (found with {@link #findExtension}): kept when it is already there; otherwise a same-id element of
     * another length becomes padding and the element is appended to the extension block (one-byte or two-byte form,
     * one more 32-bit word), or a one-byte-form block holding only it is added, moving the payload back. {@code buf}
     * must have {@link #EXTENSION16_GROWTH} spare bytes after the packet.
     *
     * @return the packet's new length, or -1 (the packet unchanged) when its extension block has a profile other than
     *         RFC 8285's, or cannot be read to its end (an element would then not be found after it)
     */
    public static int addExtension16(byte[] buf, int off, int len, int id) {
        if (id < 1 || id > 14 || !isValid(buf, off, len)) {
            return -1;
        }
        int at = findExtension(buf, off, len, id);
        if (at >= 0 && extensionLength(buf, off, at) == 2) {
            return len;
        }
        int start = off + FIXED_HEADER + 4 * (buf[off] & 0x0f);
        if (!hasExtension(buf, off)) {
            System.arraycopy(buf, start, buf, start + 8, off + len - start);
            buf[off] |= 0x10;
            buf[start] = (byte) 0xBE;
            buf[start + 1] = (byte) 0xDE;
            writeUint16(buf, start + 2, 1);
            buf[start + 4] = (byte) ((id << 4) | 1);
            buf[start + 5] = 0;
            buf[start + 6] = 0;
            buf[start + 7] = 0;
            return len + 8;
        }
        int profile = readUint16(buf, start);
        boolean oneByte = profile == 0xBEDE;
        if (!oneByte && (profile & 0xfff0) != 0x1000 || scanExtensions(buf, off, len, 0) != -2) {
            return -1;
        }
        for (; at >= 0; at = findExtension(buf, off, len, id)) {
            if (extensionLength(buf, off, at) == 2) {
                return len;
            }
            // A same-id element of another length becomes padding, so the packet never holds the id twice.
            int stop = at + extensionLength(buf, off, at);
            for (int i = at - (oneByte ? 1 : 2); i < stop; i++) {
                buf[i] = 0;
            }
        }
        int words = readUint16(buf, start + 2);
        int end = start + 4 + 4 * words;
        System.arraycopy(buf, end, buf, end + 4, off + len - end);
        writeUint16(buf, start + 2, words + 1);
        if (oneByte) {
            buf[end] = (byte) ((id << 4) | 1);
            buf[end + 1] = 0;
        } else {
            buf[end] = (byte) id;
            buf[end + 1] = 2;
        }
        buf[end + 2] = 0;
        buf[end + 3] = 0;
        return len + 4;
    }

    /** Whether a VP8 payload (RFC 7741) starts a keyframe. */
    public static boolean isVp8Keyframe(byte[] buf, int off, int len) {
        int p = off + headerLength(buf, off, len);
        int end = off + len;
        if (p >= end) {
            return false;
        }
        int b0 = buf[p] & 0xff;
        boolean extended = (b0 & 0x80) != 0;
        boolean start = (b0 & 0x10) != 0 && (b0 & 0x07) == 0;
        if (!start) {
            return false;
        }
        p++;
        if (extended) {
            if (p >= end) {
                return false;
            }
            int x = buf[p++] & 0xff;
            if ((x & 0x80) != 0) {
                if (p >= end) {
                    return false;
                }
                p += (buf[p] & 0x80) != 0 ? 2 : 1;
            }
            if ((x & 0x40) != 0) {
                p++;
            }
            if ((x & 0x30) != 0) {
                p++;
            }
        }
        return p < end && (buf[p] & 0x01) == 0;
    }

    public static long readUint32(byte[] buf, int off) {
        return ((long) (buf[off] & 0xff) << 24) | ((buf[off + 1] & 0xff) << 16)
                | ((buf[off + 2] & 0xff) << 8) | (buf[off + 3] & 0xff);
    }

    public static void writeUint32(byte[] buf, int off, long value) {
        buf[off] = (byte) (value >> 24);
        buf[off + 1] = (byte) (value >> 16);
        buf[off + 2] = (byte) (value >> 8);
        buf[off + 3] = (byte) value;
    }

    public static int readUint16(byte[] buf, int off) {
        return ((buf[off] & 0xff) << 8) | (buf[off + 1] & 0xff);
    }

    public static void writeUint16(byte[] buf, int off, int value) {
        buf[off] = (byte) (value >> 8);
        buf[off + 1] = (byte) value;
    }
}
