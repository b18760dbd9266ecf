package dev.parley.signaling.meeting;

import dev.parley.signaling.protocol.ChatMessage;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What meetings need of their chat: system lines when members come and go, and the unread count and last message
 * shown in the meeting list. Implemented by {@code chat.ChatService}, so chat depends on meetings and not back.
 */
public interface MeetingChat {

    /** Records a system line in the meeting's chat and delivers it to these members. */
    CompletionStage<ChatMessage> announce(String meetingId, String text, List<String> recipients);

    /** How many messages this member has not read, counting at most {@code cap}. */
    CompletionStage<Integer> unread(String meetingId, String userId, int cap);

    CompletionStage<Optional<ChatMessage>> latest(String meetingId);
}
