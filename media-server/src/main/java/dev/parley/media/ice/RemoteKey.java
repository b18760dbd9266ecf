package dev.parley.media.ice;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A remote address and port as a shared port looks its pairs up, read straight from the kernel's socket address so
 * that the reader allocates nothing per datagram: IPv4 is held as {@code ::ffff:a.b.c.d}, so both families compare
 * alike. The reader keeps one and refills it for each datagram; the port's map keeps its own copies.
 */
final class RemoteKey {
    private static final long V4_MAPPED = 0xffffL << 32;

    private long high;
    private long low;
    private int port;

    static RemoteKey of(InetSocketAddress address) {
        RemoteKey key = new RemoteKey();
        key.set(address);
        return key;
    }

    /** Refills this key from a JDK address (allocates: for pairs being made, and where batched reads are off). */
    void set(InetSocketAddress address) {
        byte[] ip = address.getAddress().getAddress();
        ByteBuffer bytes = ByteBuffer.wrap(ip);
        if (ip.length == 4) {
            high = 0;
            low = V4_MAPPED | (bytes.getInt() & 0xffffffffL);
        } else {
            high = bytes.getLong();
            low = bytes.getLong();
        }
        port = address.getPort();
    }

    /** Refills this key from the {@code sockaddr_in} or {@code sockaddr_in6} at {@code at} (native byte order). */
    void setNative(ByteBuffer memory, int at) {
        int family = memory.getShort(at);
        short networkPort = memory.getShort(at + 2);
        port = Short.toUnsignedInt(memory.order() == ByteOrder.BIG_ENDIAN ? networkPort : Short.reverseBytes(networkPort));
        if (family == NativeUdp.AF_INET) {
            high = 0;
            low = V4_MAPPED | (Integer.toUnsignedLong(bigEndianInt(memory, at + 4)));
        } else {
            high = bigEndianLong(memory, at + 8);
            low = bigEndianLong(memory, at + 16);
        }
    }

    /** This key as a JDK address (allocates: for the checks of addresses that hold no pair yet). */
    InetSocketAddress toAddress() {
        try {
            if (high == 0 && (low >>> 32) == 0xffffL) {
                int v4 = (int) low;
                return new InetSocketAddress(InetAddress.getByAddress(new byte[] {
                    (byte) (v4 >>> 24), (byte) (v4 >>> 16), (byte) (v4 >>> 8), (byte) v4}), port);
            }
            byte[] ip = ByteBuffer.allocate(16).putLong(high).putLong(low).array();
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4- or 16-byte address is always valid", e);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RemoteKey key && key.high == high && key.low == low && key.port == port;
    }

    @Override
    public int hashCode() {
        long mixed = (high * 31 + low) * 31 + port;
        return (int) (mixed ^ (mixed >>> 32));
    }

    @Override
    public String toString() {
        return toAddress().toString();
    }

    private static int bigEndianInt(ByteBuffer memory, int at) {
        int value = memory.getInt(at);
        return memory.order() == ByteOrder.BIG_ENDIAN ? value : Integer.reverseBytes(value);
    }

    private static long bigEndianLong(ByteBuffer memory, int at) {
        long value = memory.getLong(at);
        return memory.order() == ByteOrder.BIG_ENDIAN ? value : Long.reverseBytes(value);
    }
}
