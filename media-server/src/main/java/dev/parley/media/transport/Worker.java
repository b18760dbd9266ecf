package dev.parley.media.transport;

import dev.parley.media.ice.IceTransport;
import dev.parley.media.ice.SendBatch;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.metrics.QueueDelays;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;
import org.ice4j.util.Buffer;
import org.jctools.queues.MpscArrayQueue;
import org.jctools.queues.SpmcArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread of the media path. The shared ports' readers hand it each datagram of the transports it owns
 * ({@link #offer}, which never blocks), and it runs their whole inbound path (demultiplexing, SRTP, routing, the
 * sends that follow) on its own thread, in the order the datagrams arrived, in the buffer the port read them into. The
 * owners' timers run on it too ({@link #execute}), between datagrams, so the state both touch has one thread. What
 * it sends in one pass of its loop (up to {@link #BATCH} datagrams, and the tasks) leaves in batches of up to
 * {@link SendBatch#CAPACITY}, one system call each, flushed before the pass ends.
 *
 * <p>Bounded in size and in time: at most {@link #CAPACITY} datagrams wait (beyond it {@code receive_queue_full}),
 * and one that waited longer than the queue delay limit is dropped unread ({@code receive_late}): a relay that
 * delivers a packet late only adds to the receiver's jitter. How long each datagram waited is kept as a histogram
 * ({@link QueueDelays}). Allocates nothing per datagram: the queue's entries are made once and recycled.
 */
public final class Worker {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
    /** Datagrams waiting at most (a power of two). At 50k datagrams a second, 80 ms. */
    public static final int CAPACITY = 4096;
    /** Tasks waiting at most (the timers of its conferences: a few per tick). */
    public static final int TASK_CAPACITY = 256;
    /** Datagrams handled before the worker looks at its tasks again, so timers run on time under load. */
    private static final int BATCH = 64;
    /** A parked worker wakes at least this often, to notice that it was closed. */
    private static final long IDLE_PARK_NANOS = 100_000_000L;

    private final long maxQueueDelayNanos;
    private final MediaCounters counters;
    private final Executor upkeep;
    /** Filled entries, in arrival order: many readers offer, the worker takes. */
    private final MpscArrayQueue<Arrival> inbound = new MpscArrayQueue<>(CAPACITY);
    /** Empty entries: the worker returns them, the readers take them. */
    private final SpmcArrayQueue<Arrival> free = new SpmcArrayQueue<>(CAPACITY);
    /** Work other threads hand over (the conferences' timers), run between datagrams. */
    private final MpscArrayQueue<Runnable> tasks = new MpscArrayQueue<>(TASK_CAPACITY);
    /** Written by the worker only; read by anyone for the stats. */
    private final long[] delayCounts = new long[QueueDelays.BUCKETS];
    private volatile long maxDelayNanos;
    /** The datagrams this worker sent since its last pass, sent together at its end; null where not available. */
    private final SendBatch sends = SendBatch.create();
    private final Thread thread;
    private volatile boolean sleeping;
    private volatile boolean closed;

    Worker(String name, Duration maxQueueDelay, MediaCounters counters, Executor upkeep) {
        this.maxQueueDelayNanos = maxQueueDelay.toNanos();
        this.counters = counters;
        this.upkeep = upkeep;
        for (int i = 0; i < CAPACITY; i++) {
            free.offer(new Arrival());
        }
        this.thread = new SendBatch.SendingThread(sends, this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues a datagram for {@code target} (any thread; never blocks). The worker gives the buffer back to ICE once
     * the transport has handled it; when the queue is full the buffer is given back here, and false returned.
     */
    boolean offer(SecureTransport target, Buffer buffer, long arrivalNanos) {
        Arrival arrival = free.relaxedPoll();
        if (arrival == null || closed) {
            counters.drop(DropReason.RECEIVE_QUEUE_FULL);
            IceTransport.release(buffer);
            return false;
        }
        arrival.target = target;
        arrival.buffer = buffer;
        arrival.arrivalNanos = arrivalNanos;
        // Never full: there are only as many entries as the queue holds.
        inbound.offer(arrival);
        wake();
        return true;
    }

    /**
     * Runs {@code task} on this worker, between datagrams (any thread; never blocks). False when its task queue is
     * full: the worker is far behind, and the caller's next tick will do.
     */
    public boolean execute(Runnable task) {
        if (closed || !tasks.offer(task)) {
            return false;
        }
        wake();
        return true;
    }

    /** Wakes the worker if it parked; called after queueing work. */
    private void wake() {
        // The work must be visible before the worker's flag is read, or a worker going to sleep could miss it.
        VarHandle.fullFence();
        if (sleeping) {
            LockSupport.unpark(thread);
        }
    }

    Executor upkeep() {
        return upkeep;
    }

    private void run() {
        PacketBuffer view = new PacketBuffer();
        while (!closed) {
            int handled = 0;
            for (Arrival arrival; handled < BATCH && (arrival = inbound.relaxedPoll()) != null; handled++) {
                deliver(arrival, view);
            }
            int ran = 0;
            for (Runnable task; (task = tasks.relaxedPoll()) != null; ran++) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.warn("a media task failed", e);
                }
            }
            if (sends != null) {
                sends.flush();
            }
            if (handled == 0 && ran == 0) {
                idle();
            }
        }
        for (Arrival arrival; (arrival = inbound.relaxedPoll()) != null; ) {
            IceTransport.release(arrival.buffer);
        }
    }

    private void idle() {
        sleeping = true;
        if (inbound.isEmpty() && tasks.isEmpty() && !closed) {
            LockSupport.parkNanos(this, IDLE_PARK_NANOS);
        }
        sleeping = false;
    }

    private void deliver(Arrival arrival, PacketBuffer view) {
        SecureTransport target = arrival.target;
        Buffer buffer = arrival.buffer;
        long arrivalNanos = arrival.arrivalNanos;
        arrival.target = null;
        arrival.buffer = null;
        free.offer(arrival);
        long waited = System.nanoTime() - arrivalNanos;
        delayCounts[QueueDelays.bucket(waited)]++;
        if (waited > maxDelayNanos) {
            maxDelayNanos = waited;
        }
        if (waited > maxQueueDelayNanos) {
            counters.drop(DropReason.RECEIVE_LATE);
            IceTransport.release(buffer);
        } else {
            handle(target, buffer, arrivalNanos, view, counters);
        }
    }

    /**
     * Runs a transport's inbound path for one datagram on the calling thread and gives the buffer back: what a worker
     * does with each datagram it takes, and what a transport without a worker does on ICE's reading thread.
     */
    static void handle(SecureTransport target, Buffer buffer, long arrivalNanos, PacketBuffer view,
                       MediaCounters counters) {
        try {
            target.receive(buffer, arrivalNanos, view);
        } catch (RuntimeException e) {
            counters.drop(DropReason.NOT_RTP_OR_DTLS);
            LOG.debug("packet handling failed", e);
        } finally {
            IceTransport.release(buffer);
        }
    }

    void addQueueDelays(long[] into) {
        for (int i = 0; i < delayCounts.length; i++) {
            into[i] += delayCounts[i];
        }
    }

    long maxQueueDelayNanos() {
        return maxDelayNanos;
    }

    void close() {
        closed = true;
        LockSupport.unpark(thread);
    }

    /** One queued datagram: which transport it is for, the buffer holding it, when it came off the socket. */
    private static final class Arrival {
        SecureTransport target;
        Buffer buffer;
        long arrivalNanos;
    }
}
