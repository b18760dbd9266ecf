package dev.parley.media.cc;

import dev.parley.media.metrics.MediaCounters;
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
 * What transport-wide congestion control costs a publisher's transport: each operation records the arrivals of one
 * feedback interval ({@code packets}, one in twenty lost, arrival gaps of 0.1-3.9 ms, the odd packet reordered) and
 * writes the feedback packet for them, as the receive thread and the 50 ms timer do. 20 packets per 50 ms is a
 * 2.5 Mbit/s publisher; 100 a screen share's burst.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TransportFeedbackBenchmark {
    @Param({"20", "100"})
    public int packets;

    private TransportArrivals arrivals;
    private final byte[] buf = new byte[1500];
    private int sequence;
    private long now = 1_000_000;

    @Setup
    public void setUp() {
        arrivals = new TransportArrivals(1024, 1200, new MediaCounters());
    }

    @Benchmark
    public int recordAndWriteFeedback() {
        for (int i = 0; i < packets; i++) {
            int s = sequence++;
            now += 100 + (s * 7919L) % 3800;
            if (s % 20 == 7) {
                continue;
            }
            // Every 50th pair arrives swapped.
            int recorded = s % 50 == 10 ? s + 1 : s % 50 == 11 ? s - 1 : s;
            arrivals.record(recorded & 0xffff, now);
        }
        int total = 0;
        int length;
        while ((length = arrivals.writeFeedback(buf, 0, 1200, 0x11223344L, 0x55667788L)) > 0) {
            total += length;
        }
        return total;
    }
}
