package dev.parley.signaling.ws;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.protocol.ClientMessage;
import dev.parley.signaling.protocol.ClientRequest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Hands each client message to the one handler registered for its type, and each connection event to every
 * capability listening. Built once at start-up, then only read (by every event loop).
 */
public final class MessageDispatcher {

    private record Route<M extends ClientMessage>(MessageHandler<M> handler, boolean beforeSignIn) {
        void handle(Connection connection, ClientMessage message, String re) {
            @SuppressWarnings("unchecked") M typed = (M) message;
            handler.handle(connection, typed, re);
        }
    }

    private final Map<Class<? extends ClientMessage>, Route<?>> routes = new HashMap<>();
    private final List<ConnectionListener> listeners = new ArrayList<>();

    /** Handles this message type on live connections; others get an error asking for hello first. */
    public <M extends ClientMessage> MessageDispatcher on(Class<M> type, MessageHandler<M> handler) {
        return add(type, new Route<>(handler, false));
    }

    /** Handles this message type before sign-in too (only hello). */
    public <M extends ClientMessage> MessageDispatcher beforeSignIn(Class<M> type, MessageHandler<M> handler) {
        return add(type, new Route<>(handler, true));
    }

    public MessageDispatcher listen(ConnectionListener listener) {
        listeners.add(listener);
        return this;
    }

    private MessageDispatcher add(Class<? extends ClientMessage> type, Route<?> route) {
        if (routes.putIfAbsent(type, route) != null) {
            throw new IllegalStateException(type.getSimpleName() + " has two handlers");
        }
        return this;
    }

    /** Fails at start-up, not on a client's message, when a message type has no handler. */
    public MessageDispatcher requireEveryMessageType() {
        List<String> missing = Arrays.stream(ClientMessage.class.getPermittedSubclasses())
                .filter(type -> !routes.containsKey(type)).map(Class::getSimpleName).toList();
        if (!missing.isEmpty()) {
            throw new IllegalStateException("no handler for " + String.join(", ", missing));
        }
        return this;
    }

    void dispatch(Connection connection, ClientRequest request) {
        Route<?> route = routes.get(request.message().getClass());
        if (route == null) {
            connection.reject(request.id(), ApiException.badRequest("this message type is not handled here"));
        } else if (!route.beforeSignIn() && !connection.isLive()) {
            connection.reject(request.id(), ApiException.badRequest("send hello and wait for welcome first"));
        } else {
            route.handle(connection, request.message(), request.id());
        }
    }

    void live(Connection connection) {
        listeners.forEach(listener -> listener.live(connection));
    }

    void pong(Connection connection) {
        listeners.forEach(listener -> listener.pong(connection));
    }

    void closed(Connection connection) {
        listeners.forEach(listener -> listener.closed(connection));
    }

    CompletableFuture<Void> ending(Connection connection) {
        return CompletableFuture.allOf(listeners.stream().map(listener -> listener.ending(connection))
                .toArray(CompletableFuture[]::new));
    }
}
