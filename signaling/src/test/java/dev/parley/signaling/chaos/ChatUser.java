package dev.parley.signaling.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A chat user as the web client behaves: one message at a time into its meeting, each resent under the same
 * clientMsgId until acknowledged (after {@code unavailable}, after no answer within {@link #RESEND_AFTER_NANOS}, and
 * after its socket was lost and resumed elsewhere), then a pause. Runs on its own thread until stopped; records every
 * ack and every chat.message it receives in the ledger.
 */
final class ChatUser implements Runnable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long RESEND_AFTER_NANOS = 3_000_000_000L;
    private static final long RETRY_AFTER_REFUSAL_NANOS = 200_000_000L;

    private final String name;
    private final String meetingId;
    private final ResumableSession session;
    private final ChaosCluster cluster;
    private final ChaosLedger ledger;
    private final long intervalNanos;
    private final long deadlineNanos;
    private final AtomicBoolean probe = new AtomicBoolean();
    private final List<Long> ackTimes = new ArrayList<>();
    private volatile boolean sending = true;
    private volatile boolean stopped;
    private volatile boolean pendingMessage;
    private int sequence;

    // The message waiting for its ack.
    private String clientMsgId;
    private long firstSentNanos;
    private long lastAttemptNanos;
    private long nextAttemptNanos;
    private String requestId;
    private int attempt;

    ChatUser(String name, String token, String meetingId, int preference, ChaosCluster cluster, ChaosLedger ledger,
             long intervalNanos, long deadlineNanos) {
        this.name = name;
        this.meetingId = meetingId;
        this.session = new ResumableSession(token, preference, ledger);
        this.cluster = cluster;
        this.ledger = ledger;
        this.intervalNanos = intervalNanos;
        this.deadlineNanos = deadlineNanos;
    }

    @Override
    public void run() {
        try {
            while (!stopped && System.nanoTime() < deadlineNanos) {
                if (!session.isOpen()) {
                    session.ensureOpen(cluster, deadlineNanos);
                    nextAttemptNanos = System.nanoTime();
                    continue;
                }
                if (probe.getAndSet(false)) {
                    session.probeSecondDevice(cluster, name);
                }
                long now = System.nanoTime();
                if (clientMsgId == null && sending && now >= nextAttemptNanos) {
                    clientMsgId = name + "-" + sequence++;
                    firstSentNanos = now;
                    attempt = 0;
                    pendingMessage = true;
                }
                if (clientMsgId != null && now >= nextAttemptNanos) {
                    send(now);
                }
                JsonNode message = session.ws().poll(20);
                if (message != null) {
                    handle(message);
                }
            }
        } catch (Exception e) {
            ledger.sendRefused("client failure: " + e);
        } finally {
            session.close();
        }
    }

    private void send(long now) throws Exception {
        requestId = clientMsgId + "." + attempt++;
        lastAttemptNanos = now;
        nextAttemptNanos = now + RESEND_AFTER_NANOS;
        session.ws().send(JSON.createObjectNode().put("type", "chat.send").put("id", requestId)
                .put("meetingId", meetingId).put("clientMsgId", clientMsgId).put("text", "chaos " + clientMsgId));
    }

    private void handle(JsonNode message) {
        String type = message.path("type").asText();
        switch (type) {
            case "chat.message" -> {
                JsonNode m = message.get("message");
                if (!m.path("system").asBoolean() && m.hasNonNull("clientMsgId")) {
                    ledger.delivered(m.get("clientMsgId").asText(), m.get("messageId").asText());
                }
            }
            case "chat.ack" -> {
                String acked = message.get("clientMsgId").asText();
                long now = System.nanoTime();
                if (acked.equals(clientMsgId)) {
                    ledger.acked(new ChaosLedger.Ack(acked, message.get("messageId").asText(), firstSentNanos, now));
                    synchronized (ackTimes) {
                        ackTimes.add(now);
                    }
                    clientMsgId = null;
                    pendingMessage = false;
                    nextAttemptNanos = now + intervalNanos;
                } else {
                    // A late ack of an earlier attempt of a message already acknowledged: it must name the same id.
                    ledger.acked(new ChaosLedger.Ack(acked, message.get("messageId").asText(), now, now));
                }
            }
            case "error" -> {
                if (requestId != null && requestId.equals(message.path("re").asText(null))) {
                    ledger.sendRefused(message.path("code").asText());
                    nextAttemptNanos = System.nanoTime() + RETRY_AFTER_REFUSAL_NANOS;
                }
            }
            case "session.replaced" -> ledger.sessionReplaced();
            default -> {
            }
        }
    }

    String name() {
        return name;
    }

    /** Asks for one second-device sign-in, done by this user's thread when its session is open. */
    void probeSecondDevice() {
        probe.set(true);
    }

    boolean probeDone() {
        return !probe.get();
    }

    /** Stops starting new messages; the one waiting for its ack is still resent until acknowledged. */
    void stopSending() {
        sending = false;
    }

    boolean hasPendingMessage() {
        return pendingMessage;
    }

    void stop() {
        stopped = true;
    }

    boolean isOpen() {
        return session.isOpen();
    }

    /** When the first ack after {@code nanos} came, or -1 if none did yet. */
    long firstAckAfter(long nanos) {
        synchronized (ackTimes) {
            for (int i = ackTimes.size() - 1; i >= 0; i--) {
                if (ackTimes.get(i) <= nanos) {
                    return i + 1 < ackTimes.size() ? ackTimes.get(i + 1) : -1;
                }
            }
            return ackTimes.isEmpty() ? -1 : ackTimes.get(0);
        }
    }
}
