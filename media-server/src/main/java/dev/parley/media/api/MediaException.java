package dev.parley.media.api;

/** A media API operation that could not be done; carries a stable {@link ErrorCode}. */
public final class MediaException extends RuntimeException {
    private final ErrorCode code;

    public MediaException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
