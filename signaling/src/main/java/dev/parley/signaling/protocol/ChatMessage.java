package dev.parley.signaling.protocol;

import java.util.regex.Pattern;

/** One stored chat message; {@code system} messages (joins, leaves, calls) have no sender. */
public record ChatMessage(String messageId, String senderId, String senderName, String text, long sentAt,
                          String clientMsgId, boolean system) {

    /** A message id as Redis Streams make them ({@code millis-sequence}); anything else is refused. */
    public static final Pattern ID = Pattern.compile("\\d{1,19}-\\d{1,19}");
}
