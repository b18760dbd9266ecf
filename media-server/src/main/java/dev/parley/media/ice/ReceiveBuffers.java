package dev.parley.media.ice;

import org.ice4j.util.Buffer;
import org.jctools.queues.MpmcArrayQueue;

/**
 * The bounded pool of receive buffers every reader takes from (the shared ports', the load generator's, the test
 * clients'). Buffers taken here are given back by whoever ends up holding them: the worker that handled the
 * datagram, or the code that refused it.
 */
final class ReceiveBuffers {
    /**
     * A datagram of the largest MTU in use (1500) and room for what SRTP and header extensions add when a received
     * packet is worked on in place (as much as a packet buffer holds).
     */
    static final int SIZE = 2048;
    /** Buffers kept for reuse; beyond this, returned buffers are left to the garbage collector. */
    private static final int POOLED = 4096;

    /** Lock-free: the port readers take, the workers (or client readers) give back, each without waiting. */
    private static final MpmcArrayQueue<Buffer> POOL = new MpmcArrayQueue<>(POOLED);

    private ReceiveBuffers() {
    }

    static Buffer take(int size) {
        Buffer buffer = size <= SIZE ? POOL.relaxedPoll() : null;
        if (buffer == null) {
            return new Buffer(new byte[Math.max(size, SIZE)], 0, size);
        }
        buffer.setOffset(0);
        buffer.setLength(size);
        buffer.setRemoteAddress(null);
        buffer.setLocalAddress(null);
        buffer.setReceivedTime(null);
        return buffer;
    }

    static void release(Buffer buffer) {
        if (buffer.getBuffer().length == SIZE) {
            POOL.relaxedOffer(buffer);
        }
    }
}
