package dev.parley.signaling.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.signaling.testing.WsClient;

import java.util.List;

/**
 * One user's signed-in WebSocket as a client keeps it: when its gateway dies it connects to a gateway that is up and
 * says hello with its previous session id, so it resumes the same session (docs/protocol.md, "Resume").
 * Used by one thread at a time.
 */
final class ResumableSession implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long HELLO_ANSWER_MILLIS = 5_000;

    private final String token;
    private final int preference;
    private final ChaosLedger ledger;
    private volatile WsClient ws;
    private String sessionId;
    private int attempts;
    private int lastCloseCode;

    ResumableSession(String token, int preference, ChaosLedger ledger) {
        this.token = token;
        this.preference = preference;
        this.ledger = ledger;
    }

    WsClient ws() {
        return ws;
    }

    boolean isOpen() {
        return ws != null && ws.isOpen();
    }

    /**
     * Until the socket is open and welcomed, or the deadline passes: connects to a live gateway (this session's
     * preferred one first) with hello and, after the first time, the previous session id. Returns whether it is open.
     */
    boolean ensureOpen(ChaosCluster cluster, long deadlineNanos) throws InterruptedException {
        while (!isOpen() && System.nanoTime() < deadlineNanos) {
            if (ws != null) {
                lastCloseCode = closeCode(ws);
                ledger.socketClosed(lastCloseCode);
                ws.close();
                ws = null;
            }
            List<Integer> ports = cluster.liveGatewayPorts();
            if (ports.isEmpty()) {
                Thread.sleep(100);
                continue;
            }
            int port = ports.get((preference + attempts++) % ports.size());
            String answer = hello(port);
            if (!"welcome".equals(answer)) {
                if (sessionId != null && "session.active".equals(answer)) {
                    ledger.resumeRefused();
                }
                Thread.sleep(200);
            }
        }
        return isOpen();
    }

    /** The close code of the socket lost last (-1 when the connection went without a close frame). */
    int lastCloseCode() {
        return lastCloseCode;
    }

    private static int closeCode(WsClient closed) {
        try {
            return closed.awaitClose(100);
        } catch (Exception e) {
            return -1;
        }
    }

    private String hello(int port) throws InterruptedException {
        WsClient client;
        try {
            client = WsClient.connect(port);
        } catch (Exception e) {
            return "no connection";
        }
        try {
            ObjectNode hello = JSON.createObjectNode().put("type", "hello").put("token", token);
            if (sessionId != null) {
                hello.put("resume", sessionId);
            }
            client.send(hello);
            JsonNode answer = client.next(m -> true, HELLO_ANSWER_MILLIS);
            if (answer.path("type").asText().equals("welcome")) {
                ws = client;
                sessionId = answer.get("sessionId").asText();
                return "welcome";
            }
            client.close();
            return answer.path("code").asText("unexpected " + answer.path("type").asText());
        } catch (Exception | AssertionError e) {
            client.close();
            return "no answer";
        }
    }

    /**
     * A second device of the same user: a new socket to a gateway, hello with the same token and no session id.
     * It must be refused with session.active while this session lives; a welcome is a double session, recorded.
     */
    void probeSecondDevice(ChaosCluster cluster, String who) throws InterruptedException {
        List<Integer> ports = cluster.liveGatewayPorts();
        if (!isOpen() || ports.isEmpty()) {
            return;
        }
        int port = ports.get((preference + 1) % ports.size());
        WsClient second;
        try {
            second = WsClient.connect(port);
        } catch (Exception e) {
            ledger.probeAnswered("no connection");
            return;
        }
        try {
            second.send(JSON.createObjectNode().put("type", "hello").put("token", token));
            JsonNode answer = second.next(m -> true, HELLO_ANSWER_MILLIS);
            if (answer.path("type").asText().equals("welcome")) {
                if (isOpen()) {
                    ledger.doubleSession(who + ": a second device was welcomed on port " + port
                            + " while the first session (" + sessionId + ") was open");
                }
                ledger.probeAnswered("welcome");
            } else {
                ledger.probeAnswered(answer.path("code").asText(answer.path("type").asText()));
            }
        } catch (Exception | AssertionError e) {
            ledger.probeAnswered("no answer");
        } finally {
            second.close();
        }
    }

    @Override
    public void close() {
        if (ws != null) {
            ws.close();
        }
    }
}
