package dev.parley.media.loadtest;

/**
 * The three layers a publisher sends with {@code --simulcast}, as a browser would: rids q, h and f at 320x180,
 * 640x360 and 1280x720, with 15 %, 30 % and 55 % of the video bitrate. Each packet is one VP8 picture: an RFC 7741
 * descriptor (15-bit PictureID, TL0PICIDX, TID 0) and the VP8 payload header, which on a keyframe carries the
 * picture's size (so the server learns each layer's size); a keyframe every {@link #KEYFRAME_INTERVAL_NANOS}.
 */
final class SimulcastLayers {
    static final int COUNT = 3;
    static final String[] RIDS = {"q", "h", "f"};
    static final int[] WIDTHS = {320, 640, 1280};
    static final int[] HEIGHTS = {180, 360, 720};
    /** Each layer's share of {@code --video-bitrate}. */
    static final double[] SHARES = {0.15, 0.30, 0.55};
    /** Descriptor (6 bytes) and VP8 payload header with a keyframe's start code and size (10 bytes). */
    static final int VP8_PREFIX = 16;
    static final long KEYFRAME_INTERVAL_NANOS = 1_000_000_000L;

    private SimulcastLayers() {
    }

    /** The layer receiver {@code r} of a conference asks for (receivers in the order the fleets connect them). */
    static int wantedBy(int receiver) {
        return receiver % COUNT;
    }

    static String describe(int layer) {
        return RIDS[layer] + " " + WIDTHS[layer] + "x" + HEIGHTS[layer];
    }

    /** Writes the next picture's VP8 prefix into the stream's payload (sender thread; no allocation). */
    static void writeVp8Prefix(Stream s, long nowNanos) {
        byte[] b = s.payload;
        boolean keyframe = nowNanos - s.lastKeyframeNanos >= KEYFRAME_INTERVAL_NANOS;
        if (keyframe) {
            s.lastKeyframeNanos = nowNanos;
        }
        int picture = s.pictureId;
        s.pictureId = (picture + 1) & 0x7fff;
        int tl0 = s.tl0PicIdx;
        s.tl0PicIdx = (tl0 + 1) & 0xff; // every picture is in temporal layer 0
        b[0] = (byte) 0x90; // X, S; partition 0
        b[1] = (byte) 0xe0; // I, L, T
        b[2] = (byte) (0x80 | (picture >> 8)); // M: 15-bit PictureID
        b[3] = (byte) picture;
        b[4] = (byte) tl0;
        b[5] = 0; // TID 0
        b[6] = (byte) (keyframe ? 0x10 : 0x11); // show_frame; P = 0 on a keyframe
        b[7] = 0;
        b[8] = 0;
        if (keyframe) {
            b[9] = (byte) 0x9d;
            b[10] = 0x01;
            b[11] = 0x2a;
            b[12] = (byte) WIDTHS[s.layer];
            b[13] = (byte) (WIDTHS[s.layer] >> 8);
            b[14] = (byte) HEIGHTS[s.layer];
            b[15] = (byte) (HEIGHTS[s.layer] >> 8);
        } else {
            for (int i = 9; i < VP8_PREFIX; i++) {
                b[i] = 0;
            }
        }
    }
}
