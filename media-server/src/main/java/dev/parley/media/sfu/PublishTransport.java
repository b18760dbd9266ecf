package dev.parley.media.sfu;

import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A participant's publish transport: the client offers, the server answers and receives. Its receive thread
 * forwards each packet to the track's subscribers; RTCP from the publisher (sender reports) is passed on too.
 * The server sends it receiver reports, a REMB estimate and keyframe requests.
 */
final class PublishTransport implements SecureTransport.Listener, RtcpVisitor {
    private static final long KEYFRAME_INTERVAL_NANOS = 300_000_000L;
    private static final long MIN_BITRATE = 100_000;

    final Endpoint endpoint;
    final SecureTransport transport;
    final long localSsrc = ThreadLocalRandom.current().nextLong(1, 0xffffffffL);
    private final MediaCounters counters;
    private final long maxBitrate;
    private final SsrcTable<Track> tracksBySsrc = new SsrcTable<>();
    private final SsrcTable<Track> tracksByRtxSsrc = new SsrcTable<>();
    private final Map<String, Track> tracksByMid = new LinkedHashMap<>();
    private volatile Track[] tracks = new Track[0];
    private final PacketBuffer scratch = new PacketBuffer();
    private final PacketBuffer rtcpScratch = new PacketBuffer();
    private final long sessionId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    private final long[] rembSsrcs = new long[32];
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

    PublishTransport(Endpoint endpoint, SecureTransport transport, MediaCounters counters, long maxBitrate) {
        this.endpoint = endpoint;
        this.transport = transport;
        this.counters = counters;
        this.maxBitrate = maxBitrate;
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
            List<HeaderExtension> extensions = CodecPolicy.acceptExtensions(kind, media.extensions());
            boolean sends = media.direction().sends();
            if (sends && media.ssrc() == 0) {
                throw new MediaException(ErrorCode.INVALID_SDP,
                        "m-section " + media.mid() + " sends but names no SSRC (a=ssrc) ");
            }
            Track existing = tracksByMid.get(media.mid());
            if (sends) {
                if (existing != null && existing.ssrc == media.ssrc()) {
                    kept.put(media.mid(), existing);
                } else {
                    long rtxSsrc = media.rtxSsrc() != 0 || kind == MediaKind.AUDIO ? media.rtxSsrc()
                            : ThreadLocalRandom.current().nextLong(1, 0xffffffffL);
                    String[] msid = media.msid() == null ? new String[0] : media.msid().trim().split("\\s+");
                    String streamId = msid.length > 0 ? msid[0] : endpoint.id;
                    String trackId = msid.length > 1 ? msid[1] : endpoint.id + "-" + media.mid();
                    Track track = new Track(endpoint.id + ":" + media.mid(), this, media.mid(), kind, codecs,
                            extensions, media.ssrc(), rtxSsrc, streamId, trackId, counters);
                    added.add(track);
                    kept.put(media.mid(), track);
                }
            }
            sections.add(new SdpWriter.Section(media.mid(), kind, false,
                    sends ? Direction.RECVONLY : Direction.INACTIVE, codecs, extensions, 0, 0, null, null));
        }
        for (Track track : tracksByMid.values()) {
            if (kept.get(track.mid) != track) {
                removed.add(track);
            }
        }
        for (Track track : removed) {
            tracksBySsrc.remove(track.ssrc);
            tracksByRtxSsrc.remove(track.rtxSsrc);
        }
        for (Track track : added) {
            tracksBySsrc.put(track.ssrc, track);
            if (track.rtxSsrc != 0) {
                tracksByRtxSsrc.put(track.rtxSsrc, track);
            }
        }
        tracksByMid.clear();
        tracksByMid.putAll(kept);
        tracks = kept.values().toArray(new Track[0]);
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
            names.add(codec.name() + "/" + codec.clockRate());
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    List<Track> tracks() {
        return List.of(tracks);
    }

    boolean started() {
        return remoteUfrag != null;
    }

    /** The estimate last sent to the publisher (REMB). */
    long bandwidthEstimate() {
        return announcedEstimate;
    }

    /**
     * Without simulcast every subscriber gets the same stream, so the publisher must not send more than the
     * weakest subscriber of its video can take: the smallest per-video share of the subscribers' own REMBs.
     */
    private static long subscribersLimit(Track[] current) {
        long limit = Long.MAX_VALUE;
        for (Track track : current) {
            if (track.kind != MediaKind.VIDEO) {
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
            worst = Math.max(worst, track.statistics.lastFractionLost());
        }
        return worst;
    }

    long packetsReceived() {
        long sum = 0;
        for (Track track : tracks) {
            sum += track.statistics.packets();
        }
        return sum;
    }

    @Override
    public boolean acceptsRtpSsrc(long ssrc) {
        return tracksBySsrc.get(ssrc) != null || tracksByRtxSsrc.get(ssrc) != null;
    }

    @Override
    public void onRtp(PacketBuffer packet) {
        Track track = tracksBySsrc.get(Rtp.ssrc(packet.getBuffer(), packet.getOffset()));
        if (track == null) {
            // Retransmissions and padding probes on the RTX stream: the server does not ask publishers for them.
            counters.drop(DropReason.RTX_FROM_PUBLISHER);
            return;
        }
        track.forward(packet, scratch);
    }

    @Override
    public void onRtcp(PacketBuffer packet) {
        Rtcp.parse(packet.getBuffer(), packet.getOffset(), packet.getLength(), this);
    }

    @Override
    public void senderReport(long ssrc, long ntpMiddle, long rtpTimestamp, byte[] buf, int packetOffset,
                             int packetLength) {
        Track track = tracksBySsrc.get(ssrc);
        if (track == null) {
            counters.drop(DropReason.RTCP_UNKNOWN_SSRC);
            return;
        }
        long now = System.nanoTime();
        track.lastSrNtpMiddle = ntpMiddle;
        track.lastSrArrivalNanos = now;
        for (Forward forward : track.forwards()) {
            if (!forward.subscriber.transport.isSecure()) {
                continue;
            }
            rtcpScratch.copyFrom(buf, packetOffset, packetLength);
            rtcpScratch.getBuffer()[0] &= (byte) 0xe0;
            Rtp.writeUint16(rtcpScratch.getBuffer(), 2, 6);
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
            requestKeyframe(track, true);
        }
    }

    /** Asks the publisher for a keyframe (PLI), at most every 300 ms per track. */
    void requestKeyframe(Track track) {
        requestKeyframe(track, false);
    }

    /**
     * Asks the publisher for a keyframe, at most once per interval per track unless {@code urgent}: a subscriber
     * whose transport just became secure needs one now, and a keyframe asked for while it was still connecting may
     * have arrived before it could receive it.
     */
    void requestKeyframe(Track track, boolean urgent) {
        if (track.kind != MediaKind.VIDEO || !transport.isSecure()) {
            return;
        }
        long now = System.nanoTime();
        synchronized (track) {
            if (!urgent && now - track.lastKeyframeRequestNanos < KEYFRAME_INTERVAL_NANOS) {
                return;
            }
            track.lastKeyframeRequestNanos = now;
        }
        PacketBuffer buffer = new PacketBuffer();
        byte[] data = buffer.getBuffer();
        int length = Rtcp.writeReceiverReportHeader(data, 0, localSsrc, 0);
        length += Rtcp.writePli(data, length, localSsrc, track.ssrc);
        buffer.setLength(length);
        transport.sendRtcp(buffer);
    }

    /** Receiver reports and REMB, sent about once a second from the scheduler's thread with its own buffer. */
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
            bytes += track.statistics.bytes();
            if (!track.statistics.started() || blocks == 31) {
                continue;
            }
            int fraction = track.statistics.takeFractionLost();
            worstLoss = Math.max(worstLoss, fraction / 256.0);
            long delay = track.lastSrArrivalNanos == 0 ? 0 : (nowNanos - track.lastSrArrivalNanos) * 65536 / 1_000_000_000L;
            length += Rtcp.writeReportBlock(data, length, track.ssrc, fraction,
                    (int) track.statistics.cumulativeLost(), track.statistics.extendedHighestSequence(),
                    track.statistics.jitter(), track.lastSrNtpMiddle, track.lastSrArrivalNanos == 0 ? 0 : delay);
            blocks++;
        }
        Rtcp.writeReceiverReportHeader(data, 0, localSsrc, blocks);
        updateEstimate(bytes, nowNanos, worstLoss);
        long announced = Math.max(MIN_BITRATE, Math.min(bandwidthEstimate, subscribersLimit(current)));
        int count = 0;
        for (Track track : current) {
            if (count < rembSsrcs.length) {
                rembSsrcs[count++] = track.ssrc;
            }
        }
        announcedEstimate = announced;
        length += Rtcp.writeRemb(data, length, localSsrc, announced, rembSsrcs, count);
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
