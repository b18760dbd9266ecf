package dev.parley.media.ice;

import java.nio.ByteBuffer;

/**
 * The datagrams one media worker has sent since its last flush, copied into native memory and handed to the kernel
 * together in one {@code sendmmsg(2)} call: the worker's per-datagram system call was most of its cost (see
 * docs/benchmarks.md). Owned by one thread, which must call {@link #flush} before it waits for work, so nothing sits
 * here longer than one pass of its loop; it also flushes itself when full or when a datagram is for another port.
 *
 * <p>A shared port sends through the batch of the thread that calls it if that thread is a {@link SendingThread};
 * other threads send one datagram per call. A datagram the kernel refuses at the flush is counted as
 * {@code send_failed}, as a refused single send is. Allocates nothing per datagram: the memory is laid out once.
 */
public final class SendBatch {
    /** Datagrams per {@code sendmmsg} call at most. */
    public static final int CAPACITY = 32;
    /** The largest datagram a slot holds; larger ones are sent alone. */
    static final int SLOT_BYTES = MessageSlots.SLOT_BYTES;

    private final MessageSlots slots = new MessageSlots(CAPACITY);
    private SharedUdpPort port;
    private int count;

    private SendBatch() {
    }

    /** A batch, or null where batched sends are not available (then every send is one system call). */
    public static SendBatch create() {
        return NativeUdp.AVAILABLE ? new SendBatch() : null;
    }

    /** The calling thread's batch, or null when it has none. */
    static SendBatch ofCurrentThread() {
        return Thread.currentThread() instanceof SendingThread sending ? sending.batch : null;
    }

    /** Datagrams waiting for the next flush. */
    public int pending() {
        return count;
    }

    /**
     * Adds a datagram (position to limit, which are left as they were) for {@code sockaddr} on {@code to}'s socket;
     * false, with nothing added, if it does not fit a slot. Flushes first when the batch holds another port's.
     */
    boolean add(SharedUdpPort to, ByteBuffer datagram, byte[] sockaddr) {
        int length = datagram.remaining();
        if (length > SLOT_BYTES) {
            return false;
        }
        if (port != to && count > 0) {
            flush();
        }
        port = to;
        slots.fill(count, sockaddr, datagram, datagram.position(), length);
        if (++count == CAPACITY) {
            flush();
        }
        return true;
    }

    /** Sends what is waiting; a datagram the kernel refuses is counted and the rest still go. */
    public void flush() {
        if (count == 0) {
            return;
        }
        SharedUdpPort to = port;
        int total = count;
        count = 0;
        port = null;
        to.sendBatch(slots, total);
    }

    /** A thread that sends through a batch of its own; its code must flush it before it waits. */
    public static final class SendingThread extends Thread {
        private final SendBatch batch;

        public SendingThread(SendBatch batch, Runnable body, String name) {
            super(body, name);
            this.batch = batch;
        }
    }
}
