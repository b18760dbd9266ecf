package dev.parley.signaling.meeting;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Meetings in Redis: a hash per meeting, a set of its members, a set of each user's meetings, and invite tokens
 * that expire by themselves. Membership changes touch both sets in one script so they never disagree.
 */
public final class MeetingStore {

    // KEYS[1] meeting hash, KEYS[2] members, KEYS[3] owner's meetings; ARGV: id, title, description, owner, now
    private static final String CREATE = """
            redis.call('HSET', KEYS[1], 'title', ARGV[2], 'description', ARGV[3], 'ownerId', ARGV[4],
                       'createdAt', ARGV[5], 'lastActivity', ARGV[5], 'archived', '0', 'membersCanInvite', '1')
            redis.call('SADD', KEYS[2], ARGV[4])
            redis.call('SADD', KEYS[3], ARGV[1])
            return 1
            """;

    // KEYS[1] members, KEYS[2] user's meetings, KEYS[3] meeting hash; ARGV[1] meetingId, ARGV[2] userId
    private static final String ADD_MEMBER = """
            if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
            local added = redis.call('SADD', KEYS[1], ARGV[2])
            redis.call('SADD', KEYS[2], ARGV[1])
            return added
            """;

    private static final String REMOVE_MEMBER = """
            local removed = redis.call('SREM', KEYS[1], ARGV[2])
            redis.call('SREM', KEYS[2], ARGV[1])
            return removed
            """;

    private final RedisAsyncCommands<String, String> redis;

    public MeetingStore(RedisAsyncCommands<String, String> redis) {
        this.redis = redis;
    }

    static String meetingKey(String meetingId) {
        return "parley:meeting:" + meetingId;
    }

    static String membersKey(String meetingId) {
        return "parley:meeting:" + meetingId + ":members";
    }

    static String userMeetingsKey(String userId) {
        return "parley:user:" + userId + ":meetings";
    }

    static String inviteKey(String token) {
        return "parley:invite:" + token;
    }

    public CompletionStage<Void> create(String meetingId, String title, String description, String ownerId,
                                        long now) {
        String[] keys = {meetingKey(meetingId), membersKey(meetingId), userMeetingsKey(ownerId)};
        return redis.<Long>eval(CREATE, ScriptOutputType.INTEGER, keys, meetingId, title, description, ownerId,
                Long.toString(now)).thenApply(r -> null);
    }

    public CompletionStage<Optional<Meeting>> find(String meetingId) {
        CompletableFuture<Map<String, String>> fields = redis.hgetall(meetingKey(meetingId)).toCompletableFuture();
        CompletableFuture<Set<String>> members = redis.smembers(membersKey(meetingId)).toCompletableFuture();
        return fields.thenCombine(members, (f, m) -> toMeeting(meetingId, f, m));
    }

    /** The meeting if this user is a member; not_found otherwise, exactly as for a meeting that does not exist. */
    public CompletionStage<Meeting> findForMember(String meetingId, String userId) {
        return find(meetingId).thenApply(found -> found.filter(m -> m.hasMember(userId))
                .orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "No such meeting")));
    }

    public CompletionStage<List<String>> meetingIdsOf(String userId) {
        return redis.smembers(userMeetingsKey(userId)).thenApply(ArrayList::new);
    }

    public CompletionStage<List<Meeting>> findAll(List<String> meetingIds) {
        List<CompletableFuture<Optional<Meeting>>> lookups = new ArrayList<>();
        for (String id : meetingIds) {
            lookups.add(find(id).toCompletableFuture());
        }
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                .thenApply(done -> lookups.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
    }

    public CompletionStage<List<String>> memberIds(String meetingId) {
        return redis.smembers(membersKey(meetingId)).thenApply(ArrayList::new);
    }

    public CompletionStage<Boolean> isMember(String meetingId, String userId) {
        return redis.sismember(membersKey(meetingId), userId);
    }

    public CompletionStage<Void> update(String meetingId, Map<String, String> fields) {
        if (fields.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return redis.hset(meetingKey(meetingId), fields).thenApply(r -> null);
    }

    public CompletionStage<Void> touch(String meetingId, long now) {
        return redis.hset(meetingKey(meetingId), "lastActivity", Long.toString(now)).thenApply(r -> null);
    }

    /** Adds a member; completes with true when they were not one already. */
    public CompletionStage<Boolean> addMember(String meetingId, String userId) {
        String[] keys = {membersKey(meetingId), userMeetingsKey(userId), meetingKey(meetingId)};
        return redis.<Long>eval(ADD_MEMBER, ScriptOutputType.INTEGER, keys, meetingId, userId).thenApply(r -> r == 1L);
    }

    /** Removes a member; completes with true when they were one. */
    public CompletionStage<Boolean> removeMember(String meetingId, String userId) {
        String[] keys = {membersKey(meetingId), userMeetingsKey(userId)};
        return redis.<Long>eval(REMOVE_MEMBER, ScriptOutputType.INTEGER, keys, meetingId, userId)
                .thenApply(r -> r == 1L);
    }

    public CompletionStage<Void> saveInvite(String token, String meetingId, Duration ttl) {
        return redis.set(inviteKey(token), meetingId, SetArgs.Builder.px(ttl.toMillis())).thenApply(r -> null);
    }

    public CompletionStage<Optional<String>> inviteMeeting(String token) {
        return redis.get(inviteKey(token)).thenApply(Optional::ofNullable);
    }

    private static Optional<Meeting> toMeeting(String meetingId, Map<String, String> f, Set<String> members) {
        if (f == null || f.isEmpty() || f.get("ownerId") == null) {
            return Optional.empty();
        }
        List<String> memberIds = new ArrayList<>(members);
        memberIds.sort(null);
        return Optional.of(new Meeting(meetingId, f.get("title"), f.getOrDefault("description", ""), f.get("ownerId"),
                Long.parseLong(f.getOrDefault("createdAt", "0")), Long.parseLong(f.getOrDefault("lastActivity", "0")),
                "1".equals(f.get("archived")), !"0".equals(f.get("membersCanInvite")), List.copyOf(memberIds)));
    }

}
