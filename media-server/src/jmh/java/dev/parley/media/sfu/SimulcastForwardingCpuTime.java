package dev.parley.media.sfu;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The {@link SimulcastForwardingBenchmark} operations timed by this thread's CPU clock, which holds steady on a busy
 * machine, with the cost per forwarded packet. Bounded: a fixed number of operations per case.
 *
 * <p>Run after {@code media-server/scripts/benchmark.sh -l}:
 * {@code java -cp "media-server/target/bench/classes:media-server/target/bench/lib/*"
 * dev.parley.media.sfu.SimulcastForwardingCpuTime}.
 */
public final class SimulcastForwardingCpuTime {
    private static final int WARM_UP = 200_000;
    private static final int MEASURED = 300_000;

    private SimulcastForwardingCpuTime() {
    }

    public static void main(String[] args) {
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        Blackhole blackhole = new Blackhole(
                "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        System.out.println("| mode | subscribers | forward CPU ns/op | publisher protect CPU ns/op "
                + "| server share ns/op | forwarded per packet | server ns per forwarded packet | forward B/op |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (int subscribers : new int[] {3, 9}) {
            for (String mode : new String[] {"plain", "simulcast"}) {
                SimulcastForwardingBenchmark bench = new SimulcastForwardingBenchmark();
                bench.mode = mode;
                bench.subscribers = subscribers;
                bench.setUp();
                for (int i = 0; i < WARM_UP; i++) {
                    bench.forward(blackhole);
                    bench.publisherProtectOnly(blackhole);
                }
                long forwardedBefore = bench.forwarded();
                long cpu = threads.getCurrentThreadCpuTime();
                long bytes = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
                for (int i = 0; i < MEASURED; i++) {
                    bench.forward(blackhole);
                }
                double forwardNs = (threads.getCurrentThreadCpuTime() - cpu) / (double) MEASURED;
                double forwardBytes = (threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - bytes)
                        / (double) MEASURED;
                double perPacket = (bench.forwarded() - forwardedBefore) / (double) MEASURED;
                if (Math.abs(perPacket - bench.forwardedPerPacket()) > 0.01) {
                    throw new IllegalStateException(mode + ": " + perPacket + " copies per packet, expected "
                            + bench.forwardedPerPacket());
                }
                cpu = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < MEASURED; i++) {
                    bench.publisherProtectOnly(blackhole);
                }
                double protectNs = (threads.getCurrentThreadCpuTime() - cpu) / (double) MEASURED;
                double share = forwardNs - protectNs;
                System.out.printf("| %s | %d | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f |%n", mode, subscribers,
                        forwardNs, protectNs, share, perPacket, share / perPacket, forwardBytes);
            }
        }
    }
}
