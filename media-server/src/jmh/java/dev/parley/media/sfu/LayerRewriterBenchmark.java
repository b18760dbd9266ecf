package dev.parley.media.sfu;

import dev.parley.media.rtp.Rtp;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * One receiver's simulcast rewriting: a publisher's three VP8 layers (L1T3 pictures of two packets, PictureID,
 * TL0PICIDX, TID) interleaved as they arrive; each operation builds the next packet in place and hands it to the
 * rewriter, which sends the middle layer (temporal layers up to {@code temporal}) and drops the rest.
 * {@link #buildOnly} measures building the packet alone, so the rewriter's cost is {@code rewrite - buildOnly}
 * (an average over all packets, two thirds of which belong to layers not sent).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LayerRewriterBenchmark {
    private static final int[] L1T3_TIDS = {0, 2, 1, 2};
    private static final int PACKET = 1200;
    private static final int HEADER = Rtp.FIXED_HEADER;

    @Param({"0", "2"})
    public int temporal;

    private LayerRewriter rewriter;
    private final byte[] buf = new byte[PACKET];
    private long packet;

    @Setup
    public void setUp() {
        rewriter = new LayerRewriter(0x55667788L, true, 90_000);
        rewriter.target(1, temporal);
        for (int i = HEADER + 6; i < PACKET; i++) {
            buf[i] = (byte) i;
        }
    }

    /** The next packet of the interleaved layers; returns its layer. */
    private int nextPacket() {
        long n = packet++;
        int layer = (int) (n % 3);
        long perLayer = n / 3;
        long picture = perLayer / 2;
        boolean first = perLayer % 2 == 0;
        int tid = L1T3_TIDS[(int) (picture % L1T3_TIDS.length)];
        boolean keyframe = picture % 3000 == 0;
        buf[0] = (byte) 0x80;
        buf[1] = (byte) (first ? 96 : 0x80 | 96);
        Rtp.setSequenceNumber(buf, 0, (int) (perLayer + 1000 * layer));
        Rtp.writeUint32(buf, 4, picture * 3000 + 77_000L * layer);
        Rtp.setSsrc(buf, 0, 0x1000 + layer);
        buf[HEADER] = (byte) (first ? 0x90 : 0x80);
        buf[HEADER + 1] = (byte) 0xe0;
        int pictureId = (int) ((picture + 5000 * layer) & 0x7fff);
        buf[HEADER + 2] = (byte) (0x80 | (pictureId >> 8));
        buf[HEADER + 3] = (byte) pictureId;
        buf[HEADER + 4] = (byte) (picture / 4);
        buf[HEADER + 5] = (byte) ((tid << 6) | (tid > 0 ? 0x20 : 0));
        buf[HEADER + 6] = (byte) (keyframe ? 0x10 : 0x11);
        return layer;
    }

    @Benchmark
    public boolean rewrite() {
        int layer = nextPacket();
        return rewriter.rewrite(buf, 0, PACKET, layer, packet * 11_111_111L);
    }

    @Benchmark
    public void buildOnly(Blackhole blackhole) {
        blackhole.consume(nextPacket());
    }
}
