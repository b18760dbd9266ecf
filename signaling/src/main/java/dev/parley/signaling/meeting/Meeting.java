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

    /** A direct chat's other person, seen from {@code userId} (themselves, in a chat with oneself). */
    public String peerOf(String userId) {
        return memberIds.stream().filter(id -> !id.equals(userId)).findFirst().orElse(userId);
    }
}
