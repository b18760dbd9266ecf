package dev.parley.signaling.protocol;

import dev.parley.signaling.error.ApiException;

import java.util.regex.Pattern;

/**
 * The shapes of the ids the gateway issues, checked wherever a client names one (REST paths and bodies, WebSocket
 * messages), so a malformed id is refused with bad_request before it reaches Redis or a log line.
 */
public final class Ids {

    /** A user id: {@code u} and 20 lowercase hex digits (auth.AccountStore#newUserId). */
    public static final Pattern USER = Pattern.compile("u[0-9a-f]{20}");
    /** A meeting id: {@code m} and 20 lowercase hex digits (meeting.MeetingService#create). */
    public static final Pattern MEETING = Pattern.compile("m[0-9a-f]{20}");
    /** A ring (a direct call ringing someone): {@code r} and 20 lowercase hex digits (ring.RingService#start). */
    public static final Pattern RING = Pattern.compile("r[0-9a-f]{20}");
    /** An invite token: 40 lowercase hex digits. */
    public static final Pattern INVITE = Pattern.compile("[0-9a-f]{40}");

    private Ids() {
    }

    public static String userId(String field, String value) {
        return require(USER, field, value, "a user id such as u0123456789abcdef0123");
    }

    public static String meetingId(String field, String value) {
        return require(MEETING, field, value, "a meeting id such as m0123456789abcdef0123");
    }

    public static String ringId(String field, String value) {
        return require(RING, field, value, "a ring id such as r0123456789abcdef0123");
    }

    public static boolean isUserId(String value) {
        return value != null && USER.matcher(value).matches();
    }

    private static String require(Pattern pattern, String field, String value, String what) {
        if (value == null || value.length() > 64 || !pattern.matcher(value).matches()) {
            throw ApiException.badRequest(field + " must be " + what);
        }
        return value;
    }
}
