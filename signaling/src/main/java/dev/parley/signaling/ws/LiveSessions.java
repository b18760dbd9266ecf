package dev.parley.signaling.ws;

import dev.parley.signaling.store.RedisEvents;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signed-in sessions on this gateway. When a client resumes on another node, the node that still holds its old
 * socket is told over Redis to close it at once rather than at its next renewal.
 */
public final class LiveSessions {

    private static final String KICK_CHANNEL = "parley:session-kick";

    private final Map<String, WebSocketSession> bySessionId = new ConcurrentHashMap<>();
    private final RedisEvents events;

    public LiveSessions(RedisEvents events) {
        this.events = events;
        events.subscribe(KICK_CHANNEL, sessionId -> {
            WebSocketSession session = bySessionId.get(sessionId);
            if (session != null) {
                session.replaced();
            }
        });
    }

    void add(String sessionId, WebSocketSession session) {
        bySessionId.put(sessionId, session);
    }

    void remove(String sessionId, WebSocketSession session) {
        bySessionId.remove(sessionId, session);
    }

    /** Closes the socket of an old session wherever it is, after its lock passed to a resumed one. */
    void kick(String oldSessionId) {
        events.publish(KICK_CHANNEL, oldSessionId).exceptionally(e -> 0L);
    }

    public int size() {
        return bySessionId.size();
    }

    /** For shutdown: releases every lock held here and closes every socket with 1001. */
    public CompletableFuture<Void> closeAll() {
        List<CompletableFuture<Void>> closing = bySessionId.values().stream()
                .map(WebSocketSession::shutdown).toList();
        return CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new));
    }
}
