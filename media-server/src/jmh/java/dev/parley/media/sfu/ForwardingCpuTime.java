package dev.parley.media.sfu;

import org.openjdk.jmh.infra.Blackhole;

/**
 * The {@link ForwardingBenchmark} operations timed by this thread's CPU time instead of the wall clock, so the
 * figures hold on a machine busy with other work (where JMH's wall-clock averages swing widely). Bounded: a fixed
 * number of operations per case.
 *
 * <p>Run after {@code media-server/scripts/benchmark.sh -l}:
 * {@code java -cp "media-server/target/bench/classes:media-server/target/bench/lib/*"
 * dev.parley.media.sfu.ForwardingCpuTime}.
 */
public final class ForwardingCpuTime {
    private static final int WARM_UP = 200_000;
    private static final int MEASURED = 300_000;

    private ForwardingCpuTime() {
    }

    public static void main(String[] args) {
        CpuClock clock = new CpuClock();
        Blackhole blackhole = CpuClock.BLACKHOLE;
        System.out.println("| profile | subscribers | forward CPU ns/op | publisher protect CPU ns/op "
                + "| server share ns/op | forward B/op |");
        System.out.println("|---|---|---|---|---|---|");
        for (String profile : new String[] {"AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80"}) {
            for (int subscribers : new int[] {1, 3, 10}) {
                ForwardingBenchmark bench = new ForwardingBenchmark();
                bench.profile = profile;
                bench.subscribers = subscribers;
                bench.setUp();
                clock.measure(WARM_UP, () -> {
                    bench.forward(blackhole);
                    bench.publisherProtectOnly(blackhole);
                });
                CpuClock.PerOperation forward = clock.measure(MEASURED, () -> bench.forward(blackhole));
                CpuClock.PerOperation protect = clock.measure(MEASURED, () -> bench.publisherProtectOnly(blackhole));
                System.out.printf("| %s | %d | %.0f | %.0f | %.0f | %.0f |%n", profile, subscribers, forward.cpuNs(),
                        protect.cpuNs(), forward.cpuNs() - protect.cpuNs(), forward.bytes());
            }
        }
    }
}
