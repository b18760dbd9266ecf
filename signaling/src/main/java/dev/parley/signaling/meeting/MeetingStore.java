package dev.parley.signaling.meeting;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.Range;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Meetings in Redis: a hash per meeting, a set of its members, a set of each user's meetings, the users its owner
 * removed, and its invite links (a hash per link that expires by itself, indexed per meeting by expiry).
 * Membership changes touch every key involved in one script, so they never disagree and a check cannot race its
 * write.
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

    // KEYS[1] meeting hash, KEYS[2] members, KEYS[3] and KEYS[4] each person's meetings; ARGV: id, the person who
    // opens it, the other, now. Returns 1 when it was made now, 0 when it existed.
    private static final String CREATE_DIRECT = """
            if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
            redis.call('HSET', KEYS[1], 'kind', 'direct', 'title', '', 'description', '', 'ownerId', ARGV[2],
                       'createdAt', ARGV[4], 'lastActivity', ARGV[4], 'archived', '0', 'membersCanInvite', '0')
            redis.call('SADD', KEYS[2], ARGV[2], ARGV[3])
            redis.call('SADD', KEYS[3], ARGV[1])
            redis.call('SADD', KEYS[4], ARGV[1])
            return 1
            """;

    /** What adding a member came to. */
    public enum Added { ADDED, ALREADY, NO_MEETING, LIMIT, REMOVED }

    /** What accepting an invite came to. */
    public enum Accepted { JOINED, ALREADY, INVALID, ARCHIVED, REMOVED, FULL, LIMIT }

    /** A stored invite link. */
    public record StoredInvite(String token, String meetingId, String createdBy, long createdAt, long expiresAt,
                               int maxUses, int uses) {
    }

    // KEYS[1] members, KEYS[2] user's meetings, KEYS[3] meeting hash, KEYS[4] removed users;
    // ARGV[1] meetingId, ARGV[2] userId, ARGV[3] the user's meeting cap, ARGV[4] '1' when the owner adds
    private static final String ADD_MEMBER = """
            if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
            if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then return 0 end
            if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then
              if ARGV[4] ~= '1' then return -3 end
              redis.call('SREM', KEYS[4], ARGV[2])
            end
            if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -2 end
            redis.call('SADD', KEYS[1], ARGV[2])
            redis.call('SADD', KEYS[2], ARGV[1])
            return 1
            """;

    // KEYS[1] members, KEYS[2] user's meetings, KEYS[3] removed users, KEYS[4] meeting's invites;
    // ARGV[1] meetingId, ARGV[2] userId, ARGV[3] '1' when the owner removes them, ARGV[4] invite key prefix.
    // The links the user created go with them.
    private static final String REMOVE_MEMBER = """
            local removed = redis.call('SREM', KEYS[1], ARGV[2])
            redis.call('SREM', KEYS[2], ARGV[1])
            if ARGV[3] == '1' then redis.call('SADD', KEYS[3], ARGV[2]) end
            for _, token in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
              local key = ARGV[4] .. token
              if redis.call('HGET', key, 'createdBy') == ARGV[2] then
                redis.call('DEL', key)
                redis.call('ZREM', KEYS[4], token)
              end
            end
            return removed
            """;

    // KEYS[1] meeting's invites; ARGV[1] owner, ARGV[2] invite key prefix. Drops the links non-owners created.
    private static final String DROP_MEMBERS_INVITES = """
            for _, token in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
              local key = ARGV[2] .. token
              if redis.call('HGET', key, 'createdBy') ~= ARGV[1] then
                redis.call('DEL', key)
                redis.call('ZREM', KEYS[1], token)
              end
            end
            return 1
            """;

    // KEYS[1] invite, KEYS[2] meeting's invites; ARGV: token, meetingId, createdBy, now, expiresAt, maxUses,
    // ttl ms, live cap. Returns 0 when the meeting has as many live links as it may.
    private static final String SAVE_INVITE = """
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
            if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[8]) then return 0 end
            redis.call('HSET', KEYS[1], 'meetingId', ARGV[2], 'createdBy', ARGV[3], 'createdAt', ARGV[4],
                       'expiresAt', ARGV[5], 'maxUses', ARGV[6], 'uses', '0')
            redis.call('PEXPIRE', KEYS[1], ARGV[7])
            redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
            redis.call('PEXPIRE', KEYS[2], ARGV[7])
            return 1
            """;

    // KEYS[1] invite, KEYS[2] meeting's invites; ARGV[1] token, ARGV[2] meetingId
    private static final String REVOKE_INVITE = """
            if redis.call('TYPE', KEYS[1]).ok ~= 'hash' or redis.call('HGET', KEYS[1], 'meetingId') ~= ARGV[2] then
              return 0
            end
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[1])
            return 1
            """;

    // KEYS[1] invite, KEYS[2] meeting hash, KEYS[3] members, KEYS[4] joiner's meetings, KEYS[5] removed users,
    // KEYS[6] meeting's invites; ARGV[1] token, ARGV[2] joiner, ARGV[3] now, ARGV[4] member cap,
    // ARGV[5] joiner's meeting cap, ARGV[6] meetingId. The inviter's right is checked as it stands now.
    private static final String ACCEPT_INVITE = """
            if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 'invalid' end
            local invite = redis.call('HMGET', KEYS[1], 'meetingId', 'createdBy', 'expiresAt', 'maxUses', 'uses')
            if invite[1] ~= ARGV[6] or tonumber(invite[3]) <= tonumber(ARGV[3]) then return 'invalid' end
            if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1 then return 'already' end
            local meeting = redis.call('HMGET', KEYS[2], 'ownerId', 'archived', 'membersCanInvite')
            if not meeting[1] then return 'invalid' end
            if redis.call('SISMEMBER', KEYS[3], invite[2]) == 0 then return 'invalid' end
            if invite[2] ~= meeting[1] and meeting[3] == '0' then return 'invalid' end
            if tonumber(invite[5]) >= tonumber(invite[4]) then return 'invalid' end
            if meeting[2] == '1' then return 'archived' end
            if redis.call('SISMEMBER', KEYS[5], ARGV[2]) == 1 then return 'removed' end
            if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[4]) then return 'full' end
            if redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[5]) then return 'limit' end
            redis.call('SADD', KEYS[3], ARGV[2])
            redis.call('SADD', KEYS[4], ARGV[6])
            if redis.call('HINCRBY', KEYS[1], 'uses', 1) >= tonumber(invite[4]) then
              redis.call('DEL', KEYS[1])
              redis.call('ZREM', KEYS[6], ARGV[1])
            end
            return 'joined'
            """;

    // KEYS[1] the user's meetings; ARGV: user key prefix, then the candidates. Returns those sharing a meeting.
    private static final String SHARING = """
            local shared = {}
            for i = 2, #ARGV do
              local theirs = ARGV[1] .. ARGV[i] .. ':meetings'
              if redis.call('SINTERCARD', 2, KEYS[1], theirs, 'LIMIT', 1) > 0 then table.insert(shared, ARGV[i]) end
            end
            return shared
            """;

    private final RedisClusterAsyncCommands<String, String> redis;

    public MeetingStore(RedisClusterAsyncCommands<String, String> redis) {
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

    private static final String INVITE_PREFIX = "parley:invite:";

    static String inviteKey(String token) {
        return INVITE_PREFIX + token;
    }

    static String invitesKey(String meetingId) {
        return "parley:meeting:" + meetingId + ":invites";
    }

    static String removedKey(String meetingId) {
        return "parley:meeting:" + meetingId + ":removed";
    }

    public CompletionStage<Void> create(String meetingId, String title, String description, String ownerId,
                                        long now) {
        String[] keys = {meetingKey(meetingId), membersKey(meetingId), userMeetingsKey(ownerId)};
        return redis.<Long>eval(CREATE, ScriptOutputType.INTEGER, keys, meetingId, title, description, ownerId,
                Long.toString(now)).thenApply(r -> null);
    }

    /**
     * The direct chat {@code meetingId} of two people, made with both as members unless it exists; completes with
     * whether it was made now. One step, so two people opening it at once get the one chat.
     */
    public CompletionStage<Boolean> createDirect(String meetingId, String openedBy, String other, long now) {
        String[] keys = {meetingKey(meetingId), membersKey(meetingId), userMeetingsKey(openedBy),
                userMeetingsKey(other)};
        return redis.<Long>eval(CREATE_DIRECT, ScriptOutputType.INTEGER, keys, meetingId, openedBy, other,
                Long.toString(now)).thenApply(r -> r == 1L);
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

    /** Those of {@code candidates} who share at least one meeting with the user. */
    public CompletionStage<List<String>> sharingAMeeting(String userId, List<String> candidates) {
        if (candidates.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        String[] args = new String[candidates.size() + 1];
        args[0] = "parley:user:";
        for (int i = 0; i < candidates.size(); i++) {
            args[i + 1] = candidates.get(i);
        }
        return redis.<List<String>>eval(SHARING, ScriptOutputType.MULTI, new String[]{userMeetingsKey(userId)}, args)
                .thenApply(List::copyOf);
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

    /**
     * Adds a member unless they are in {@code maxMeetingsOfUser} meetings already. A user the owner removed comes
     * back only when the owner adds them ({@code byOwner}), which clears the mark.
     */
    public CompletionStage<Added> addMember(String meetingId, String userId, int maxMeetingsOfUser, boolean byOwner) {
        String[] keys = {membersKey(meetingId), userMeetingsKey(userId), meetingKey(meetingId), removedKey(meetingId)};
        return redis.<Long>eval(ADD_MEMBER, ScriptOutputType.INTEGER, keys, meetingId, userId,
                Integer.toString(maxMeetingsOfUser), byOwner ? "1" : "0").thenApply(r -> switch (r.intValue()) {
                    case 1 -> Added.ADDED;
                    case 0 -> Added.ALREADY;
                    case -2 -> Added.LIMIT;
                    case -3 -> Added.REMOVED;
                    default -> Added.NO_MEETING;
                });
    }

    /**
     * Removes a member and the invite links they created; completes with true when they were one. When the owner
     * removes them ({@code byOwner}) they are marked, so no invite link lets them back in.
     */
    public CompletionStage<Boolean> removeMember(String meetingId, String userId, boolean byOwner) {
        String[] keys = {membersKey(meetingId), userMeetingsKey(userId), removedKey(meetingId), invitesKey(meetingId)};
        return redis.<Long>eval(REMOVE_MEMBER, ScriptOutputType.INTEGER, keys, meetingId, userId,
                byOwner ? "1" : "0", INVITE_PREFIX).thenApply(r -> r == 1L);
    }

    /** Drops the invite links of everyone but the owner (members may no longer invite). */
    public CompletionStage<Void> dropMembersInvites(String meetingId, String ownerId) {
        return redis.<Long>eval(DROP_MEMBERS_INVITES, ScriptOutputType.INTEGER, new String[]{invitesKey(meetingId)},
                ownerId, INVITE_PREFIX).thenApply(r -> null);
    }

    /** Stores an invite link; completes with false when the meeting has {@code maxLive} live links already. */
    public CompletionStage<Boolean> saveInvite(StoredInvite invite, int maxLive) {
        String[] keys = {inviteKey(invite.token()), invitesKey(invite.meetingId())};
        long ttl = Math.max(1, invite.expiresAt() - invite.createdAt());
        return redis.<Long>eval(SAVE_INVITE, ScriptOutputType.INTEGER, keys, invite.token(), invite.meetingId(),
                invite.createdBy(), Long.toString(invite.createdAt()), Long.toString(invite.expiresAt()),
                Integer.toString(invite.maxUses()), Long.toString(ttl), Integer.toString(maxLive))
                .thenApply(r -> r == 1L);
    }

    /** The meeting an invite link is for, if the link exists. */
    public CompletionStage<Optional<String>> inviteMeeting(String token) {
        String key = inviteKey(token);
        return redis.type(key).thenCompose(type -> "hash".equals(type)
                ? redis.hget(key, "meetingId").thenApply(Optional::ofNullable)
                : CompletableFuture.completedFuture(Optional.empty()));
    }

    /** The meeting's live invite links, soonest to expire first. */
    public CompletionStage<List<StoredInvite>> invites(String meetingId, long now) {
        return redis.zrangebyscore(invitesKey(meetingId), Range.create((double) now, Double.POSITIVE_INFINITY))
                .thenCompose(tokens -> {
                    List<CompletableFuture<Optional<StoredInvite>>> lookups = new ArrayList<>();
                    for (String token : tokens) {
                        lookups.add(redis.hgetall(inviteKey(token))
                                .thenApply(fields -> toInvite(token, fields)).toCompletableFuture());
                    }
                    return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(done ->
                            lookups.stream().map(CompletableFuture::join).flatMap(Optional::stream)
                                    .filter(invite -> invite.meetingId().equals(meetingId)).toList());
                });
    }

    /** Revokes one of the meeting's links; completes with false when there is no such live link. */
    public CompletionStage<Boolean> revokeInvite(String meetingId, String token) {
        String[] keys = {inviteKey(token), invitesKey(meetingId)};
        return redis.<Long>eval(REVOKE_INVITE, ScriptOutputType.INTEGER, keys, token, meetingId)
                .thenApply(r -> r == 1L);
    }

    /** Joins a user through an invite link, every condition checked and the use counted in one step. */
    public CompletionStage<Accepted> acceptInvite(String token, String meetingId, String userId, long now,
                                                  int maxMembers, int maxMeetingsOfUser) {
        String[] keys = {inviteKey(token), meetingKey(meetingId), membersKey(meetingId), userMeetingsKey(userId),
                removedKey(meetingId), invitesKey(meetingId)};
        return redis.<String>eval(ACCEPT_INVITE, ScriptOutputType.VALUE, keys, token, userId, Long.toString(now),
                Integer.toString(maxMembers), Integer.toString(maxMeetingsOfUser), meetingId)
                .thenApply(r -> Accepted.valueOf(r.toUpperCase(java.util.Locale.ROOT)));
    }

    private static Optional<StoredInvite> toInvite(String token, Map<String, String> f) {
        if (f == null || f.get("meetingId") == null) {
            return Optional.empty();
        }
        return Optional.of(new StoredInvite(token, f.get("meetingId"), f.get("createdBy"),
                Long.parseLong(f.getOrDefault("createdAt", "0")), Long.parseLong(f.getOrDefault("expiresAt", "0")),
                Integer.parseInt(f.getOrDefault("maxUses", "1")), Integer.parseInt(f.getOrDefault("uses", "0"))));
    }

    private static Optional<Meeting> toMeeting(String meetingId, Map<String, String> f, Set<String> members) {
        if (f == null || f.isEmpty() || f.get("ownerId") == null) {
            return Optional.empty();
        }
        List<String> memberIds = new ArrayList<>(members);
        memberIds.sort(null);
        return Optional.of(new Meeting(meetingId, f.get("title"), f.getOrDefault("description", ""), f.get("ownerId"),
                Long.parseLong(f.getOrDefault("createdAt", "0")), Long.parseLong(f.getOrDefault("lastActivity", "0")),
                "1".equals(f.get("archived")), !"0".equals(f.get("membersCanInvite")), List.copyOf(memberIds),
                "direct".equals(f.get("kind"))));
    }

}
