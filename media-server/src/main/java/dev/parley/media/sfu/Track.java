package dev.parley.media.sfu;

import dev.parley.media.api.TrackInfo;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.sdp.Codec;
import dev.parley.media.sdp.HeaderExtension;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.transport.PacketBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * One published stream and where it goes. The publisher's receive thread calls {@link #forward} for each packet;
 * the set of {@link Forward}s is an array replaced on change, so forwarding takes no lock.
 */
final class Track {
    final String id;
    final PublishTransport source;
    final String mid;
    final MediaKind kind;
    final List<Codec> codecs;
    final List<HeaderExtension> extensions;
    final long ssrc;
    final long rtxSsrc;
    final String streamId;
    final String mediaStreamTrackId;
    final RetransmissionCache cache;
    final ReceiveStatistics statistics;
    private final MediaCounters counters;
    private volatile Forward[] forwards = new Forward[0];
    volatile long lastSrNtpMiddle;
    volatile long lastSrArrivalNanos;
    long lastKeyframeRequestNanos = System.nanoTime() - 1_000_000_000L;

    Track(String id, PublishTransport source, String mid, MediaKind kind, List<Codec> codecs,
          List<HeaderExtension> extensions, long ssrc, long rtxSsrc, String streamId, String mediaStreamTrackId,
          MediaCounters counters) {
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
        this.cache = kind == MediaKind.VIDEO ? new RetransmissionCache() : null;
        this.statistics = new ReceiveStatistics(codecs.isEmpty() ? 90000 : codecs.get(0).clockRate());
        this.counters = counters;
    }

    TrackInfo info() {
        return new TrackInfo(id, source.endpoint.id, kind.sdp(), codecs.isEmpty() ? "" : codecs.get(0).name(), ssrc,
                streamId, mediaStreamTrackId);
    }

    /** Decrypted packet in, one protected copy out per subscriber. Allocates nothing. */
    void forward(PacketBuffer packet, PacketBuffer scratch) {
        byte[] data = packet.getBuffer();
        int off = packet.getOffset();
        int len = packet.getLength();
        int sequence = Rtp.sequenceNumber(data, off);
        statistics.update(sequence, Rtp.timestamp(data, off), System.nanoTime(), len);
        if (cache != null) {
            cache.store(data, off, len, sequence);
        }
        Forward[] targets = forwards;
        for (Forward target : targets) {
            target.send(data, off, len, scratch, counters);
        }
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
