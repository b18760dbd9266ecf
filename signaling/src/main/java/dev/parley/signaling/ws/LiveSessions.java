package dev.parley.signaling.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.parley.signaling.store.RedisEvents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signed-in sessions on this gateway, and delivery of messages to users wherever they are connected: a message
 * for some users is published once over Redis, and every gateway hands it to the sockets it holds for them. When a
 * client resumes on another node, the node that still holds its old socket is told to close it at once.
 */
public final class LiveSessions {

    private static final Logger log = LoggerFactory.getLogger(LiveSessions.class);
    private static final String KICK_CHANNEL = "parley:session-kick";
    private static final String DELIVERY_CHANNEL = "parley:user-events";

    private final Map<String, WebSocketSession> bySessionId = new ConcurrentHashMap<>();
    private final Map<String, Set<WebSocketSession>> byUserId = new ConcurrentHashMap<>();
    private final RedisEvents events;
    private final ObjectWriter writer;

    public LiveSessions(RedisEvents events, ObjectWriter writer) {
        this.events = events;
        this.writer = writer;
        events.subscribe(KICK_CHANNEL, sessionId -> {
            WebSocketSession session = bySessionId.get(sessionId);
            if (session != null) {
                session.replaced();
            }
        });
        events.subscribe(DELIVERY_CHANNEL, this::onDelivery);
    }

    void add(String sessionId, String userId, WebSocketSession session) {
        bySessionId.put(sessionId, session);
        byUserId.computeIfAbsent(userId, id -> ConcurrentHashMap.newKeySet()).add(session);
    }

    void remove(String sessionId, String userId, WebSocketSession session) {
        bySessionId.remove(sessionId, session);
        byUserId.computeIfPresent(userId, (id, set) -> {
            set.remove(session);
            return set.isEmpty() ? null : set;
        });
    }

    /** Closes the socket of an old session wherever it is, after its lock passed to a resumed one. */
    void kick(String oldSessionId) {
        events.publish(KICK_CHANNEL, oldSessionId).exceptionally(e -> 0L);
    }

    /**
     * Sends a message to every live session of these users on every gateway. Completes once Redis has taken it for
     * delivery; a user who is not connected anywhere simply misses it (chat history keeps what matters).
     */
    public CompletableFuture<Void> deliver(Collection<String> userIds, ServerMessage message) {
        if (userIds.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String json;
        try {
            json = writer.writeValueAsString(message);
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
        String payload = String.join(",", userIds) + "\n" + json;
        return events.publish(DELIVERY_CHANNEL, payload).toCompletableFuture().thenApply(r -> (Void) null)
                .exceptionally(e -> {
                    log.warn("could not publish a delivery: {}", e.toString());
                    return null;
                });
    }

    private void onDelivery(String payload) {
        int newline = payload.indexOf('\n');
        if (newline < 0) {
            return;
        }
        ByteBuf encoded = null;
        try {
            for (String userId : payload.substring(0, newline).split(",")) {
                Set<WebSocketSession> sessions = byUserId.get(userId);
                if (sessions == null) {
                    continue;
                }
                if (encoded == null) {
                    // Encoded once, shared read-only by every recipient's frame.
                    encoded = Unpooled.copiedBuffer(payload, newline + 1, payload.length() - newline - 1,
                            StandardCharsets.UTF_8);
                }
                for (WebSocketSession session : sessions) {
                    session.sendEncoded(encoded.retainedDuplicate());
                }
            }
        } finally {
            if (encoded != null) {
                encoded.release();
            }
        }
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
