package dev.parley.media.cc;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One receiver's feedback processing: each operation fills a report of {@code packets} packets (1200 bytes, sent
 * 1 ms apart, one in fifty lost, arriving with a delay that wanders over ±1.5 ms) and hands it to the estimator.
 * {@link #fillOnly} measures filling the report alone, so the estimator's cost is {@code onFeedback - fillOnly}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SendSideEstimatorBenchmark {
    @Param({"50"})
    public int packets;

    private SendSideEstimator estimator;
    private PacketResults report;
    private long sequence;

    @Setup
    public void setUp() {
        estimator = new SendSideEstimator(30_000, 20_000_000, 1_000_000);
        report = new PacketResults(packets);
    }

    private long fill() {
        report.clear();
        for (int i = 0; i < packets; i++) {
            long seq = sequence++;
            long send = seq * 1_000;
            if (seq % 50 == 17) {
                report.addLost(seq, send, 1_200);
            } else {
                long wander = (seq % 101) * 30 - 1_500;
                report.add(seq, send, 1_200, 5_000_000_000L + send + 20_000 + wander);
            }
        }
        return sequence * 1_000 + 40_000;
    }

    @Benchmark
    public long onFeedback() {
        return estimator.onFeedback(report, fill());
    }

    @Benchmark
    public long fillOnly() {
        return fill() + report.size();
    }
}
