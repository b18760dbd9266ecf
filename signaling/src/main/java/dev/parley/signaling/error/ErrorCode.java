package dev.parley.signaling.error;

/** Every error the gateway reports, REST or WebSocket, with its stable wire value (documented in docs/protocol.md). */
public enum ErrorCode {
    BAD_REQUEST("bad_request", 400),
    AUTH_INVALID("auth.invalid", 401),
    AUTH_UNAVAILABLE("auth.unavailable", 503),
    FORBIDDEN("forbidden", 403),
    NOT_FOUND("not_found", 404),
    METHOD_NOT_ALLOWED("method_not_allowed", 405),
    USERNAME_TAKEN("username.taken", 409),
    MEETING_ARCHIVED("meeting.archived", 409),
    DIRECT_CHAT("meeting.direct", 409),
    INVITE_INVALID("invite.invalid", 404),
    CALL_NOT_JOINED("call.not_joined", 409),
    MEMBERSHIP_LIMIT("limit.memberships", 409),
    INVITE_LIMIT("limit.invites", 409),
    CALL_LIMIT("limit.calls", 409),
    CALL_FAILED("call.failed", 502),
    RING_ACTIVE("ring.active", 409),
    BLOCKED("blocked", 403),
    PAYLOAD_TOO_LARGE("payload_too_large", 413),
    RATE_LIMITED("rate_limited", 429),
    SESSION_ACTIVE("session.active", 409),
    SESSION_REPLACED("session.replaced", 409),
    SESSION_ENDED("session.ended", 401),
    UNAVAILABLE("unavailable", 503),
    INTERNAL("internal", 500);

    private final String wire;
    private final int httpStatus;

    ErrorCode(String wire, int httpStatus) {
        this.wire = wire;
        this.httpStatus = httpStatus;
    }

    public String wire() {
        return wire;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
