package dev.parley.media.rtp;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class H264Test {
    private static final int OFF = 5;

    /** The payload at offset 5 of a larger array, ending at the array's end. */
    private static boolean keyframe(int... payload) {
        byte[] buf = new byte[OFF + payload.length];
        for (int i = 0; i < payload.length; i++) {
            buf[OFF + i] = (byte) payload[i];
        }
        return H264.isKeyframe(buf, OFF, buf.length);
    }

    @Test
    void idrSliceAndSpsStartAKeyframe() {
        assertTrue(keyframe(0x65, 0x88, 0x84));
        assertTrue(keyframe(0x67, 0x42, 0xc0, 0x1f));
    }

    @Test
    void otherSingleNalUnitsDoNot() {
        assertFalse(keyframe(0x41, 0x9a), "non-IDR slice");
        assertFalse(keyframe(0x68, 0xce), "PPS");
        assertFalse(keyframe(0x06, 0x05), "SEI");
    }

    @Test
    void stapAIsAKeyframeWhenItCarriesSpsOrIdr() {
        assertTrue(keyframe(0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce), "SPS + PPS");
        assertTrue(keyframe(0x78, 0, 2, 0x68, 0xce, 0, 2, 0x65, 0x88), "PPS + IDR");
        assertFalse(keyframe(0x78, 0, 2, 0x06, 0x05, 0, 2, 0x41, 0x9a), "SEI + non-IDR");
    }

    @Test
    void fuAIsAKeyframeOnlyAtTheStartOfAnIdrSlice() {
        assertTrue(keyframe(0x7c, 0x85, 0x88));
        assertFalse(keyframe(0x7c, 0x05, 0x88), "middle fragment");
        assertFalse(keyframe(0x7c, 0x45, 0x88), "end fragment");
        assertFalse(keyframe(0x7c, 0x81, 0x9a), "start of a non-IDR slice");
    }

    @Test
    void truncatedPayloadsAreNotKeyframesAndNeverThrow() {
        assertFalse(H264.isKeyframe(new byte[4], 4, 4), "empty");
        assertFalse(keyframe(0x7c), "FU-A without its header");
        assertFalse(keyframe(0x78, 0, 5, 0x67, 0x42), "STAP-A unit longer than the payload");
        assertFalse(keyframe(0x78, 0, 0, 0x67), "STAP-A unit of length 0");
        assertFalse(keyframe(0x78, 0), "STAP-A cut in a length field");
        assertFalse(H264.isKeyframe(new byte[3], 2, 4), "end beyond the array");
    }
}
