package dev.parley.media.transport;

import java.nio.ByteBuffer;
import org.jitsi.utils.ByteArrayBuffer;

/**
 * A reusable packet: a byte array with room for SRTP tags, and a {@link ByteBuffer} view of it to send it with.
 * Owned by one thread at a time; reused for every packet that thread handles. A worker's view ({@link #wrap}) points
 * at the array a datagram was received into instead, so the packet is worked on where it lies.
 */
public final class PacketBuffer implements ByteArrayBuffer {
    public static final int CAPACITY = 2048;

    private byte[] data = new byte[CAPACITY];
    private int offset;
    private int length;
    /** When this packet came off the socket ({@link System#nanoTime()}), or 0. */
    private long receivedNanos;
    /** A view of {@link #data} for channels; made again only when the array is replaced. */
    private ByteBuffer view = ByteBuffer.wrap(data);

    /** When this packet came off the socket, before it waited for its worker ({@link System#nanoTime()}). */
    public long receivedNanos() {
        return receivedNanos;
    }

    public void setReceivedNanos(long receivedNanos) {
        this.receivedNanos = receivedNanos;
    }

    @Override
    public byte[] getBuffer() {
        return data;
    }

    @Override
    public int getOffset() {
        return offset;
    }

    @Override
    public int getLength() {
        return length;
    }

    @Override
    public void setLength(int length) {
        this.length = length;
    }

    @Override
    public void setOffset(int offset) {
        this.offset = offset;
    }

    @Override
    public boolean isInvalid() {
        return false;
    }

    @Override
    public void readRegionToBuff(int off, int len, byte[] out) {
        System.arraycopy(data, offset + off, out, 0, len);
    }

    @Override
    public void grow(int howMuch) {
        if (offset + length + howMuch > data.length) {
            byte[] bigger = new byte[offset + length + howMuch];
            System.arraycopy(data, 0, bigger, 0, offset + length);
            data = bigger;
        }
    }

    @Override
    public void append(byte[] bytes, int len) {
        grow(len);
        System.arraycopy(bytes, 0, data, offset + length, len);
        length += len;
    }

    @Override
    public void shrink(int len) {
        length = Math.max(0, length - len);
    }

    /** Makes this buffer the packet in {@code data} (not copied; the caller keeps the array alive meanwhile). */
    public void wrap(byte[] data, int offset, int length) {
        this.data = data;
        this.offset = offset;
        this.length = length;
    }

    /** Copies another packet's bytes into this one, at offset 0. */
    public void copyFrom(byte[] source, int sourceOffset, int sourceLength) {
        offset = 0;
        length = 0;
        grow(sourceLength);
        System.arraycopy(source, sourceOffset, data, 0, sourceLength);
        length = sourceLength;
    }

    public void copyFrom(PacketBuffer other) {
        copyFrom(other.data, other.offset, other.length);
    }

    /** This packet's current region as a buffer (position to limit), for sending on a channel. */
    ByteBuffer byteBufferForSend() {
        if (view.array() != data) {
            view = ByteBuffer.wrap(data);
        }
        view.limit(offset + length).position(offset);
        return view;
    }
}
