package dev.parley.media.sdp;

/** An m-section's direction, from the point of view of the side that wrote it. */
public enum Direction {
    SENDRECV("sendrecv"), SENDONLY("sendonly"), RECVONLY("recvonly"), INACTIVE("inactive");

    private final String sdp;

    Direction(String sdp) {
        this.sdp = sdp;
    }

    public String sdp() {
        return sdp;
    }

    public boolean sends() {
        return this == SENDRECV || this == SENDONLY;
    }

    public boolean receives() {
        return this == SENDRECV || this == RECVONLY;
    }
}
