package dev.parley.signaling.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.parley.signaling.session.SessionLock;
import dev.parley.signaling.store.RedisEvents;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signed-in sessions on this gateway, and delivery of messages to users wherever they are connected. Users
 * connected here get the message directly; for the others, the gateway holding each one is read from their session
 * lock (session ids start with the gateway's node id) and each such gateway gets one message over its own Redis
 * channel, so no gateway handles traffic for sockets it does not hold. When a client resumes on another node, the
 * node that still holds its old socket is told to close it at once.
 */
public final class LiveSessions {

    private static final Logger log = LoggerFactory.getLogger(LiveSessions.class);
    private static final String KICK_CHANNEL = "parley:session-kick";
    private static final String DELIVERY_CHANNEL = "parley:deliver:";

    private final Map<String, WebSocketSession> bySessionId = new ConcurrentHashMap<>();
    private final Map<String, Set<WebSocketSession>> byUserId = new ConcurrentHashMap<>();
    private final RedisEvents events;
    private final ObjectWriter writer;
    private final RedisAsyncCommands<String, String> redis;
    private final String nodeId;

    public LiveSessions(RedisEvents events, ObjectWriter writer, RedisAsyncCommands<String, String> redis,
                        String nodeId) {
        this.events = events;
        this.writer = writer;
        this.redis = redis;
        this.nodeId = nodeId;
        events.subscribe(KICK_CHANNEL, sessionId -> {
            WebSocketSession session = bySessionId.get(sessionId);
            if (session != null) {
                session.replaced();
            }
        });
        events.subscribe(DELIVERY_CHANNEL + nodeId, this::onDelivery);
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

    /** This gateway's id, the prefix of every session id it hands out. */
    public String nodeId() {
        return nodeId;
    }

    /** A new session id, prefixed with this node's id so deliveries can find the gateway holding it. */
    String newSessionId(String random) {
        return nodeId + "." + random;
    }

    /**
     * Sends a message to every live session of these users on every gateway. Completes once it is handed to the
     * sockets here and to Redis for the other gateways; a user who is not connected anywhere simply misses it (chat
     * history keeps what matters).
     */
    public CompletableFuture<Void> deliver(Collection<String> userIds, ServerMessage message) {
        return deliver(userIds, message, null);
    }

    /** Delivers the answer to a request (with that request's id) to the user who sent it, wherever they are. */
    public CompletableFuture<Void> deliver(Collection<String> userIds, ServerMessage message, String requestId) {
        if (userIds.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String json;
        try {
            json = ServerMessage.answering(requestId, writer.writeValueAsString(message));
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<String> elsewhere = new ArrayList<>();
        List<String> here = new ArrayList<>();
        for (String userId : userIds) {
            (byUserId.containsKey(userId) ? here : elsewhere).add(userId);
        }
        if (!here.isEmpty()) {
            handOut(here, json);
        }
        if (elsewhere.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String[] locks = elsewhere.stream().map(SessionLock::lockKey).toArray(String[]::new);
        return redis.mget(locks).thenCompose(owners -> {
            Map<String, List<String>> byNode = new HashMap<>();
            for (int i = 0; i < owners.size(); i++) {
                String sessionId = owners.get(i).getValueOrElse(null);
                int dot = sessionId == null ? -1 : sessionId.indexOf('.');
                if (dot > 0 && !sessionId.startsWith(nodeId + ".")) {
                    byNode.computeIfAbsent(sessionId.substring(0, dot), n -> new ArrayList<>()).add(elsewhere.get(i));
                }
            }
            List<CompletableFuture<Long>> published = new ArrayList<>();
            byNode.forEach((node, ids) -> published.add(events.publish(DELIVERY_CHANNEL + node,
                    String.join(",", ids) + "\n" + json).toCompletableFuture()));
            return CompletableFuture.allOf(published.toArray(CompletableFuture[]::new));
        }).toCompletableFuture().thenApply(r -> (Void) null).exceptionally(e -> {
            log.warn("could not deliver to other gateways: {}", e.toString());
            return null;
        });
    }

    private void onDelivery(String payload) {
        int newline = payload.indexOf('\n');
        if (newline < 0) {
            return;
        }
        handOut(List.of(payload.substring(0, newline).split(",")), payload.substring(newline + 1));
    }

    /** Hands an encoded message to this node's sockets of these users; the text is encoded once, shared by all. */
    private void handOut(List<String> userIds, String json) {
        ByteBuf encoded = null;
        try {
            for (String userId : userIds) {
                Set<WebSocketSession> sessions = byUserId.get(userId);
                if (sessions == null) {
                    continue;
                }
                if (encoded == null) {
                    encoded = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
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
