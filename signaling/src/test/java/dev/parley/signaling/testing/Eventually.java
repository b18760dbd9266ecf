package dev.parley.signaling.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting for something real processes reach in their own time (a failover, a subscription, a message). */
public final class Eventually {

    private static final long POLL_MILLIS = 50;

    private Eventually() {
    }

    /** Asks {@code done} every 50 ms until it says true; fails naming {@code what} once {@code timeout} has passed. */
    public static void await(BooleanSupplier done, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " (not within " + timeout.toMillis() + " ms)");
            }
            Thread.sleep(POLL_MILLIS);
        }
    }
}
