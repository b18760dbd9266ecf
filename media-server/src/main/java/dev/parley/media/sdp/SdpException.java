package dev.parley.media.sdp;

/** An SDP the server cannot use; the message says why and goes back to the caller. */
public final class SdpException extends Exception {
    public SdpException(String message) {
        super(message);
    }
}
