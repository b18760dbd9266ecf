package dev.parley.media.sfu;

import dev.parley.media.transport.PacketBuffer;

/**
 * The last packets of one stream, decrypted, so subscribers' NACKs can be answered without asking the publisher.
 * Slots are preallocated; the publisher's thread writes, subscribers' threads read, each slot under its own lock.
 */
final class RetransmissionCache {
    static final int SLOTS = 256;
    private static final int MAX_PACKET = 1500;

    private static final class Slot {
        int sequence = -1;
        int length;
        final byte[] data = new byte[MAX_PACKET];
    }

    private final Slot[] slots = new Slot[SLOTS];

    RetransmissionCache() {
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = new Slot();
        }
    }

    void store(byte[] buf, int off, int len, int sequence) {
        if (len > MAX_PACKET) {
            return;
        }
        Slot slot = slots[sequence & (SLOTS - 1)];
        synchronized (slot) {
            System.arraycopy(buf, off, slot.data, 0, len);
            slot.length = len;
            slot.sequence = sequence;
        }
    }

    /** Copies the packet with this sequence number into {@code out}; false if it is no longer held. */
    boolean copyTo(int sequence, PacketBuffer out) {
        Slot slot = slots[sequence & (SLOTS - 1)];
        synchronized (slot) {
            if (slot.sequence != sequence) {
                return false;
            }
            out.copyFrom(slot.data, 0, slot.length);
            return true;
        }
    }
}
