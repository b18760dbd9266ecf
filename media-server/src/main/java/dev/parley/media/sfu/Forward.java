package dev.parley.media.sfu;

import dev.parley.media.api.VideoForwardStats;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.sdp.Codec;
import dev.parley.media.sdp.HeaderExtension;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.RtpSender;
import java.util.Arrays;
import java.util.List;

/**
 * One track to one subscriber, as that subscriber negotiated it: which payload types and header extension ids it
 * gets (everything else is dropped or blanked), and its RTX stream for retransmissions. A video forward sends one
 * layer of the track at a time through its {@link LayerRewriter}, which keeps the numbering continuous across layer
 * switches and pauses.
 */
final class Forward {
    final SubscribeTransport subscriber;
    private final RtpSender sender;
    final Track track;
    private final short[] payloadTypes = new short[128];
    private final short[] rtxPayloadTypes = new short[128];
    /** The subscriber's RTX payload type for the track's first codec that has one, or -1: for probe padding. */
    private final int firstRtxPayloadType;
    private final byte[] extensionIds = new byte[256];
    /** Video only; null for audio, which is forwarded as it comes. */
    final LayerRewriter rewriter;
    /** The layer the receiver's tile asks for, sent or not (-1: hidden); under the conference lock. */
    int preferredLayer = -1;
    /** Video only: its share of the receiver's downlink, kept across renegotiations; under the conference lock. */
    final BandwidthAllocator.Video allocation;
    /** The rewriter's switches already added to the server's counter: the publisher's receive thread only. */
    private long switchesCounted;
    private int rtxSequence;
    volatile long packetsSent;
    volatile long lastSrNtpMiddle;
    volatile long lastSrSentNanos;
    volatile double rttMs = Double.NaN;
    volatile double reportedLoss;
    /** Which sequence number each cache slot last retransmitted, and when: the subscriber's receive thread only. */
    private final int[] resentSequences = new int[RetransmissionCache.SLOTS];
    private final long[] resentAtNanos = new long[RetransmissionCache.SLOTS];

    Forward(SubscribeTransport subscriber, Track track, List<Codec> remoteCodecs,
            List<HeaderExtension> remoteExtensions) {
        this(subscriber, subscriber.transport, track, remoteCodecs, remoteExtensions, null);
    }

    /**
     * The same track to the same subscriber after a renegotiation: the stream goes on where {@code previous} left
     * it (its numbering, layer and RTX sequence), so the receiver sees no jump.
     */
    Forward(SubscribeTransport subscriber, Track track, List<Codec> remoteCodecs,
            List<HeaderExtension> remoteExtensions, Forward previous) {
        this(subscriber, subscriber.transport, track, remoteCodecs, remoteExtensions, previous);
    }

    /** With an explicit sender: the benchmark forwards into SRTP without a network. */
    Forward(SubscribeTransport subscriber, RtpSender sender, Track track, List<Codec> remoteCodecs,
            List<HeaderExtension> remoteExtensions) {
        this(subscriber, sender, track, remoteCodecs, remoteExtensions, null);
    }

    private Forward(SubscribeTransport subscriber, RtpSender sender, Track track, List<Codec> remoteCodecs,
                    List<HeaderExtension> remoteExtensions, Forward previous) {
        this.subscriber = subscriber;
        this.sender = sender;
        this.track = track;
        this.allocation = previous != null && previous.track == track ? previous.allocation
                : new BandwidthAllocator.Video();
        Arrays.fill(payloadTypes, (short) -1);
        Arrays.fill(rtxPayloadTypes, (short) -1);
        int firstRtx = -1;
        for (Codec published : track.codecs) {
            for (Codec remote : remoteCodecs) {
                if (published.sameFormat(remote)) {
                    payloadTypes[published.payloadType()] = (short) remote.payloadType();
                    rtxPayloadTypes[published.payloadType()] = (short) remote.rtxPayloadType();
                    if (firstRtx < 0 && remote.rtxPayloadType() >= 0) {
                        firstRtx = remote.rtxPayloadType();
                    }
                    break;
                }
            }
        }
        this.firstRtxPayloadType = firstRtx;
        for (HeaderExtension published : track.extensions) {
            for (HeaderExtension remote : remoteExtensions) {
                if (published.uri().equals(remote.uri())) {
                    extensionIds[published.id()] = (byte) remote.id();
                }
            }
        }
        Arrays.fill(resentSequences, -1);
        if (previous != null && previous.track == track) {
            this.rtxSequence = previous.rtxSequence;
            this.rewriter = previous.rewriter;
            this.switchesCounted = previous.switchesCounted;
            this.packetsSent = previous.packetsSent;
            this.preferredLayer = previous.preferredLayer;
            return;
        }
        this.rtxSequence = (int) (Math.random() * 0x8000);
        this.rewriter = track.kind == MediaKind.VIDEO
                ? new LayerRewriter(track.ssrc, track.vp8PayloadTypes, track.codecs.isEmpty() ? 90000
                        : track.codecs.get(0).clockRate())
                : null;
    }

    /** Whether the subscriber accepted at least one of the track's formats. */
    boolean hasCommonFormat() {
        for (Codec published : track.codecs) {
            if (payloadTypes[published.payloadType()] >= 0) {
                return true;
            }
        }
        return false;
    }

    /** One packet of the track's layer {@code layer}: sent (rewritten) if it is what this subscriber gets. */
    void send(int layer, byte[] data, int off, int len, long nowNanos, PacketBuffer scratch, MediaCounters counters) {
        if (!sender.isSecure()) {
            return;
        }
        LayerRewriter layers = rewriter;
        if (layers != null && layers.currentSpatial() != layer && layers.awaitedKeyframeLayer() != layer) {
            return;
        }
        int outPayloadType = payloadTypes[Rtp.payloadType(data, off)];
        if (outPayloadType < 0) {
            counters.drop(DropReason.PAYLOAD_TYPE_NOT_NEGOTIATED);
            return;
        }
        scratch.copyFrom(data, off, len);
        if (layers != null) {
            boolean send = layers.rewrite(scratch.getBuffer(), scratch.getOffset(), scratch.getLength(), layer,
                    nowNanos);
            long switched = layers.switches();
            if (switched != switchesCounted) {
                counters.layerSwitched(switched - switchesCounted);
                switchesCounted = switched;
            }
            int awaited = layers.awaitedKeyframeLayer();
            if (awaited >= 0) {
                track.source.requestKeyframe(track.layers[awaited], false);
            }
            if (!send) {
                return;
            }
        }
        rewrite(scratch, outPayloadType);
        boolean sent;
        if (subscriber == null) {
            sent = sender.sendRtp(scratch);
        } else if (layers != null) {
            // Video waits for the subscriber's pacer when it must (counted as sent once it is queued).
            sent = subscriber.sendVideo(scratch, sender, nowNanos);
        } else {
            sent = subscriber.sendAround(scratch, sender, nowNanos);
        }
        if (sent) {
            packetsSent++;
        }
    }

    /**
     * Answers a NACK for one outgoing sequence number from the cache of the layer it was sent from, rewritten as it
     * was then, as RTX when the subscriber negotiated it.
     */
    boolean retransmit(int sequence, PacketBuffer scratch, long nowNanos) {
        LayerRewriter layers = rewriter;
        if (layers == null || !sender.isSecure()) {
            return false;
        }
        long source = layers.sourceOf(sequence);
        if (source < 0 || (source >>> 16) >= track.layers.length) {
            return false;
        }
        RetransmissionCache cache = track.layers[(int) (source >>> 16)].cache;
        if (cache == null || !cache.copyTo((int) (source & 0xffff), scratch)) {
            return false;
        }
        byte[] data = scratch.getBuffer();
        int pt = Rtp.payloadType(data, 0);
        int outPayloadType = payloadTypes[pt];
        if (outPayloadType < 0 || !layers.rewriteRetransmission(data, 0, scratch.getLength(), sequence)) {
            return false;
        }
        rewrite(scratch, outPayloadType);
        int rtxPayloadType = rtxPayloadTypes[pt];
        if (rtxPayloadType >= 0 && track.rtxSsrc != 0) {
            int header = Rtp.headerLength(data, 0, scratch.getLength());
            int length = scratch.getLength();
            scratch.grow(2);
            data = scratch.getBuffer();
            System.arraycopy(data, header, data, header + 2, length - header);
            Rtp.writeUint16(data, header, sequence);
            scratch.setLength(length + 2);
            Rtp.setPayloadType(data, 0, rtxPayloadType);
            Rtp.setSsrc(data, 0, track.rtxSsrc);
            return sendRtx(scratch, true, nowNanos);
        }
        return subscriber != null ? subscriber.sendAround(scratch, sender, nowNanos) : sender.sendRtp(scratch);
    }

    /** Whether the subscriber has an RTX stream for this track, to carry probe padding. */
    boolean canPad() {
        return firstRtxPayloadType >= 0 && track.rtxSsrc != 0;
    }

    /**
     * Sends a padding-only packet of {@code paddingBytes} (1..255) on this forward's RTX stream, numbered like every
     * packet to the subscriber: probing its downlink. False when the subscriber has no RTX for the track.
     */
    boolean sendPadding(PacketBuffer scratch, int paddingBytes) {
        int rtxPayloadType = firstRtxPayloadType;
        if (rtxPayloadType < 0 || track.rtxSsrc == 0 || paddingBytes < 1 || paddingBytes > 255
                || !sender.isSecure()) {
            return false;
        }
        byte[] data = scratch.getBuffer();
        int length = Rtp.FIXED_HEADER + paddingBytes;
        Arrays.fill(data, 0, length, (byte) 0);
        data[0] = (byte) 0xA0;
        Rtp.setPayloadType(data, 0, rtxPayloadType);
        Rtp.setSsrc(data, 0, track.rtxSsrc);
        data[length - 1] = (byte) paddingBytes;
        scratch.setOffset(0);
        scratch.setLength(length);
        return sendRtx(scratch, false, 0);
    }

    /**
     * Numbers, stamps and sends one packet of the RTX stream. Retransmissions (the subscriber's receive thread) and
     * probe padding (the timer) both send on it, so this holds the forward's monitor: the stream's numbering and its
     * SRTP context see one packet at a time. Neither waits for the pacer; a retransmission is charged to it, probe
     * padding is not: a probe is meant to go above the pace.
     */
    private synchronized boolean sendRtx(PacketBuffer packet, boolean retransmission, long nowNanos) {
        Rtp.setSequenceNumber(packet.getBuffer(), packet.getOffset(), nextRtxSequence());
        if (subscriber == null) {
            return sender.sendRtp(packet);
        }
        if (retransmission) {
            return subscriber.sendAround(packet, sender, nowNanos);
        }
        subscriber.stamp(packet);
        return sender.sendRtp(packet);
    }

    /**
     * A sender report's RTP timestamp of layer {@code layer} as this subscriber's stream counts it, or -1 when the
     * subscriber is not getting that layer (its report would describe another stream's clock).
     */
    long outgoingTimestamp(int layer, long sourceTimestamp) {
        LayerRewriter layers = rewriter;
        return layers == null ? sourceTimestamp : layers.outgoingTimestamp(layer, sourceTimestamp);
    }

    /** The layer this video forward sends, for the stats (video forwards only). */
    VideoForwardStats videoStats() {
        LayerRewriter layers = rewriter;
        int current = layers.currentSpatial();
        String rid = current >= 0 && current < track.layers.length ? track.layers[current].rid : null;
        int target = layers.targetSpatial();
        long needed = target >= 0 && target < track.layers.length ? track.layers[target].bitrateBps() : 0;
        return new VideoForwardStats(track.id, track.source.endpoint.id, target, current, rid,
                layers.currentTemporal(), target < 0, layers.switches(), packetsSent, allocation.reason.label,
                needed);
    }

    /** Whether this sequence number was retransmitted less than {@code windowNanos} ago (subscriber's thread). */
    boolean retransmittedWithin(int sequence, long nowNanos, long windowNanos) {
        int slot = sequence & (RetransmissionCache.SLOTS - 1);
        return resentSequences[slot] == sequence && nowNanos - resentAtNanos[slot] < windowNanos;
    }

    void retransmitted(int sequence, long nowNanos) {
        int slot = sequence & (RetransmissionCache.SLOTS - 1);
        resentSequences[slot] = sequence;
        resentAtNanos[slot] = nowNanos;
    }

    private synchronized int nextRtxSequence() {
        rtxSequence = (rtxSequence + 1) & 0xffff;
        return rtxSequence;
    }

    private void rewrite(PacketBuffer packet, int outPayloadType) {
        byte[] data = packet.getBuffer();
        int off = packet.getOffset();
        Rtp.setPayloadType(data, off, outPayloadType);
        Rtp.rewriteExtensions(data, off, packet.getLength(), extensionIds);
    }
}
