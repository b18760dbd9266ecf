package dev.parley.media.sfu;

import dev.parley.media.api.TrackInfo;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.AudioLevel;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.rtp.Vp8Descriptor;
import dev.parley.media.sdp.CodecPolicy;
import dev.parley.media.sdp.Codec;
import dev.parley.media.sdp.HeaderExtension;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.transport.PacketBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * One published track and where it goes. Its packets arrive as one stream, or as several simulcast
 * {@link Layer}s; each subscriber's {@link Forward} sends one of them under the track's own SSRC. The publisher's
 * receive thread calls {@link #forward} for each packet; the set of {@link Forward}s is an array replaced on
 * change, so forwarding takes no lock.
 */
final class Track {
    final String id;
    final PublishTransport source;
    final String mid;
    final MediaKind kind;
    final List<Codec> codecs;
    final List<HeaderExtension> extensions;
    /** The SSRC (and RTX SSRC) subscribers receive the track with: the publisher's own without simulcast. */
    final long ssrc;
    final long rtxSsrc;
    final String streamId;
    final String mediaStreamTrackId;
    /** Lowest quality first; one layer without simulcast. */
    final Layer[] layers;
    /** The publisher's ids for the RID and repaired-RID header extensions, or -1. */
    final int ridExtensionId;
    final int repairedRidExtensionId;
    /** By the publisher's payload type: whether it is VP8 (a video track may also carry H.264). */
    final boolean[] vp8PayloadTypes = new boolean[128];
    /** By the publisher's RTX payload type: the payload type it repairs, or -1. */
    private final short[] repairedPayloadTypes = new short[128];
    /** Audio only: the levels its packets carry (RFC 6464), for speaker detection; null for video. */
    final AudioLevels audioLevels;
    private final int audioLevelExtensionId;
    private final MediaCounters counters;
    private final Vp8Descriptor descriptor = new Vp8Descriptor();
    private volatile Forward[] forwards = new Forward[0];
    /** Which layers the publisher was last told some receiver takes (all at first); under the conference lock. */
    final boolean[] announcedLayers;
    /** Since when each layer has had no receiver asking for it (0 while one does); under the conference lock. */
    final long[] unwantedSinceNanos;
    /**
     * Whether each layer was being sent when the speaker timer last looked (under the conference lock): a layer
     * that stops or starts between two looks re-selects the receivers' layers at once ({@link
     * Sfu#evaluateSpeakers}).
     */
    final boolean[] sendingSeen;

    Track(String id, PublishTransport source, String mid, MediaKind kind, List<Codec> codecs,
          List<HeaderExtension> extensions, long ssrc, long rtxSsrc, String streamId, String mediaStreamTrackId,
          MediaCounters counters) {
        this(id, source, mid, kind, codecs, extensions, ssrc, rtxSsrc, List.of(), streamId, mediaStreamTrackId,
                counters);
    }

    /**
     * With {@code rids} (simulcast) the layers' SSRCs are learnt from packets and {@code ssrc}/{@code rtxSsrc} are
     * the server's own; without, the one layer has {@code ssrc}/{@code rtxSsrc}.
     */
    Track(String id, PublishTransport source, String mid, MediaKind kind, List<Codec> codecs,
          List<HeaderExtension> extensions, long ssrc, long rtxSsrc, List<String> rids, String streamId,
          String mediaStreamTrackId, MediaCounters counters) {
        this.id = id;
        this.source = source;
        this.mid = mid;
        this.kind = kind;
        this.codecs = List.copyOf(codecs);
        this.extensions = List.copyOf(extensions);
        this.ssrc = ssrc;
        this.rtxSsrc = rtxSsrc;
        this.streamId = streamId;
        this.mediaStreamTrackId = mediaStreamTrackId;
        this.counters = counters;
        int clockRate = codecs.isEmpty() ? 90000 : codecs.get(0).clockRate();
        boolean nack = codecs.stream().anyMatch(codec -> codec.feedback().contains("nack"));
        if (rids.isEmpty()) {
            this.layers = new Layer[] {new Layer(this, 0, null, kind, clockRate, ssrc, rtxSsrc, nack, counters)};
        } else {
            this.layers = new Layer[rids.size()];
            for (int i = 0; i < rids.size(); i++) {
                layers[i] = new Layer(this, i, rids.get(i), kind, clockRate, 0, 0, nack, counters);
            }
        }
        this.announcedLayers = new boolean[layers.length];
        java.util.Arrays.fill(announcedLayers, true);
        this.unwantedSinceNanos = new long[layers.length];
        this.sendingSeen = new boolean[layers.length];
        this.audioLevels = kind == MediaKind.AUDIO ? new AudioLevels() : null;
        this.audioLevelExtensionId = extensionId(extensions, CodecPolicy.AUDIO_LEVEL);
        this.ridExtensionId = extensionId(extensions, CodecPolicy.RID);
        this.repairedRidExtensionId = extensionId(extensions, CodecPolicy.REPAIRED_RID);
        Arrays.fill(repairedPayloadTypes, (short) -1);
        for (Codec codec : codecs) {
            vp8PayloadTypes[codec.payloadType()] = codec.isVp8();
            if (codec.rtxPayloadType() >= 0 && codec.rtxPayloadType() < 128) {
                repairedPayloadTypes[codec.rtxPayloadType()] = (short) codec.payloadType();
            }
        }
    }

    /** The payload type an RTX payload type of the publisher's repairs, or -1 when it is none. */
    int repairedPayloadType(int rtxPayloadType) {
        return repairedPayloadTypes[rtxPayloadType & 0x7f];
    }

    private static int extensionId(List<HeaderExtension> extensions, String uri) {
        for (HeaderExtension extension : extensions) {
            if (extension.uri().equals(uri)) {
                return extension.id();
            }
        }
        return -1;
    }

    boolean simulcast() {
        return layers[0].rid != null;
    }

    /** The layer a rid names, or null. */
    Layer layer(String rid) {
        for (Layer layer : layers) {
            if (rid.equals(layer.rid)) {
                return layer;
            }
        }
        return null;
    }

    /**
     * Whether some layer's SSRC, or the SSRC of its RTX stream when the track has one, is still to be learnt from its
     * packets (a browser need not send on an RTX stream until it is asked for a retransmission).
     */
    boolean hasUnmappedLayer() {
        boolean repairs = codecs.stream().anyMatch(codec -> codec.rtxPayloadType() >= 0);
        for (Layer layer : layers) {
            if (layer.ssrc == 0 || (repairs && simulcast() && layer.rtxSsrc == 0)) {
                return true;
            }
        }
        return false;
    }

    TrackInfo info() {
        return new TrackInfo(id, source.endpoint.id, kind.sdp(), codecs.isEmpty() ? "" : codecs.get(0).name(), ssrc,
                streamId, mediaStreamTrackId);
    }

    /**
     * Decrypted packet of one of the track's layers in, one protected copy out per subscriber. Allocates nothing.
     * {@code repaired}: a retransmission the server asked for, which the receive statistics leave out (the loss the
     * publisher is told of is the loss its link had).
     */
    void forward(Layer layer, PacketBuffer packet, PacketBuffer scratch, boolean repaired) {
        byte[] data = packet.getBuffer();
        int off = packet.getOffset();
        int len = packet.getLength();
        long now = System.nanoTime();
        int sequence = Rtp.sequenceNumber(data, off);
        if (!repaired) {
            layer.statistics.update(sequence, Rtp.timestamp(data, off), now, len);
            RetransmissionRequests requests = layer.requests;
            if (requests != null && requests.received(sequence, now) && source != null) {
                source.missedPackets();
            }
        }
        layer.arrived(now);
        if (layer.cache != null) {
            layer.cache.store(data, off, len, sequence);
        }
        if (audioLevels != null && audioLevelExtensionId > 0) {
            int level = AudioLevel.read(data, off, len, audioLevelExtensionId);
            if (level >= 0) {
                audioLevels.add(AudioLevel.level(level), AudioLevel.voice(level), now);
            }
        } else if (vp8PayloadTypes[Rtp.payloadType(data, off)]) {
            readVp8(layer, data, off, len);
        }
        Forward[] targets = forwards;
        for (Forward target : targets) {
            target.send(layer.index, data, off, len, now, scratch, counters);
        }
    }

    /**
     * Counts a VP8 packet's bytes by temporal layer, and reads a keyframe's size (RFC 6386 section 9.1: it starts
     * with it): the layer's resolution, for choosing layers.
     */
    private void readVp8(Layer layer, byte[] data, int off, int len) {
        int payload = off + Rtp.headerLength(data, off, len);
        int end = off + len;
        if (!descriptor.read(data, payload, end)) {
            return;
        }
        if (descriptor.temporalId >= 0) {
            layer.countTemporal(descriptor.temporalId, len);
        }
        if (!descriptor.keyframe) {
            return;
        }
        int frame = payload + descriptor.descriptorLength;
        if (frame + 10 > end || (data[frame + 3] & 0xff) != 0x9d || data[frame + 4] != 0x01 || data[frame + 5] != 0x2a) {
            return;
        }
        layer.width = ((data[frame + 6] & 0xff) | (data[frame + 7] & 0xff) << 8) & 0x3fff;
        layer.height = ((data[frame + 8] & 0xff) | (data[frame + 9] & 0xff) << 8) & 0x3fff;
    }

    Forward[] forwards() {
        return forwards;
    }

    synchronized void addForward(Forward forward) {
        Forward[] current = forwards;
        for (int i = 0; i < current.length; i++) {
            if (forward.subscriber != null && current[i].subscriber == forward.subscriber) {
                Forward[] replaced = current.clone();
                replaced[i] = forward;
                forwards = replaced;
                return;
            }
        }
        Forward[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = forward;
        forwards = grown;
    }

    synchronized void removeForward(Forward forward) {
        Forward[] current = forwards;
        forwards = Arrays.stream(current).filter(f -> f != forward).toArray(Forward[]::new);
    }

    synchronized void removeAllForwards() {
        forwards = new Forward[0];
    }
}
