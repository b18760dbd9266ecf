package dev.parley.media.rtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Adding a two-byte header extension element (the transport-wide sequence number) to a packet about to be sent. */
class AddExtensionTest {
    private static final byte[] PAYLOAD = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    @Test
    void aPacketWithoutExtensionsGetsAOneByteBlockWithTheElement() {
        byte[] buf = new byte[64];
        int len = packet(buf, null);
        int added = Rtp.addExtension16(buf, 0, len, 5);
        assertEquals(len + 8, added);
        assertWritable(buf, added, 5);
        assertPayload(buf, added);
    }

    @Test
    void aOneByteBlockGetsTheElementAppendedAndKeepsItsOwn() {
        byte[] buf = new byte[64];
        // audio level (id 1, one byte) and abs-send-time (id 3, three bytes): two words.
        int len = packet(buf, new byte[] {(byte) 0xBE, (byte) 0xDE, 0, 2, 0x10, 0x2a, 0x32, 7, 8, 9, 0, 0});
        int added = Rtp.addExtension16(buf, 0, len, 5);
        assertEquals(len + 4, added);
        assertWritable(buf, added, 5);
        assertEquals(0x2a, buf[Rtp.findExtension(buf, 0, added, 1)]);
        assertEquals(3, Rtp.extensionLength(buf, 0, Rtp.findExtension(buf, 0, added, 3)));
        assertPayload(buf, added);
    }

    @Test
    void anElementAlreadyThereIsKeptAndOneOfAnotherLengthBecomesPadding() {
        byte[] buf = new byte[64];
        int len = packet(buf, new byte[] {(byte) 0xBE, (byte) 0xDE, 0, 1, 0x51, 0, 0, 0});
        assertEquals(len, Rtp.addExtension16(buf, 0, len, 5), "already there, two bytes");
        len = packet(buf, new byte[] {(byte) 0xBE, (byte) 0xDE, 0, 1, 0x50, 9, 0, 0});
        int added = Rtp.addExtension16(buf, 0, len, 5);
        assertEquals(len + 4, added);
        assertWritable(buf, added, 5);
        assertPayload(buf, added);
    }

    @Test
    void aTwoByteBlockGetsATwoByteElementAndOtherProfilesAreLeftAlone() {
        byte[] buf = new byte[64];
        int len = packet(buf, new byte[] {0x10, 0x00, 0, 1, 20, 1, 0x55, 0});
        int added = Rtp.addExtension16(buf, 0, len, 5);
        assertEquals(len + 4, added);
        assertWritable(buf, added, 5);
        assertEquals(0x55, buf[Rtp.findExtension(buf, 0, added, 20)]);
        assertPayload(buf, added);

        len = packet(buf, new byte[] {0x12, 0x34, 0, 1, 0, 0, 0, 0});
        byte[] before = Arrays.copyOf(buf, len);
        assertEquals(-1, Rtp.addExtension16(buf, 0, len, 5));
        assertArrayEquals(before, Arrays.copyOf(buf, len), "unchanged");
    }

    @Test
    void aBlockThatCannotBeReadToItsEndIsLeftAlone() {
        byte[] buf = new byte[64];
        // The reserved id 15 stops a reader: an element appended after it would never be found.
        int len = packet(buf, new byte[] {(byte) 0xBE, (byte) 0xDE, 0, 1, (byte) 0xF0, 0, 0, 0});
        byte[] before = Arrays.copyOf(buf, len);
        assertEquals(-1, Rtp.addExtension16(buf, 0, len, 5));
        assertArrayEquals(before, Arrays.copyOf(buf, len), "unchanged");
    }

    private static void assertWritable(byte[] buf, int len, int id) {
        assertTrue(Rtp.isValid(buf, 0, len));
        int at = Rtp.findExtension(buf, 0, len, id);
        assertTrue(at >= 0, "element " + id + " found");
        assertEquals(2, Rtp.extensionLength(buf, 0, at));
        Rtp.writeUint16(buf, at, 0xbeef);
        assertEquals(0xbeef, Rtp.readUint16(buf, Rtp.findExtension(buf, 0, len, id)));
    }

    private static void assertPayload(byte[] buf, int len) {
        int header = Rtp.headerLength(buf, 0, len);
        assertArrayEquals(PAYLOAD, Arrays.copyOfRange(buf, header, len));
        assertEquals(0x1234, Rtp.sequenceNumber(buf, 0));
    }

    private static int packet(byte[] buf, byte[] extension) {
        Arrays.fill(buf, (byte) 0);
        buf[0] = (byte) (extension == null ? 0x80 : 0x90);
        buf[1] = 96;
        Rtp.setSequenceNumber(buf, 0, 0x1234);
        Rtp.writeUint32(buf, 8, 42);
        int pos = 12;
        if (extension != null) {
            System.arraycopy(extension, 0, buf, pos, extension.length);
            pos += extension.length;
        }
        System.arraycopy(PAYLOAD, 0, buf, pos, PAYLOAD.length);
        return pos + PAYLOAD.length;
    }
}
