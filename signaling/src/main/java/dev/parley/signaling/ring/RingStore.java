package dev.parley.signaling.ring;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Rings in Redis, shared by every gateway. A ring is a hash that starts {@code ringing} and changes state exactly
 * once, inside a script: of an accept and a cancel sent at the same instant, whichever Redis runs first wins and the
 * other finds the ring already ended. While a ring rings, each of its two people has a slot naming it, so nobody is
 * rung by two calls at once or rings two people; the slots expire with the ring's deadline, so a gateway that died
 * mid-ring leaves nobody busy for longer than that.
 *
 * <p>Every key carries the {@code {ring}} hash tag: a script reads the ring a slot names, so they share one slot.
 */
final class RingStore {

    /** A ring as stored; {@code changed} when this call to {@link #end} is the one that ended it. */
    record Ring(String ringId, String meetingId, String callerId, String callerName, String calleeId,
                String calleeName, String media, String state, long startedAt, long deadline, boolean changed) {
    }

    /** What {@link #start} found: the ring now ringing (new or the same two people's), or why it cannot ring. */
    sealed interface Started {
        record Ringing(Ring ring, boolean fresh) implements Started {
        }

        /** The callee is being rung by, or is ringing, someone else. */
        record Busy() implements Started {
        }

        /** The caller is already ringing someone else (or being rung). */
        record CallerRinging() implements Started {
        }
    }

    // KEYS[1] the new ring, KEYS[2] caller's slot, KEYS[3] callee's slot.
    // ARGV: ringId, callerId, callerName, calleeId, calleeName, meetingId, media, now, deadline, keep ms.
    // Returns {'ringing', ringId, fresh 1/0} | {'busy'} | {'caller'}.
    private static final String START = """
            local function live(slot)
              local id = redis.call('GET', slot)
              if not id then return nil end
              local r = redis.call('HMGET', 'parley:{ring}:' .. id, 'state', 'callerId', 'calleeId')
              if r[1] ~= 'ringing' then return nil end
              return id, r[2], r[3]
            end
            local mine, c1, c2 = live(KEYS[2])
            if mine then
              if (c1 == ARGV[2] and c2 == ARGV[4]) or (c1 == ARGV[4] and c2 == ARGV[2]) then
                return {'ringing', mine, '0'}
              end
              return {'caller'}
            end
            if live(KEYS[3]) then return {'busy'} end
            redis.call('HSET', KEYS[1], 'ringId', ARGV[1], 'callerId', ARGV[2], 'callerName', ARGV[3],
              'calleeId', ARGV[4], 'calleeName', ARGV[5], 'meetingId', ARGV[6], 'media', ARGV[7],
              'state', 'ringing', 'startedAt', ARGV[8], 'deadline', ARGV[9])
            redis.call('PEXPIRE', KEYS[1], ARGV[10])
            local ttl = tonumber(ARGV[9]) - tonumber(ARGV[8])
            redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl)
            redis.call('SET', KEYS[3], ARGV[1], 'PX', ttl)
            return {'ringing', ARGV[1], '1'}
            """;

    // KEYS[1] the ring. ARGV: who (user id, or '' for the deadline), new state, now.
    // Returns {'gone'} | {'forbidden'} | {'ok', changed 1/0}; the ring then holds its final state.
    private static final String END = """
            local r = redis.call('HMGET', KEYS[1], 'callerId', 'calleeId', 'state', 'deadline', 'ringId')
            if not r[1] then return {'gone'} end
            local who, want = ARGV[1], ARGV[2]
            local party = who == r[1] or who == r[2]
            if who ~= '' and not party then return {'gone'} end
            local allowed = (who == '' and want == 'missed') or (who == r[2] and (want == 'accepted' or want == 'declined'))
              or (who == r[1] and want == 'cancelled')
            if not allowed then return {'forbidden'} end
            if r[3] ~= 'ringing' then return {'ok', '0'} end
            if want ~= 'missed' and want ~= 'cancelled' and tonumber(ARGV[3]) >= tonumber(r[4]) then want = 'missed' end
            redis.call('HSET', KEYS[1], 'state', want, 'endedAt', ARGV[3])
            for _, id in ipairs({r[1], r[2]}) do
              local slot = 'parley:{ring}:user:' .. id
              if redis.call('GET', slot) == r[5] then redis.call('DEL', slot) end
            end
            return {'ok', '1'}
            """;

    private final RedisClusterAsyncCommands<String, String> redis;

    RingStore(RedisClusterAsyncCommands<String, String> redis) {
        this.redis = redis;
    }

    static String ringKey(String ringId) {
        return "parley:{ring}:" + ringId;
    }

    static String slotKey(String userId) {
        return "parley:{ring}:user:" + userId;
    }

    /** Rings the callee unless either of them is already in a ring; the same two people get their ring back. */
    CompletionStage<Started> start(String ringId, String callerId, String callerName, String calleeId,
                                   String calleeName, String meetingId, String media, long now, long deadline,
                                   long keepMillis) {
        String[] keys = {ringKey(ringId), slotKey(callerId), slotKey(calleeId)};
        return redis.<List<Object>>eval(START, ScriptOutputType.MULTI, keys, ringId, callerId, callerName, calleeId,
                calleeName, meetingId, media, Long.toString(now), Long.toString(deadline), Long.toString(keepMillis))
                .thenCompose(result -> switch ((String) result.get(0)) {
                    case "busy" -> java.util.concurrent.CompletableFuture.completedFuture(new Started.Busy());
                    case "caller" -> java.util.concurrent.CompletableFuture.completedFuture(
                            new Started.CallerRinging());
                    default -> find((String) result.get(1), false).thenApply(ring ->
                            new Started.Ringing(ring, "1".equals(result.get(2))));
                });
    }

    /**
     * Ends a ringing ring as {@code who} asks ({@code ""}: its deadline passed), unless it already ended; completes
     * with the ring as it now stands (null if it does not exist, or {@code who} is not one of its two people).
     * Accepting or declining after the deadline ends it as missed. Throws {@link IllegalStateException} when
     * {@code who} may not do that (the caller accepting, say).
     */
    CompletionStage<Ring> end(String ringId, String who, String state, long now) {
        return redis.<List<Object>>eval(END, ScriptOutputType.MULTI, new String[]{ringKey(ringId)}, who, state,
                Long.toString(now)).thenCompose(result -> switch ((String) result.get(0)) {
                    case "gone" -> java.util.concurrent.CompletableFuture.<Ring>completedFuture(null);
                    case "forbidden" -> throw new IllegalStateException(state);
                    default -> find(ringId, "1".equals(result.get(1)));
                });
    }

    private CompletionStage<Ring> find(String ringId, boolean changed) {
        return redis.hgetall(ringKey(ringId)).thenApply(fields -> fields.isEmpty() ? null : ring(fields, changed));
    }

    private static Ring ring(Map<String, String> f, boolean changed) {
        Map<String, String> fields = new HashMap<>(f);
        return new Ring(fields.get("ringId"), fields.get("meetingId"), fields.get("callerId"),
                fields.get("callerName"), fields.get("calleeId"), fields.get("calleeName"), fields.get("media"),
                fields.get("state"), Long.parseLong(fields.get("startedAt")), Long.parseLong(fields.get("deadline")),
                changed);
    }
}
