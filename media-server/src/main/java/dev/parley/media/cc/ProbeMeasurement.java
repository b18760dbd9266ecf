package dev.parley.media.cc;

/**
 * What one probe cluster found: a run of consecutively numbered packets the sender paced out at a higher rate than
 * its estimate (media plus padding), read from the feedback that reports them. The rate they were sent at and the
 * rate they arrived at give the probe's verdict: a link that carried the cluster's rate delivers it as sent; a link
 * that did not spreads the packets out, and their arrival rate is what it carries (GCC's probe bitrate estimator).
 *
 * <p>The arrival rate is also taken from the moment a queue formed, and the slower of the two counts: a link with a
 * burst allowance (a token bucket, as policers and shapers have) lets the first part of a cluster through at once,
 * and only the rest queues. Once packets wait until the cluster ends, the link is busy, and what arrives after the
 * first of them comes at exactly the link's rate. A cluster small enough to fit in the allowance comes out carried
 * whatever the link's rate: {@link #carried()} says so, and the estimator waits for the next cluster to confirm it.
 *
 * <p>One cluster at a time; the estimator's thread only; allocates nothing.
 */
final class ProbeMeasurement {
    /** Fewer packets than this received make no verdict: their spread says too little. */
    static final int MIN_PACKETS = 5;
    /** More loss than this in the cluster makes no verdict (the link did not carry it). */
    static final double MAX_LOSS = 0.1;
    /** Arrival slower than this share of the send rate means the link did not carry the probe's rate. */
    static final double CARRIED_SHARE = 0.9;
    /** A verdict from an arrival rate is taken at this share of it, to stay just under what the link carries. */
    static final double CAPACITY_SHARE = 0.95;
    /** A cluster not fully reported this long after it ends is judged on what was reported (or dropped). */
    static final long REPORT_WAIT_US = 1_000_000;
    /** Packets of a cluster whose times are kept to find a queue; a longer cluster is judged whole. */
    static final int TRACKED_PACKETS = 2_048;
    /** A packet delayed this much more than the cluster's least delayed one waited in a queue, µs. */
    static final long QUEUED_US = 5_000;
    /** The rate after a queue formed counts when at least this many packets arrived after the first that waited. */
    static final int MIN_QUEUED_PACKETS = 4;

    /** Send time, arrival time and size of each tracked packet by its place in the cluster; size 0: not received. */
    private final long[] sends = new long[TRACKED_PACKETS];
    private final long[] arrivals = new long[TRACKED_PACKETS];
    private final int[] sizes = new int[TRACKED_PACKETS];
    private int tracked;
    private boolean carried;

    private long first = -1;
    private long last = -1;
    private long endedUs;
    private int received;
    private int lost;
    private long bytes;
    private long firstSendUs;
    private long lastSendUs;
    private int lastSentSize;
    private long firstArrivalUs;
    private int firstArrivedSize;
    private long lastArrivalUs;
    private long resultBps;
    private long verdicts;

    /**
     * Starts measuring a cluster whose first packet is {@code first} (unwrapped number), while it is still being sent:
     * the feedback reporting its first packets may come before it ends. It is judged only once {@link #end} says
     * where it ended.
     */
    void begin(long first) {
        start(first, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /**
     * The cluster of packets {@code first..last} (unwrapped numbers) ended at {@code endedUs}: the one {@link #begin}
     * started (its packets reported so far kept), or a new one.
     */
    void end(long first, long last, long endedUs) {
        if (this.first == first && this.last == Long.MAX_VALUE) {
            this.last = last;
            this.endedUs = endedUs;
            return;
        }
        start(first, last, endedUs);
    }

    /** Starts measuring the cluster of packets {@code first..last} (unwrapped numbers), sent by {@code endedUs}. */
    void start(long first, long last, long endedUs) {
        this.first = first;
        this.last = last;
        this.endedUs = endedUs;
        received = 0;
        lost = 0;
        bytes = 0;
        firstSendUs = Long.MAX_VALUE;
        lastSendUs = Long.MIN_VALUE;
        firstArrivalUs = Long.MAX_VALUE;
        lastArrivalUs = Long.MIN_VALUE;
        java.util.Arrays.fill(sizes, 0, tracked, 0);
        tracked = 0;
    }

    /** Whether packet {@code sequence} belongs to the cluster being measured. */
    boolean covers(long sequence) {
        return first >= 0 && sequence >= first && sequence <= last;
    }

    boolean active() {
        return first >= 0;
    }

    /** Counts one reported packet, if it belongs to the cluster (each packet once: the estimator drops repeats). */
    void onPacket(long sequence, long sendUs, int size, long arrivalUs, boolean wasLost) {
        if (first < 0 || sequence < first || sequence > last) {
            return;
        }
        if (wasLost) {
            lost++;
            return;
        }
        received++;
        bytes += size;
        long place = sequence - first;
        if (place < TRACKED_PACKETS) {
            sends[(int) place] = sendUs;
            arrivals[(int) place] = arrivalUs;
            sizes[(int) place] = size;
            tracked = Math.max(tracked, (int) place + 1);
        }
        if (sendUs < firstSendUs) {
            firstSendUs = sendUs;
        }
        if (sendUs >= lastSendUs) {
            lastSendUs = sendUs;
            lastSentSize = size;
        }
        if (arrivalUs < firstArrivalUs) {
            firstArrivalUs = arrivalUs;
            firstArrivedSize = size;
        }
        if (arrivalUs > lastArrivalUs) {
            lastArrivalUs = arrivalUs;
        }
    }

    /**
     * After a report: the cluster's verdict, bit/s, once every packet of it was reported (or the wait is over); 0
     * while it is still being reported, or when it gave none (too few packets, too much loss). Either way the
     * cluster is then done.
     */
    long finish(long nowUs) {
        if (first < 0) {
            return 0;
        }
        if (last == Long.MAX_VALUE) {
            // Still being sent.
            return 0;
        }
        long size = last - first + 1;
        if (received + lost < size && nowUs - endedUs < REPORT_WAIT_US) {
            return 0;
        }
        first = -1;
        int reported = received + lost;
        if (received < MIN_PACKETS || reported == 0 || (double) lost / reported > MAX_LOSS) {
            return 0;
        }
        long sendSpanUs = lastSendUs - firstSendUs;
        long arrivalSpanUs = lastArrivalUs - firstArrivalUs;
        if (sendSpanUs <= 0 || arrivalSpanUs <= 0) {
            return 0;
        }
        long sendBps = (bytes - lastSentSize) * 8_000_000L / sendSpanUs;
        long receiveBps = Math.min((bytes - firstArrivedSize) * 8_000_000L / arrivalSpanUs, queuedReceiveBps(size));
        carried = receiveBps >= CARRIED_SHARE * sendBps;
        long verdict = carried ? Math.min(sendBps, receiveBps) : Math.round(receiveBps * CAPACITY_SHARE);
        resultBps = verdict;
        verdicts++;
        return verdict;
    }

    /**
     * The arrival rate after the first packet of the queue that lasted to the cluster's end, bit/s: from then on the
     * link is busy, so it is the link's rate. The largest value when no packet waited, too few arrived after it, or the
     * cluster is longer than {@link #TRACKED_PACKETS}.
     */
    private long queuedReceiveBps(long clusterSize) {
        if (clusterSize > TRACKED_PACKETS) {
            return Long.MAX_VALUE;
        }
        long baseDelayUs = Long.MAX_VALUE;
        for (int place = 0; place < tracked; place++) {
            if (sizes[place] != 0) {
                baseDelayUs = Math.min(baseDelayUs, arrivals[place] - sends[place]);
            }
        }
        // The queue that lasted to the cluster's end: the last run of received packets that all waited (a packet
        // delayed by a moment's jitter earlier on starts no queue).
        int queued = -1;
        for (int place = tracked - 1; place >= 0; place--) {
            if (sizes[place] == 0) {
                continue;
            }
            if (arrivals[place] - sends[place] <= baseDelayUs + QUEUED_US) {
                break;
            }
            queued = place;
        }
        if (queued < 0) {
            return Long.MAX_VALUE;
        }
        int packets = 0;
        long bytesAfter = 0;
        long lastUs = Long.MIN_VALUE;
        for (int place = queued + 1; place < tracked; place++) {
            if (sizes[place] != 0) {
                packets++;
                bytesAfter += sizes[place];
                lastUs = Math.max(lastUs, arrivals[place]);
            }
        }
        long spanUs = lastUs - arrivals[queued];
        if (packets < MIN_QUEUED_PACKETS || spanUs <= 0) {
            return Long.MAX_VALUE;
        }
        return bytesAfter * 8_000_000L / spanUs;
    }

    /**
     * Whether the link carried the last judged cluster at the rate it was sent (its verdict is then that rate, and
     * a burst allowance could have made it so); false when the link queued it (its verdict is then what the link
     * delivered).
     */
    boolean carried() {
        return carried;
    }

    /** The last verdict, bit/s (0: none yet). */
    long resultBps() {
        return resultBps;
    }

    long verdicts() {
        return verdicts;
    }
}
