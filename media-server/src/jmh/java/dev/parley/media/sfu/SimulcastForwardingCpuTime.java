package dev.parley.media.sfu;

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
        CpuClock clock = new CpuClock();
        Blackhole blackhole = CpuClock.BLACKHOLE;
        System.out.println("| mode | subscribers | forward CPU ns/op | publisher protect CPU ns/op "
                + "| server share ns/op | forwarded per packet | server ns per forwarded packet | forward B/op |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (int subscribers : new int[] {3, 9}) {
            for (String mode : new String[] {"plain", "simulcast"}) {
                SimulcastForwardingBenchmark bench = new SimulcastForwardingBenchmark();
                bench.mode = mode;
                bench.subscribers = subscribers;
                bench.setUp();
                clock.measure(WARM_UP, () -> {
                    bench.forward(blackhole);
                    bench.publisherProtectOnly(blackhole);
                });
                long forwardedBefore = bench.forwarded();
                CpuClock.PerOperation forward = clock.measure(MEASURED, () -> bench.forward(blackhole));
                double perPacket = (bench.forwarded() - forwardedBefore) / (double) MEASURED;
                if (Math.abs(perPacket - bench.forwardedPerPacket()) > 0.01) {
                    throw new IllegalStateException(mode + ": " + perPacket + " copies per packet, expected "
                            + bench.forwardedPerPacket());
                }
                CpuClock.PerOperation protect = clock.measure(MEASURED, () -> bench.publisherProtectOnly(blackhole));
                double share = forward.cpuNs() - protect.cpuNs();
                System.out.printf("| %s | %d | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f |%n", mode, subscribers,
                        forward.cpuNs(), protect.cpuNs(), share, perPacket, share / perPacket, forward.bytes());
            }
        }
    }
}
