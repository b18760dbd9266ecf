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
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The presence capability: a signed-in user shows as online, watches the people they share a meeting with without
 * asking, and can watch (and stop watching) anyone else's status.
 */
public final class PresenceHandler implements Capability, ConnectionListener {

    private static final int MAX_WATCHED = 2000;
    private static final AttributeKey<Watching> WATCHING = AttributeKey.valueOf("parley.presence");

    /** The people a user shares a meeting with (implemented by meetings, which presence does not depend on). */
    @FunctionalInterface
    public interface CoMembers {
        CompletionStage<List<String>> of(String userId);
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

    public PresenceHandler(PresenceService presence, CoMembers coMembers) {
        this.presence = presence;
        this.coMembers = coMembers;
    }

    @Override
    public void register(MessageDispatcher dispatcher) {
        dispatcher.on(ClientMessage.PresenceSubscribe.class, (c, m, re) -> subscribe(c, m.userIds(), re))
                .on(ClientMessage.PresenceUnsubscribe.class, this::unsubscribe)
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

    private void subscribe(Connection connection, List<String> userIds, String re) {
        Watching watching = watching(connection);
        if (watching.watched.size() + userIds.size() > MAX_WATCHED) {
            connection.reject(re, ApiException.badRequest("at most " + MAX_WATCHED
                    + " users can be watched on one connection"));
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

    /** Online now, and people who share a meeting with this user see each other's presence without asking. */
    @Override
    public void live(Connection connection) {
        presence.announce(connection.userId(), PresenceService.ONLINE);
        coMembers.of(connection.userId()).whenComplete((ids, failure) -> connection.executor().execute(() -> {
            if (failure == null && connection.isLive() && !ids.isEmpty()) {
                Watching watching = watching(connection);
                List<String> fresh = ids.stream().filter(id -> !watching.watched.contains(id))
                        .limit(Math.max(0, MAX_WATCHED - watching.watched.size())).toList();
                subscribe(connection, fresh, null);
            }
        }));
    }

    @Override
    public void closed(Connection connection) {
        Watching watching = watching(connection);
        presence.unwatchAll(watching, watching.watched);
    }
}
