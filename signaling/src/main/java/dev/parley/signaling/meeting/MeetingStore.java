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
 * Meetings in Redis: a hash per meeting, a set of its members, the users its owner removed, its invite links (a hash
 * per link that expires by itself, indexed per meeting by expiry), and a set of each user's meetings. Every key of one
 * meeting carries the meeting id as its hash tag and every key of one user the user id, so each script touches one
 * Redis Cluster slot. A meeting's own keys change together in one script, so they never disagree and a check cannot
 * race its write.
 * <p>
 * A user's set of meetings lives with the user, so it changes in a step of its own. The meeting's member set is the
 * truth and the user's set an index of it: a user is indexed before they become a member and unindexed after they
 * stop being one, and every read through the index keeps only meetings whose member set names the user. A step cut
 * short (a gateway crash, Redis unreachable between the two) so leaves at most an index entry too many, which readers
 * skip and counts against the user's meeting cap until the member leaves or is added again; never a membership that
 * the user's list does not show. One race is left: the same person removed and added back at the same instant can
 * end a member whose index entry the removal's second step took away, until they are next added or removed.
 */
public final class MeetingStore {

    // KEYS[1] meeting hash, KEYS[2] members; ARGV: title, description, owner, now
    private static final String CREATE = """
            redis.call('HSET', KEYS[1], 'title', ARGV[1], 'description', ARGV[2], 'ownerId', ARGV[3],
                       'createdAt', ARGV[4], 'lastActivity', ARGV[4], 'archived', '0', 'membersCanInvite', '1')
            redis.call('SADD', KEYS[2], ARGV[3])
            return 1
            """;

    // KEYS[1] meeting hash, KEYS[2] members; ARGV: the person who opens it, the other, now. Returns {made now 1/0,
    // opener is a member 1/0, other is a member 1/0}.
    private static final String CREATE_DIRECT = """
            local made = 0
            if redis.call('EXISTS', KEYS[1]) == 0 then
              redis.call('HSET', KEYS[1], 'kind', 'direct', 'title', '', 'description', '', 'ownerId', ARGV[1],
                         'createdAt', ARGV[3], 'lastActivity', ARGV[3], 'archived', '0', 'membersCanInvite', '0')
              redis.call('SADD', KEYS[2], ARGV[1], ARGV[2])
              made = 1
            end
            return {made, redis.call('SISMEMBER', KEYS[2], ARGV[1]), redis.call('SISMEMBER', KEYS[2], ARGV[2])}
            """;

    /** What adding a member came to. */
    public enum Added { ADDED, ALREADY, NO_MEETING, LIMIT, REMOVED }

    /** What accepting an invite came to. */
    public enum Accepted { JOINED, ALREADY, INVALID, ARCHIVED, REMOVED, FULL, LIMIT }

    /** A stored invite link. */
    public record StoredInvite(String token, String meetingId, String createdBy, long createdAt, long expiresAt,
                               int maxUses, int uses) {
    }

    // KEYS[1] the user's meetings; ARGV[1] meetingId, ARGV[2] the user's meeting cap. Indexes the meeting for the
    // user ahead of the membership: 1 indexed now, 0 indexed already, -1 the user is at the cap.
    private static final String RESERVE = """
            if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
            if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
            redis.call('SADD', KEYS[1], ARGV[1])
            return 1
            """;

    // KEYS[1] members, KEYS[2] meeting hash, KEYS[3] removed users; ARGV[1] userId, ARGV[2] '1' when the owner adds,
    // ARGV[3] '1' to only say what adding would come to. 1 added, 0 already, -1 no meeting, -3 removed.
    private static final String ADD_MEMBER = """
            if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
            if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
            if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
              if ARGV[2] ~= '1' then return -3 end
              if ARGV[3] == '1' then return 1 end
              redis.call('SREM', KEYS[3], ARGV[1])
            end
            if ARGV[3] == '1' then return 1 end
            redis.call('SADD', KEYS[1], ARGV[1])
            return 1
            """;

    // KEYS[1] members, KEYS[2] removed users, KEYS[3] meeting's invites; ARGV[1] userId, ARGV[2] '1' when the owner
    // removes them, ARGV[3] the meeting's invite key prefix. The links the user created go with them.
    private static final String REMOVE_MEMBER = """
            local removed = redis.call('SREM', KEYS[1], ARGV[1])
            if ARGV[2] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) end
            for _, token in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
              local key = ARGV[3] .. token
              if redis.call('HGET', key, 'createdBy') == ARGV[1] then
                redis.call('DEL', key)
                redis.call('ZREM', KEYS[3], token)
              end
            end
            return removed
            """;

    // KEYS[1] meeting's invites; ARGV[1] owner, ARGV[2] the meeting's invite key prefix. Drops the links non-owners
    // created.
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

    // KEYS[1] invite, KEYS[2] meeting hash, KEYS[3] members, KEYS[4] removed users, KEYS[5] meeting's invites;
    // ARGV[1] token, ARGV[2] joiner, ARGV[3] now, ARGV[4] member cap, ARGV[5] meetingId, ARGV[6] '1' to only say
    // what accepting would come to. The inviter's right is checked as it stands now.
    private static final String ACCEPT_INVITE = """
            if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 'invalid' end
            local invite = redis.call('HMGET', KEYS[1], 'meetingId', 'createdBy', 'expiresAt', 'maxUses', 'uses')
            if invite[1] ~= ARGV[5] or tonumber(invite[3]) <= tonumber(ARGV[3]) then return 'invalid' end
            if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1 then return 'already' end
            local meeting = redis.call('HMGET', KEYS[2], 'ownerId', 'archived', 'membersCanInvite')
            if not meeting[1] then return 'invalid' end
            if redis.call('SISMEMBER', KEYS[3], invite[2]) == 0 then return 'invalid' end
            if invite[2] ~= meeting[1] and meeting[3] == '0' then return 'invalid' end
            if tonumber(invite[5]) >= tonumber(invite[4]) then return 'invalid' end
            if meeting[2] == '1' then return 'archived' end
            if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1 then return 'removed' end
            if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[4]) then return 'full' end
            if ARGV[6] == '1' then return 'joined' end
            redis.call('SADD', KEYS[3], ARGV[2])
            if redis.call('HINCRBY', KEYS[1], 'uses', 1) >= tonumber(invite[4]) then
              redis.call('DEL', KEYS[1])
              redis.call('ZREM', KEYS[5], ARGV[1])
            end
            return 'joined'
            """;

    private final RedisClusterAsyncCommands<String, String> redis;

    public MeetingStore(RedisClusterAsyncCommands<String, String> redis) {
        this.redis = redis;
    }

    static String meetingKey(String meetingId) {
        return "parley:meeting:{" + meetingId + "}";
    }

    static String membersKey(String meetingId) {
        return meetingKey(meetingId) + ":members";
    }

    static String userMeetingsKey(String userId) {
        return "parley:user:{" + userId + "}:meetings";
    }

    /** Where a meeting's invite links are kept: the prefix of each link's hash, beside the meeting's other keys. */
    private static String invitePrefix(String meetingId) {
        return meetingKey(meetingId) + ":invite:";
    }

    static String inviteKey(String meetingId, String token) {
        return invitePrefix(meetingId) + token;
    }

    /** Which meeting a link is for, found from the token alone; lives as long as the link may. */
    static String invitePointerKey(String token) {
        return "parley:invite:" + token;
    }

    static String invitesKey(String meetingId) {
        return meetingKey(meetingId) + ":invites";
    }

    static String removedKey(String meetingId) {
        return meetingKey(meetingId) + ":removed";
    }

    public CompletionStage<Void> create(String meetingId, String title, String description, String ownerId,
                                        long now) {
        return redis.sadd(userMeetingsKey(ownerId), meetingId).thenCompose(indexed ->
                redis.<Long>eval(CREATE, ScriptOutputType.INTEGER,
                        new String[]{meetingKey(meetingId), membersKey(meetingId)}, title, description, ownerId,
                        Long.toString(now))).thenApply(r -> null);
    }

    /**
     * The direct chat {@code meetingId} of two people, made with both as members unless it exists; completes with
     * whether it was made now. One step for the meeting, so two people opening it at once get the one chat; each of
     * the two who is a member is then indexed (again, which also mends an index a cut-short step left behind).
     */
    public CompletionStage<Boolean> createDirect(String meetingId, String openedBy, String other, long now) {
        String[] keys = {meetingKey(meetingId), membersKey(meetingId)};
        return redis.sadd(userMeetingsKey(openedBy), meetingId)
                .thenCompose(indexed -> redis.sadd(userMeetingsKey(other), meetingId))
                .thenCompose(indexed -> redis.<List<Long>>eval(CREATE_DIRECT, ScriptOutputType.MULTI, keys, openedBy,
                        other, Long.toString(now)))
                .thenCompose(result -> unindexUnless(result.get(1) == 1L, openedBy, meetingId)
                        .thenCompose(done -> unindexUnless(result.get(2) == 1L, other, meetingId))
                        .thenApply(done -> result.get(0) == 1L));
    }

    private CompletionStage<Void> unindexUnless(boolean member, String userId, String meetingId) {
        return member ? CompletableFuture.completedFuture(null) : unindex(userId, meetingId);
    }

    /** Drops the meeting from the user's index (after the meeting side said they are not a member). */
    private CompletionStage<Void> unindex(String userId, String meetingId) {
        return redis.srem(userMeetingsKey(userId), meetingId).thenApply(r -> null);
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

    /** The ids in the user's index of meetings: their meetings, and perhaps one a cut-short step left behind. */
    public CompletionStage<List<String>> meetingIdsOf(String userId) {
        return redis.smembers(userMeetingsKey(userId)).thenApply(ArrayList::new);
    }

    /** The meetings the user is a member of. */
    public CompletionStage<List<Meeting>> meetingsOf(String userId) {
        return meetingIdsOf(userId).thenCompose(this::findAll)
                .thenApply(found -> found.stream().filter(m -> m.hasMember(userId)).toList());
    }

    public CompletionStage<List<Meeting>> findAll(List<String> meetingIds) {
        List<CompletableFuture<Optional<Meeting>>> lookups = new ArrayList<>();
        for (String id : meetingIds) {
            lookups.add(find(id).toCompletableFuture());
        }
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                .thenApply(done -> lookups.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
    }

    /**
     * Those of {@code candidates} who share at least one meeting with the user, read from the member sets of the
     * user's meetings (one question per meeting, every candidate at once).
     */
    public CompletionStage<List<String>> sharingAMeeting(String userId, List<String> candidates) {
        if (candidates.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        String[] asked = new String[candidates.size() + 1];
        asked[0] = userId;
        for (int i = 0; i < candidates.size(); i++) {
            asked[i + 1] = candidates.get(i);
        }
        return meetingIdsOf(userId).thenCompose(meetingIds -> {
            List<CompletableFuture<List<Boolean>>> answers = new ArrayList<>();
            for (String meetingId : meetingIds) {
                answers.add(redis.smismember(membersKey(meetingId), asked).toCompletableFuture());
            }
            return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
                boolean[] shared = new boolean[candidates.size()];
                for (CompletableFuture<List<Boolean>> answer : answers) {
                    List<Boolean> members = answer.join();
                    if (!members.get(0)) {
                        continue;
                    }
                    for (int i = 0; i < shared.length; i++) {
                        shared[i] |= members.get(i + 1);
                    }
                }
                List<String> sharing = new ArrayList<>();
                for (int i = 0; i < shared.length; i++) {
                    if (shared[i]) {
                        sharing.add(candidates.get(i));
                    }
                }
                return List.copyOf(sharing);
            });
        });
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
        String[] keys = {membersKey(meetingId), meetingKey(meetingId), removedKey(meetingId)};
        String owner = byOwner ? "1" : "0";
        return reserve(userId, meetingId, maxMeetingsOfUser).thenCompose(reserved -> {
            // At the cap, whatever else the meeting would say comes first, as it did when this was one step.
            boolean atCap = reserved == -1L;
            return redis.<Long>eval(ADD_MEMBER, ScriptOutputType.INTEGER, keys, userId, owner, atCap ? "1" : "0")
                    .thenCompose(r -> {
                        Added added = switch (r.intValue()) {
                            case 1 -> atCap ? Added.LIMIT : Added.ADDED;
                            case 0 -> Added.ALREADY;
                            case -3 -> Added.REMOVED;
                            default -> Added.NO_MEETING;
                        };
                        boolean undo = reserved == 1L && added != Added.ADDED && added != Added.ALREADY;
                        return undo ? unindex(userId, meetingId).thenApply(done -> added)
                                : CompletableFuture.completedFuture(added);
                    });
        });
    }

    private CompletionStage<Long> reserve(String userId, String meetingId, int maxMeetingsOfUser) {
        return redis.eval(RESERVE, ScriptOutputType.INTEGER, new String[]{userMeetingsKey(userId)}, meetingId,
                Integer.toString(maxMeetingsOfUser));
    }

    /**
     * Removes a member and the invite links they created; completes with true when they were one. When the owner
     * removes them ({@code byOwner}) they are marked, so no invite link lets them back in.
     */
    public CompletionStage<Boolean> removeMember(String meetingId, String userId, boolean byOwner) {
        String[] keys = {membersKey(meetingId), removedKey(meetingId), invitesKey(meetingId)};
        return redis.<Long>eval(REMOVE_MEMBER, ScriptOutputType.INTEGER, keys, userId, byOwner ? "1" : "0",
                invitePrefix(meetingId)).thenCompose(r -> r == 1L
                ? unindex(userId, meetingId).thenApply(done -> true)
                : CompletableFuture.completedFuture(false));
    }

    /** Drops the invite links of everyone but the owner (members may no longer invite). */
    public CompletionStage<Void> dropMembersInvites(String meetingId, String ownerId) {
        return redis.<Long>eval(DROP_MEMBERS_INVITES, ScriptOutputType.INTEGER, new String[]{invitesKey(meetingId)},
                ownerId, invitePrefix(meetingId)).thenApply(r -> null);
    }

    /** Stores an invite link; completes with false when the meeting has {@code maxLive} live links already. */
    public CompletionStage<Boolean> saveInvite(StoredInvite invite, int maxLive) {
        String[] keys = {inviteKey(invite.meetingId(), invite.token()), invitesKey(invite.meetingId())};
        long ttl = Math.max(1, invite.expiresAt() - invite.createdAt());
        String pointer = invitePointerKey(invite.token());
        // The pointer first: a stored link can always be found from its token.
        return redis.set(pointer, invite.meetingId(), io.lettuce.core.SetArgs.Builder.px(ttl))
                .thenCompose(ok -> redis.<Long>eval(SAVE_INVITE, ScriptOutputType.INTEGER, keys, invite.token(),
                        invite.meetingId(), invite.createdBy(), Long.toString(invite.createdAt()),
                        Long.toString(invite.expiresAt()), Integer.toString(invite.maxUses()), Long.toString(ttl),
                        Integer.toString(maxLive)))
                .thenCompose(r -> r == 1L ? CompletableFuture.completedFuture(true)
                        : redis.del(pointer).thenApply(n -> false));
    }

    /** The meeting an invite link is for, if the link exists. */
    public CompletionStage<Optional<String>> inviteMeeting(String token) {
        return redis.get(invitePointerKey(token)).thenCompose(meetingId -> meetingId == null
                ? CompletableFuture.completedFuture(Optional.<String>empty())
                : redis.type(inviteKey(meetingId, token)).thenApply(type -> "hash".equals(type)
                        ? Optional.of(meetingId) : Optional.<String>empty()));
    }

    /** The meeting's live invite links, soonest to expire first. */
    public CompletionStage<List<StoredInvite>> invites(String meetingId, long now) {
        return redis.zrangebyscore(invitesKey(meetingId), Range.create((double) now, Double.POSITIVE_INFINITY))
                .thenCompose(tokens -> {
                    List<CompletableFuture<Optional<StoredInvite>>> lookups = new ArrayList<>();
                    for (String token : tokens) {
                        lookups.add(redis.hgetall(inviteKey(meetingId, token))
                                .thenApply(fields -> toInvite(token, fields)).toCompletableFuture());
                    }
                    return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(done ->
                            lookups.stream().map(CompletableFuture::join).flatMap(Optional::stream)
                                    .filter(invite -> invite.meetingId().equals(meetingId)).toList());
                });
    }

    /** Revokes one of the meeting's links; completes with false when there is no such live link. */
    public CompletionStage<Boolean> revokeInvite(String meetingId, String token) {
        String[] keys = {inviteKey(meetingId, token), invitesKey(meetingId)};
        return redis.<Long>eval(REVOKE_INVITE, ScriptOutputType.INTEGER, keys, token, meetingId)
                .thenCompose(r -> r == 1L ? redis.del(invitePointerKey(token)).thenApply(n -> true)
                        : CompletableFuture.completedFuture(false));
    }

    /**
     * Joins a user through an invite link: the user's index first (refused at their meeting cap), then every
     * condition of the meeting checked and the use counted in one step; the index entry is taken back when the join
     * is refused.
     */
    public CompletionStage<Accepted> acceptInvite(String token, String meetingId, String userId, long now,
                                                  int maxMembers, int maxMeetingsOfUser) {
        String[] keys = {inviteKey(meetingId, token), meetingKey(meetingId), membersKey(meetingId),
                removedKey(meetingId), invitesKey(meetingId)};
        return reserve(userId, meetingId, maxMeetingsOfUser).thenCompose(reserved -> {
            boolean atCap = reserved == -1L;
            return redis.<String>eval(ACCEPT_INVITE, ScriptOutputType.VALUE, keys, token, userId, Long.toString(now),
                    Integer.toString(maxMembers), meetingId, atCap ? "1" : "0").thenCompose(r -> {
                Accepted accepted = Accepted.valueOf(r.toUpperCase(java.util.Locale.ROOT));
                if (atCap && accepted == Accepted.JOINED) {
                    accepted = Accepted.LIMIT;
                }
                Accepted outcome = accepted;
                boolean undo = reserved == 1L && outcome != Accepted.JOINED && outcome != Accepted.ALREADY;
                return undo ? unindex(userId, meetingId).thenApply(done -> outcome)
                        : CompletableFuture.completedFuture(outcome);
            });
        });
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
