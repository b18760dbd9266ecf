package dev.parley.media.loadtest;

/**
 * The load generator's RTP payload prefix: which stream, its 64-bit sequence number, the send time on this host's
 * monotonic clock and the measurement window the packet was sent in. The rest of the payload is filler. A simulcast
 * layer's packets carry it after their VP8 prefix ({@link SimulcastLayers#VP8_PREFIX}). The probe's own sequence,
 * not the RTP one, identifies a packet: a relay may renumber RTP (Parley does when it switches layers).
 */
final class Probe {
    static final int MAGIC = 0x504c5431; // "PLT1"
    static final int SIZE = 28;

    private Probe() {
    }

    /** Writes the probe at {@code offset} of the payload. */
    static void write(byte[] payload, int offset, int stream, long sequence, long sendNanos, int window) {
        writeInt(payload, offset, MAGIC);
        writeInt(payload, offset + 4, stream);
        writeLong(payload, offset + 8, sequence);
        writeLong(payload, offset + 16, sendNanos);
        writeInt(payload, offset + 24, window);
    }

    static int readInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    static long readLong(byte[] b, int off) {
        return ((long) readInt(b, off) << 32) | (readInt(b, off + 4) & 0xffffffffL);
    }

    static void writeInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static void writeLong(byte[] b, int off, long v) {
        writeInt(b, off, (int) (v >>> 32));
        writeInt(b, off + 4, (int) v);
    }
}
