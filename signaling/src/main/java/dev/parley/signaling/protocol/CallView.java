package dev.parley.signaling.protocol;

import java.util.List;

/** What members see of a meeting's call: who is in it, their media state and the tracks they publish. */
public record CallView(String meetingId, boolean active, long startedAt, List<Participant> participants) {

    /** One person in the call. */
    public record Participant(String userId, String displayName, String endpointId, boolean audioMuted,
                              boolean videoMuted, boolean screenSharing, List<Track> tracks) {
    }

    /** A published track; {@code streamId} and {@code mediaStreamTrackId} are the browser's msid values. */
    public record Track(String trackId, String kind, String streamId, String mediaStreamTrackId) {
    }

    public static CallView idle(String meetingId) {
        return new CallView(meetingId, false, 0, List.of());
    }
}
