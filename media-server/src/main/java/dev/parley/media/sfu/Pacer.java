package dev.parley.media.sfu;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.RtpSender;
import java.util.function.Consumer;

/**
 * Paces the video one transport-cc subscriber gets to a rate tied to its downlink estimate. Publishers' packets come
 * in bursts (a keyframe; everything a browser held during a CPU stall of a few hundred milliseconds), and forwarded as
 * they come the burst queues at a weak subscriber's bottleneck, where the delay-based estimator reads the queue as
 * congestion and cuts a link that is not congested. Paced, the burst leaves the server spread out and the link sees an
 * even rate (libwebrtc paces its own sending for the same reason; the GCC draft assumes a paced sender).
 *
 * <p>A token bucket fills at the pacing rate: {@link #LIMITED_FACTOR} × the estimate while the estimate keeps some
 * video below what its tile asks for (the link is the bottleneck: at about its capacity nothing queues there), else
 * {@link #FACTOR} × the estimate (bursts are only smoothed). A video packet leaves at once while nothing waits and
 * the bucket holds tokens; otherwise it waits in a bounded FIFO that the media timer drains every 5 ms
 * ({@link #drain}). Audio, retransmissions and probe padding are never held: audio must not wait behind video, and
 * the other two have budgets of their own; what audio and retransmissions send is taken from the bucket
 * ({@link #charge}), so the whole stays near the rate. A packet that waited {@link #MAX_DELAY_NANOS} is dropped and
 * counted ({@code pacer_late}), as is one that finds the queue full ({@code pacer_queue_full}).
 *
 * <p>Any thread offers packets; the timer drains. Everything happens under this object's monitor, including the
 * stamping and sending of a packet, so a stream's packets leave in the order they came and their transport-wide
 * numbers follow the order they leave in. Allocates nothing per packet: a queue slot's buffer is made the first time
 * the slot is used and kept.
 */
final class Pacer {
    /** The pacing rate over the estimate while nothing limits the subscriber's video (libwebrtc, 2.5). */
    static final double FACTOR = 2.5;
    /** The pacing rate over the estimate while the estimate is what limits the subscriber's video. */
    static final double LIMITED_FACTOR = 1.1;
    /** The bucket holds this long at the pacing rate, and at least {@link #MIN_BURST_BYTES}. */
    static final long BURST_NANOS = 10_000_000L;
    /** Two full packets: a small frame still leaves in one go. */
    static final int MIN_BURST_BYTES = 2_400;
    /** The deepest the bucket may go below empty (what audio and retransmissions sent), as time at the rate. */
    static final long MAX_DEBT_NANOS = 100_000_000L;
    /** A packet waits at most this long; later it is dropped (its frame is late anyway, and the link is full). */
    static final long MAX_DELAY_NANOS = 400_000_000L;
    /** Packets waiting at most, per subscriber (about 175 ms of 2 Mbit/s video). */
    static final int MAX_QUEUED_PACKETS = 128;

    private final MediaCounters counters;
    /** Gives a packet its transport-wide sequence number just before it leaves. */
    private final Consumer<PacketBuffer> stamp;
    private final PacketBuffer[] buffers = new PacketBuffer[MAX_QUEUED_PACKETS];
    private final RtpSender[] senders = new RtpSender[MAX_QUEUED_PACKETS];
    private final long[] queuedAtNanos = new long[MAX_QUEUED_PACKETS];
    private int head;
    private int size;
    /** The pacing rate, bit/s; 0: not pacing (no estimate yet). */
    private long rateBps;
    private double tokens;
    private long refilledAtNanos;
    private long delayed;

    Pacer(MediaCounters counters, Consumer<PacketBuffer> stamp) {
        this.counters = counters;
        this.stamp = stamp;
    }

    /** Sets the pacing rate from the estimate, and whether the estimate limits the video; 0 stops pacing. */
    synchronized void rate(long estimateBps, boolean limited, long nowNanos) {
        refill(nowNanos);
        boolean starting = rateBps == 0;
        rateBps = estimateBps <= 0 ? 0 : (long) (estimateBps * (limited ? LIMITED_FACTOR : FACTOR));
        if (starting) {
            // Pacing begins with a full bucket.
            tokens = burstBytes();
        }
    }

    /**
     * Sends one video packet (rewritten, not yet stamped or protected) now if the pace allows, else queues a copy of
     * it. Returns true when the packet was sent now or queued; false when it was dropped or could not be sent.
     * {@code wake} is told when the queue starts to fill, so the timer drains it.
     */
    synchronized boolean send(PacketBuffer packet, RtpSender sender, long nowNanos, Runnable wake) {
        refill(nowNanos);
        if (rateBps <= 0 || size == 0 && tokens > 0) {
            tokens -= packet.getLength();
            return transmit(packet, sender);
        }
        if (size == MAX_QUEUED_PACKETS) {
            counters.drop(DropReason.PACER_QUEUE_FULL);
            return false;
        }
        int slot = (head + size) % MAX_QUEUED_PACKETS;
        PacketBuffer copy = buffers[slot];
        if (copy == null) {
            copy = new PacketBuffer();
            buffers[slot] = copy;
        }
        copy.copyFrom(packet);
        senders[slot] = sender;
        queuedAtNanos[slot] = nowNanos;
        size++;
        delayed++;
        if (size == 1) {
            wake.run();
        }
        return true;
    }

    /** Takes what a packet sent around the pacer (audio, a retransmission) used from the bucket. */
    synchronized void charge(int bytes, long nowNanos) {
        if (rateBps > 0) {
            refill(nowNanos);
            tokens = Math.max(tokens - bytes, -debtCap());
        }
    }

    /**
     * Sends what waits as far as the bucket allows, dropping what waited too long (the timer, every 5 ms); true
     * while packets still wait.
     */
    synchronized boolean drain(long nowNanos) {
        refill(nowNanos);
        while (size > 0) {
            PacketBuffer packet = buffers[head];
            RtpSender sender = senders[head];
            boolean late = nowNanos - queuedAtNanos[head] > MAX_DELAY_NANOS;
            if (!late && rateBps > 0 && tokens <= 0) {
                break;
            }
            senders[head] = null;
            head = (head + 1) % MAX_QUEUED_PACKETS;
            size--;
            if (late) {
                counters.drop(DropReason.PACER_LATE);
            } else {
                tokens -= packet.getLength();
                transmit(packet, sender);
            }
        }
        return size > 0;
    }

    /** Drops whatever waits (the transport closed). */
    synchronized void clear() {
        while (size > 0) {
            senders[head] = null;
            head = (head + 1) % MAX_QUEUED_PACKETS;
            size--;
        }
    }

    private boolean transmit(PacketBuffer packet, RtpSender sender) {
        stamp.accept(packet);
        return sender.sendRtp(packet);
    }

    private void refill(long nowNanos) {
        long elapsed = nowNanos - refilledAtNanos;
        refilledAtNanos = nowNanos;
        if (rateBps <= 0 || elapsed <= 0) {
            return;
        }
        tokens = Math.min(burstBytes(), tokens + rateBps * (Math.min(elapsed, MAX_DELAY_NANOS) / 8e9));
    }

    private double burstBytes() {
        return Math.max(MIN_BURST_BYTES, rateBps * (BURST_NANOS / 8e9));
    }

    private double debtCap() {
        return rateBps * (MAX_DEBT_NANOS / 8e9);
    }

    /** For the stats: the pacing rate (bit/s, 0: not pacing), packets waiting, packets that waited. */
    synchronized long rateBps() {
        return rateBps;
    }

    synchronized int queuedPackets() {
        return size;
    }

    /** Video packets that had to wait (not sent at once) so far. */
    synchronized long delayedPackets() {
        return delayed;
    }
}
