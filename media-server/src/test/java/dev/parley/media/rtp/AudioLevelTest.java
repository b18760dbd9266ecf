package dev.parley.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Reading the RFC 6464 audio level from RTP packets as browsers and other stacks send them. Each packet sits at the
 * end of a larger array after some leading bytes, so reading past the packet or before it would be noticed.
 */
class AudioLevelTest {
    private static final int OFFSET = 5;
    private static final byte[] OPUS_PAYLOAD = {(byte) 0xfc, (byte) 0xff, (byte) 0xfe};

    @Test
    void readsLevelAndVoiceBitFromTheOneByteForm() {
        // As Chromium sends it: audio-level (id 1) then abs-send-time (id 3, 3 bytes), in one 8-byte block.
        byte[] packet = packet(0xBEDE, new byte[] {0x10, (byte) (0x80 | 42), 0x32, 1, 2, 3, 0, 0});
        int read = AudioLevel.read(packet, OFFSET, packet.length - OFFSET, 1);

        assertEquals(42, AudioLevel.level(read));
        assertTrue(AudioLevel.voice(read));
        assertEquals(-1, AudioLevel.read(packet, OFFSET, packet.length - OFFSET, 2), "no element with id 2");
    }

    @Test
    void readsAnElementAfterOthersAndPaddingWithoutTheVoiceBit() {
        byte[] packet = packet(0xBEDE, new byte[] {0x22, 9, 9, 9, 0, 0, 0x50, 127});
        int read = AudioLevel.read(packet, OFFSET, packet.length - OFFSET, 5);

        assertEquals(127, AudioLevel.level(read));
        assertFalse(AudioLevel.voice(read));
    }

    @Test
    void readsTheTwoByteForm() {
        byte[] packet = packet(0x1000, new byte[] {7, 2, 1, 1, 20, 1, (byte) 0x83, 0});
        int read = AudioLevel.read(packet, OFFSET, packet.length - OFFSET, 20);

        assertEquals(3, AudioLevel.level(read));
        assertTrue(AudioLevel.voice(read));
    }

    @Test
    void packetsWithoutTheExtensionReadAsAbsent() {
        byte[] plain = place(rtpHeader(false, 0), OPUS_PAYLOAD);
        assertEquals(-1, AudioLevel.read(plain, OFFSET, plain.length - OFFSET, 1), "no extension block");

        byte[] other = packet(0xBEDE, new byte[] {0x32, 1, 2, 3});
        assertEquals(-1, AudioLevel.read(other, OFFSET, other.length - OFFSET, 1), "another extension only");
    }

    @Test
    void malformedPacketsReadAsAbsent() {
        byte[] good = packet(0xBEDE, new byte[] {0x10, 42, 0, 0});
        int len = good.length - OFFSET;
        assertEquals(42, AudioLevel.read(good, OFFSET, len, 1));

        assertEquals(-1, AudioLevel.read(good, OFFSET, 11, 1), "shorter than a fixed header");
        assertEquals(-1, AudioLevel.read(good, OFFSET, 14, 1), "cut inside the extension header");
        assertEquals(-1, AudioLevel.read(good, OFFSET, len, 0), "id 0 is padding");
        assertEquals(-1, AudioLevel.read(good, OFFSET, len, 15), "id 15 is reserved");
        assertEquals(-1, AudioLevel.read(good, OFFSET, len, 256), "no such id");

        byte[] version1 = good.clone();
        version1[OFFSET] = (byte) ((version1[OFFSET] & 0x3f) | 0x40);
        assertEquals(-1, AudioLevel.read(version1, OFFSET, len, 1), "not RTP version 2");

        byte[] tooLong = packet(0xBEDE, new byte[] {0x10, 42, 0, 0});
        tooLong[OFFSET + 15] = 9;
        assertEquals(-1, AudioLevel.read(tooLong, OFFSET, tooLong.length - OFFSET, 1), "block longer than the packet");

        byte[] overrun = packet(0xBEDE, new byte[] {0x00, 0x00, 0x00, 0x13});
        assertEquals(-1, AudioLevel.read(overrun, OFFSET, overrun.length - OFFSET, 1), "element runs past its block");

        byte[] empty = packet(0x1000, new byte[] {1, 0, 0, 0});
        assertEquals(-1, AudioLevel.read(empty, OFFSET, empty.length - OFFSET, 1), "two-byte element with no data");

        byte[] unknownProfile = packet(0x1234, new byte[] {1, 1, 42, 0});
        assertEquals(-1, AudioLevel.read(unknownProfile, OFFSET, unknownProfile.length - OFFSET, 1),
                "neither the one-byte nor the two-byte form");
    }

    @Test
    void randomBytesNeverThrowNorReadOutsideThePacket() {
        Random random = new Random(6464);
        for (int i = 0; i < 200_000; i++) {
            byte[] packet = new byte[random.nextInt(40)];
            random.nextBytes(packet);
            if (packet.length > 0) {
                packet[0] = (byte) (0x90 | (packet[0] & 0x2f));
            }
            byte[] buf = place(packet, new byte[0]);
            int read = AudioLevel.read(buf, OFFSET, packet.length, 1 + random.nextInt(14));
            assertTrue(read >= -1 && read <= 0xff, "read " + read + " from " + Arrays.toString(packet));
        }
    }

    /** An RTP packet with one header extension block of the given profile and data (a multiple of 4 bytes). */
    private static byte[] packet(int profile, byte[] extension) {
        byte[] header = rtpHeader(true, 0);
        byte[] block = new byte[4 + extension.length];
        Rtp.writeUint16(block, 0, profile);
        Rtp.writeUint16(block, 2, extension.length / 4);
        System.arraycopy(extension, 0, block, 4, extension.length);
        byte[] whole = new byte[header.length + block.length + OPUS_PAYLOAD.length];
        System.arraycopy(header, 0, whole, 0, header.length);
        System.arraycopy(block, 0, whole, header.length, block.length);
        System.arraycopy(OPUS_PAYLOAD, 0, whole, header.length + block.length, OPUS_PAYLOAD.length);
        return place(whole, new byte[0]);
    }

    private static byte[] rtpHeader(boolean extension, int sequence) {
        byte[] header = new byte[Rtp.FIXED_HEADER];
        header[0] = (byte) (extension ? 0x90 : 0x80);
        header[1] = 111;
        Rtp.writeUint16(header, 2, sequence);
        Rtp.writeUint32(header, 4, 960);
        Rtp.writeUint32(header, 8, 0x11223344L);
        return header;
    }

    /** {@code first} then {@code second} after OFFSET bytes of 0x7f, ending the array. */
    private static byte[] place(byte[] first, byte[] second) {
        byte[] buf = new byte[OFFSET + first.length + second.length];
        Arrays.fill(buf, 0, OFFSET, (byte) 0x7f);
        System.arraycopy(first, 0, buf, OFFSET, first.length);
        System.arraycopy(second, 0, buf, OFFSET + first.length, second.length);
        return buf;
    }
}
