package dev.parley.media.loadtest;

/**
 * What one receiving transport measured, per measurement window: unique packets, duplicates, reordering, RFC 3550
 * jitter and one-way latency (send and receive times come from the same host clock). Written only by the
 * transport's receive thread; never allocates per packet once a stream has been seen.
 */
final class ReceiverStats implements ClientEndpoint.RtpObserver {
    private static final int RING_BITS = 1 << 16;

    /** Per stream: a ring of recently seen sequence numbers and the jitter estimate. */
    private static final class Track {
        final long[] seen = new long[RING_BITS / 64];
        long highest = -1;
        long lastTransit;
        double jitterNanos;
    }

    private final Stream[] streams;
    private final Track[] tracks;
    private final long epochNanos;
    final long[] receivedBySendSecond;
    final long[] received;
    final long[] duplicates;
    final long[] reordered;
    final long[] late;
    final double[] jitterSumMs;
    final LatencyHistogram[] latency;
    final LatencyHistogram allLatency = new LatencyHistogram();
    /** Per simulcast layer and window: unique packets received of that layer's streams. */
    final long[][] receivedByLayer;
    /** The simulcast layer this receiver asked for, or -1; set by the fleet before any packet can arrive. */
    volatile int wantedLayer = -1;
    long totalReceived;
    long foreign;
    private volatile long lastArrival;

    ReceiverStats(Stream[] streams, long epochNanos, int windows, int seconds) {
        this.streams = streams;
        this.tracks = new Track[streams.length];
        this.epochNanos = epochNanos;
        this.receivedBySendSecond = new long[seconds];
        this.received = new long[windows];
        this.duplicates = new long[windows];
        this.reordered = new long[windows];
        this.late = new long[windows];
        this.jitterSumMs = new double[windows];
        this.latency = new LatencyHistogram[windows];
        this.receivedByLayer = new long[SimulcastLayers.COUNT][windows];
        for (int i = 0; i < windows; i++) {
            latency[i] = new LatencyHistogram();
        }
    }

    /** Makes every earlier write of the receive thread visible to the caller (read before reading the figures). */
    long sync() {
        return lastArrival;
    }

    @Override
    public void onRtp(byte[] b, int off, int len) {
        long now = System.nanoTime();
        onPacket(b, off, len, headerLength(b, off, len), now);
    }

    /** Plain RTP header length (fixed part, CSRCs, extension), or -1. */
    static int headerLength(byte[] b, int off, int len) {
        if (len < 12) {
            return -1;
        }
        int h = 12 + 4 * (b[off] & 0x0f);
        if ((b[off] & 0x10) != 0) {
            if (len < h + 4) {
                return -1;
            }
            h += 4 + 4 * (((b[off + h + 2] & 0xff) << 8) | (b[off + h + 3] & 0xff));
        }
        return h <= len ? h : -1;
    }

    void onPacket(byte[] b, int off, int len, int headerLength, long now) {
        int p = off + headerLength;
        if (headerLength < 0 || len - headerLength < Probe.SIZE) {
            foreign++;
            return;
        }
        if (Probe.readInt(b, p) != Probe.MAGIC) {
            // A simulcast layer's packet: the probe follows the VP8 prefix.
            p += SimulcastLayers.VP8_PREFIX;
            if (len - headerLength < SimulcastLayers.VP8_PREFIX + Probe.SIZE || Probe.readInt(b, p) != Probe.MAGIC) {
                foreign++;
                return;
            }
        }
        int streamIndex = Probe.readInt(b, p + 4);
        long sequence = Probe.readLong(b, p + 8);
        long sent = Probe.readLong(b, p + 16);
        int window = Probe.readInt(b, p + 24);
        if (streamIndex < 0 || streamIndex >= tracks.length || sequence < 0 || window < 0
                || window >= received.length) {
            foreign++;
            return;
        }
        Track track = tracks[streamIndex];
        if (track == null) {
            track = new Track();
            tracks[streamIndex] = track;
            streams[streamIndex].readyReceivers.incrementAndGet();
        }
        if (sequence > track.highest) {
            long from = Math.max(track.highest + 1, sequence - RING_BITS + 1);
            for (long s = from; s < sequence; s++) {
                clear(track.seen, s);
            }
            set(track.seen, sequence);
            track.highest = sequence;
        } else if (track.highest - sequence >= RING_BITS) {
            late[window]++;
        } else if (isSet(track.seen, sequence)) {
            duplicates[window]++;
            lastArrival = now;
            return;
        } else {
            set(track.seen, sequence);
            reordered[window]++;
        }
        long transit = now - sent;
        if (track.lastTransit != 0) {
            long d = Math.abs(transit - track.lastTransit);
            track.jitterNanos += (d - track.jitterNanos) / 16.0;
        }
        track.lastTransit = transit;
        received[window]++;
        int layer = streams[streamIndex].layer;
        if (layer >= 0) {
            receivedByLayer[layer][window]++;
        }
        totalReceived++;
        jitterSumMs[window] += track.jitterNanos / 1e6;
        long micros = transit / 1000;
        latency[window].record(micros);
        allLatency.record(micros);
        long second = (sent - epochNanos) / 1_000_000_000L;
        if (second >= 0 && second < receivedBySendSecond.length) {
            receivedBySendSecond[(int) second]++;
        }
        lastArrival = now;
    }

    private static void set(long[] ring, long s) {
        int bit = (int) (s & (RING_BITS - 1));
        ring[bit >>> 6] |= 1L << (bit & 63);
    }

    private static void clear(long[] ring, long s) {
        int bit = (int) (s & (RING_BITS - 1));
        ring[bit >>> 6] &= ~(1L << (bit & 63));
    }

    private static boolean isSet(long[] ring, long s) {
        int bit = (int) (s & (RING_BITS - 1));
        return (ring[bit >>> 6] & (1L << (bit & 63))) != 0;
    }
}
