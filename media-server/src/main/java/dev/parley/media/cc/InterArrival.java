package dev.parley.media.cc;

/**
 * Groups packets into send-time bursts and, each time a group completes, yields how far apart it was sent and
 * received from the previous group (draft-ietf-rmcat-gcc-02 section 5.2; libwebrtc's inter-arrival delta). A
 * video frame leaves as a burst of packets, so comparing groups instead of packets measures the path, not the
 * pacer. Packets must be fed in arrival order.
 */
final class InterArrival {
    /** Packets sent within this long of a group's first packet belong to the group (draft: "burst_time", 5 ms). */
    static final long GROUP_LENGTH_US = 5_000;
    /**
     * A packet that arrives within this long of the previous one, and sooner after it than it was sent, belongs to
     * the group though sent later: a burst released by a queue (libwebrtc, 5 ms).
     */
    static final long BURST_DELTA_THRESHOLD_US = 5_000;
    /** A burst merged by arrival never spans longer than this (libwebrtc, 100 ms). */
    static final long MAX_BURST_DURATION_US = 100_000;
    /**
     * When arrivals advance this much more than the estimator's own clock, the receiver's clock jumped: start over
     * (libwebrtc, 3 s).
     */
    static final long ARRIVAL_TIME_OFFSET_THRESHOLD_US = 3_000_000;
    /** Consecutive groups that arrive before their predecessor before the history is thrown away (libwebrtc, 3). */
    static final int REORDERED_RESET_THRESHOLD = 3;

    private final Group current = new Group();
    private final Group previous = new Group();
    private int consecutiveReordered;
    private long resets;

    private long sendDeltaUs;
    private long arrivalDeltaUs;
    private long sizeDeltaBytes;

    /**
     * Feeds one received packet; returns true when it closed a group, and the deltas between the last two groups
     * are then readable.
     *
     * @param systemTimeUs the server's clock when the feedback carrying this packet was processed
     */
    boolean onPacket(long sendTimeUs, long arrivalTimeUs, long systemTimeUs, int sizeBytes) {
        if (!current.started) {
            current.start(sendTimeUs, arrivalTimeUs, systemTimeUs, sizeBytes);
            return false;
        }
        if (sendTimeUs < current.firstSendUs) {
            // Sent before the group being built: it belongs to a group already closed.
            return false;
        }
        if (!startsNewGroup(sendTimeUs, arrivalTimeUs)) {
            current.lastSendUs = Math.max(current.lastSendUs, sendTimeUs);
            current.lastArrivalUs = arrivalTimeUs;
            current.lastSystemUs = systemTimeUs;
            current.sizeBytes += sizeBytes;
            return false;
        }
        boolean computed = false;
        if (previous.started) {
            long sendDelta = current.lastSendUs - previous.lastSendUs;
            long arrivalDelta = current.lastArrivalUs - previous.lastArrivalUs;
            long systemDelta = current.lastSystemUs - previous.lastSystemUs;
            if (arrivalDelta - systemDelta >= ARRIVAL_TIME_OFFSET_THRESHOLD_US) {
                reset();
                return false;
            }
            if (arrivalDelta < 0) {
                if (++consecutiveReordered >= REORDERED_RESET_THRESHOLD) {
                    reset();
                }
                return false;
            }
            consecutiveReordered = 0;
            sendDeltaUs = sendDelta;
            arrivalDeltaUs = arrivalDelta;
            sizeDeltaBytes = current.sizeBytes - previous.sizeBytes;
            computed = true;
        }
        previous.copy(current);
        current.start(sendTimeUs, arrivalTimeUs, systemTimeUs, sizeBytes);
        return computed;
    }

    private boolean startsNewGroup(long sendTimeUs, long arrivalTimeUs) {
        if (belongsToBurst(sendTimeUs, arrivalTimeUs)) {
            return false;
        }
        return sendTimeUs - current.firstSendUs > GROUP_LENGTH_US;
    }

    private boolean belongsToBurst(long sendTimeUs, long arrivalTimeUs) {
        long arrivalDelta = arrivalTimeUs - current.lastArrivalUs;
        long sendDelta = sendTimeUs - current.lastSendUs;
        if (sendDelta == 0) {
            return true;
        }
        long propagationDelta = arrivalDelta - sendDelta;
        return propagationDelta < 0
                && arrivalDelta <= BURST_DELTA_THRESHOLD_US
                && arrivalTimeUs - current.firstArrivalUs < MAX_BURST_DURATION_US;
    }

    private void reset() {
        current.started = false;
        previous.started = false;
        consecutiveReordered = 0;
        resets++;
    }

    /** Last send time of the newer group minus that of the older one. */
    long sendDeltaUs() {
        return sendDeltaUs;
    }

    /** Last arrival of the newer group minus that of the older one. */
    long arrivalDeltaUs() {
        return arrivalDeltaUs;
    }

    long sizeDeltaBytes() {
        return sizeDeltaBytes;
    }

    /** Times the history was thrown away (receiver clock jump or persistent reordering). */
    long resets() {
        return resets;
    }

    private static final class Group {
        boolean started;
        long firstSendUs;
        long lastSendUs;
        long firstArrivalUs;
        long lastArrivalUs;
        long lastSystemUs;
        long sizeBytes;

        void start(long sendUs, long arrivalUs, long systemUs, int size) {
            started = true;
            firstSendUs = sendUs;
            lastSendUs = sendUs;
            firstArrivalUs = arrivalUs;
            lastArrivalUs = arrivalUs;
            lastSystemUs = systemUs;
            sizeBytes = size;
        }

        void copy(Group other) {
            started = other.started;
            firstSendUs = other.firstSendUs;
            lastSendUs = other.lastSendUs;
            firstArrivalUs = other.firstArrivalUs;
            lastArrivalUs = other.lastArrivalUs;
            lastSystemUs = other.lastSystemUs;
            sizeBytes = other.sizeBytes;
        }
    }
}
