package dev.parley.media.rtp;

/** Reads H.264 RTP payloads (RFC 6184) in place, allocating nothing. */
public final class H264 {
    private static final int IDR = 5;
    private static final int SPS = 7;
    private static final int STAP_A = 24;
    private static final int FU_A = 28;

    private H264() {
    }

    /**
     * Whether the payload starts an IDR picture: an IDR slice or SPS NAL unit, a STAP-A aggregating one, or the first
     * fragment (S bit) of an FU-A carrying an IDR slice. Truncated payloads are false.
     */
    public static boolean isKeyframe(byte[] buf, int payloadOffset, int payloadEnd) {
        if (payloadOffset < 0 || payloadOffset >= payloadEnd || payloadEnd > buf.length) {
            return false;
        }
        int type = buf[payloadOffset] & 0x1f;
        if (type == IDR || type == SPS) {
            return true;
        }
        if (type == STAP_A) {
            int p = payloadOffset + 1;
            while (p + 2 < payloadEnd) {
                int size = ((buf[p] & 0xff) << 8) | (buf[p + 1] & 0xff);
                p += 2;
                if (size == 0 || p + size > payloadEnd) {
                    return false;
                }
                int inner = buf[p] & 0x1f;
                if (inner == IDR || inner == SPS) {
                    return true;
                }
                p += size;
            }
            return false;
        }
        if (type == FU_A) {
            if (payloadOffset + 1 >= payloadEnd) {
                return false;
            }
            int fu = buf[payloadOffset + 1] & 0xff;
            return (fu & 0x80) != 0 && (fu & 0x1f) == IDR;
        }
        return false;
    }
}
