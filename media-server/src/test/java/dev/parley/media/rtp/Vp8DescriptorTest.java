package dev.parley.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Vp8DescriptorTest {
    private static final int HEADER = Rtp.FIXED_HEADER + 8;

    private static Vp8Descriptor read(byte[] packet) {
        Vp8Descriptor d = new Vp8Descriptor();
        assertTrue(d.read(packet, HEADER, packet.length), "descriptor refused");
        return d;
    }

    @Test
    void fifteenBitPictureIdTl0AndTemporalLayerAreReadWithTheirOffsets() {
        byte[] packet = new Vp8Packet(7, 0, 1, 0x5a3c, 15, 200, 2, true, true, false, false, 20).bytes();
        Vp8Descriptor d = read(packet);
        assertEquals(0x5a3c, d.pictureId);
        assertEquals(2, d.pictureIdLength);
        assertEquals(HEADER + 2, d.pictureIdOffset);
        assertEquals(200, d.tl0PicIdx);
        assertEquals(HEADER + 4, d.tl0PicIdxOffset);
        assertEquals(2, d.temporalId);
        assertTrue(d.layerSync);
        assertEquals(6, d.descriptorLength);
        assertTrue(d.startOfPartition);
        assertFalse(d.keyframe, "P bit set: an inter frame");
    }

    @Test
    void sevenBitPictureIdAndKeyframe() {
        byte[] packet = new Vp8Packet(7, 0, 1, 0x55, 7, -1, 0, false, true, true, true, 20).bytes();
        Vp8Descriptor d = read(packet);
        assertEquals(0x55, d.pictureId);
        assertEquals(1, d.pictureIdLength);
        assertEquals(-1, d.tl0PicIdx);
        assertEquals(-1, d.tl0PicIdxOffset);
        assertEquals(0, d.temporalId);
        assertFalse(d.layerSync);
        assertEquals(4, d.descriptorLength);
        assertTrue(d.keyframe);
    }

    @Test
    void minimalDescriptorHasNoOptionalFields() {
        Vp8Descriptor d = read(new Vp8Packet(7, 0, 1, 0, 0, -1, -1, false, true, true, false, 20).bytes());
        assertEquals(-1, d.pictureId);
        assertEquals(0, d.pictureIdLength);
        assertEquals(-1, d.pictureIdOffset);
        assertEquals(-1, d.temporalId);
        assertEquals(1, d.descriptorLength);
        assertTrue(d.keyframe);
    }

    @Test
    void continuationPacketsOfAKeyframeAreNotKeyframeStarts() {
        // The byte after the descriptor is frame data here, whatever its lowest bit.
        byte[] packet = new Vp8Packet(7, 0, 1, 3, 15, 1, 0, false, false, true, false, 20).bytes();
        packet[HEADER + 6] = 0;
        Vp8Descriptor d = read(packet);
        assertFalse(d.startOfPartition);
        assertFalse(d.keyframe);
        byte[] laterPartition = new Vp8Packet(7, 0, 1, 3, 15, 1, 0, false, true, true, false, 20).bytes();
        laterPartition[HEADER] |= 0x01;
        d = read(laterPartition);
        assertFalse(d.startOfPartition, "partition index 1");
        assertFalse(d.keyframe);
    }

    @Test
    void keyIndexWithoutTemporalIdLeavesTidAbsent() {
        byte[] packet = new Vp8Packet(7, 0, 1, 3, 7, -1, 3, true, true, true, false, 20).bytes();
        packet[HEADER + 1] = (byte) 0x90;
        Vp8Descriptor d = read(packet);
        assertEquals(-1, d.temporalId);
        assertFalse(d.layerSync);
        assertEquals(4, d.descriptorLength);
    }

    @Test
    void writersKeepTheWidthThePacketHas() {
        byte[] wide = new Vp8Packet(7, 0, 1, 10, 15, 9, 1, false, true, false, false, 20).bytes();
        Vp8Descriptor d = read(wide);
        Vp8Descriptor.writePictureId(wide, d, 0x7ffe);
        Vp8Descriptor.writeTl0PicIdx(wide, d, 0xab);
        d = read(wide);
        assertEquals(0x7ffe, d.pictureId);
        assertEquals(2, d.pictureIdLength);
        assertEquals(0xab, d.tl0PicIdx);
        assertEquals(1, d.temporalId);

        byte[] narrow = new Vp8Packet(7, 0, 1, 10, 7, -1, 1, false, true, false, false, 20).bytes();
        byte[] before = narrow.clone();
        d = read(narrow);
        Vp8Descriptor.writePictureId(narrow, d, 0x1234);
        Vp8Descriptor.writeTl0PicIdx(narrow, d, 5);
        d = read(narrow);
        assertEquals(0x34, d.pictureId, "7-bit PictureID keeps the low 7 bits");
        assertEquals(1, d.pictureIdLength);
        before[HEADER + 2] = 0x34;
        assertTrue(Arrays.equals(before, narrow), "only the PictureID byte changed; no TL0PICIDX written");
    }

    @Test
    void everyTruncationIsRefusedWithoutThrowing() {
        byte[][] packets = {
            new Vp8Packet(7, 0, 1, 0x1234, 15, 4, 2, true, true, false, false, 0).bytes(),
            new Vp8Packet(7, 0, 1, 0x12, 7, 4, -1, false, true, true, false, 0).bytes(),
            new Vp8Packet(7, 0, 1, 0, 0, -1, 1, false, false, false, false, 0).bytes(),
        };
        Vp8Descriptor d = new Vp8Descriptor();
        for (byte[] packet : packets) {
            assertTrue(d.read(packet, HEADER, packet.length));
            int needed = HEADER + d.descriptorLength + 1;
            for (int end = HEADER; end < needed; end++) {
                byte[] cut = Arrays.copyOf(packet, end);
                assertFalse(d.read(cut, HEADER, end), "descriptor cut at " + (end - HEADER) + " bytes accepted");
            }
            assertTrue(d.read(Arrays.copyOf(packet, needed), HEADER, needed), "one payload byte is enough");
            assertFalse(d.read(packet, HEADER, packet.length + 1), "end beyond the array");
        }
    }
}
