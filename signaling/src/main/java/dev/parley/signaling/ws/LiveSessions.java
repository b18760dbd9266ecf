package dev.parley.signaling.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.parley.signaling.protocol.ServerMessage;
import dev.parley.signaling.store.RedisEvents;
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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signed-in sessions on this gateway, and delivery of messages to users wherever they are connected. Users
 * connected here get the message directly; for the others, the gateway holding each one is read from their session
 * lock (session ids start with the gateway's node id) and each such gateway gets one message over its own Redis
 * channel, so no gateway handles traffic for sockets it does not hold.
 */
public final class LiveSessions {

    /** Reads which session holds each user's lock ({@code null} where none does), in the order asked. */
    @FunctionalInterface
    public interface SessionOwners {
        CompletionStage<List<String>> of(List<String> userIds);
    }

    private static final Logger log = LoggerFactory.getLogger(LiveSessions.class);
    private static final String DELIVERY_CHANNEL = "parley:deliver:";

    private final Map<String, WebSocketConnection> bySessionId = new ConcurrentHashMap<>();
    private final Map<String, Set<WebSocketConnection>> byUserId = new ConcurrentHashMap<>();
    private final RedisEvents events;
    private final ObjectWriter writer;
    private final SessionOwners owners;
    private final String nodeId;

    public LiveSessions(RedisEvents events, ObjectWriter writer, SessionOwners owners, String nodeId) {
        this.events = events;
        this.writer = writer;
        this.owners = owners;
        this.nodeId = nodeId;
        events.subscribe(DELIVERY_CHANNEL + nodeId, this::onDelivery);
    }

    /** The connection of this live session on this gateway, if it is here. */
    public Optional<Connection> find(String sessionId) {
        return Optional.ofNullable(bySessionId.get(sessionId));
    }

    /** This user's live connections on this gateway. */
    public List<Connection> ofUser(String userId) {
        Set<WebSocketConnection> found = byUserId.get(userId);
        return found == null ? List.of() : List.copyOf(found);
    }

    public void add(Connection connection) {
        WebSocketConnection session = (WebSocketConnection) connection;
        String sessionId = session.sessionId();
        String userId = session.userId();
        bySessionId.put(sessionId, session);
        byUserId.computeIfAbsent(userId, id -> ConcurrentHashMap.newKeySet()).add(session);
    }

    public void remove(Connection connection) {
        WebSocketConnection session = (WebSocketConnection) connection;
        String sessionId = session.sessionId();
        String userId = session.userId();
        bySessionId.remove(sessionId, session);
        byUserId.computeIfPresent(userId, (id, set) -> {
            set.remove(session);
            return set.isEmpty() ? null : set;
        });
    }

    /** This gateway's id, the prefix of every session id it hands out. */
    public String nodeId() {
        return nodeId;
    }

    /** A new session id, prefixed with this node's id so deliveries can find the gateway holding it. */
    public String newSessionId(String random) {
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
        return owners.of(elsewhere).thenCompose(sessionIds -> {
            Map<String, List<String>> byNode = new HashMap<>();
            for (int i = 0; i < sessionIds.size(); i++) {
                String sessionId = sessionIds.get(i);
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
                Set<WebSocketConnection> sessions = byUserId.get(userId);
                if (sessions == null) {
                    continue;
                }
                if (encoded == null) {
                    encoded = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
                }
                for (WebSocketConnection session : sessions) {
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
                .map(WebSocketConnection::shutdown).toList();
        return CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new));
    }
}
