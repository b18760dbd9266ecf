package dev.parley.signaling.ws;

/** WebSocket close codes the gateway uses, documented in docs/protocol.md. */
public final class CloseCodes {

    public static final int AUTH = 4401;
    public static final int SESSION = 4409;
    public static final int HEARTBEAT = 4408;
    /** The token the socket signed in with was revoked or expired: sign in again, do not reconnect. */
    public static final int SIGNED_OUT = 4410;
    public static final int FLOOD = 1008;
    public static final int GOING_AWAY = 1001;
    public static final int TRY_LATER = 1013;

    private CloseCodes() {
    }
}
