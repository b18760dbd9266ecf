package dev.parley.signaling.error;

/** A failure with a code and a message meant for the person or program that sent the request. */
public final class ApiException extends RuntimeException {

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
        if (cause instanceof io.lettuce.core.RedisException || cause instanceof java.util.concurrent.TimeoutException
                || cause instanceof java.util.concurrent.RejectedExecutionException) {
            return unavailable();
        }
        return new ApiException(ErrorCode.INTERNAL, "Something went wrong on the server");
    }
}
