package dev.parley.media.cc;

/**
 * The loss-based rate (draft-ietf-rmcat-gcc-02 section 6; libwebrtc's send-side bandwidth estimation): little loss
 * lets the rate grow, moderate loss holds it, heavy loss cuts it in proportion. The loss fraction is computed over
 * at least {@link #MIN_PACKETS_PER_UPDATE} packets and {@link #MIN_UPDATE_INTERVAL_US}, so that chance does not
 * swing it.
 */
final class LossBasedEstimator {
    /** Below this loss fraction the rate may grow (draft and libwebrtc, 2 %). */
    static final double LOW_LOSS = 0.02;
    /** Above this loss fraction the rate is cut (draft and libwebrtc, 10 %). */
    static final double HIGH_LOSS = 0.10;
    /** Growth per second under low loss (libwebrtc 1.08; the draft says 1.05). */
    static final double INCREASE_PER_SECOND = 1.08;
    /** Added to each increase, bit/s (libwebrtc, 1000), so that a low rate still moves. */
    static final long INCREASE_EXTRA_BPS = 1_000;
    /** Cut factor: the rate becomes rate × (1 − this × loss) (draft and libwebrtc, 0.5). */
    static final double DECREASE_LOSS_WEIGHT = 0.5;
    /** Successive cuts are at least this plus the RTT apart, so a cut is seen before the next (libwebrtc, 300 ms). */
    static final long DECREASE_INTERVAL_US = 300_000;
    /** Packets a loss fraction is computed over at least (libwebrtc, 20). */
    static final int MIN_PACKETS_PER_UPDATE = 20;
    /**
     * Time a loss fraction is computed over at least. The draft takes it from receiver reports, about one a second;
     * over fewer packets random loss reads as "no loss" often enough to let the rate creep up.
     */
    static final long MIN_UPDATE_INTERVAL_US = 1_000_000;
    /** Longest time step of one increase (1 s). */
    static final long MAX_INCREASE_STEP_US = 1_000_000;

    private final long minBps;
    private final long maxBps;
    private long currentBps;
    private long expected;
    private long lost;
    private double lossFraction;
    private long lastIncreaseUs = Long.MIN_VALUE;
    private long lastDecreaseUs = Long.MIN_VALUE;
    private long windowStartUs = Long.MIN_VALUE;

    LossBasedEstimator(long minBps, long maxBps, long startBps) {
        this.minBps = minBps;
        this.maxBps = maxBps;
        this.currentBps = startBps;
    }

    /**
     * Adds one report's packet counts and, once enough packets were counted, moves the rate.
     *
     * @param reported        packets reported for the first time (received or lost)
     * @param reportedLost    of these, those reported lost
     * @param recovered       packets reported lost before and received now
     */
    void onReport(int reported, int reportedLost, int recovered, long nowUs, long rttMs) {
        if (windowStartUs == Long.MIN_VALUE) {
            windowStartUs = nowUs;
        }
        expected += reported;
        lost = Math.max(0, lost + reportedLost - recovered);
        if (expected >= MIN_PACKETS_PER_UPDATE && nowUs - windowStartUs >= MIN_UPDATE_INTERVAL_US) {
            lossFraction = Math.min(1.0, (double) lost / expected);
            expected = 0;
            lost = 0;
            windowStartUs = nowUs;
            update(nowUs, rttMs);
        }
    }

    private void update(long nowUs, long rttMs) {
        if (lossFraction < LOW_LOSS) {
            long elapsed = lastIncreaseUs == Long.MIN_VALUE
                    ? MAX_INCREASE_STEP_US
                    : Math.max(0, Math.min(nowUs - lastIncreaseUs, MAX_INCREASE_STEP_US));
            double seconds = elapsed / 1e6;
            long increased = Math.round(currentBps * Math.pow(INCREASE_PER_SECOND, seconds)
                    + INCREASE_EXTRA_BPS * seconds);
            currentBps = clamp(increased);
            lastIncreaseUs = nowUs;
        } else if (lossFraction > HIGH_LOSS) {
            lastIncreaseUs = nowUs;
            if (lastDecreaseUs == Long.MIN_VALUE || nowUs - lastDecreaseUs >= DECREASE_INTERVAL_US + rttMs * 1000) {
                currentBps = clamp(Math.round(currentBps * (1 - DECREASE_LOSS_WEIGHT * lossFraction)));
                lastDecreaseUs = nowUs;
            }
        } else {
            lastIncreaseUs = nowUs;
        }
    }

    /** A probe found the link carries {@code bps}: unless loss is high, the rate is at least that from now on. */
    void raiseTo(long bps) {
        if (lossFraction <= HIGH_LOSS) {
            currentBps = clamp(Math.max(currentBps, bps));
        }
    }

    /** Keeps this rate from running ahead of the combined estimate while loss is low. */
    void capTo(long bps) {
        currentBps = Math.min(currentBps, Math.max(bps, minBps));
    }

    private long clamp(long bps) {
        return Math.max(minBps, Math.min(maxBps, bps));
    }

    long bps() {
        return currentBps;
    }

    double lossFraction() {
        return lossFraction;
    }
}
