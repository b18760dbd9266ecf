package dev.parley.media.sfu;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Times benchmark operations by this thread's CPU clock instead of the wall clock, so the figures hold on a machine
 * busy with other work (where JMH's wall-clock averages swing widely); also counts the bytes this thread allocates.
 * Used by the {@code *CpuTime} runners; bounded by the count each measurement is given.
 */
final class CpuClock {
    /** A Blackhole for the runners' own loops (JMH's are made by its harness). */
    static final Blackhole BLACKHOLE = new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    private final ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** CPU time and allocation per operation of one measurement. */
    record PerOperation(double cpuNs, double bytes) {
    }

    /** Runs {@code operation} {@code count} times and returns its CPU time and allocation per run. */
    PerOperation measure(int count, Runnable operation) {
        long thread = Thread.currentThread().getId();
        long cpu = threads.getCurrentThreadCpuTime();
        long bytes = threads.getThreadAllocatedBytes(thread);
        for (int i = 0; i < count; i++) {
            operation.run();
        }
        return new PerOperation((threads.getCurrentThreadCpuTime() - cpu) / (double) count,
                (threads.getThreadAllocatedBytes(thread) - bytes) / (double) count);
    }
}
