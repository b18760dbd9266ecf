package dev.parley.media.loadtest;

import dev.parley.media.cc.TransportArrivals;
import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Ice4jSettings;
import dev.parley.media.ice.IceCandidate;
import dev.parley.media.ice.ClientSockets;
import dev.parley.media.ice.IceClientSession;
import dev.parley.media.ice.IceLoadClient;
import dev.parley.media.ice.IceTransport;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.Rtcp;
import dev.parley.media.rtp.RtcpVisitor;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.sdp.Codec;
import dev.parley.media.sdp.HeaderExtension;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.sdp.OfferedMedia;
import dev.parley.media.sdp.PeerDescription;
import dev.parley.media.sdp.SdpException;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.media.srtp.SsrcTable;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.SecureTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * A WebRTC peer in Java that speaks to the media server as a browser does: full ICE (controlling), DTLS, SRTP,
 * BUNDLE and rtcp-mux, writing offers and answers like Chromium's. One instance is one transport: publish,
 * subscribe or WHEP. The tests use it, and the load generator builds on it.
 */
public final class ClientEndpoint implements AutoCloseable {
    /**
     * A track this client publishes: one stream ({@code ssrc}, {@code rtxSsrc}), or simulcast with one stream per
     * rid (lowest quality first; SSRCs in {@code layerSsrcs}, which the offer does not announce: the server learns
     * them from the RID header extension).
     */
    public record ClientTrack(MediaKind kind, long ssrc, long rtxSsrc, String streamId, String trackId,
                              List<String> rids, List<Long> layerSsrcs) {
        public ClientTrack {
            rids = List.copyOf(rids);
            layerSsrcs = List.copyOf(layerSsrcs);
        }

        public ClientTrack(MediaKind kind, long ssrc, long rtxSsrc, String streamId, String trackId) {
            this(kind, ssrc, rtxSsrc, streamId, trackId, List.of(), List.of());
        }

        /** VP8 simulcast video sent as one stream per rid. */
        public static ClientTrack simulcastVideo(String streamId, String... rids) {
            List<Long> ssrcs = new ArrayList<>();
            for (int i = 0; i < rids.length; i++) {
                ssrcs.add(randomSsrc());
            }
            return new ClientTrack(MediaKind.VIDEO, 0, 0, streamId, streamId + "-video", List.of(rids), ssrcs);
        }

        public boolean simulcast() {
            return !rids.isEmpty();
        }

        public static ClientTrack audio(String streamId) {
            return new ClientTrack(MediaKind.AUDIO, randomSsrc(), 0, streamId, streamId + "-audio");
        }

        public static ClientTrack video(String streamId) {
            return new ClientTrack(MediaKind.VIDEO, randomSsrc(), randomSsrc(), streamId, streamId + "-video");
        }
    }

    /** A decrypted RTP packet this client received. */
    public record ReceivedRtp(long ssrc, int payloadType, int sequence, long timestamp, byte[] packet, int headerLength) {
        public byte[] payload() {
            return Arrays.copyOfRange(packet, headerLength, packet.length);
        }
    }

    /** Sees each decrypted RTP packet on the receive thread; must not keep the array, which is reused. */
    public interface RtpObserver {
        void onRtp(byte[] packet, int offset, int length);
    }

    /**
     * A feedback message this client received: PLI, FIR, NACK, REMB, transport-cc or an RR block, with the SSRC it is
     * about. A NACK gives one record per packet it asks for, that packet's sequence number as {@code value}.
     */
    public record ReceivedFeedback(String type, long senderSsrc, long mediaSsrc, long value) {
    }

    /** Payload types this client uses in its publish offers; deliberately not the server's, to show rewriting. */
    public static final int OPUS_PT = 109;
    public static final int VP8_PT = 100;
    public static final int VP8_RTX_PT = 101;
    public static final int H264_PT = 104;
    public static final int H264_RTX_PT = 105;
    /** Header extension ids this client offers. The mid extension is offered to show the server declines it. */
    public static final int AUDIO_LEVEL_ID = 1;
    public static final int ABS_SEND_TIME_ID = 2;
    public static final int MID_ID = 9;
    public static final int RID_ID = 10;
    public static final int REPAIRED_RID_ID = 11;
    public static final int TRANSPORT_CC_ID = 3;
    private static final String TRANSPORT_CC_URI =
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

    private final SecureTransport transport;
    /** ice4j's full agent with a reader thread of its own, or, for the load generator, a client on shared readers. */
    private final IceTransport ice;
    private final DtlsIdentity identity;
    private final long sessionId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    /** What this client's SDP says after {@code a=fingerprint:}. */
    private final String fingerprintLine;
    private final long rtcpSsrc = randomSsrc();
    private final MediaCounters counters = new MediaCounters();
    private final BlockingQueue<ReceivedRtp> received = new LinkedBlockingQueue<>(100_000);
    private final BlockingQueue<ReceivedFeedback> feedback = new LinkedBlockingQueue<>(100_000);
    private final BlockingQueue<byte[]> transportFeedback = new LinkedBlockingQueue<>(100_000);
    private volatile boolean offerTransportCc;
    /** As a subscriber: the transport-wide sequence number's id the answer kept, or -1. */
    private volatile int receiveTransportCcId = -1;
    private volatile TransportArrivals receiveArrivals;
    private final long arrivalClockOrigin = System.nanoTime();
    /** Added to every arrival recorded for feedback, growing by {@link #arrivalDelayGrowthMicros} per packet. */
    private long arrivalDelayMicros;
    private volatile long arrivalDelayGrowthMicros;
    /**
     * A simulated downlink bottleneck for the transport-cc feedback (0: none): each packet is taken to arrive when a
     * link of this rate would have delivered it after the packets before it, and one that would wait in its queue
     * longer than {@link #SIMULATED_QUEUE_MICROS} is taken as dropped (reported lost).
     */
    private volatile long simulatedDownlinkBps;
    /**
     * The simulated bottleneck's burst allowance, bytes (0: none): a token bucket of this size, filling at its rate,
     * lets that many bytes through at once after a quiet spell, as policers and shapers (tc's tbf) do.
     */
    private volatile int simulatedBurstBytes;
    private long simulatedFreeAtMicros;
    /** Bytes in the simulated token bucket at {@link #simulatedFreeAtMicros}. */
    private double simulatedTokens;
    /** The simulated bottleneck's queue, as time: a drop-tail queue of 300 ms. */
    public static final long SIMULATED_QUEUE_MICROS = 300_000;
    private final SsrcTable<LongAdder> packetsBySsrc = new SsrcTable<>();
    private volatile boolean keepPackets = true;
    private volatile RtpObserver rtpObserver;
    private final PacketBuffer sendBuffer = new PacketBuffer();
    private List<ClientTrack> published = List.of();
    private PeerDescription remote;
    private boolean started;

    private ClientEndpoint(InetAddress bind, AllowedNetworks allowed, List<SrtpProfile> profiles,
                           DtlsIdentity identity, String fingerprintLine, int[] cipherSuites, ClientSockets sockets)
            throws IOException {
        Ice4jSettings.apply(Duration.ofSeconds(5));
        this.ice = sockets != null ? sockets.open(bind, allowed) : IceClientSession.open(bind, allowed);
        this.identity = identity;
        this.fingerprintLine = fingerprintLine;
        // No worker: the client's ICE reader (its own thread, or a shared socket reader) decrypts as it reads.
        this.transport = new SecureTransport("client-" + ice.localUfrag(), ice, identity, profiles, counters, null);
        if (cipherSuites != null) {
            transport.offerCipherSuitesOnly(cipherSuites);
        }
    }

    /** A client on ice4j's full agent, which decrypts on its own ICE reader thread. */
    public static ClientEndpoint create(InetAddress bind, AllowedNetworks allowed, List<SrtpProfile> profiles)
            throws IOException {
        DtlsIdentity identity = DtlsIdentity.generate();
        return new ClientEndpoint(bind, allowed, profiles, identity, "sha-256 " + identity.fingerprint(), null, null);
    }

    /**
     * A client on the load generator's shared sockets: its socket is read by one of their reader threads, which also
     * decrypts what it receives (no thread of its own once secure).
     */
    public static ClientEndpoint onSharedSockets(InetAddress bind, AllowedNetworks allowed, List<SrtpProfile> profiles,
                                                 ClientSockets sockets) throws IOException {
        DtlsIdentity identity = DtlsIdentity.generate();
        return new ClientEndpoint(bind, allowed, profiles, identity, "sha-256 " + identity.fingerprint(), null,
                sockets);
    }

    /**
     * A client with the given certificate, announcing its fingerprint under {@code fingerprintHash} (sha-1, sha-256,
     * sha-384 or sha-512), and, when it is the DTLS client, offering only {@code cipherSuites} (null: all).
     */
    public static ClientEndpoint create(InetAddress bind, AllowedNetworks allowed, List<SrtpProfile> profiles,
                                        DtlsIdentity identity, String fingerprintHash, int[] cipherSuites)
            throws IOException {
        return new ClientEndpoint(bind, allowed, profiles, identity, identity.fingerprint(fingerprintHash).sdpValue(),
                cipherSuites, null);
    }

    /** A client that announces a fingerprint other than its certificate's (the server must refuse its DTLS). */
    public static ClientEndpoint withWrongFingerprint(InetAddress bind, AllowedNetworks allowed) throws IOException {
        return new ClientEndpoint(bind, allowed, List.of(SrtpProfile.values()), DtlsIdentity.generate(),
                "sha-256 " + DtlsIdentity.generate().fingerprint(), null, null);
    }

    /**
     * Whether this client's offers ask for transport-wide congestion control, as browsers' do: the transport-wide
     * sequence number extension (id {@link #TRANSPORT_CC_ID}) and {@code transport-cc} feedback on every codec; and
     * whether its answers to a server offer keep both when offered (else they leave them out). A subscriber that kept
     * them records the transport-wide number of every packet it receives and sends feedback when asked
     * ({@link #sendTransportFeedback}).
     */
    public void offerTransportCc(boolean offer) {
        this.offerTransportCc = offer;
    }

    /** An offer that sends the given tracks (Opus; VP8 with RTX, and H.264 with RTX if asked). */
    public String publishOffer(List<ClientTrack> tracks, boolean offerH264) {
        this.published = List.copyOf(tracks);
        StringBuilder sdp = sessionHeader(tracks.size());
        for (int i = 0; i < tracks.size(); i++) {
            ClientTrack track = tracks.get(i);
            section(sdp, Integer.toString(i), track.kind(), "sendonly", offerH264, "actpass");
            String msid = track.streamId() + " " + track.trackId();
            sdp.append("a=msid:").append(msid).append("\r\n");
            if (track.simulcast()) {
                for (String rid : track.rids()) {
                    sdp.append("a=rid:").append(rid).append(" send\r\n");
                }
                sdp.append("a=simulcast:send ").append(String.join(";", track.rids())).append("\r\n");
                continue;
            }
            if (track.rtxSsrc() != 0) {
                sdp.append("a=ssrc-group:FID ").append(track.ssrc()).append(' ').append(track.rtxSsrc()).append("\r\n");
            }
            sdp.append("a=ssrc:").append(track.ssrc()).append(" cname:client\r\n");
            sdp.append("a=ssrc:").append(track.ssrc()).append(" msid:").append(msid).append("\r\n");
            if (track.rtxSsrc() != 0) {
                sdp.append("a=ssrc:").append(track.rtxSsrc()).append(" cname:client\r\n");
            }
        }
        return sdp.toString();
    }

    /** A receive-only offer (WHEP) with one audio and one video section. */
    public String receiveOffer() {
        StringBuilder sdp = sessionHeader(2);
        section(sdp, "0", MediaKind.AUDIO, "recvonly", false, "actpass");
        section(sdp, "1", MediaKind.VIDEO, "recvonly", false, "actpass");
        return sdp.toString();
    }

    /** Applies the server's answer to our offer and starts ICE and DTLS. */
    public void acceptAnswer(String answer) throws SdpException {
        remote = PeerDescription.parse(answer);
        start();
    }

    /** Answers a server offer (subscribe transport): receives every sendonly section with its first codec. */
    public String answer(String offer) throws SdpException {
        PeerDescription description = PeerDescription.parse(offer);
        remote = description;
        StringBuilder sdp = sessionHeader(description.media().size());
        StringBuilder bundle = new StringBuilder();
        for (OfferedMedia media : description.media()) {
            bundle.append(' ').append(media.mid());
        }
        int bundleAt = sdp.indexOf("a=group:BUNDLE");
        int lineEnd = sdp.indexOf("\r\n", bundleAt);
        sdp.replace(bundleAt, lineEnd, "a=group:BUNDLE" + bundle);
        for (OfferedMedia media : description.media()) {
            List<Codec> codecs = media.codecs();
            String direction = media.direction().sends() ? "recvonly" : "inactive";
            StringBuilder formats = new StringBuilder();
            for (Codec codec : codecs) {
                formats.append(' ').append(codec.payloadType());
                if (codec.rtxPayloadType() >= 0) {
                    formats.append(' ').append(codec.rtxPayloadType());
                }
            }
            sdp.append("m=").append(media.kind().sdp()).append(" 9 UDP/TLS/RTP/SAVPF").append(formats).append("\r\n");
            transportLines(sdp, media.mid(), "active");
            for (HeaderExtension e : media.extensions()) {
                if (e.uri().equals(TRANSPORT_CC_URI)) {
                    if (!offerTransportCc) {
                        continue;
                    }
                    receiveTransportCcId = e.id();
                }
                sdp.append("a=extmap:").append(e.id()).append(' ').append(e.uri()).append("\r\n");
            }
            sdp.append("a=").append(direction).append("\r\na=rtcp-mux\r\n");
            for (Codec codec : codecs) {
                sdp.append("a=rtpmap:").append(codec.payloadType()).append(' ').append(codec.name()).append('/')
                        .append(codec.clockRate()).append(codec.channels() > 1 ? "/" + codec.channels() : "")
                        .append("\r\n");
                for (String fb : codec.feedback()) {
                    if (!offerTransportCc && fb.equals("transport-cc")) {
                        continue;
                    }
                    sdp.append("a=rtcp-fb:").append(codec.payloadType()).append(' ').append(fb).append("\r\n");
                }
                if (!codec.fmtp().isEmpty()) {
                    sdp.append("a=fmtp:").append(codec.payloadType()).append(' ').append(codec.fmtp()).append("\r\n");
                }
                if (codec.rtxPayloadType() >= 0) {
                    sdp.append("a=rtpmap:").append(codec.rtxPayloadType()).append(" rtx/").append(codec.clockRate())
                            .append("\r\na=fmtp:").append(codec.rtxPayloadType()).append(" apt=")
                            .append(codec.payloadType()).append("\r\n");
                }
            }
        }
        if (receiveTransportCcId > 0 && receiveArrivals == null) {
            receiveArrivals = new TransportArrivals(4096, 1200, counters);
        }
        start();
        return sdp.toString();
    }

    /**
     * As a transport-cc subscriber: sends transport feedback for every packet received since the last call (each
     * feedback packet after an empty receiver report); returns how many feedback packets went out.
     */
    public synchronized int sendTransportFeedback() {
        TransportArrivals arrivals = receiveArrivals;
        if (arrivals == null || !transport.isSecure()) {
            return 0;
        }
        int sent = 0;
        while (arrivals.hasPending() && sent < 64) {
            byte[] data = sendBuffer.getBuffer();
            int length = Rtcp.writeReceiverReportHeader(data, 0, rtcpSsrc, 0);
            int feedback = arrivals.writeFeedback(data, length, 1200, rtcpSsrc, 0);
            if (feedback == 0) {
                break;
            }
            sendBuffer.setOffset(0);
            sendBuffer.setLength(length + feedback);
            if (transport.sendRtcp(sendBuffer)) {
                sent++;
            }
        }
        return sent;
    }

    /**
     * Makes the transport feedback describe a downlink bottleneck of {@code bps} (0: none) in front of this client:
     * arrivals spread out to its rate, and packets beyond its queue reported lost. The packets themselves are
     * delivered as they come; only what the server learns about their arrival changes.
     */
    public void simulateDownlink(long bps) {
        simulateDownlink(bps, 0);
    }

    /**
     * As {@link #simulateDownlink(long)}, with a burst allowance of {@code burstBytes}: after a quiet spell that many
     * bytes pass at once, and only what comes faster than the rate beyond them queues.
     */
    public void simulateDownlink(long bps, int burstBytes) {
        simulatedBurstBytes = Math.max(0, burstBytes);
        simulatedDownlinkBps = bps;
    }

    /**
     * When a packet of {@code length} bytes reaching the simulated bottleneck at {@code arrival} (µs) leaves it, or -1
     * when its queue is full (the packet is then reported lost). The receive thread only.
     */
    private long simulateBottleneck(long arrival, int length, long bps, int burstBytes) {
        long start = Math.max(arrival, simulatedFreeAtMicros);
        if (start - arrival > SIMULATED_QUEUE_MICROS) {
            // The queue is full: the packet never arrives, and the feedback reports it lost.
            return -1;
        }
        if (burstBytes <= 0) {
            simulatedFreeAtMicros = start + length * 8_000_000L / bps;
            return simulatedFreeAtMicros;
        }
        double tokens = Math.min(burstBytes, simulatedTokens + (start - simulatedFreeAtMicros) * bps / 8e6);
        long leaves = tokens >= length ? start : start + (long) ((length - tokens) * 8e6 / bps);
        simulatedTokens = Math.max(0, tokens - length);
        simulatedFreeAtMicros = leaves;
        return leaves;
    }

    /**
     * Simulates a queue building up on the way to this subscriber: from now on each packet's arrival, as its transport
     * feedback reports it, is {@code micros} later than the previous packet's extra delay (0: the delay stops growing
     * and stays where it is).
     */
    public void growArrivalDelay(long micros) {
        arrivalDelayGrowthMicros = micros;
    }

    /** The remote description (the server's offer or answer), for checks. */
    public PeerDescription remoteDescription() {
        return remote;
    }

    private void start() {
        if (started) {
            return;
        }
        started = true;
        boolean weAreServer = "active".equals(remote.transport().setup());
        transport.start(weAreServer ? SecureTransport.DtlsRole.SERVER : SecureTransport.DtlsRole.CLIENT,
                remote.transport().fingerprints(), remote.transport().ufrag(), remote.transport().password(),
                remote.transport().candidates(), new Receiver());
    }

    public boolean awaitSecure(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!transport.isSecure() && System.nanoTime() < deadline) {
            if (transport.failure() != null) {
                return false;
            }
            Thread.sleep(10);
        }
        return transport.isSecure();
    }

    /** After an ICE restart, checks the server with its new credentials (from the restart's answer). */
    public void useServerIceCredentials(String ufrag, String password) {
        if (ice instanceof IceClientSession agent) {
            agent.useRemoteCredentials(ufrag, password);
        } else if (ice instanceof IceLoadClient client) {
            client.useRemoteCredentials(ufrag, password);
        }
    }

    public SrtpProfile srtpProfile() {
        return transport.profile();
    }

    public String dtlsFailure() {
        return transport.failure();
    }

    /** Sends one RTP packet; {@code extensions} adds audio-level, abs-send-time and mid header extensions. */
    public synchronized boolean sendRtp(long ssrc, int payloadType, int sequence, long timestamp, boolean marker,
                                        byte[] payload, boolean extensions) {
        int length = writeRtp(sendBuffer.getBuffer(), ssrc, payloadType, sequence, timestamp, marker, payload,
                extensions);
        sendBuffer.setOffset(0);
        sendBuffer.setLength(length);
        return transport.sendRtp(sendBuffer);
    }

    /**
     * Sends one RTP packet of a simulcast stream, with the mid and RID header extensions a browser puts on them
     * (or the repaired-RID one, for an RTX stream).
     */
    public synchronized boolean sendSimulcastRtp(long ssrc, int payloadType, int sequence, long timestamp,
                                                 boolean marker, byte[] payload, String mid, String rid,
                                                 boolean repaired) {
        int length = writeSimulcastRtp(sendBuffer.getBuffer(), ssrc, payloadType, sequence, timestamp, marker,
                payload, mid, rid, repaired);
        sendBuffer.setOffset(0);
        sendBuffer.setLength(length);
        return transport.sendRtp(sendBuffer);
    }

    /** Writes the packet {@link #sendSimulcastRtp} sends, unencrypted, at the start of {@code buf}; its length. */
    public static int writeSimulcastRtp(byte[] buf, long ssrc, int payloadType, int sequence, long timestamp,
                                        boolean marker, byte[] payload, String mid, String rid, boolean repaired) {
        buf[0] = (byte) 0x90;
        buf[1] = (byte) ((marker ? 0x80 : 0) | payloadType);
        Rtp.setSequenceNumber(buf, 0, sequence & 0xffff);
        Rtp.writeUint32(buf, 4, timestamp);
        Rtp.writeUint32(buf, 8, ssrc);
        int pos = 16;
        buf[pos++] = (byte) ((MID_ID << 4) | (mid.length() - 1));
        for (int i = 0; i < mid.length(); i++) {
            buf[pos++] = (byte) mid.charAt(i);
        }
        buf[pos++] = (byte) (((repaired ? REPAIRED_RID_ID : RID_ID) << 4) | (rid.length() - 1));
        for (int i = 0; i < rid.length(); i++) {
            buf[pos++] = (byte) rid.charAt(i);
        }
        while ((pos - 16) % 4 != 0) {
            buf[pos++] = 0;
        }
        buf[12] = (byte) 0xBE;
        buf[13] = (byte) 0xDE;
        Rtp.writeUint16(buf, 14, (pos - 16) / 4);
        System.arraycopy(payload, 0, buf, pos, payload.length);
        return pos + payload.length;
    }

    /**
     * Sends one audio packet whose audio-level header extension (RFC 6464) says {@code level} (0 loudest .. 127
     * silence, -dBov) and whether it is voice.
     */
    public synchronized boolean sendAudio(long ssrc, int sequence, long timestamp, int level, boolean voice,
                                          byte[] payload) {
        int length = writeRtp(sendBuffer.getBuffer(), ssrc, OPUS_PT, sequence, timestamp, false, payload, true);
        sendBuffer.getBuffer()[17] = (byte) ((voice ? 0x80 : 0) | (level & 0x7f));
        sendBuffer.setOffset(0);
        sendBuffer.setLength(length);
        return transport.sendRtp(sendBuffer);
    }

    /**
     * Sends one RTP packet carrying the transport-wide sequence number {@code transportSequence} (header extension id
     * {@link #TRANSPORT_CC_ID}), as a browser stamps every packet of a transport that negotiated transport-cc.
     */
    public synchronized boolean sendRtpWithTransportSequence(long ssrc, int payloadType, int sequence, long timestamp,
                                                             byte[] payload, int transportSequence) {
        byte[] buf = sendBuffer.getBuffer();
        buf[0] = (byte) 0x90;
        buf[1] = (byte) payloadType;
        Rtp.setSequenceNumber(buf, 0, sequence & 0xffff);
        Rtp.writeUint32(buf, 4, timestamp);
        Rtp.writeUint32(buf, 8, ssrc);
        buf[12] = (byte) 0xBE;
        buf[13] = (byte) 0xDE;
        Rtp.writeUint16(buf, 14, 1);
        buf[16] = (byte) ((TRANSPORT_CC_ID << 4) | 1);
        Rtp.writeUint16(buf, 17, transportSequence & 0xffff);
        buf[19] = 0;
        System.arraycopy(payload, 0, buf, 20, payload.length);
        sendBuffer.setOffset(0);
        sendBuffer.setLength(20 + payload.length);
        return transport.sendRtp(sendBuffer);
    }

    /** Sends a compound RTCP packet built by the caller into {@code buf}. */
    public synchronized boolean sendRtcp(byte[] buf, int length) {
        sendBuffer.copyFrom(buf, 0, length);
        return transport.sendRtcp(sendBuffer);
    }

    /** Protects one RTP packet and sends it {@code times} times, flipping a byte of the tag first if asked. */
    public synchronized void sendRtpTampered(long ssrc, int payloadType, int sequence, byte[] payload, int times,
                                             boolean corruptTag) {
        int length = writeRtp(sendBuffer.getBuffer(), ssrc, payloadType, sequence, sequence * 3000L, false, payload,
                false);
        sendBuffer.setOffset(0);
        sendBuffer.setLength(length);
        transport.protect(sendBuffer, false);
        if (corruptTag) {
            sendBuffer.getBuffer()[sendBuffer.getLength() - 1] ^= 0x5a;
        }
        for (int i = 0; i < times; i++) {
            transport.sendRaw(sendBuffer);
        }
    }

    /** Sends bytes without SRTP over the established pair. */
    public synchronized void sendRaw(byte[] bytes) {
        sendBuffer.copyFrom(bytes, 0, bytes.length);
        transport.sendRaw(sendBuffer);
    }

    public long rtcpSsrc() {
        return rtcpSsrc;
    }

    public BlockingQueue<ReceivedRtp> received() {
        return received;
    }

    public BlockingQueue<ReceivedFeedback> feedback() {
        return feedback;
    }

    /** Transport-wide congestion control feedback packets received (each RTPFB FMT 15 packet alone, decrypted). */
    public BlockingQueue<byte[]> transportFeedback() {
        return transportFeedback;
    }

    public long packetsReceived(long ssrc) {
        LongAdder count = packetsBySsrc.get(ssrc);
        return count == null ? 0 : count.sum();
    }

    /**
     * Whether received RTP is kept in {@link #received()} (the default, for checks). A load generator turns it off:
     * then only the per-SSRC counters are kept, and receiving allocates nothing per packet.
     */
    public void keepReceivedPackets(boolean keep) {
        keepPackets = keep;
    }

    /** Hands every decrypted RTP packet to {@code observer} (the load generator's measurements), or stops if null. */
    public void observeRtp(RtpObserver observer) {
        rtpObserver = observer;
    }

    public List<ClientTrack> published() {
        return published;
    }

    public MediaCounters counters() {
        return counters;
    }

    @Override
    public void close() {
        transport.close();
    }

    static int writeRtp(byte[] buf, long ssrc, int payloadType, int sequence, long timestamp, boolean marker,
                        byte[] payload, boolean extensions) {
        buf[0] = (byte) (extensions ? 0x90 : 0x80);
        buf[1] = (byte) ((marker ? 0x80 : 0) | payloadType);
        Rtp.setSequenceNumber(buf, 0, sequence & 0xffff);
        Rtp.writeUint32(buf, 4, timestamp);
        Rtp.writeUint32(buf, 8, ssrc);
        int pos = 12;
        if (extensions) {
            buf[pos] = (byte) 0xBE;
            buf[pos + 1] = (byte) 0xDE;
            Rtp.writeUint16(buf, pos + 2, 3);
            pos += 4;
            buf[pos++] = (byte) ((AUDIO_LEVEL_ID << 4)); // one byte of data
            buf[pos++] = (byte) 0x2a;
            buf[pos++] = (byte) ((ABS_SEND_TIME_ID << 4) | 2);
            buf[pos++] = 1;
            buf[pos++] = 2;
            buf[pos++] = 3;
            buf[pos++] = (byte) ((MID_ID << 4));
            buf[pos++] = '0';
            buf[pos++] = 0;
            buf[pos++] = 0;
            buf[pos++] = 0;
            buf[pos++] = 0;
        }
        System.arraycopy(payload, 0, buf, pos, payload.length);
        return pos + payload.length;
    }

    private StringBuilder sessionHeader(int sections) {
        StringBuilder sdp = new StringBuilder();
        sdp.append("v=0\r\no=- ").append(sessionId).append(" 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
        sdp.append("a=group:BUNDLE");
        for (int i = 0; i < sections; i++) {
            sdp.append(' ').append(i);
        }
        sdp.append("\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n");
        return sdp;
    }

    private void section(StringBuilder sdp, String mid, MediaKind kind, String direction, boolean offerH264,
                         String setup) {
        if (kind == MediaKind.AUDIO) {
            sdp.append("m=audio 9 UDP/TLS/RTP/SAVPF ").append(OPUS_PT).append(" 0\r\n");
            transportLines(sdp, mid, setup);
            sdp.append("a=extmap:").append(AUDIO_LEVEL_ID).append(" urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n");
            sdp.append("a=extmap:").append(ABS_SEND_TIME_ID)
                    .append(" http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n");
            sdp.append("a=extmap:").append(MID_ID).append(" urn:ietf:params:rtp-hdrext:sdes:mid\r\n");
            if (offerTransportCc) {
                sdp.append("a=extmap:").append(TRANSPORT_CC_ID).append(' ').append(TRANSPORT_CC_URI).append("\r\n");
            }
            sdp.append("a=").append(direction).append("\r\na=rtcp-mux\r\n");
            sdp.append("a=rtpmap:").append(OPUS_PT).append(" opus/48000/2\r\n");
            if (offerTransportCc) {
                sdp.append("a=rtcp-fb:").append(OPUS_PT).append(" transport-cc\r\n");
            }
            sdp.append("a=fmtp:").append(OPUS_PT).append(" minptime=10;useinbandfec=1\r\n");
            sdp.append("a=rtpmap:0 PCMU/8000\r\n");
        } else {
            sdp.append("m=video 9 UDP/TLS/RTP/SAVPF ").append(VP8_PT).append(' ').append(VP8_RTX_PT)
                    .append(offerH264 ? " " + H264_PT + " " + H264_RTX_PT : "").append("\r\n");
            transportLines(sdp, mid, setup);
            sdp.append("a=extmap:").append(ABS_SEND_TIME_ID)
                    .append(" http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n");
            sdp.append("a=extmap:").append(MID_ID).append(" urn:ietf:params:rtp-hdrext:sdes:mid\r\n");
            sdp.append("a=extmap:").append(RID_ID).append(" urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n");
            sdp.append("a=extmap:").append(REPAIRED_RID_ID)
                    .append(" urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n");
            if (offerTransportCc) {
                sdp.append("a=extmap:").append(TRANSPORT_CC_ID).append(' ').append(TRANSPORT_CC_URI).append("\r\n");
            }
            sdp.append("a=").append(direction).append("\r\na=rtcp-mux\r\na=rtcp-rsize\r\n");
            sdp.append("a=rtpmap:").append(VP8_PT).append(" VP8/90000\r\n");
            for (String fb : List.of("goog-remb", "ccm fir", "nack", "nack pli")) {
                sdp.append("a=rtcp-fb:").append(VP8_PT).append(' ').append(fb).append("\r\n");
            }
            if (offerTransportCc) {
                sdp.append("a=rtcp-fb:").append(VP8_PT).append(" transport-cc\r\n");
            }
            sdp.append("a=rtpmap:").append(VP8_RTX_PT).append(" rtx/90000\r\n");
            sdp.append("a=fmtp:").append(VP8_RTX_PT).append(" apt=").append(VP8_PT).append("\r\n");
            if (offerH264) {
                sdp.append("a=rtpmap:").append(H264_PT).append(" H264/90000\r\n");
                sdp.append("a=rtcp-fb:").append(H264_PT).append(" nack pli\r\n");
                if (offerTransportCc) {
                    sdp.append("a=rtcp-fb:").append(H264_PT).append(" transport-cc\r\n");
                }
                sdp.append("a=fmtp:").append(H264_PT)
                        .append(" level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n");
                sdp.append("a=rtpmap:").append(H264_RTX_PT).append(" rtx/90000\r\n");
                sdp.append("a=fmtp:").append(H264_RTX_PT).append(" apt=").append(H264_PT).append("\r\n");
            }
        }
    }

    private void transportLines(StringBuilder sdp, String mid, String setup) {
        sdp.append("c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n");
        sdp.append("a=ice-ufrag:").append(ice.localUfrag()).append("\r\n");
        sdp.append("a=ice-pwd:").append(ice.localPassword()).append("\r\n");
        sdp.append("a=fingerprint:").append(fingerprintLine).append("\r\n");
        sdp.append("a=setup:").append(setup).append("\r\n");
        sdp.append("a=mid:").append(mid).append("\r\n");
        for (IceCandidate candidate : ice.localCandidates()) {
            sdp.append("a=").append(candidate.toSdpValue()).append("\r\n");
        }
    }

    private static long randomSsrc() {
        return ThreadLocalRandom.current().nextLong(1, 0xffffffffL);
    }

    /** Collects what arrives; allocation here is fine, this is a test and load tool. */
    private final class Receiver implements SecureTransport.Listener, RtcpVisitor {
        @Override
        public boolean acceptsRtpSsrc(long ssrc) {
            return true;
        }

        @Override
        public void onRtp(PacketBuffer packet) {
            long ssrc = Rtp.ssrc(packet.getBuffer(), packet.getOffset());
            LongAdder count = packetsBySsrc.get(ssrc);
            if (count == null) {
                count = new LongAdder();
                packetsBySsrc.put(ssrc, count);
            }
            count.increment();
            int ccId = receiveTransportCcId;
            TransportArrivals arrivals = receiveArrivals;
            if (ccId > 0 && arrivals != null) {
                byte[] data = packet.getBuffer();
                int at = Rtp.findExtension(data, packet.getOffset(), packet.getLength(), ccId);
                if (at >= 0 && Rtp.extensionLength(data, packet.getOffset(), at) == 2) {
                    arrivalDelayMicros += arrivalDelayGrowthMicros;
                    long arrival = (System.nanoTime() - arrivalClockOrigin) / 1000 + arrivalDelayMicros;
                    long bottleneck = simulatedDownlinkBps;
                    if (bottleneck > 0) {
                        arrival = simulateBottleneck(arrival, packet.getLength(), bottleneck, simulatedBurstBytes);
                    }
                    if (arrival >= 0) {
                        arrivals.record(Rtp.readUint16(data, at), arrival);
                    }
                }
            }
            RtpObserver observer = rtpObserver;
            if (observer != null) {
                observer.onRtp(packet.getBuffer(), packet.getOffset(), packet.getLength());
            }
            if (!keepPackets) {
                return;
            }
            byte[] data = Arrays.copyOfRange(packet.getBuffer(), packet.getOffset(),
                    packet.getOffset() + packet.getLength());
            received.offer(new ReceivedRtp(ssrc, Rtp.payloadType(data, 0), Rtp.sequenceNumber(data, 0),
                    Rtp.timestamp(data, 0), data, Rtp.headerLength(data, 0, data.length)));
        }

        @Override
        public void onRtcp(PacketBuffer packet) {
            Rtcp.parse(packet.getBuffer(), packet.getOffset(), packet.getLength(), this);
        }

        @Override
        public void senderReport(long ssrc, long ntpMiddle, long rtpTimestamp, byte[] buf, int packetOffset,
                                 int packetLength) {
            feedback.offer(new ReceivedFeedback("sr", ssrc, ssrc, ntpMiddle));
        }

        @Override
        public void reportBlock(long reporterSsrc, long sourceSsrc, int fractionLost, int cumulativeLost,
                                long extendedHighestSeq, long jitter, long lastSr, long delaySinceLastSr) {
            feedback.offer(new ReceivedFeedback("rr", reporterSsrc, sourceSsrc, extendedHighestSeq));
        }

        @Override
        public void pli(long senderSsrc, long mediaSsrc) {
            feedback.offer(new ReceivedFeedback("pli", senderSsrc, mediaSsrc, 0));
        }

        @Override
        public void fir(long senderSsrc, long mediaSsrc) {
            feedback.offer(new ReceivedFeedback("fir", senderSsrc, mediaSsrc, 0));
        }

        @Override
        public void nack(long senderSsrc, long mediaSsrc, int packetId, int lostBitmask) {
            // One record per packet asked for: the entry's own, and each the bitmask names after it.
            feedback.offer(new ReceivedFeedback("nack", senderSsrc, mediaSsrc, packetId));
            for (int bit = 0; bit < 16; bit++) {
                if ((lostBitmask & (1 << bit)) != 0) {
                    feedback.offer(new ReceivedFeedback("nack", senderSsrc, mediaSsrc, (packetId + bit + 1) & 0xffff));
                }
            }
        }

        @Override
        public void transportFeedback(long senderSsrc, long mediaSsrc, byte[] buf, int packetOffset,
                                      int packetLength) {
            feedback.offer(new ReceivedFeedback("transport-cc", senderSsrc, mediaSsrc, 0));
            transportFeedback.offer(Arrays.copyOfRange(buf, packetOffset, packetOffset + packetLength));
        }

        @Override
        public void remb(long senderSsrc, long bitrate, byte[] buf, int ssrcsOffset, int ssrcCount) {
            for (int i = 0; i < ssrcCount; i++) {
                feedback.offer(new ReceivedFeedback("remb", senderSsrc, Rtp.readUint32(buf, ssrcsOffset + 4 * i),
                        bitrate));
            }
        }
    }
}
