package dev.parley.signaling.meeting;

import java.util.concurrent.CompletionStage;

/**
 * What membership changes need of calls, wherever the meeting's call is hosted: a user who is no longer a member
 * loses their place at once, and an archived meeting's call ends. Implemented by {@code routing.CallRouter}, so
 * calls depend on meetings and not back.
 */
public interface MeetingCalls {

    /** Why a place in a call ended, as the participant's client is told in {@code call.left}. */
    String REMOVED = "removed";
    String LEFT_MEETING = "left the meeting";
    String ARCHIVED = "archived";

    /** Takes the user out of the meeting's call, if they are in it; their media stops on the media server. */
    CompletionStage<Void> removeFromCall(String meetingId, String userId, String reason);

    /** Ends the meeting's call for everyone in it, if it has one. */
    CompletionStage<Void> endCall(String meetingId, String reason);
}
