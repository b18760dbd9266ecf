package dev.parley.media.sfu;

import dev.parley.media.rtp.H264;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.rtp.Vp8Descriptor;

/**
 * Turns the simulcast layers of one published video into the single stream one receiver gets: one spatial layer at
 * a time (switching only at a keyframe of the layer wanted), VP8 temporal layers above the wanted one left out, and
 * everything sent renumbered so the receiver's decoder sees one continuous stream under {@code outSsrc}: sequence
 * numbers, timestamps and, for VP8, PictureID and TL0PICIDX.
 *
 * <p>{@link #rewrite} runs on the publisher's receive thread and owns all stream state; it allocates nothing.
 * {@link #target} may be called from any thread (volatile hand-over, applied by the next packet). The retransmission
 * ring is read by {@link #sourceOf} and {@link #rewriteRetransmission} on the receiver's thread; it is guarded by a
 * short lock (a few array writes per forwarded packet, uncontended except while a NACK is served).
 */
final class LayerRewriter {
    static final int MAX_SPATIAL = 2;
    static final int MAX_TEMPORAL = 2;
    /** Outgoing packets remembered for retransmission. */
    static final int RETRANSMISSION_RING = 512;
    private static final int SEQUENCE_WINDOW = 512;
    private static final int PICTURE_WINDOW = 128;
    private static final long NANOS_PER_MICRO = 1_000L;
    private static final long MICROS_PER_SECOND = 1_000_000L;
    /** Longer pauses than this count as this long when bridging timestamps (keeps the arithmetic in range). */
    private static final long MAX_BRIDGED_MICROS = 24L * 3600 * MICROS_PER_SECOND;
    private static final int MAX_CLOCK_RATE = 10_000_000;

    private final long outSsrc;
    /** By payload type: whether packets of it are VP8 (else H.264); a track may carry both. */
    private final boolean[] vp8PayloadTypes = new boolean[128];
    private final int clockRate;

    private volatile int targetSpatial = -1;
    private volatile int targetTemporal = MAX_TEMPORAL;
    private volatile int currentSpatial = -1;
    private volatile int currentTemporal = -1;

    // Stream state, owned by the thread that calls rewrite.
    private final Vp8Descriptor descriptor = new Vp8Descriptor();
    private final ContinuousNumbering sequences = new ContinuousNumbering(SEQUENCE_WINDOW);
    private final ContinuousNumbering pictures = new ContinuousNumbering(PICTURE_WINDOW);
    private boolean sentAny;
    private long lastOutSequence;
    private long lastOutTimestamp;
    private long lastSentNanos;
    private long timestampOffset;
    private boolean sentAnyPicture;
    private long lastOutPicture;
    private boolean sentAnyTl0;
    private int lastOutTl0;
    private boolean tl0Mapped;
    private int tl0Offset;
    /** The packet with the highest sequence number so far in this layer: its picture, and whether it was dropped. */
    private long lastSequenceTimestamp;
    private int lastSequencePictureId;
    private boolean lastSequenceDropped;

    // Retransmission ring, guarded by ringLock.
    private final Object ringLock = new Object();
    private final Vp8Descriptor retransmissionDescriptor = new Vp8Descriptor();
    private final boolean[] ringValid = new boolean[RETRANSMISSION_RING];
    private final int[] ringOutSequence = new int[RETRANSMISSION_RING];
    private final int[] ringLayer = new int[RETRANSMISSION_RING];
    private final int[] ringSourceSequence = new int[RETRANSMISSION_RING];
    private final long[] ringTimestamp = new long[RETRANSMISSION_RING];
    private final int[] ringPictureId = new int[RETRANSMISSION_RING];
    private final int[] ringTl0 = new int[RETRANSMISSION_RING];

    // Written only by the thread that calls rewrite (so ++ loses nothing), read from any.
    private volatile long switches;
    private volatile long droppedTemporal;
    private volatile long droppedWaitingForKeyframe;
    private volatile long droppedStale;
    private volatile long droppedMalformed;
    private volatile long droppedPadding;

    /** For a stream of one codec: every payload type is VP8, or none is. */
    LayerRewriter(long outSsrc, boolean vp8, int clockRate) {
        this(outSsrc, allPayloadTypes(vp8), clockRate);
    }

    private static boolean[] allPayloadTypes(boolean vp8) {
        boolean[] types = new boolean[128];
        java.util.Arrays.fill(types, vp8);
        return types;
    }

    /** {@code vp8PayloadTypes[pt]}: whether payload type {@code pt} is VP8 (H.264 otherwise). */
    LayerRewriter(long outSsrc, boolean[] vp8PayloadTypes, int clockRate) {
        if (clockRate <= 0 || clockRate > MAX_CLOCK_RATE) {
            throw new IllegalArgumentException("clock rate must be 1.." + MAX_CLOCK_RATE + ": " + clockRate);
        }
        this.outSsrc = outSsrc;
        System.arraycopy(vp8PayloadTypes, 0, this.vp8PayloadTypes, 0, Math.min(128, vp8PayloadTypes.length));
        this.clockRate = clockRate;
    }

    /**
     * Spatial: layer index 0 (lowest) .. 2, or -1 to send nothing (takes effect at the next packet). Temporal: highest
     * VP8 temporal layer to send, 0..2 (ignored for streams without TIDs).
     */
    void target(int spatial, int temporal) {
        if (spatial < -1 || spatial > MAX_SPATIAL) {
            throw new IllegalArgumentException("spatial layer must be -1.." + MAX_SPATIAL + ": " + spatial);
        }
        if (temporal < 0 || temporal > MAX_TEMPORAL) {
            throw new IllegalArgumentException("temporal layer must be 0.." + MAX_TEMPORAL + ": " + temporal);
        }
        targetTemporal = temporal;
        targetSpatial = spatial;
    }

    int targetSpatial() {
        return targetSpatial;
    }

    /** The layer being sent, -1 for none (also at once after a pause was asked for). */
    int currentSpatial() {
        return targetSpatial < 0 ? -1 : currentSpatial;
    }

    int targetTemporal() {
        return targetTemporal;
    }

    /** The highest temporal layer being sent, -1 while no layer is. */
    int currentTemporal() {
        return currentSpatial() < 0 ? -1 : currentTemporal;
    }

    /** The spatial layer whose keyframe the rewriter waits for, or -1: the caller asks the publisher (rate-limited). */
    int awaitedKeyframeLayer() {
        int target = targetSpatial;
        return target >= 0 && target != currentSpatial ? target : -1;
    }

    /**
     * Every packet of every layer of the track comes here (the publisher's receive thread), decrypted;
     * buf[off..off+len) is a private copy the rewriter may change. Returns true when the packet is to be sent,
     * rewritten in place: SSRC = outSsrc, sequence number, timestamp, and for VP8 the PictureID and TL0PICIDX.
     * Returns false to drop it (another layer, a temporal layer above the target, waiting for a keyframe, paused,
     * malformed, too old).
     */
    boolean rewrite(byte[] buf, int off, int len, int layer, long nowNanos) {
        int target = targetSpatial;
        if (target < 0) {
            currentSpatial = -1;
            return false;
        }
        int current = currentSpatial;
        if (layer < 0 || layer > MAX_SPATIAL || (layer != current && layer != target)) {
            return false;
        }
        if (!Rtp.isValid(buf, off, len)) {
            droppedMalformed++;
            return false;
        }
        int payloadOffset = off + Rtp.headerLength(buf, off, len);
        int payloadLength = Rtp.payloadLength(buf, off, len);
        if (payloadLength < 0) {
            droppedMalformed++;
            return false;
        }
        if (payloadLength == 0) {
            dropPadding(buf, off, layer == current);
            return false;
        }
        int payloadEnd = payloadOffset + payloadLength;
        boolean vp8 = vp8PayloadTypes[Rtp.payloadType(buf, off)];
        boolean keyframeStart;
        if (vp8) {
            if (!descriptor.read(buf, payloadOffset, payloadEnd)) {
                droppedMalformed++;
                return false;
            }
            keyframeStart = descriptor.keyframe;
        } else {
            keyframeStart = H264.isKeyframe(buf, payloadOffset, payloadEnd);
        }
        if (layer != current) {
            // The very first packet starts the stream wherever it falls: the receiver has nothing to switch from and,
            // like any new receiver, waits for (and asks for) a keyframe. A switch or a resume needs the keyframe.
            if (!keyframeStart && sentAny) {
                droppedWaitingForKeyframe++;
                return false;
            }
            switchTo(layer, buf, off, nowNanos);
        }
        if (vp8) {
            return forwardVp8(buf, off, layer, nowNanos);
        }
        int status = sequences.classify(Rtp.sequenceNumber(buf, off), false);
        return forward(buf, off, status, layer, nowNanos, -1, -1);
    }

    /**
     * Padding-only packets (bandwidth probes) carry nothing the receiver needs; one of the current layer is dropped
     * like a purposeful drop, so it leaves no gap.
     */
    private void dropPadding(byte[] buf, int off, boolean currentLayer) {
        droppedPadding++;
        if (currentLayer && sequences.started()) {
            int status = sequences.classify(Rtp.sequenceNumber(buf, off), false);
            if (status == ContinuousNumbering.NEW || status == ContinuousNumbering.LATE) {
                sequences.drop();
            }
        }
    }

    private void switchTo(int layer, byte[] buf, int off, long nowNanos) {
        int sequence = Rtp.sequenceNumber(buf, off);
        long timestamp = Rtp.timestamp(buf, off);
        if (sentAny) {
            long elapsedMicros = Math.min(Math.max(0, nowNanos - lastSentNanos) / NANOS_PER_MICRO,
                    MAX_BRIDGED_MICROS);
            long elapsedClock = Math.max(1, elapsedMicros * clockRate / MICROS_PER_SECOND);
            sequences.restart(16, sequence, lastOutSequence + 1);
            timestampOffset = lastOutTimestamp + elapsedClock - timestamp;
        } else {
            sequences.restart(16, sequence, sequence);
            timestampOffset = 0;
        }
        pictures.stop();
        tl0Mapped = false;
        lastSequenceDropped = false;
        currentTemporal = targetTemporal;
        currentSpatial = layer;
        switches++;
    }

    private boolean forwardVp8(byte[] buf, int off, int layer, long nowNanos) {
        Vp8Descriptor d = descriptor;
        int tid = d.temporalId;
        boolean pictureForwarded;
        long outPicture = -1;
        if (d.pictureIdLength > 0) {
            int bits = d.pictureIdLength == 2 ? 15 : 7;
            if (!pictures.started() || pictures.bits() != bits) {
                pictures.restart(bits, d.pictureId, sentAnyPicture ? lastOutPicture + 1 : d.pictureId);
            }
            switch (pictures.classify(d.pictureId, false)) {
                case ContinuousNumbering.NEW -> pictureForwarded = temporalAllows(tid, d.layerSync, true);
                case ContinuousNumbering.LATE -> pictureForwarded = temporalAllows(tid, d.layerSync, false);
                case ContinuousNumbering.FORWARDED -> pictureForwarded = true;
                case ContinuousNumbering.DROPPED -> pictureForwarded = false;
                default -> {
                    droppedStale++;
                    return false;
                }
            }
            if (pictureForwarded) {
                pictures.forward();
                outPicture = pictures.out();
            } else {
                pictures.drop();
            }
        } else {
            pictureForwarded = temporalAllows(tid, d.layerSync, d.startOfPartition);
        }
        int status = classifySequence(buf, off, d, !pictureForwarded);
        if (!pictureForwarded) {
            if (status == ContinuousNumbering.NEW || status == ContinuousNumbering.LATE) {
                sequences.drop();
                droppedTemporal++;
            } else if (status == ContinuousNumbering.DROPPED) {
                droppedTemporal++;
            } else {
                droppedStale++;
            }
            return false;
        }
        int outTl0 = -1;
        if (d.tl0PicIdx >= 0) {
            if (!tl0Mapped) {
                tl0Offset = sentAnyTl0 ? lastOutTl0 + 1 - d.tl0PicIdx : 0;
                tl0Mapped = true;
            }
            outTl0 = (d.tl0PicIdx + tl0Offset) & 0xff;
        }
        if (!forward(buf, off, status, layer, nowNanos, outPicture, outTl0)) {
            return false;
        }
        if (outPicture >= 0) {
            Vp8Descriptor.writePictureId(buf, d, (int) (outPicture & 0x7fff));
            if (!sentAnyPicture || outPicture > lastOutPicture) {
                lastOutPicture = outPicture;
                sentAnyPicture = true;
                if (outTl0 >= 0) {
                    lastOutTl0 = outTl0;
                    sentAnyTl0 = true;
                }
            }
        } else if (outTl0 >= 0) {
            lastOutTl0 = outTl0;
            sentAnyTl0 = true;
        }
        if (outTl0 >= 0) {
            Vp8Descriptor.writeTl0PicIdx(buf, d, outTl0);
        }
        return true;
    }

    /**
     * Classifies the packet's sequence number. Packets missing just before it (lost or yet to come) get numbers
     * reserved, except when they can only belong to a picture dropped on purpose: the same picture as this dropped
     * packet, or the rest of the dropped picture just before this one's first packet.
     */
    private int classifySequence(byte[] buf, int off, Vp8Descriptor d, boolean dropped) {
        long timestamp = Rtp.timestamp(buf, off);
        boolean skippedAreDropped = lastSequenceDropped && (timestamp == lastSequenceTimestamp
                || (d.startOfPartition && d.pictureId >= 0 && lastSequencePictureId >= 0
                        && d.pictureId == ((lastSequencePictureId + 1) & (d.pictureIdLength == 2 ? 0x7fff : 0x7f))));
        int status = sequences.classify(Rtp.sequenceNumber(buf, off), skippedAreDropped);
        if (status == ContinuousNumbering.NEW) {
            lastSequenceTimestamp = timestamp;
            lastSequencePictureId = d.pictureId;
            lastSequenceDropped = dropped;
        }
        return status;
    }

    /**
     * Whether a picture of temporal layer {@code tid} is sent. At a picture start the temporal layer follows the
     * target: down at once, up only where the receiver can decode from (TID 0 or the layer-sync bit).
     */
    private boolean temporalAllows(int tid, boolean layerSync, boolean pictureStart) {
        if (tid < 0) {
            return true;
        }
        if (pictureStart) {
            int wanted = targetTemporal;
            int current = currentTemporal;
            if (wanted < current || (wanted > current && (tid == 0 || layerSync))) {
                currentTemporal = wanted;
            }
        }
        return tid <= currentTemporal;
    }

    /** Numbers, stamps and remembers a packet the current layer sends; false for a repeated or too old one. */
    private boolean forward(byte[] buf, int off, int status, int layer, long nowNanos, long outPicture, int outTl0) {
        int sequence = Rtp.sequenceNumber(buf, off);
        if (status != ContinuousNumbering.NEW && status != ContinuousNumbering.LATE) {
            droppedStale++;
            return false;
        }
        sequences.forward();
        long outSequence = sequences.out();
        long outTimestamp = (Rtp.timestamp(buf, off) + timestampOffset) & 0xffffffffL;
        if (!sentAny || outSequence > lastOutSequence) {
            lastOutSequence = outSequence;
        }
        if (!sentAny || (int) (outTimestamp - lastOutTimestamp) > 0) {
            lastOutTimestamp = outTimestamp;
        }
        sentAny = true;
        lastSentNanos = nowNanos;
        Rtp.setSsrc(buf, off, outSsrc);
        Rtp.setSequenceNumber(buf, off, (int) (outSequence & 0xffff));
        Rtp.writeUint32(buf, off + 4, outTimestamp);
        int i = (int) (outSequence & (RETRANSMISSION_RING - 1));
        synchronized (ringLock) {
            ringValid[i] = true;
            ringOutSequence[i] = (int) (outSequence & 0xffff);
            ringLayer[i] = layer;
            ringSourceSequence[i] = sequence;
            ringTimestamp[i] = outTimestamp;
            ringPictureId[i] = outPicture < 0 ? -1 : (int) (outPicture & 0x7fff);
            ringTl0[i] = outTl0;
        }
        return true;
    }

    /**
     * For a NACK: the layer and source sequence an outgoing sequence number was made from, packed as
     * (layer << 16) | sourceSequence, or -1 when not (or no longer) known. Called from another thread (the
     * receiver's).
     */
    long sourceOf(int outSequence) {
        int i = outSequence & (RETRANSMISSION_RING - 1);
        synchronized (ringLock) {
            if (!ringValid[i] || ringOutSequence[i] != (outSequence & 0xffff)) {
                return -1;
            }
            return ((long) ringLayer[i] << 16) | ringSourceSequence[i];
        }
    }

    /**
     * Re-applies to a retransmitted packet (a copy of the source packet {@link #sourceOf} named) exactly the rewrite
     * it got when first sent, with the original outgoing sequence number. Another thread; false if the mapping is
     * gone (or the packet is not the one it was made from).
     */
    boolean rewriteRetransmission(byte[] buf, int off, int len, int outSequence) {
        if (!Rtp.isValid(buf, off, len)) {
            return false;
        }
        int i = outSequence & (RETRANSMISSION_RING - 1);
        synchronized (ringLock) {
            if (!ringValid[i] || ringOutSequence[i] != (outSequence & 0xffff)
                    || ringSourceSequence[i] != Rtp.sequenceNumber(buf, off)) {
                return false;
            }
            int pictureId = ringPictureId[i];
            int tl0 = ringTl0[i];
            if (vp8PayloadTypes[Rtp.payloadType(buf, off)] && (pictureId >= 0 || tl0 >= 0)) {
                int payloadOffset = off + Rtp.headerLength(buf, off, len);
                int payloadLength = Rtp.payloadLength(buf, off, len);
                if (payloadLength <= 0
                        || !retransmissionDescriptor.read(buf, payloadOffset, payloadOffset + payloadLength)) {
                    return false;
                }
                if (pictureId >= 0) {
                    Vp8Descriptor.writePictureId(buf, retransmissionDescriptor, pictureId);
                }
                if (tl0 >= 0) {
                    Vp8Descriptor.writeTl0PicIdx(buf, retransmissionDescriptor, tl0);
                }
            }
            Rtp.setSsrc(buf, off, outSsrc);
            Rtp.setSequenceNumber(buf, off, outSequence & 0xffff);
            Rtp.writeUint32(buf, off + 4, ringTimestamp[i]);
            return true;
        }
    }

    /**
     * A sender report's RTP timestamp for {@code layer}, as the receiver's stream counts it, or -1 when that layer is
     * not the one being sent (its clock is not the receiver's). The publisher's receive thread only, like
     * {@link #rewrite}.
     */
    long outgoingTimestamp(int layer, long sourceTimestamp) {
        if (!sentAny || layer != currentSpatial()) {
            return -1;
        }
        return (sourceTimestamp + timestampOffset) & 0xffffffffL;
    }

    /** Spatial layer changes, including the first layer and resuming after a pause. */
    long switches() {
        return switches;
    }

    long droppedTemporal() {
        return droppedTemporal;
    }

    long droppedWaitingForKeyframe() {
        return droppedWaitingForKeyframe;
    }

    /** Packets repeated, or so late their outgoing number can no longer be told. */
    long droppedStale() {
        return droppedStale;
    }

    /** Padding-only packets of the current or target layer. */
    long droppedPadding() {
        return droppedPadding;
    }

    /** Packets of the current or target layer whose RTP header or VP8 descriptor is cut short. */
    long droppedMalformed() {
        return droppedMalformed;
    }
}
