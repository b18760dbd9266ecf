package dev.parley.signaling.chat;

import dev.parley.signaling.protocol.ChatMessage;
import dev.parley.signaling.store.DurableWrites;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Each meeting's chat as a Redis Stream; message ids are stream ids, so they sort by time. A send is one script that
 * either finds the message already stored under the sender's client message id or appends it, so a retry never
 * duplicates; the caller acknowledges only after the script returns, i.e. once Redis has it, and (with
 * {@code parley.redis.durable-replicas}) once that many replicas have it too. A retry refreshes the dedupe key, a
 * write, so its own wait for replicas also covers the message it found.
 */
public final class ChatStore {

    /** The result of a send: the stored message and whether this call stored it (false for a retry). */
    public record Stored(ChatMessage message, boolean fresh) {
    }


    // KEYS: stream, dedupe, meeting hash, read pointers.
    // ARGV: senderId, senderName, text, clientMsgId, kind, sentAt, dedupe ttl s, max length
    private static final String SEND = """
            local existing = redis.call('GET', KEYS[2])
            if existing then
              -- A write, so that a WAIT after this retry also covers the original append (one replication stream).
              redis.call('EXPIRE', KEYS[2], ARGV[7])
              local entries = redis.call('XRANGE', KEYS[1], existing, existing)
              if #entries == 1 then
                local f = entries[1][2]
                for i = 1, #f, 2 do
                  if f[i] == 'sentAt' then return {existing, 0, f[i + 1]} end
                end
              end
              return {existing, 0, ARGV[6]}
            end
            local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[8], '*', 'senderId', ARGV[1],
                                  'senderName', ARGV[2], 'text', ARGV[3], 'clientMsgId', ARGV[4], 'kind', ARGV[5],
                                  'sentAt', ARGV[6])
            if ARGV[4] ~= '' then redis.call('SET', KEYS[2], id, 'EX', ARGV[7]) end
            redis.call('HSET', KEYS[3], 'lastActivity', ARGV[6], 'lastMessageId', id)
            if ARGV[5] == 'user' then redis.call('HSET', KEYS[4], ARGV[1], id) end
            return {id, 1, ARGV[6]}
            """;

    // KEYS[1] read pointers; ARGV[1] user, ARGV[2] message id. Moves the pointer forward only.
    private static final String MARK_READ = """
            local current = redis.call('HGET', KEYS[1], ARGV[1])
            local function parts(id)
              local dash = string.find(id, '-')
              return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
            end
            if current then
              local cm, cs = parts(current)
              local nm, ns = parts(ARGV[2])
              if nm < cm or (nm == cm and ns <= cs) then return 0 end
            end
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            return 1
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final DurableWrites durable;
    private final Duration dedupeWindow;
    private final long maxMessages;

    public ChatStore(RedisClusterAsyncCommands<String, String> redis, DurableWrites durable, Duration dedupeWindow,
                     long maxMessages) {
        this.redis = redis;
        this.durable = durable;
        this.dedupeWindow = dedupeWindow;
        this.maxMessages = maxMessages;
    }

    /** The meeting's hash; every key here shares its hash tag, so a send touches one Redis Cluster slot. */
    private static String meetingKey(String meetingId) {
        return "parley:meeting:{" + meetingId + "}";
    }

    static String streamKey(String meetingId) {
        return meetingKey(meetingId) + ":chat";
    }

    static String readKey(String meetingId) {
        return meetingKey(meetingId) + ":read";
    }

    private static String dedupeKey(String meetingId, String senderId, String clientMsgId) {
        return meetingKey(meetingId) + ":sent:" + senderId + ":" + clientMsgId;
    }

    public CompletionStage<Stored> append(String meetingId, String senderId, String senderName, String text,
                                          String clientMsgId, boolean system, long now) {
        String[] keys = {streamKey(meetingId), dedupeKey(meetingId, senderId, clientMsgId == null ? "" : clientMsgId),
                meetingKey(meetingId), readKey(meetingId)};
        // A user's message is acknowledged to its sender: it fails rather than be promised before replicas hold it.
        // The server's own notices go on regardless.
        DurableWrites.Shortfall shortfall = system ? DurableWrites.Shortfall.COUNT : DurableWrites.Shortfall.FAIL;
        return durable.<List<Object>>eval("chat", shortfall, SEND, ScriptOutputType.MULTI, keys, senderId, senderName,
                text, clientMsgId == null ? "" : clientMsgId, system ? "system" : "user", Long.toString(now),
                Long.toString(dedupeWindow.toSeconds()), Long.toString(maxMessages)).thenApply(result -> {
            String id = (String) result.get(0);
            boolean fresh = ((Long) result.get(1)) == 1L;
            long sentAt = Long.parseLong((String) result.get(2));
            return new Stored(new ChatMessage(id, system ? null : senderId, senderName, text, sentAt, clientMsgId,
                    system), fresh);
        });
    }

    /** Up to {@code limit} messages older than {@code before} (or the newest), newest first. */
    public CompletionStage<List<ChatMessage>> before(String meetingId, String before, int limit) {
        Range<String> range = before == null ? Range.create("-", "+")
                : Range.from(Range.Boundary.including("-"), Range.Boundary.excluding(before));
        return redis.xrevrange(streamKey(meetingId), range, Limit.from(limit))
                .thenApply(entries -> entries.stream().map(ChatStore::toMessage).toList());
    }

    /** Up to {@code limit} messages newer than {@code after}, oldest first. */
    public CompletionStage<List<ChatMessage>> after(String meetingId, String after, int limit) {
        Range<String> range = Range.from(Range.Boundary.excluding(after), Range.Boundary.including("+"));
        return redis.xrange(streamKey(meetingId), range, Limit.from(limit))
                .thenApply(entries -> entries.stream().map(ChatStore::toMessage).toList());
    }

    public CompletionStage<Optional<ChatMessage>> latest(String meetingId) {
        return before(meetingId, null, 1).thenApply(list -> list.stream().findFirst());
    }

    /** Messages from others after the user's read pointer, counted up to {@code cap}. */
    public CompletionStage<Integer> unread(String meetingId, String userId, int cap) {
        return redis.hget(readKey(meetingId), userId).thenCompose(readId -> {
            Range<String> range = readId == null ? Range.create("-", "+")
                    : Range.from(Range.Boundary.excluding(readId), Range.Boundary.including("+"));
            return redis.xrange(streamKey(meetingId), range, Limit.from(cap));
        }).thenApply(entries -> (int) entries.stream()
                .filter(e -> !userId.equals(e.getBody().get("senderId")) && "user".equals(e.getBody().get("kind")))
                .count());
    }

    public CompletionStage<Boolean> markRead(String meetingId, String userId, String messageId) {
        return redis.<Long>eval(MARK_READ, ScriptOutputType.INTEGER, new String[]{readKey(meetingId)}, userId,
                messageId).thenApply(r -> r == 1L);
    }

    private static ChatMessage toMessage(StreamMessage<String, String> entry) {
        Map<String, String> f = entry.getBody();
        boolean system = "system".equals(f.get("kind"));
        String clientMsgId = f.get("clientMsgId");
        return new ChatMessage(entry.getId(), system ? null : f.get("senderId"), f.get("senderName"), f.get("text"),
                Long.parseLong(f.getOrDefault("sentAt", "0")), clientMsgId == null || clientMsgId.isEmpty()
                ? null : clientMsgId, system);
    }
}
