package dev.parley.signaling.chat;

import dev.parley.signaling.protocol.ChatMessage;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.block.Blocks;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.meeting.Meeting;
import dev.parley.signaling.meeting.MeetingChat;
import dev.parley.signaling.meeting.MeetingStore;
import dev.parley.signaling.ws.LiveSessions;
import dev.parley.signaling.protocol.ServerMessage;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Meeting chat: members post, every member's sockets on every gateway receive it, history pages from Redis.
 * Non-members get not_found, as if the meeting did not exist.
 */
public final class ChatService implements MeetingChat {

    /** A page of history. */
    public record Page(List<ChatMessage> messages, boolean hasMore) {
    }

    public static final int MAX_PAGE = 100;

    private final MeetingStore meetings;
    private final Blocks blocks;
    private final ChatStore store;
    private final LiveSessions sessions;
    private final Clock clock;
    private final java.util.concurrent.Semaphore inFlight;

    public ChatService(MeetingStore meetings, ChatStore store, LiveSessions sessions, Clock clock, int maxInFlight,
                       Blocks blocks) {
        this.blocks = blocks;
        this.inFlight = new java.util.concurrent.Semaphore(maxInFlight);
        this.meetings = meetings;
        this.store = store;
        this.sessions = sessions;
        this.clock = clock;
    }

    /**
     * Stores a member's message once and delivers it to every member; the ack is for the sender. Beyond
     * {@code maxInFlight} sends under way on this gateway, new ones are refused at once (rate_limited, nothing
     * stored) instead of queueing into timeouts; the client's retry with the same clientMsgId sends it later.
     */
    public CompletionStage<ServerMessage.ChatAck> send(Account sender, String meetingId, String clientMsgId,
                                                       String text) {
        if (!inFlight.tryAcquire()) {
            throw new ApiException(ErrorCode.RATE_LIMITED, "The server is busy; the message was not sent yet");
        }
        CompletionStage<ServerMessage.ChatAck> sent;
        try {
            sent = store(sender, meetingId, clientMsgId, text);
        } catch (RuntimeException e) {
            inFlight.release();
            throw e;
        }
        return sent.whenComplete((ack, failure) -> inFlight.release());
    }

    private CompletionStage<ServerMessage.ChatAck> store(Account sender, String meetingId, String clientMsgId,
                                                         String text) {
        return memberMeeting(meetingId, sender.userId()).thenCompose(meeting -> {
            if (meeting.archived()) {
                throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived; its chat is read-only");
            }
            return unblocked(meeting, sender.userId());
        }).thenCompose(meeting -> {
            return store.append(meetingId, sender.userId(), sender.displayName(), text, clientMsgId, false,
                    clock.millis()).thenCompose(stored -> {
                ServerMessage.ChatAck ack = new ServerMessage.ChatAck(meetingId, clientMsgId,
                        stored.message().messageId(), stored.message().sentAt());
                // A retry found the message stored: it is delivered again, because the first attempt may have
                // stopped between storing and delivering (its gateway died, or replicas did not confirm it).
                // Clients merge messages by messageId, so a second delivery changes nothing they show.
                return sessions.deliver(meeting.memberIds(), new ServerMessage.ChatMessageEvent(meetingId,
                        stored.message())).thenApply(delivered -> ack);
            });
        });
    }

    @Override
    public CompletionStage<ChatMessage> announce(String meetingId, String text, List<String> recipients) {
        return store.append(meetingId, "system", "Parley", text, null, true, clock.millis())
                .thenCompose(stored -> sessions.deliver(recipients,
                        new ServerMessage.ChatMessageEvent(meetingId, stored.message()))
                        .thenApply(delivered -> stored.message()));
    }

    @Override
    public CompletionStage<Integer> unread(String meetingId, String userId, int cap) {
        return store.unread(meetingId, userId, cap);
    }

    @Override
    public CompletionStage<Optional<ChatMessage>> latest(String meetingId) {
        return store.latest(meetingId);
    }

    public CompletionStage<Void> typing(Account sender, String meetingId) {
        return memberMeeting(meetingId, sender.userId()).thenCompose(meeting -> sessions.deliver(
                meeting.memberIds().stream().filter(id -> !id.equals(sender.userId())).toList(),
                new ServerMessage.ChatTyping(meetingId, sender.userId(), sender.displayName())));
    }

    public CompletionStage<Boolean> markRead(String userId, String meetingId, String messageId) {
        return memberMeeting(meetingId, userId).thenCompose(meeting -> store.markRead(meetingId, userId, messageId));
    }

    /** History for a member: before a message (newest first) or after one (oldest first). */
    public CompletionStage<Page> history(String userId, String meetingId, String before, String after, int limit) {
        return memberMeeting(meetingId, userId).thenCompose(meeting -> {
            CompletionStage<List<ChatMessage>> page = after != null
                    ? store.after(meetingId, after, limit + 1)
                    : store.before(meetingId, before, limit + 1);
            return page.thenApply(found -> new Page(found.subList(0, Math.min(limit, found.size())),
                    found.size() > limit));
        });
    }

    /** A direct chat takes no messages while either of its two people blocks the other. */
    private CompletionStage<Meeting> unblocked(Meeting meeting, String senderId) {
        if (!meeting.direct()) {
            return java.util.concurrent.CompletableFuture.completedFuture(meeting);
        }
        return blocks.requireNone(senderId, meeting.peerOf(senderId)).thenApply(none -> meeting);
    }

    private CompletionStage<Meeting> memberMeeting(String meetingId, String userId) {
        return meetings.findForMember(meetingId, userId);
    }
}
