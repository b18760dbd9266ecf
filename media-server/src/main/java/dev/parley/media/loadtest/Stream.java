package dev.parley.media.loadtest;

import dev.parley.media.sdp.MediaKind;
import java.util.concurrent.atomic.AtomicInteger;

/** One RTP stream a synthetic publisher sends: its rate, its payload buffer and how many receivers it has. */
final class Stream {
    /** Sends one packet whose payload (probe and filler) is ready in {@link #payload}. */
    interface Sink {
        boolean send(Stream stream, long sequence, long rtpTimestamp);
    }

    final int index;
    final int conference;
    final int publisher;
    final MediaKind kind;
    /** The simulcast layer ({@link SimulcastLayers}) this stream is, or -1 for a track sent as one stream. */
    final int layer;
    /** Where the probe starts in the payload: after the VP8 prefix for a simulcast layer, else 0. */
    final int probeOffset;
    final double packetsPerSecond;
    final byte[] payload;
    /** Receivers this stream should reach (fixed by the topology). */
    int fanout;
    /** Receivers that have seen at least one packet of it, for the per-second loss series. */
    final AtomicInteger readyReceivers = new AtomicInteger();
    volatile Sink sink;
    volatile boolean active;
    /** Sender thread only. */
    long nextSequence;
    long nextDue;
    /** Sender thread only: the VP8 picture state of a simulcast layer. */
    int pictureId;
    int tl0PicIdx;
    long lastKeyframeNanos = Long.MIN_VALUE;
    long[] sentInWindow;
    long[] skippedInWindow;
    long[] failedInWindow;

    Stream(int index, int conference, int publisher, MediaKind kind, double packetsPerSecond, int payloadBytes,
           int windows) {
        this(index, conference, publisher, kind, -1, packetsPerSecond, payloadBytes, windows);
    }

    Stream(int index, int conference, int publisher, MediaKind kind, int layer, double packetsPerSecond,
           int payloadBytes, int windows) {
        this.index = index;
        this.conference = conference;
        this.publisher = publisher;
        this.kind = kind;
        this.layer = layer;
        this.probeOffset = layer >= 0 ? SimulcastLayers.VP8_PREFIX : 0;
        this.packetsPerSecond = packetsPerSecond;
        this.payload = new byte[Math.max(probeOffset + Probe.SIZE, payloadBytes)];
        this.sentInWindow = new long[windows];
        this.skippedInWindow = new long[windows];
        this.failedInWindow = new long[windows];
    }

    int clockRate() {
        return kind == MediaKind.AUDIO ? 48_000 : 90_000;
    }
}
