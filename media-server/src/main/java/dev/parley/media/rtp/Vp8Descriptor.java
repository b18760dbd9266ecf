package dev.parley.media.rtp;

/**
 * The VP8 payload descriptor (RFC 7741 section 4.2) of one packet, plus the keyframe bit of the VP8 payload header
 * that follows it. One instance is reused for every packet of a stream: {@link #read} overwrites all fields and
 * allocates nothing.
 */
public final class Vp8Descriptor {
    /** S bit set and partition index 0: the packet starts a frame. */
    public boolean startOfPartition;
    /** The packet starts a frame whose VP8 payload header has P == 0 (an intra frame). */
    public boolean keyframe;
    /** 7- or 15-bit PictureID, -1 if absent. */
    public int pictureId;
    /** Bytes the PictureID takes in the packet: 0 (absent), 1 (7-bit) or 2 (15-bit). */
    public int pictureIdLength;
    /** Absolute offset of the PictureID's first byte in the buffer, -1 if absent. */
    public int pictureIdOffset;
    public int tl0PicIdx;
    public int tl0PicIdxOffset;
    /** Temporal layer index (TID), -1 if absent. */
    public int temporalId;
    /** Y bit: the frame depends only on temporal layer 0 (meaningful only with a TID). */
    public boolean layerSync;
    public int descriptorLength;

    /** False when the descriptor is cut short or leaves no VP8 payload; the fields are then meaningless. */
    public boolean read(byte[] buf, int payloadOffset, int payloadEnd) {
        int p = payloadOffset;
        if (p < 0 || p >= payloadEnd || payloadEnd > buf.length) {
            return false;
        }
        int b0 = buf[p++] & 0xff;
        startOfPartition = (b0 & 0x10) != 0 && (b0 & 0x07) == 0;
        pictureId = -1;
        pictureIdLength = 0;
        pictureIdOffset = -1;
        tl0PicIdx = -1;
        tl0PicIdxOffset = -1;
        temporalId = -1;
        layerSync = false;
        if ((b0 & 0x80) != 0) {
            if (p >= payloadEnd) {
                return false;
            }
            int x = buf[p++] & 0xff;
            if ((x & 0x80) != 0) {
                if (p >= payloadEnd) {
                    return false;
                }
                pictureIdOffset = p;
                if ((buf[p] & 0x80) != 0) {
                    if (p + 1 >= payloadEnd) {
                        return false;
                    }
                    pictureId = ((buf[p] & 0x7f) << 8) | (buf[p + 1] & 0xff);
                    pictureIdLength = 2;
                } else {
                    pictureId = buf[p] & 0x7f;
                    pictureIdLength = 1;
                }
                p += pictureIdLength;
            }
            if ((x & 0x40) != 0) {
                if (p >= payloadEnd) {
                    return false;
                }
                tl0PicIdxOffset = p;
                tl0PicIdx = buf[p++] & 0xff;
            }
            if ((x & 0x30) != 0) {
                if (p >= payloadEnd) {
                    return false;
                }
                int tk = buf[p++] & 0xff;
                if ((x & 0x20) != 0) {
                    temporalId = tk >> 6;
                    layerSync = (tk & 0x20) != 0;
                }
            }
        }
        if (p >= payloadEnd) {
            return false;
        }
        descriptorLength = p - payloadOffset;
        keyframe = startOfPartition && (buf[p] & 0x01) == 0;
        return true;
    }

    /** Writes {@code value} into the packet's PictureID, in the width the packet has (7 or 15 bits); no-op if absent. */
    public static void writePictureId(byte[] buf, Vp8Descriptor descriptor, int value) {
        int at = descriptor.pictureIdOffset;
        if (descriptor.pictureIdLength == 2) {
            buf[at] = (byte) (0x80 | ((value >> 8) & 0x7f));
            buf[at + 1] = (byte) value;
        } else if (descriptor.pictureIdLength == 1) {
            buf[at] = (byte) (value & 0x7f);
        }
    }

    /** Writes the 8-bit TL0PICIDX; no-op if the packet has none. */
    public static void writeTl0PicIdx(byte[] buf, Vp8Descriptor descriptor, int value) {
        if (descriptor.tl0PicIdxOffset >= 0) {
            buf[descriptor.tl0PicIdxOffset] = (byte) value;
        }
    }
}
