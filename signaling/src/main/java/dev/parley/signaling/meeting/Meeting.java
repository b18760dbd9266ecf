package dev.parley.signaling.meeting;

import java.util.List;

/** A meeting: a topic with members, its chat and (later) its call. */
public record Meeting(String meetingId, String title, String description, String ownerId, long createdAt,
                      long lastActivity, boolean archived, boolean membersCanInvite, List<String> memberIds) {

    public boolean hasMember(String userId) {
        return memberIds.contains(userId);
    }
}
