package dev.parley.media.ice;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An array of {@code struct mmsghdr} for {@code sendmmsg(2)} and {@code recvmmsg(2)}, laid out once in native memory:
 * each message has one {@code iovec} over a payload slot of its own and room for an IPv4 or IPv6 socket address. The
 * Java side reads and writes it through one direct {@link ByteBuffer}, so nothing is allocated per datagram. 64-bit
 * Linux layout; used only when {@link NativeUdp#AVAILABLE}. Owned by one thread.
 */
final class MessageSlots {
    /** The largest datagram a slot holds. */
    static final int SLOT_BYTES = ReceiveBuffers.SIZE;
    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;
    private static final int ADDRESS = 32;
    /** Offsets in {@code struct mmsghdr}: msg_name, msg_namelen, msg_iov, msg_iovlen, and the kernel's msg_len. */
    private static final int NAME = 0;
    private static final int NAME_LENGTH = 8;
    private static final int IOV = 16;
    private static final int IOV_COUNT = 24;
    private static final int RECEIVED_LENGTH = 56;

    final int capacity;
    /** Kept so the native memory lives as long as the slots. */
    private final Memory memory;
    private final long base;
    private final ByteBuffer bytes;
    private final int iovecsAt;
    private final int addressesAt;
    private final int payloadsAt;

    MessageSlots(int capacity) {
        this.capacity = capacity;
        iovecsAt = MMSGHDR * capacity;
        addressesAt = iovecsAt + IOVEC * capacity;
        payloadsAt = addressesAt + ADDRESS * capacity;
        int size = payloadsAt + SLOT_BYTES * capacity;
        memory = new Memory(size);
        memory.clear();
        base = Pointer.nativeValue(memory);
        bytes = memory.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
        for (int i = 0; i < capacity; i++) {
            int message = MMSGHDR * i;
            bytes.putLong(message + NAME, base + addressAt(i));
            bytes.putLong(message + IOV, base + iovecsAt + (long) IOVEC * i);
            bytes.putLong(message + IOV_COUNT, 1);
            bytes.putLong(iovecsAt + IOVEC * i, base + payloadAt(i)); // iov_base
        }
    }

    /** The native address of message {@code slot}, where a call may start. */
    long message(int slot) {
        return base + (long) MMSGHDR * slot;
    }

    /** Fills {@code slot} for sending {@code length} bytes of {@code datagram} from {@code position}. */
    void fill(int slot, byte[] sockaddr, ByteBuffer datagram, int position, int length) {
        bytes.put(addressAt(slot), sockaddr);
        bytes.putInt(MMSGHDR * slot + NAME_LENGTH, sockaddr.length);
        bytes.putLong(iovecsAt + IOVEC * slot + 8, length); // iov_len
        bytes.put(payloadAt(slot), datagram, position, length);
    }

    /** Makes every slot ready to receive a datagram of up to {@link #SLOT_BYTES} and its source address. */
    void readyToReceive() {
        for (int i = 0; i < capacity; i++) {
            bytes.putInt(MMSGHDR * i + NAME_LENGTH, NativeUdp.SOCKADDR_MAX);
            bytes.putLong(iovecsAt + IOVEC * i + 8, SLOT_BYTES);
        }
    }

    /** Bytes the kernel put in {@code slot} (a longer datagram was cut to {@link #SLOT_BYTES}). */
    int receivedLength(int slot) {
        return Math.min(bytes.getInt(MMSGHDR * slot + RECEIVED_LENGTH), SLOT_BYTES);
    }

    /** Copies the datagram in {@code slot} into {@code into}. */
    void copyPayload(int slot, byte[] into, int length) {
        bytes.get(payloadAt(slot), into, 0, length);
    }

    /** Reads the source address of the datagram in {@code slot} into {@code key}. */
    void readAddress(int slot, RemoteKey key) {
        key.setNative(bytes, addressAt(slot));
    }

    private int addressAt(int slot) {
        return addressesAt + ADDRESS * slot;
    }

    private int payloadAt(int slot) {
        return payloadsAt + SLOT_BYTES * slot;
    }
}
