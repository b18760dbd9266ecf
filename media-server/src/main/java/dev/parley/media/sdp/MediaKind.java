package dev.parley.media.sdp;

/** Audio or video; the m-line media type. */
public enum MediaKind {
    AUDIO("audio"), VIDEO("video");

    private final String sdp;

    MediaKind(String sdp) {
        this.sdp = sdp;
    }

    public String sdp() {
        return sdp;
    }

    public static MediaKind fromSdp(String value) {
        for (MediaKind kind : values()) {
            if (kind.sdp.equals(value)) {
                return kind;
            }
        }
        return null;
    }
}
