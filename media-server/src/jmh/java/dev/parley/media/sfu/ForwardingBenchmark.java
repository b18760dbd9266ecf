package dev.parley.media.sfu;

import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.sdp.Codec;
import dev.parley.media.sdp.HeaderExtension;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.srtp.SrtpCiphers;
import dev.parley.media.srtp.SrtpKeys;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.media.srtp.SrtpSession;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.RtpSender;
import java.security.SecureRandom;
import java.util.List;
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
 * The forwarding hot path without the network: a publisher's SRTP packet is decrypted once, routed through the
 * track (receive statistics, retransmission cache, payload type and header extension rewriting) and protected for
 * each of N subscribers. Each operation also protects the incoming packet as the publisher would (SRTP replay
 * protection forbids feeding the same packet twice); {@link #publisherProtectOnly} measures that part alone, so
 * the server's cost is {@code forward - publisherProtectOnly}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ForwardingBenchmark {
    private static final long SSRC = 0x11223344L;

    @Param({"1", "3", "10"})
    public int subscribers;

    @Param({"AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80"})
    public String profile;

    private SrtpSession publisher;
    private SrtpSession serverReceive;
    private Track track;
    private final PacketBuffer packet = new PacketBuffer();
    private final PacketBuffer scratch = new PacketBuffer();
    private final byte[] template = new byte[1200];
    private final List<SrtpSink> sinks = new java.util.ArrayList<>();
    private int sequence;

    /** Protects like a subscriber's transport and throws the result away. */
    private static final class SrtpSink implements RtpSender {
        private final SrtpSession session;
        long bytes;

        SrtpSink(SrtpSession session) {
            this.session = session;
        }

        @Override
        public boolean isSecure() {
            return true;
        }

        @Override
        public boolean sendRtp(PacketBuffer out) {
            boolean ok = session.protectRtp(out);
            bytes += out.getLength();
            return ok;
        }
    }

    @Setup
    public void setUp() {
        SrtpCiphers.preferNative();
        SrtpProfile srtpProfile = SrtpProfile.valueOf(profile);
        byte[] material = randomMaterial(srtpProfile);
        publisher = new SrtpSession(SrtpKeys.fromKeyingMaterial(srtpProfile, material, true), 4);
        serverReceive = new SrtpSession(SrtpKeys.fromKeyingMaterial(srtpProfile, material, false), 4);
        List<Codec> published = List.of(new Codec("VP8", 90000, 1, 100, "", List.of(), 101));
        List<HeaderExtension> publishedExtensions = List.of(
                new HeaderExtension(2, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
                new HeaderExtension(9, "urn:ietf:params:rtp-hdrext:sdes:mid"));
        track = new Track("bench", null, "0", MediaKind.VIDEO, published, publishedExtensions, SSRC, 0x55667788L,
                "s", "t", new MediaCounters());
        for (int i = 0; i < subscribers; i++) {
            SrtpSession out = new SrtpSession(SrtpKeys.fromKeyingMaterial(srtpProfile, randomMaterial(srtpProfile),
                    false), 4);
            SrtpSink sink = new SrtpSink(out);
            sinks.add(sink);
            Forward forward = new Forward(null, sink, track,
                    List.of(new Codec("VP8", 90000, 1, 96, "", List.of(), 97)),
                    List.of(new HeaderExtension(3, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")));
            // What layer selection gives a receiver of a one-stream track: its only layer, every temporal layer.
            forward.rewriter.target(0, 2);
            track.addForward(forward);
        }
        template[0] = (byte) 0x90;
        template[1] = 100;
        Rtp.writeUint32(template, 8, SSRC);
        template[12] = (byte) 0xBE;
        template[13] = (byte) 0xDE;
        Rtp.writeUint16(template, 14, 2);
        template[16] = (byte) ((2 << 4) | 2);
        template[20] = (byte) (9 << 4);
        template[21] = '0';
        for (int i = 24; i < template.length; i++) {
            template[i] = (byte) i;
        }
        // A VP8 payload descriptor (start of a picture, 15-bit PictureID); each packet a whole picture.
        template[24] = (byte) 0x90;
        template[25] = (byte) 0x80;
        // Every video forward goes through its LayerRewriter, which starts a receiver at a keyframe: send one.
        template[28] = 0x10;
        nextPublisherPacket();
        serverReceive.unprotectRtp(packet);
        track.forward(track.layers[0], packet, scratch, false);
        template[28] = 0x11;
        for (SrtpSink sink : sinks) {
            if (sink.bytes == 0) {
                throw new IllegalStateException("a subscriber was sent nothing: the benchmark would not forward");
            }
        }
    }

    private static byte[] randomMaterial(SrtpProfile profile) {
        byte[] material = new byte[2 * (profile.keyLength() + profile.saltLength())];
        new SecureRandom().nextBytes(material);
        return material;
    }

    private void nextPublisherPacket() {
        sequence = (sequence + 1) & 0xffff;
        packet.copyFrom(template, 0, template.length);
        Rtp.setSequenceNumber(packet.getBuffer(), 0, sequence);
        Rtp.writeUint32(packet.getBuffer(), 4, sequence * 3000L);
        packet.getBuffer()[26] = (byte) (0x80 | (sequence >> 8 & 0x7f));
        packet.getBuffer()[27] = (byte) sequence;
        publisher.protectRtp(packet);
    }

    @Benchmark
    public void forward(Blackhole blackhole) {
        nextPublisherPacket();
        blackhole.consume(serverReceive.unprotectRtp(packet));
        track.forward(track.layers[0], packet, scratch, false);
    }

    @Benchmark
    public void publisherProtectOnly(Blackhole blackhole) {
        nextPublisherPacket();
        blackhole.consume(packet.getLength());
    }
}
