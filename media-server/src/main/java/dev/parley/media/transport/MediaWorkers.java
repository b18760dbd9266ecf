package dev.parley.media.transport;

import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.metrics.QueueDelays;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The media path's threads: a fixed number of {@link Worker}s, however many transports there are. Whoever owns a
 * group of transports (the SFU: a conference) takes one worker with {@link #assign} and gives every transport of
 * the group that worker, so the group's state has one thread and no locks are contended
 * on the way from one of its transports to another. Beside them one upkeep thread serves the rare DTLS records that
 * arrive after a handshake (a peer repeating its last flight), so no transport keeps a thread of its own once it is
 * secure.
 */
public final class MediaWorkers implements AutoCloseable {
    /** DTLS upkeep tasks waiting at most; beyond it a record waits for the next one's task. */
    private static final int UPKEEP_QUEUE = 1024;

    private final Worker[] workers;
    private final int[] assigned;
    private final ThreadPoolExecutor upkeep;

    /**
     * @param name the threads' name prefix
     * @param count worker threads (at least 1)
     * @param maxQueueDelay a datagram that waited longer than this for its worker is dropped ({@code receive_late})
     */
    public MediaWorkers(String name, int count, Duration maxQueueDelay, MediaCounters counters) {
        if (count < 1) {
            throw new IllegalArgumentException("at least one worker is needed, not " + count);
        }
        this.upkeep = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(UPKEEP_QUEUE), runnable -> {
                    Thread thread = new Thread(runnable, name + "-dtls-upkeep");
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.DiscardPolicy());
        this.workers = new Worker[count];
        this.assigned = new int[count];
        for (int i = 0; i < count; i++) {
            workers[i] = new Worker(name + "-worker-" + i, maxQueueDelay, counters, upkeep);
        }
    }

    /** The worker with the fewest groups assigned; give it back with {@link #release} when the group ends. */
    public synchronized Worker assign() {
        int best = 0;
        for (int i = 1; i < workers.length; i++) {
            if (assigned[i] < assigned[best]) {
                best = i;
            }
        }
        assigned[best]++;
        return workers[best];
    }

    public synchronized void release(Worker worker) {
        for (int i = 0; i < workers.length; i++) {
            if (workers[i] == worker && assigned[i] > 0) {
                assigned[i]--;
                return;
            }
        }
    }

    /** Every worker, for work that each must run for its own groups (their timers). */
    public List<Worker> all() {
        return List.of(workers);
    }

    /** How long datagrams waited for their worker, all workers together, since the start. */
    public QueueDelays queueDelays() {
        long[] counts = new long[QueueDelays.BUCKETS];
        long max = 0;
        for (Worker worker : workers) {
            worker.addQueueDelays(counts);
            max = Math.max(max, worker.maxQueueDelayNanos());
        }
        return new QueueDelays(counts, max);
    }

    @Override
    public void close() {
        for (Worker worker : workers) {
            worker.close();
        }
        upkeep.shutdownNow();
    }
}
