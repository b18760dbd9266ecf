package dev.parley.media.cc;

/**
 * What one probe cluster found: a run of consecutively numbered packets the sender paced out at a higher rate than
 * its estimate (media plus padding), read from the feedback that reports them. The rate they were sent at and the
 * rate they arrived at give the probe's verdict: a link that carried the cluster's rate delivers it as sent; a link
 * that did not spreads the packets out, and their arrival rate is what it carries (GCC's probe bitrate estimator).
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
        long receiveBps = (bytes - firstArrivedSize) * 8_000_000L / arrivalSpanUs;
        long verdict = receiveBps < CARRIED_SHARE * sendBps ? Math.round(receiveBps * CAPACITY_SHARE)
                : Math.min(sendBps, receiveBps);
        resultBps = verdict;
        verdicts++;
        return verdict;
    }

    /** The last verdict, bit/s (0: none yet). */
    long resultBps() {
        return resultBps;
    }

    long verdicts() {
        return verdicts;
    }
}
