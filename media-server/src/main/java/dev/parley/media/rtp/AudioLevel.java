package dev.parley.media.rtp;

/**
 * Reads the client-to-mixer audio level header extension (RFC 6464,
 * {@code urn:ietf:params:rtp-hdrext:ssrc-audio-level}). Its one data byte is the V bit (the sender's voice activity
 * detector says "voice") and the level in -dBov, 0 (loudest) to 127 (silence). Allocates nothing; never throws on a
 * malformed packet.
 */
public final class AudioLevel {
    /** {@link #read}'s V bit. */
    public static final int VOICE = 0x80;
    /** The level of digital silence (-127 dBov and below). */
    public static final int SILENCE = 127;

    private AudioLevel() {
    }

    /**
     * The extension's byte as an int: {@link #VOICE} when the V bit is set, or'ed with the level 0..127; -1 when the
     * packet is not a valid RTP packet, carries no element with {@code extensionId} (1..14 in the one-byte form,
     * 1..255 in the two-byte form), uses an extension profile of neither form, or the element has no data byte.
     */
    public static int read(byte[] buf, int off, int len, int extensionId) {
        if (extensionId < 1 || extensionId > 255 || !Rtp.isValid(buf, off, len)) {
            return -1;
        }
        int data = Rtp.findExtension(buf, off, len, extensionId);
        if (data < 0) {
            return -1;
        }
        int profile = Rtp.readUint16(buf, off + Rtp.FIXED_HEADER + 4 * (buf[off] & 0x0f));
        boolean oneByte = profile == 0xBEDE;
        if (!oneByte && (profile & 0xfff0) != 0x1000) {
            return -1;
        }
        // The one-byte form always holds at least one data byte; the two-byte form may declare none.
        if (!oneByte && (buf[data - 1] & 0xff) == 0) {
            return -1;
        }
        return buf[data] & 0xff;
    }

    /** The level 0..127 (-dBov) of a {@link #read} result that is not -1. */
    public static int level(int read) {
        return read & 0x7f;
    }

    /** The V bit of a {@link #read} result that is not -1. */
    public static boolean voice(int read) {
        return (read & VOICE) != 0;
    }
}
