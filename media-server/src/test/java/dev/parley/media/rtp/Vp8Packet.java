package dev.parley.media.rtp;

/**
 * A VP8 RTP packet as a simulcast publisher sends it: RTP header with a one-byte header extension, an RFC 7741
 * payload descriptor (PictureID of 7 or 15 bits or none, TL0PICIDX, TID/Y) and, on a frame's first packet, the VP8
 * payload header whose P bit tells a keyframe.
 *
 * @param pictureIdBits 0 (no PictureID), 7 or 15
 * @param tl0 TL0PICIDX, -1 for none
 * @param tid temporal layer, -1 for none (no T/K byte)
 */
public record Vp8Packet(int sequence, long timestamp, long ssrc, int pictureId, int pictureIdBits, int tl0, int tid,
        boolean layerSync, boolean start, boolean keyframe, boolean marker, int payloadBytes) {

    public static final int PAYLOAD_TYPE = 96;

    public byte[] bytes() {
        int descriptor = 1;
        boolean extended = pictureIdBits > 0 || tl0 >= 0 || tid >= 0;
        if (extended) {
            descriptor += 1 + pictureIdBits / 7 + (tl0 >= 0 ? 1 : 0) + (tid >= 0 ? 1 : 0);
        }
        int header = Rtp.FIXED_HEADER + 8;
        byte[] buf = new byte[header + descriptor + Math.max(3, payloadBytes)];
        buf[0] = (byte) 0x90;
        buf[1] = (byte) ((marker ? 0x80 : 0) | PAYLOAD_TYPE);
        Rtp.setSequenceNumber(buf, 0, sequence);
        Rtp.writeUint32(buf, 4, timestamp);
        Rtp.setSsrc(buf, 0, ssrc);
        buf[12] = (byte) 0xBE;
        buf[13] = (byte) 0xDE;
        Rtp.writeUint16(buf, 14, 1);
        buf[16] = (byte) ((3 << 4) | 2);
        buf[17] = 1;
        buf[18] = 2;
        buf[19] = 3;
        int p = header;
        buf[p++] = (byte) ((extended ? 0x80 : 0) | (start ? 0x10 : 0));
        if (extended) {
            buf[p++] = (byte) ((pictureIdBits > 0 ? 0x80 : 0) | (tl0 >= 0 ? 0x40 : 0) | (tid >= 0 ? 0x20 : 0));
            if (pictureIdBits == 15) {
                buf[p++] = (byte) (0x80 | (pictureId >> 8));
                buf[p++] = (byte) pictureId;
            } else if (pictureIdBits == 7) {
                buf[p++] = (byte) (pictureId & 0x7f);
            }
            if (tl0 >= 0) {
                buf[p++] = (byte) tl0;
            }
            if (tid >= 0) {
                buf[p++] = (byte) ((tid << 6) | (layerSync ? 0x20 : 0));
            }
        }
        // VP8 payload header: P bit (bit 0) clear for a keyframe; the rest is filler that tells packets apart.
        buf[p] = (byte) (start && keyframe ? 0x10 : 0x11);
        for (int i = p + 1; i < buf.length; i++) {
            buf[i] = (byte) (sequence + i);
        }
        return buf;
    }
}
