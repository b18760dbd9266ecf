package dev.parley.signaling.ws;

/** A token bucket for one socket's incoming messages; used on its event loop only. */
final class FrameRateLimiter {

    private final double perNano;
    private final double burst;
    private double tokens;
    private long last;

    FrameRateLimiter(double perSecond, int burst) {
        this.perNano = perSecond / 1_000_000_000d;
        this.burst = burst;
        this.tokens = burst;
        this.last = System.nanoTime();
    }

    boolean tryAcquire(long now) {
        tokens = Math.min(burst, tokens + (now - last) * perNano);
        last = now;
        if (tokens < 1) {
            return false;
        }
        tokens -= 1;
        return true;
    }
}
