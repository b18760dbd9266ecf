package dev.parley.signaling.chat;

/** One stored chat message; {@code system} messages (joins, leaves, calls) have no sender. */
public record ChatMessage(String messageId, String senderId, String senderName, String text, long sentAt,
                          String clientMsgId, boolean system) {
}
