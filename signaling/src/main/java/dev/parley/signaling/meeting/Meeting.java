package dev.parley.signaling.meeting;

import java.util.List;

/**
 * A meeting: a topic with members, its chat and its call; or, {@code direct}, the one conversation between two people
 * (no topic, no owner's powers, nobody added or leaving).
 */
public record Meeting(String meetingId, String title, String description, String ownerId, long createdAt,
                      long lastActivity, boolean archived, boolean membersCanInvite, List<String> memberIds,
                      boolean direct) {

    public boolean hasMember(String userId) {
        return memberIds.contains(userId);
    }
}
