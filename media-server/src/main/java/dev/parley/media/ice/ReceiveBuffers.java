package dev.parley.media.ice;

import kotlin.Unit;
import org.ice4j.ice.harvest.AbstractUdpListener;
import org.ice4j.util.Buffer;
import org.ice4j.util.BufferPool;
import org.jctools.queues.MpmcArrayQueue;

/**
 * ice4j's push receive for the shared UDP ports, with a bounded pool of its receive buffers. Process-wide, because
 * ice4j keeps both as static settings: installed once, before the first shared port exists. In push mode the port's
 * reader hands each non-STUN datagram straight to the component's callback (no merging socket, no thread per remote
 * address); STUN still goes to the agent's own stack. Buffers taken here are given back by whoever ends up holding
 * them: the worker that handled the datagram, or the code that refused it.
 */
final class ReceiveBuffers {
    /**
     * ice4j never asks for more than one datagram of the assumed MTU (1500); the rest is room for what SRTP and
     * header extensions add when a received packet is worked on in place (as much as a packet buffer holds).
     */
    static final int SIZE = 2048;
    /** Buffers kept for reuse; beyond this, returned buffers are left to the garbage collector. */
    private static final int POOLED = 4096;

    /** Lock-free: the port readers take, the workers (or client readers) give back, each without waiting. */
    private static final MpmcArrayQueue<Buffer> POOL = new MpmcArrayQueue<>(POOLED);

    static {
        BufferPool.getBuffer = ReceiveBuffers::take;
        BufferPool.returnBuffer = buffer -> {
            release(buffer);
            return Unit.INSTANCE;
        };
        AbstractUdpListener.USE_PUSH_API = true;
    }

    private ReceiveBuffers() {
    }

    /** Makes sure the settings above are in place (class initialisation runs them once). */
    static void install() {
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
