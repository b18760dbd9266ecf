package dev.parley.signaling.call;

/**
 * Chooses the media server a new call's conference goes on. A single gateway has only its embedded server; with
 * standalone media nodes registered, the composition root passes a placement that chooses among them by load.
 */
public interface MediaPlacement {

    /**
     * The server for the meeting's new conference. Throws a {@link dev.parley.media.api.MediaException} with a
     * capacity code when every server is full, {@link CallMedia.Unreachable} when none is available otherwise.
     */
    CallMedia place(String meetingId);

    /** A server that failed the gateway: no new conference goes there for a while. */
    void lost(String nodeId);

    /** Only the embedded server, always. */
    static MediaPlacement only(CallMedia media) {
        return new MediaPlacement() {
            @Override
            public CallMedia place(String meetingId) {
                return media;
            }

            @Override
            public void lost(String nodeId) {
                // The embedded server is never lost while this gateway runs.
            }
        };
    }
}
