package dev.parley.media.sfu;

import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.PublishRepair;
import dev.parley.media.cc.TransportArrivals;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.Rtcp;
import dev.parley.media.rtp.RtcpVisitor;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.sdp.Codec;
import dev.parley.media.sdp.CodecPolicy;
import dev.parley.media.sdp.Direction;
import dev.parley.media.sdp.HeaderExtension;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.sdp.OfferedMedia;
import dev.parley.media.sdp.PeerDescription;
import dev.parley.media.sdp.SdpWriter;
import dev.parley.media.srtp.SsrcTable;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.SecureTransport;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A participant's publish transport: the client offers, the server answers and receives. Its receive thread
 * forwards each packet to the track's subscribers; RTCP from the publisher (sender reports) is passed on too.
 * The server sends it receiver reports, keyframe requests, NACKs for video packets that did not arrive (their
 * retransmissions, as RTX, are forwarded like late packets), and either transport-wide congestion control feedback
 * (when it negotiated transport-cc: its own estimator then sets its bitrate) or a REMB estimate.
 */
final class PublishTransport implements SecureTransport.Listener, RtcpVisitor {
    private static final long KEYFRAME_INTERVAL_NANOS = 300_000_000L;
    static final long MIN_BITRATE = 100_000;
    /**
     * Arrivals held until reported (8 KB): feedback goes every 50 ms, and this holds over 3 s of a 2.5 Mbit/s
     * publisher's packets.
     */
    private static final int ARRIVAL_RING = 1024;
    /** Feedback packets stay well under a path MTU with SRTCP's trailer and the leading receiver report. */
    private static final int MAX_FEEDBACK_LENGTH = 1200;
    /** A bound on one tick's work: more than any ring-full of arrivals needs. */
    private static final int MAX_FEEDBACK_PACKETS_PER_TICK = 16;
    /** Arrival times count from here, so they stay positive (24-bit reference times then wrap later). */
    private static final long CLOCK_ORIGIN_NANOS = System.nanoTime();
    /** NACK entries in one RTCP packet: with the leading receiver report and SRTCP's trailer, well under an MTU. */
    private static final int MAX_NACK_ENTRIES = 256;
    /** The round trip assumed for repeating requests until a retransmission measures it. */
    static final long DEFAULT_REPAIR_RTT_NANOS = 100_000_000L;
    private static final long MAX_REPAIR_RTT_NANOS = 1_000_000_000L;

    final Endpoint endpoint;
    final SecureTransport transport;
    final long localSsrc = ThreadLocalRandom.current().nextLong(1, 0xffffffffL);
    private final MediaCounters counters;
    private final long maxBitrate;
    private final SsrcTable<Layer> layersBySsrc = new SsrcTable<>();
    private final SsrcTable<Layer> layersByRtxSsrc = new SsrcTable<>();
    /** Whether a simulcast layer's SSRC is still to be learnt: packets of unknown SSRCs are then looked at. */
    private volatile boolean learning;
    private final Map<String, Track> tracksByMid = new LinkedHashMap<>();
    private volatile Track[] tracks = new Track[0];
    private final PacketBuffer scratch = new PacketBuffer();
    private final PacketBuffer rtcpScratch = new PacketBuffer();
    /** Where this transport asks the media timer for ticks while packets are missing ({@link #requestRetransmissions}). */
    private final Consumer<PublishTransport> timerRequests;
    /** Whether this transport is in the timer's list, or asked to be: asked once, however many gaps. */
    private final AtomicBoolean timerAsked = new AtomicBoolean();
    /**
     * The round trip to the publisher as its retransmissions measure it (from a packet's first request to its RTX),
     * smoothed; written by the receive thread.
     */
    private volatile long repairRttNanos = DEFAULT_REPAIR_RTT_NANOS;
    private final long sessionId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    private final long[] rembSsrcs = new long[32];
    /** The transport-wide sequence number extension's id, or -1 when the publisher did not negotiate transport-cc. */
    private volatile int transportCcId = -1;
    /** Whether transport-cc is negotiated at all ({@code bandwidth-estimation}); without it, REMB. */
    private final boolean negotiatesTransportCc;
    private final TransportArrivals arrivals;
    /**
     * The SSRC of the last packet recorded, named as feedback's media SSRC (as libwebrtc's receivers do: some
     * libwebrtc versions take feedback only about an SSRC they send). Written before each record and read after the
     * recorder's lock, which orders the two.
     */
    private int lastArrivalSsrc;
    private long version;
    private String remoteUfrag;
    volatile long startedAtNanos;
    private volatile long bandwidthEstimate = 1_000_000;
    private volatile long announcedEstimate = 1_000_000;
    private long lastEstimateBytes;
    private long lastEstimateNanos;

    /** What applying an offer changed. */
    record OfferResult(String answer, List<Track> added, List<Track> removed) {
    }

    /**
     * {@code transportCc}: whether transport-wide congestion control is negotiated when the publisher offers it.
     * {@code timerRequests}: where the transport asks for {@link #requestRetransmissions} ticks of the media timer.
     */
    PublishTransport(Endpoint endpoint, SecureTransport transport, MediaCounters counters, long maxBitrate,
                     boolean transportCc, Consumer<PublishTransport> timerRequests) {
        this.negotiatesTransportCc = transportCc;
        this.timerRequests = timerRequests;
        this.endpoint = endpoint;
        this.transport = transport;
        this.counters = counters;
        this.maxBitrate = maxBitrate;
        this.arrivals = new TransportArrivals(ARRIVAL_RING, MAX_FEEDBACK_LENGTH, counters);
    }

    /** Called under the conference lock. */
    OfferResult applyOffer(PeerDescription offer) {
        if (remoteUfrag != null && !remoteUfrag.equals(offer.transport().ufrag())) {
            throw new MediaException(ErrorCode.INVALID_SDP, "ICE restart is not supported; publish anew");
        }
        List<SdpWriter.Section> sections = new ArrayList<>();
        List<Track> added = new ArrayList<>();
        List<Track> removed = new ArrayList<>();
        Map<String, Track> kept = new LinkedHashMap<>();
        int transportCcId = negotiatesTransportCc ? CodecPolicy.transportCcId(offer.media()) : -1;
        for (OfferedMedia media : offer.media()) {
            MediaKind kind = media.kind() == null ? MediaKind.AUDIO : media.kind();
            List<Codec> codecs = media.rejected() ? List.of() : CodecPolicy.accept(kind, media.codecs());
            if (!media.rejected() && codecs.isEmpty() && media.direction().sends()) {
                throw new MediaException(ErrorCode.INVALID_SDP, "m-section " + media.mid() + " sends "
                        + kind.sdp() + " in none of the codecs the server forwards (a=rtpmap: " + names(media)
                        + "; accepted: " + (kind == MediaKind.AUDIO ? "opus/48000" : "VP8/90000, H264/90000 with"
                        + " packetization-mode=1") + ")");
            }
            if (media.rejected() || codecs.isEmpty()) {
                sections.add(new SdpWriter.Section(media.mid(), kind, true, Direction.INACTIVE, List.of(), List.of(),
                        0, 0, null, null));
                continue;
            }
            List<HeaderExtension> extensions = CodecPolicy.acceptPublishExtensions(kind, media.extensions(),
                    media.simulcast(), transportCcId);
            if (extensions.stream().anyMatch(e -> e.uri().equals(CodecPolicy.TRANSPORT_CC))) {
                codecs = CodecPolicy.withTransportCcFeedback(codecs, media.codecs());
            }
            boolean sends = media.direction().sends();
            if (sends && media.simulcast() && extensions.stream().noneMatch(e -> e.uri().equals(CodecPolicy.RID))) {
                throw new MediaException(ErrorCode.INVALID_SDP, "m-section " + media.mid() + " sends simulcast"
                        + " (a=simulcast) without the rtp-stream-id header extension (a=extmap " + CodecPolicy.RID
                        + "), so its streams cannot be told apart");
            }
            if (sends && media.ssrc() == 0 && !media.simulcast()) {
                throw new MediaException(ErrorCode.INVALID_SDP,
                        "m-section " + media.mid() + " sends but names no SSRC (a=ssrc) ");
            }
            Track existing = tracksByMid.get(media.mid());
            if (sends) {
                if (existing != null && (media.simulcast() ? existing.simulcast()
                        && existing.layers.length == media.rids().size()
                        && existing.layer(media.rids().get(media.rids().size() - 1)) != null
                        : !existing.simulcast() && existing.ssrc == media.ssrc())) {
                    kept.put(media.mid(), existing);
                } else {
                    // A simulcast track reaches subscribers under an SSRC of the server's; its layers' SSRCs are
                    // learnt from their packets.
                    long ssrc = media.simulcast() ? endpoint.conference.newSsrc() : media.ssrc();
                    long rtxSsrc = media.simulcast() ? endpoint.conference.newSsrc()
                            : media.rtxSsrc() != 0 || kind == MediaKind.AUDIO ? media.rtxSsrc()
                            : ThreadLocalRandom.current().nextLong(1, 0xffffffffL);
                    String[] msid = media.msid() == null ? new String[0] : media.msid().trim().split("\\s+");
                    String streamId = msid.length > 0 ? msid[0] : endpoint.id;
                    String trackId = msid.length > 1 ? msid[1] : endpoint.id + "-" + media.mid();
                    Track track = new Track(endpoint.id + ":" + media.mid(), this, media.mid(), kind, codecs,
                            extensions, ssrc, rtxSsrc, media.rids(), streamId, trackId, counters);
                    added.add(track);
                    kept.put(media.mid(), track);
                }
            }
            sections.add(new SdpWriter.Section(media.mid(), kind, false,
                    sends ? Direction.RECVONLY : Direction.INACTIVE, codecs, extensions, 0, 0, null, null,
                    sends ? media.rids() : List.of()));
        }
        for (Track track : tracksByMid.values()) {
            if (kept.get(track.mid) != track) {
                removed.add(track);
            }
        }
        for (Track track : removed) {
            for (Layer layer : track.layers) {
                unmap(layersBySsrc, layer.ssrc, layer);
                unmap(layersByRtxSsrc, layer.rtxSsrc, layer);
            }
        }
        for (Track track : added) {
            for (Layer layer : track.layers) {
                if (layer.ssrc != 0) {
                    layersBySsrc.put(layer.ssrc, layer);
                }
                if (layer.rtxSsrc != 0) {
                    layersByRtxSsrc.put(layer.rtxSsrc, layer);
                }
            }
        }
        tracksByMid.clear();
        tracksByMid.putAll(kept);
        this.transportCcId = transportCcId;
        tracks = kept.values().toArray(new Track[0]);
        learning = kept.values().stream().anyMatch(Track::hasUnmappedLayer);
        boolean weAreClient = "passive".equals(offer.transport().setup());
        SdpWriter.LocalTransport local = new SdpWriter.LocalTransport(transport.ice().localUfrag(),
                transport.ice().localPassword(), transport.localFingerprint(), transport.ice().localCandidates());
        String answer = SdpWriter.write(sessionId, ++version, local, weAreClient ? "active" : "passive", sections);
        if (remoteUfrag == null) {
            remoteUfrag = offer.transport().ufrag();
            startedAtNanos = System.nanoTime();
            transport.start(weAreClient ? SecureTransport.DtlsRole.CLIENT : SecureTransport.DtlsRole.SERVER,
                    offer.transport().fingerprints(), offer.transport().ufrag(), offer.transport().password(),
                    offer.transport().candidates(), this);
        }
        return new OfferResult(answer, added, removed);
    }

    static String names(OfferedMedia media) {
        List<String> names = new ArrayList<>();
        for (Codec codec : media.codecs()) {
            if (names.size() == 8) {
                names.add("...");
                break;
            }
            String name = codec.name().length() > 24 ? codec.name().substring(0, 24) + "..." : codec.name();
            names.add(name + "/" + codec.clockRate());
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    List<Track> tracks() {
        return List.of(tracks);
    }

    boolean started() {
        return remoteUfrag != null;
    }

    /** The estimate last sent to the publisher (REMB); 0 when it negotiated transport-cc and gets no REMB. */
    long bandwidthEstimate() {
        return transportCc() ? 0 : announcedEstimate;
    }

    /** Whether the publisher negotiated transport-wide congestion control. */
    boolean transportCc() {
        return transportCcId > 0;
    }

    /**
     * Without simulcast every subscriber gets the same stream, so the publisher must not send more than the
     * weakest subscriber of its video can take: the smallest per-video share of the subscribers' own REMBs.
     * Simulcast tracks are left out: each subscriber takes the layer that suits it.
     */
    private static long subscribersLimit(Track[] current) {
        long limit = Long.MAX_VALUE;
        for (Track track : current) {
            if (track.kind != MediaKind.VIDEO || track.simulcast()) {
                continue;
            }
            for (Forward forward : track.forwards()) {
                if (forward.subscriber == null) {
                    continue;
                }
                long share = forward.subscriber.bitratePerVideo();
                if (share > 0) {
                    limit = Math.min(limit, share);
                }
            }
        }
        return limit;
    }

    double lossFraction() {
        double worst = 0;
        for (Track track : tracks) {
            for (Layer layer : track.layers) {
                worst = Math.max(worst, layer.statistics.lastFractionLost());
            }
        }
        return worst;
    }

    long packetsReceived() {
        long sum = 0;
        for (Track track : tracks) {
            for (Layer layer : track.layers) {
                sum += layer.statistics.packets();
            }
        }
        return sum;
    }

    private static void unmap(SsrcTable<Layer> table, long ssrc, Layer layer) {
        if (ssrc != 0 && table.get(ssrc) == layer) {
            table.remove(ssrc);
        }
    }

    /**
     * Known SSRCs; and while a simulcast layer's SSRC is unknown, any other (the SRTP session bounds how many it
     * keeps keys for): after decryption its RID header extension says which layer it is.
     */
    @Override
    public boolean acceptsRtpSsrc(long ssrc) {
        return learning || layersBySsrc.get(ssrc) != null || layersByRtxSsrc.get(ssrc) != null;
    }

    @Override
    public void onRtp(PacketBuffer packet) {
        int ccId = transportCcId;
        if (ccId > 0) {
            // Every packet of the transport counts, RTX and padding probes included: the sender's estimator sent them.
            recordArrival(packet, ccId);
        }
        long ssrc = Rtp.ssrc(packet.getBuffer(), packet.getOffset());
        Layer layer = layersBySsrc.get(ssrc);
        if (layer == null && learning && layersByRtxSsrc.get(ssrc) == null) {
            layer = learn(packet, ssrc);
        }
        if (layer != null) {
            layer.track.forward(layer, packet, scratch, false);
            return;
        }
        Layer repaired = layersByRtxSsrc.get(ssrc);
        if (repaired != null) {
            onRtx(repaired, packet);
        } else {
            counters.drop(DropReason.UNKNOWN_SSRC);
        }
    }

    /**
     * A packet of a layer's RTX stream (RFC 4588): a retransmission the server asked for is restored (original
     * sequence number, SSRC and payload type; the two bytes that carried the sequence number removed) and forwarded
     * as the late packet it is. Padding, and packets not asked for or already here, are dropped.
     */
    private void onRtx(Layer layer, PacketBuffer packet) {
        byte[] data = packet.getBuffer();
        int off = packet.getOffset();
        int len = packet.getLength();
        RetransmissionRequests requests = layer.requests;
        int payloadLength = Rtp.isValid(data, off, len) ? Rtp.payloadLength(data, off, len) : -1;
        if (requests == null || payloadLength < 2 || layer.ssrc == 0) {
            counters.drop(payloadLength < 0 ? DropReason.MALFORMED_RTP : DropReason.RTX_FROM_PUBLISHER);
            return;
        }
        int repairedType = layer.track.repairedPayloadType(Rtp.payloadType(data, off));
        if (repairedType < 0) {
            counters.drop(DropReason.PAYLOAD_TYPE_NOT_NEGOTIATED);
            return;
        }
        int header = Rtp.headerLength(data, off, len);
        int sequence = Rtp.readUint16(data, off + header);
        long answeredAfter = requests.recover(sequence, System.nanoTime());
        if (answeredAfter == RetransmissionRequests.NOT_WANTED) {
            counters.drop(DropReason.RTX_FROM_PUBLISHER);
            return;
        }
        if (answeredAfter >= 0) {
            long sample = Math.min(answeredAfter, MAX_REPAIR_RTT_NANOS);
            repairRttNanos = repairRttNanos + (sample - repairRttNanos) / 8;
        }
        // The header moves up over the original sequence number, so the payload stays where it is.
        System.arraycopy(data, off, data, off + 2, header);
        packet.setOffset(off + 2);
        packet.setLength(len - 2);
        Rtp.setSequenceNumber(data, off + 2, sequence);
        Rtp.setSsrc(data, off + 2, layer.ssrc);
        Rtp.setPayloadType(data, off + 2, repairedType);
        layer.track.forward(layer, packet, scratch, true);
    }

    /** A layer found packets missing: the media timer is asked for ticks (once until it has no more to do). */
    void missedPackets() {
        if (timerAsked.compareAndSet(false, true)) {
            timerRequests.accept(this);
        }
    }

    /**
     * Sends NACKs for the packets of each video layer that are due a request, one RTCP packet per layer after an empty
     * receiver report. The media timer's tick (every 5 ms) with its buffer, while this returns true: false once
     * nothing is missing any more (a new gap asks again).
     */
    boolean requestRetransmissions(PacketBuffer buffer, long nowNanos) {
        boolean pending = false;
        boolean secure = transport.isSecure();
        long retry = repairRttNanos;
        for (Track track : tracks) {
            for (Layer layer : track.layers) {
                RetransmissionRequests requests = layer.requests;
                if (requests == null || !requests.pending()) {
                    continue;
                }
                byte[] data = buffer.getBuffer();
                int length = Rtcp.writeReceiverReportHeader(data, 0, localSsrc, 0);
                int entries = requests.writeDue(nowNanos, retry, data, length + 12, MAX_NACK_ENTRIES);
                if (entries > 0 && secure && layer.ssrc != 0) {
                    length += Rtcp.writeNackHeader(data, length, localSsrc, layer.ssrc, entries) + 4 * entries;
                    buffer.setOffset(0);
                    buffer.setLength(length);
                    transport.sendRtcp(buffer);
                }
                pending |= requests.pending();
            }
        }
        if (!pending) {
            timerAsked.set(false);
            // A gap found between the last look and now would otherwise wait for the next one.
            return missingAny() && timerAsked.compareAndSet(false, true);
        }
        return true;
    }

    private boolean missingAny() {
        for (Track track : tracks) {
            for (Layer layer : track.layers) {
                if (layer.requests != null && layer.requests.pending()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The publisher's packets the server asked for again, got, and gave up on, over all its video. */
    PublishRepair repair() {
        long requested = 0;
        long recovered = 0;
        long lost = 0;
        for (Track track : tracks) {
            for (Layer layer : track.layers) {
                RetransmissionRequests requests = layer.requests;
                if (requests != null) {
                    requested += requests.requested();
                    recovered += requests.recoveredCount();
                    lost += requests.givenUp();
                }
            }
        }
        return new PublishRepair(requested, recovered, lost, repairRttNanos / 1_000_000.0);
    }

    private void recordArrival(PacketBuffer packet, int extensionId) {
        byte[] data = packet.getBuffer();
        int off = packet.getOffset();
        int at = Rtp.findExtension(data, off, packet.getLength(), extensionId);
        if (at >= 0 && Rtp.extensionLength(data, off, at) == 2) {
            lastArrivalSsrc = (int) Rtp.ssrc(data, off);
            // Taken off the socket, not now: decrypting and forwarding the packets before it are not network delay.
            long arrivalNanos = packet.receivedNanos() != 0 ? packet.receivedNanos() : System.nanoTime();
            arrivals.record(Rtp.readUint16(data, at), (arrivalNanos - CLOCK_ORIGIN_NANOS) / 1000);
        }
    }

    /**
     * Sends transport feedback for what arrived since the last (nothing if nothing did), in as many packets as it
     * takes, each after an empty receiver report as compound RTCP asks. Run every 50 ms from the timer thread, with
     * its buffer.
     */
    void sendTransportFeedback(PacketBuffer buffer) {
        if (!transportCc() || !transport.isSecure()) {
            return;
        }
        for (int i = 0; i < MAX_FEEDBACK_PACKETS_PER_TICK && arrivals.hasPending(); i++) {
            long mediaSsrc = lastArrivalSsrc & 0xffffffffL;
            byte[] data = buffer.getBuffer();
            int length = Rtcp.writeReceiverReportHeader(data, 0, localSsrc, 0);
            int feedback = arrivals.writeFeedback(data, length, MAX_FEEDBACK_LENGTH, localSsrc, mediaSsrc);
            if (feedback == 0) {
                return;
            }
            buffer.setOffset(0);
            buffer.setLength(length + feedback);
            transport.sendRtcp(buffer);
        }
    }

    /**
     * Maps a new SSRC to the simulcast layer its RID (or, for its RTX stream, repaired RID) header extension names;
     * returns the layer for a media packet, null otherwise. Once mapped, an SSRC keeps its layer.
     */
    private Layer learn(PacketBuffer packet, long ssrc) {
        byte[] data = packet.getBuffer();
        int off = packet.getOffset();
        int len = packet.getLength();
        synchronized (endpoint.conference) {
            for (Track track : tracks) {
                if (!track.simulcast()) {
                    continue;
                }
                String rid = readRid(data, off, len, track.ridExtensionId);
                Layer layer = rid == null ? null : track.layer(rid);
                if (layer != null && layer.ssrc == 0 && layersBySsrc.get(ssrc) == null) {
                    layer.ssrc = ssrc;
                    layersBySsrc.put(ssrc, layer);
                    learning = Arrays.stream(tracks).anyMatch(Track::hasUnmappedLayer);
                    return layer;
                }
                String repaired = readRid(data, off, len, track.repairedRidExtensionId);
                Layer repairedLayer = repaired == null ? null : track.layer(repaired);
                if (repairedLayer != null && repairedLayer.rtxSsrc == 0) {
                    repairedLayer.rtxSsrc = ssrc;
                    layersByRtxSsrc.put(ssrc, repairedLayer);
                    learning = Arrays.stream(tracks).anyMatch(Track::hasUnmappedLayer);
                    return null;
                }
            }
        }
        return null;
    }

    /** The ASCII value of a RID-style header extension (1-16 bytes), or null. */
    private static String readRid(byte[] data, int off, int len, int extensionId) {
        if (extensionId <= 0) {
            return null;
        }
        int at = Rtp.findExtension(data, off, len, extensionId);
        if (at < 0) {
            return null;
        }
        int length = Rtp.extensionLength(data, off, at);
        if (length < 1 || length > 16 || at + length > off + len) {
            return null;
        }
        return new String(data, at, length, StandardCharsets.US_ASCII);
    }

    @Override
    public void onRtcp(PacketBuffer packet) {
        Rtcp.parse(packet.getBuffer(), packet.getOffset(), packet.getLength(), this);
    }

    @Override
    public void senderReport(long ssrc, long ntpMiddle, long rtpTimestamp, byte[] buf, int packetOffset,
                             int packetLength) {
        Layer layer = layersBySsrc.get(ssrc);
        if (layer == null) {
            if (layersByRtxSsrc.get(ssrc) == null) {
                counters.drop(DropReason.RTCP_UNKNOWN_SSRC);
            }
            return;
        }
        long now = System.nanoTime();
        layer.lastSrNtpMiddle = ntpMiddle;
        layer.lastSrArrivalNanos = now;
        for (Forward forward : layer.track.forwards()) {
            if (!forward.subscriber.transport.isSecure()) {
                continue;
            }
            long timestamp = forward.outgoingTimestamp(layer.index, rtpTimestamp);
            if (timestamp < 0) {
                continue;
            }
            rtcpScratch.copyFrom(buf, packetOffset, packetLength);
            byte[] out = rtcpScratch.getBuffer();
            out[0] &= (byte) 0xe0;
            Rtp.writeUint16(out, 2, 6);
            Rtp.writeUint32(out, 4, layer.track.ssrc);
            Rtp.writeUint32(out, 16, timestamp);
            rtcpScratch.setLength(28);
            forward.lastSrNtpMiddle = ntpMiddle;
            forward.lastSrSentNanos = now;
            forward.subscriber.transport.sendRtcp(rtcpScratch);
        }
    }

    /** What the publisher sent during the outage is lost for every subscriber: ask for keyframes now. */
    @Override
    public void onPathRecovered() {
        for (Track track : tracks) {
            for (Layer layer : track.layers) {
                requestKeyframe(layer, true);
            }
        }
    }

    /**
     * Asks the publisher for a keyframe of one layer (PLI), at most once per interval per layer unless
     * {@code urgent}: a subscriber whose transport just became secure needs one now, and a keyframe asked for while
     * it was still connecting may have arrived before it could receive it. Nothing while the layer's SSRC is unknown.
     */
    void requestKeyframe(Layer layer, boolean urgent) {
        long mediaSsrc = layer.ssrc;
        if (layer.track.kind != MediaKind.VIDEO || mediaSsrc == 0 || !transport.isSecure()) {
            return;
        }
        long now = System.nanoTime();
        synchronized (layer) {
            if (!urgent && now - layer.lastKeyframeRequestNanos < KEYFRAME_INTERVAL_NANOS) {
                return;
            }
            layer.lastKeyframeRequestNanos = now;
        }
        PacketBuffer buffer = new PacketBuffer();
        byte[] data = buffer.getBuffer();
        int length = Rtcp.writeReceiverReportHeader(data, 0, localSsrc, 0);
        length += Rtcp.writePli(data, length, localSsrc, mediaSsrc);
        buffer.setLength(length);
        transport.sendRtcp(buffer);
    }

    /**
     * Receiver reports and, for a publisher without transport-cc, REMB; sent about once a second from the scheduler's
     * thread with its own buffer.
     */
    void sendReports(PacketBuffer buffer, long nowNanos, long nowMillis) {
        Track[] current = tracks;
        if (!transport.isSecure() || current.length == 0) {
            return;
        }
        byte[] data = buffer.getBuffer();
        int blocks = 0;
        int length = 8;
        long bytes = 0;
        double worstLoss = 0;
        for (Track track : current) {
            for (Layer layer : track.layers) {
                bytes += layer.statistics.bytes();
                if (!layer.statistics.started() || layer.ssrc == 0 || blocks == 31) {
                    continue;
                }
                int fraction = layer.statistics.takeFractionLost();
                worstLoss = Math.max(worstLoss, fraction / 256.0);
                long srArrival = layer.lastSrArrivalNanos;
                long delay = srArrival == 0 ? 0 : (nowNanos - srArrival) * 65536 / 1_000_000_000L;
                length += Rtcp.writeReportBlock(data, length, layer.ssrc, fraction,
                        (int) layer.statistics.cumulativeLost(), layer.statistics.extendedHighestSequence(),
                        layer.statistics.jitter(), layer.lastSrNtpMiddle, delay);
                blocks++;
            }
        }
        Rtcp.writeReceiverReportHeader(data, 0, localSsrc, blocks);
        updateEstimate(bytes, nowNanos, worstLoss);
        long announced = Math.max(MIN_BITRATE, Math.min(bandwidthEstimate, subscribersLimit(current)));
        int count = 0;
        for (Track track : current) {
            for (Layer layer : track.layers) {
                if (count < rembSsrcs.length && layer.ssrc != 0) {
                    rembSsrcs[count++] = layer.ssrc;
                }
            }
        }
        announcedEstimate = announced;
        if (!transportCc()) {
            // With transport-cc the publisher's own send-side estimator decides; a REMB would only cap it.
            length += Rtcp.writeRemb(data, length, localSsrc, announced, rembSsrcs, count);
        }
        buffer.setOffset(0);
        buffer.setLength(length);
        transport.sendRtcp(buffer);
    }

    private void updateEstimate(long bytes, long nowNanos, double loss) {
        if (lastEstimateNanos != 0 && nowNanos > lastEstimateNanos) {
            long estimate = bandwidthEstimate;
            if (loss > 0.10) {
                estimate = (long) (estimate * (1 - 0.5 * loss));
            } else if (loss < 0.02) {
                estimate = (long) (estimate * 1.08) + 10_000;
            }
            bandwidthEstimate = Math.max(MIN_BITRATE, Math.min(maxBitrate, estimate));
        }
        lastEstimateBytes = bytes;
        lastEstimateNanos = nowNanos;
    }

    void close() {
        transport.close();
    }
}
