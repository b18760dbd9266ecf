package dev.parley.signaling.presence;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.protocol.ClientMessage;
import dev.parley.signaling.protocol.ServerMessage;
import dev.parley.signaling.ws.Capability;
import dev.parley.signaling.ws.Connection;
import dev.parley.signaling.ws.ConnectionListener;
import dev.parley.signaling.ws.MessageDispatcher;
import io.netty.util.AttributeKey;

import java.util.HashSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The presence capability: a signed-in user shows as online, watches the people they share a meeting with without
 * asking, and can watch (and stop watching) their status. Only co-members (and oneself) can be watched: other ids in
 * a subscription are left out without a word, so nobody learns when a stranger is online, and a client whose list of
 * people is a little out of date still gets the rest.
 */
public final class PresenceHandler implements Capability, ConnectionListener {

    private static final AttributeKey<Watching> WATCHING = AttributeKey.valueOf("parley.presence");

    /** The people a user shares a meeting with (implemented by meetings, which presence does not depend on). */
    public interface CoMembers {
        CompletionStage<List<String>> of(String userId);

        /** Those of {@code candidates} who share at least one meeting with the user, in the order given. */
        CompletionStage<List<String>> among(String userId, List<String> candidates);
    }

    /** Whom one connection watches; the set is touched only on the connection's event loop. */
    private static final class Watching implements PresenceService.Watcher {
        final Connection connection;
        final Set<String> watched = new HashSet<>();

        Watching(Connection connection) {
            this.connection = connection;
        }

        @Override
        public void presenceChanged(String userId, String status) {
            connection.executor().execute(() -> {
                if (watched.contains(userId)) {
                    connection.push(new ServerMessage.Presence(userId, status));
                }
            });
        }
    }

    private final PresenceService presence;
    private final CoMembers coMembers;
    private final int maxWatched;
    /** This node's live connections by user, so new co-members can be shown to them. */
    private final Map<String, Set<Watching>> liveByUser = new ConcurrentHashMap<>();

    public PresenceHandler(PresenceService presence, CoMembers coMembers, int maxWatched) {
        this.presence = presence;
        this.coMembers = coMembers;
        this.maxWatched = maxWatched;
        presence.onCoMembersJoined(this::coMembersJoined);
        presence.onHidden(this::hidden);
    }

    /**
     * A user and others came to share a meeting (or a block between them was lifted): their connections here start
     * watching each other, those they may see.
     */
    private void coMembersJoined(String userId, List<String> others) {
        for (Watching watching : liveByUser.getOrDefault(userId, Set.of())) {
            watchVisible(watching, others);
        }
        for (String other : others) {
            for (Watching watching : liveByUser.getOrDefault(other, Set.of())) {
                watchVisible(watching, List.of(userId));
            }
        }
    }

    private void watchVisible(Watching watching, List<String> ids) {
        coMembers.among(watching.connection.userId(), ids).thenAccept(visible -> watching.connection.executor()
                .execute(() -> watchMore(watching, visible))).exceptionally(e -> null);
    }

    /** The viewer's connections here stop watching the target, who shows to them as offline from now on. */
    private void hidden(String viewer, String target) {
        for (Watching watching : liveByUser.getOrDefault(viewer, Set.of())) {
            watching.connection.executor().execute(() -> {
                if (watching.watched.remove(target)) {
                    presence.unwatchAll(watching, Set.of(target));
                    watching.connection.push(new ServerMessage.Presence(target, PresenceService.OFFLINE));
                }
            });
        }
    }

    /** On the connection's event loop: watches those of {@code ids} it does not yet, as room allows. */
    private void watchMore(Watching watching, List<String> ids) {
        if (!watching.connection.isLive()) {
            return;
        }
        List<String> fresh = ids.stream().filter(id -> !watching.watched.contains(id))
                .filter(id -> !id.equals(watching.connection.userId()))
                .limit(Math.max(0, maxWatched - watching.watched.size())).toList();
        if (!fresh.isEmpty()) {
            subscribe(watching.connection, fresh, null);
        }
    }

    @Override
    public void register(MessageDispatcher dispatcher) {
        dispatcher.on(ClientMessage.PresenceSubscribe.class, (c, m, re) -> subscribeCoMembers(c, m.userIds(), re))
                .on(ClientMessage.PresenceUnsubscribe.class, this::unsubscribe)
                .on(ClientMessage.PresenceSet.class, (c, set, re) -> c.answerWith(re,
                        () -> presence.choose(c.userId(), set.status()).thenApply(ServerMessage.PresenceChoice::new)))
                .on(ClientMessage.PresenceMine.class, (c, mine, re) -> c.answerWith(re,
                        () -> presence.choice(c.userId()).thenApply(ServerMessage.PresenceChoice::new)))
                .on(ClientMessage.PresenceIdle.class, (c, idle, re) -> c.answerWith(re,
                        () -> presence.idle(c.userId(), idle.idle()).thenApply(done -> null)))
                .listen(this);
    }

    private static Watching watching(Connection connection) {
        Watching watching = connection.attr(WATCHING).get();
        if (watching == null) {
            watching = new Watching(connection);
            connection.attr(WATCHING).set(watching);
        }
        return watching;
    }

    private void unsubscribe(Connection connection, ClientMessage.PresenceUnsubscribe message, String re) {
        Set<String> ids = Set.copyOf(message.userIds());
        Watching watching = watching(connection);
        watching.watched.removeAll(ids);
        presence.unwatchAll(watching, ids);
        connection.answer(re, new ServerMessage.Ok());
    }

    /** A client's subscription: its co-members among the ids are watched, the rest left out. */
    private void subscribeCoMembers(Connection connection, List<String> userIds, String re) {
        if (tooMany(connection, userIds, re)) {
            return;
        }
        List<String> others = userIds.stream().filter(id -> !id.equals(connection.userId())).toList();
        coMembers.among(connection.userId(), others).whenComplete((shared, failure) ->
                connection.executor().execute(() -> {
                    if (failure != null) {
                        connection.reject(re, ApiException.from(failure));
                        return;
                    }
                    List<String> allowed = userIds.stream()
                            .filter(id -> id.equals(connection.userId()) || shared.contains(id)).toList();
                    subscribe(connection, allowed, re);
                }));
    }

    private boolean tooMany(Connection connection, List<String> userIds, String re) {
        Watching watching = watching(connection);
        long fresh = userIds.stream().filter(id -> !watching.watched.contains(id)).count();
        if (watching.watched.size() + fresh > maxWatched) {
            connection.reject(re, ApiException.badRequest("at most " + maxWatched
                    + " users can be watched on one connection"));
            return true;
        }
        return false;
    }

    private void subscribe(Connection connection, List<String> userIds, String re) {
        Watching watching = watching(connection);
        if (tooMany(connection, userIds, re)) {
            return;
        }
        watching.watched.addAll(userIds);
        presence.watch(watching, userIds);
        presence.statuses(userIds).whenComplete((statuses, failure) -> connection.executor().execute(() -> {
            if (failure != null) {
                connection.reject(re, ApiException.from(failure));
                return;
            }
            presence.remember(statuses);
            statuses.forEach((userId, status) -> connection.push(new ServerMessage.Presence(userId, status)));
            connection.answer(re, new ServerMessage.Ok());
        }));
    }

    /**
     * Online now (or Do not disturb, as chosen before), and people who share a meeting with this user see each
     * other's presence without asking.
     */
    @Override
    public void live(Connection connection) {
        presence.sessionStarted(connection.userId());
        Watching live = watching(connection);
        liveByUser.computeIfAbsent(connection.userId(), id -> ConcurrentHashMap.newKeySet()).add(live);
        coMembers.of(connection.userId()).whenComplete((ids, failure) -> connection.executor().execute(() -> {
            if (failure == null) {
                watchMore(live, ids);
            }
        }));
    }

    @Override
    public void closed(Connection connection) {
        Watching watching = watching(connection);
        liveByUser.computeIfPresent(connection.userId(), (id, set) -> {
            set.remove(watching);
            return set.isEmpty() ? null : set;
        });
        presence.unwatchAll(watching, watching.watched);
    }
}
