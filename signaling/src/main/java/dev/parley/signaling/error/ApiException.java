package dev.parley.signaling.error;

/** A failure with a code and a message meant for the person or program that sent the request. */
public final class ApiException extends RuntimeException {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ApiException.class);
    private static final long REFUSAL_LOG_GAP_NANOS = 10_000_000_000L;
    private static final java.util.concurrent.atomic.AtomicLong lastRefusalLogged =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - REFUSAL_LOG_GAP_NANOS - 1);
    /** Errors Redis gives while it fails over, loads, or moves slots: they pass by themselves. */
    private static final java.util.List<String> PASSING = java.util.List.of("CLUSTERDOWN", "TRYAGAIN", "READONLY",
            "LOADING", "MASTERDOWN", "MOVED", "ASK", "BUSY", "NOREPLICAS");

    private final ErrorCode code;

    public ApiException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(ErrorCode.BAD_REQUEST, message);
    }

    public static ApiException unavailable() {
        return new ApiException(ErrorCode.UNAVAILABLE, "Parley's storage is unavailable right now; try again shortly");
    }

    private static boolean isPassing(io.lettuce.core.RedisCommandExecutionException refused) {
        String message = refused.getMessage() == null ? "" : refused.getMessage();
        return PASSING.stream().anyMatch(message::startsWith);
    }

    /** Unwraps CompletionException layers and turns anything that is not already an ApiException into one. */
    public static ApiException from(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof java.util.concurrent.CompletionException
                || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof ApiException api) {
            return api;
        }
        if (cause instanceof dev.parley.signaling.store.DurableWrites.NotReplicatedException) {
            return new ApiException(ErrorCode.UNAVAILABLE, "Saved, but not yet copied to Parley's standby storage;"
                    + " sending it again is safe");
        }
        if (cause instanceof io.lettuce.core.RedisCommandExecutionException refused && !isPassing(refused)) {
            // Redis answered, with an error no outage explains (a script error, CROSSSLOT, WRONGTYPE): a defect to
            // see in the log, though the caller only learns that storage failed.
            long now = System.nanoTime();
            long last = lastRefusalLogged.get();
            if (now - last > REFUSAL_LOG_GAP_NANOS && lastRefusalLogged.compareAndSet(last, now)) {
                LOG.warn("Redis refused a command (logged at most every 10 s): {}", refused.getMessage());
            }
            return unavailable();
        }
        // A command cut off by a lost connection is cancelled (as when Redis fails over): storage, not a defect.
        if (cause instanceof io.lettuce.core.RedisException || cause instanceof java.util.concurrent.TimeoutException
                || cause instanceof java.util.concurrent.RejectedExecutionException
                || cause instanceof java.util.concurrent.CancellationException) {
            return unavailable();
        }
        return new ApiException(ErrorCode.INTERNAL, "Something went wrong on the server");
    }
}
