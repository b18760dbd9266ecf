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
 * Forwarding with simulcast rewriting against plain forwarding, without the network. {@code plain}: a VP8 track
 * sent as one stream, every packet to every subscriber (through the subscriber's {@link LayerRewriter}, as every
 * video forward goes). {@code simulcast}: the same track as three layers whose packets arrive interleaved, and
 * subscriber i takes layer i mod 3, so each packet is rewritten (SSRC, sequence, timestamp, PictureID, TL0PICIDX)
 * and protected for a third of the subscribers and skipped by the others. Each operation protects one fresh packet
 * as the publisher would, decrypts it once and routes it through the track; {@link #publisherProtectOnly} is the
 * publisher's part, so the server's share is {@code forward - publisherProtectOnly}. Divide that by
 * {@link #forwardedPerPacket()} (subscribers for plain, subscribers / 3 for simulcast) for the cost per forwarded
 * packet. AEAD_AES_128_GCM, as browsers negotiate.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SimulcastForwardingBenchmark {
    private static final long SSRC = 0x11223344L;
    private static final int LAYERS = 3;
    private static final int HEADER = 24; // fixed header and the two header extensions below
    private static final int[] L1T3_TIDS = {0, 2, 1, 2};

    @Param({"plain", "simulcast"})
    public String mode;

    @Param({"3", "9"})
    public int subscribers;

    private SrtpSession publisher;
    private SrtpSession serverReceive;
    private Track track;
    private int layerCount;
    private final PacketBuffer packet = new PacketBuffer();
    private final PacketBuffer scratch = new PacketBuffer();
    private final byte[] template = new byte[1200];
    private long packets;
    private final int[] sequences = new int[LAYERS];
    private final int[] pictures = new int[LAYERS];
    private final long[] forwarded = new long[1];

    /** Protects like a subscriber's transport, counts and throws the result away. */
    private static final class SrtpSink implements RtpSender {
        private final SrtpSession session;
        private final long[] forwarded;

        SrtpSink(SrtpSession session, long[] forwarded) {
            this.session = session;
            this.forwarded = forwarded;
        }

        @Override
        public boolean isSecure() {
            return true;
        }

        @Override
        public boolean sendRtp(PacketBuffer out) {
            forwarded[0]++;
            return session.protectRtp(out);
        }
    }

    @Setup
    public void setUp() {
        SrtpCiphers.preferNative();
        SrtpProfile profile = SrtpProfile.AEAD_AES_128_GCM;
        byte[] material = randomMaterial(profile);
        publisher = new SrtpSession(SrtpKeys.fromKeyingMaterial(profile, material, true), 4);
        serverReceive = new SrtpSession(SrtpKeys.fromKeyingMaterial(profile, material, false), 4);
        boolean simulcast = mode.equals("simulcast");
        layerCount = simulcast ? LAYERS : 1;
        List<Codec> published = List.of(new Codec("VP8", 90000, 1, 100, "", List.of(), 101));
        List<HeaderExtension> publishedExtensions = List.of(
                new HeaderExtension(2, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
                new HeaderExtension(9, "urn:ietf:params:rtp-hdrext:sdes:mid"));
        track = new Track("bench", null, "0", MediaKind.VIDEO, published, publishedExtensions, SSRC, 0x55667788L,
                simulcast ? List.of("q", "h", "f") : List.of(), "s", "t", new MediaCounters());
        for (int i = 0; i < subscribers; i++) {
            SrtpSession out = new SrtpSession(SrtpKeys.fromKeyingMaterial(profile, randomMaterial(profile), false),
                    4);
            Forward forward = new Forward(null, new SrtpSink(out, forwarded), track,
                    List.of(new Codec("VP8", 90000, 1, 96, "", List.of(), 97)),
                    List.of(new HeaderExtension(3, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")));
            forward.rewriter.target(i % layerCount, 2);
            track.addForward(forward);
        }
        template[0] = (byte) 0x90;
        template[1] = 100;
        template[12] = (byte) 0xBE;
        template[13] = (byte) 0xDE;
        Rtp.writeUint16(template, 14, 2);
        template[16] = (byte) ((2 << 4) | 2);
        template[20] = (byte) (9 << 4);
        template[21] = '0';
        for (int i = HEADER + 6; i < template.length; i++) {
            template[i] = (byte) i;
        }
        // The first picture of each layer is a keyframe: every subscriber starts on its layer, then stays.
        for (int i = 0; i < layerCount; i++) {
            nextPublisherPacket(true);
            serverReceive.unprotectRtp(packet);
            track.forward(track.layers[i], packet, scratch, false);
        }
        if (forwarded[0] != subscribers) {
            throw new IllegalStateException("the keyframes reached " + forwarded[0] + " of " + subscribers
                    + " subscribers");
        }
        forwarded[0] = 0;
    }

    private static byte[] randomMaterial(SrtpProfile profile) {
        byte[] material = new byte[2 * (profile.keyLength() + profile.saltLength())];
        new SecureRandom().nextBytes(material);
        return material;
    }

    /** The next packet: layers interleaved, each picture one packet, L1T3 temporal pattern; returns its layer. */
    private int nextPublisherPacket(boolean keyframe) {
        int layer = (int) (packets++ % layerCount);
        int sequence = sequences[layer] = (sequences[layer] + 1) & 0xffff;
        int picture = pictures[layer] = (pictures[layer] + 1) & 0x7fff;
        int tid = L1T3_TIDS[picture % L1T3_TIDS.length];
        packet.copyFrom(template, 0, template.length);
        byte[] b = packet.getBuffer();
        Rtp.setSequenceNumber(b, 0, sequence);
        Rtp.writeUint32(b, 4, picture * 3000L);
        Rtp.writeUint32(b, 8, SSRC + layer);
        b[1] = (byte) (0x80 | 100);
        b[HEADER] = (byte) 0x90;
        b[HEADER + 1] = (byte) 0xe0;
        b[HEADER + 2] = (byte) (0x80 | (picture >> 8));
        b[HEADER + 3] = (byte) picture;
        b[HEADER + 4] = (byte) (picture / 4);
        b[HEADER + 5] = (byte) ((tid << 6) | (tid > 0 ? 0x20 : 0));
        b[HEADER + 6] = (byte) (keyframe ? 0x10 : 0x11);
        publisher.protectRtp(packet);
        return layer;
    }

    /** Subscriber copies one incoming packet makes, on average. */
    public double forwardedPerPacket() {
        return (double) subscribers / layerCount;
    }

    /** Packets protected for subscribers since set-up (to check {@link #forwardedPerPacket()}). */
    public long forwarded() {
        return forwarded[0];
    }

    @Benchmark
    public void forward(Blackhole blackhole) {
        int layer = nextPublisherPacket(false);
        blackhole.consume(serverReceive.unprotectRtp(packet));
        track.forward(track.layers[layer], packet, scratch, false);
    }

    @Benchmark
    public void publisherProtectOnly(Blackhole blackhole) {
        blackhole.consume(nextPublisherPacket(false));
    }
}
