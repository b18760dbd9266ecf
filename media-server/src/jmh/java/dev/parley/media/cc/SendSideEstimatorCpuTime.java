package dev.parley.media.cc;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The operations of {@link SendSideEstimatorBenchmark} timed by the thread's CPU clock, which holds steady on a busy
 * machine where JMH's wall-clock averages swing: 200 000 operations of warm-up, then 1 000 000 measured.
 */
public final class SendSideEstimatorCpuTime {
    private static final int WARMUP = 200_000;
    private static final int MEASURED = 1_000_000;

    public static void main(String[] args) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (String operation : new String[] {"fillOnly", "onFeedback"}) {
            SendSideEstimatorBenchmark benchmark = new SendSideEstimatorBenchmark();
            benchmark.packets = 50;
            benchmark.setUp();
            long sink = run(benchmark, operation, WARMUP);
            long before = threads.getCurrentThreadCpuTime();
            sink += run(benchmark, operation, MEASURED);
            long cpuNs = threads.getCurrentThreadCpuTime() - before;
            System.out.printf("%s packets=50: %.0f ns/op (CPU time)%s%n", operation, (double) cpuNs / MEASURED,
                    sink == 42 ? " " : "");
        }
    }

    private static long run(SendSideEstimatorBenchmark benchmark, String operation, int operations) {
        long sink = 0;
        boolean feedback = operation.equals("onFeedback");
        for (int i = 0; i < operations; i++) {
            sink += feedback ? benchmark.onFeedback() : benchmark.fillOnly();
        }
        return sink;
    }
}
