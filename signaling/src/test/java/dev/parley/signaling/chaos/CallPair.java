package dev.parley.signaling.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.signaling.testing.WsClient;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A two-person call as the browsers hold it, with Java WebRTC clients: the caller publishes audio, the other
 * participant subscribes and receives it through the media node. The caller signs in on gateway 1, the other on
 * gateway 2, so every gateway kill takes one of them. After a kill, {@link #recover} does what the web client does:
 * resumes a lost socket and joins again (keeping its peer connections when the gateway answers {@code resumed}), or,
 * when the place is gone (call.moved, call.left, a new call), joins afresh with new peer connections, until the
 * subscriber receives the caller's packets again.
 */
final class CallPair implements AutoCloseable {

    /** What a kill did to this call: whether it had to do anything, and when media flowed again. */
    record Recovery(String meetingId, boolean affected, boolean recovered, long millis, String how) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private static final long ANSWER_MILLIS = 10_000;
    private static final Duration SECURE_WITHIN = Duration.ofSeconds(10);
    private static final Duration FLOW_CHECK = Duration.ofSeconds(3);
    private static final Duration FLOW_SLICE = Duration.ofMillis(200);
    private static final Duration FIRST_FLOW = Duration.ofSeconds(10);

    private final String meetingId;
    private final ResumableSession caller;
    private final ResumableSession callee;
    private final ChaosCluster cluster;
    private final ClientTrack audio;
    private final AtomicInteger sequence = new AtomicInteger(1000);
    private final AtomicInteger requests = new AtomicInteger();
    private ClientEndpoint publisher;
    private ClientEndpoint subscriber;
    private final java.util.Map<String, Integer> joinRefusals = new java.util.TreeMap<>();

    CallPair(String meetingId, String callerToken, String calleeToken, ChaosCluster cluster, ChaosLedger ledger) {
        this.meetingId = meetingId;
        this.caller = new ResumableSession(callerToken, 0, ledger);
        this.callee = new ResumableSession(calleeToken, 1, ledger);
        this.cluster = cluster;
        this.audio = ClientTrack.audio("caller-mic-" + meetingId);
    }

    String meetingId() {
        return meetingId;
    }

    /** Signs both in and sets the call up; fails if media does not flow before the deadline. */
    void start(long deadlineNanos) throws Exception {
        if (!caller.ensureOpen(cluster, deadlineNanos) || !callee.ensureOpen(cluster, deadlineNanos)) {
            throw new IllegalStateException("call " + meetingId + ": participants could not sign in");
        }
        // The first peer connections of the run pay for class loading and SRTP's cipher choice: a longer wait.
        for (int attempt = 0; attempt < 3; attempt++) {
            if (joinAfresh(deadlineNanos) && flows(FIRST_FLOW)) {
                return;
            }
        }
        throw new IllegalStateException("call " + meetingId + ": no media at the start, three attempts");
    }

    /** After a kill at {@code killNanos}: brings the call back if it needs it; gives up at the deadline. */
    Recovery recover(long killNanos, long deadlineNanos) throws Exception {
        joinRefusals.clear();
        boolean lostSocket = !caller.isOpen() || !callee.isOpen();
        boolean placeGone = false;
        if (!lostSocket) {
            // Media through the same peer connections, a slice at a time, stopping as soon as the server says the
            // place is gone (call.moved comes tens of milliseconds after a node dies).
            for (long end = System.nanoTime() + FLOW_CHECK.toNanos(); System.nanoTime() < end && !placeGone; ) {
                // A socket's loss reaches its event loop a moment after the kill: look again once media flowed.
                if (flows(FLOW_SLICE) && caller.isOpen() && callee.isOpen()) {
                    return new Recovery(meetingId, false, true, 0, "unaffected: media kept flowing");
                }
                placeGone = drainSignals(caller) | drainSignals(callee);
                lostSocket = !caller.isOpen() || !callee.isOpen();
            }
        }
        StringBuilder how = new StringBuilder();
        if (lostSocket) {
            boolean callerLost = !caller.isOpen();
            if (!caller.ensureOpen(cluster, deadlineNanos) || !callee.ensureOpen(cluster, deadlineNanos)) {
                return done(killNanos, false, how.append("socket lost; could not sign in again"));
            }
            how.append("socket lost (close code ")
                    .append((callerLost ? caller : callee).lastCloseCode()).append("), resumed; ");
            placeGone |= !rejoinKeepsPlace(caller, deadlineNanos) | !rejoinKeepsPlace(callee, deadlineNanos);
            placeGone |= drainSignals(caller) | drainSignals(callee);
            if (!placeGone && flows(FLOW_CHECK)) {
                return done(killNanos, true, how.append("place kept (resumed), same peer connections"));
            }
        }
        how.append(placeGone ? "place gone, joined afresh" : "media stopped, joined afresh");
        while (System.nanoTime() < deadlineNanos) {
            if (caller.ensureOpen(cluster, deadlineNanos) && callee.ensureOpen(cluster, deadlineNanos)
                    && joinAfresh(deadlineNanos) && flows(FLOW_CHECK)) {
                return done(killNanos, true, how);
            }
            Thread.sleep(500);
        }
        return done(killNanos, false, how.append(", media did not flow again in time"));
    }

    private Recovery done(long killNanos, boolean recovered, CharSequence how) {
        String refusals = joinRefusals.isEmpty() ? "" : "; call.join refused " + joinRefusals;
        return new Recovery(meetingId, true, recovered, (System.nanoTime() - killNanos) / 1_000_000, how + refusals);
    }

    /** call.join after a resume: true when the gateway answers that the place was kept ({@code resumed}). */
    private boolean rejoinKeepsPlace(ResumableSession who, long deadlineNanos) throws Exception {
        JsonNode answer = ask(who, "call.join");
        return answer != null && answer.path("type").asText().equals("call.joined")
                && answer.path("resumed").asBoolean();
    }

    /** Both leave what is left of their places, then join with new peer connections: caller publishes, callee subscribes. */
    private boolean joinAfresh(long deadlineNanos) throws Exception {
        for (ResumableSession who : List.of(caller, callee)) {
            ask(who, "call.leave");
        }
        drainSignals(caller);
        drainSignals(callee);
        closeEndpoints();
        if (!joinUntilJoined(caller, deadlineNanos)) {
            return false;
        }
        publisher = ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK, List.of(SrtpProfile.values()));
        JsonNode answer = ask(caller, "call.publish", "sdp", publisher.publishOffer(List.of(audio), false));
        if (answer == null || !answer.path("type").asText().equals("call.publish.answer")) {
            return false;
        }
        publisher.acceptAnswer(answer.get("sdp").asText());
        if (!publisher.awaitSecure(SECURE_WITHIN) || !joinUntilJoined(callee, deadlineNanos)) {
            return false;
        }
        JsonNode offer;
        try {
            offer = callee.ws().next(m -> m.path("type").asText().equals("call.subscribe.offer"), ANSWER_MILLIS);
        } catch (AssertionError noOffer) {
            return false;
        }
        subscriber = ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK, List.of(SrtpProfile.values()));
        ask(callee, "call.subscribe.answer", "sdp", subscriber.answer(offer.get("sdp").asText()),
                "version", offer.get("version").asLong());
        return subscriber.awaitSecure(SECURE_WITHIN);
    }

    /** call.join until call.joined (errors such as {@code unavailable} are waited out, 1 s apart). */
    private boolean joinUntilJoined(ResumableSession who, long deadlineNanos) throws Exception {
        while (System.nanoTime() < deadlineNanos && who.isOpen()) {
            JsonNode answer = ask(who, "call.join");
            if (answer != null && answer.path("type").asText().equals("call.joined")) {
                return true;
            }
            joinRefusals.merge(answer == null ? "no answer" : answer.path("code").asText(), 1, Integer::sum);
            Thread.sleep(1_000);
        }
        return false;
    }

    /** Sends a request with a fresh id and waits for its answer; null when none came. */
    private JsonNode ask(ResumableSession who, String type, Object... fields) throws Exception {
        if (!who.isOpen()) {
            return null;
        }
        String id = "call" + requests.incrementAndGet();
        ObjectNode request = JSON.createObjectNode().put("type", type).put("id", id).put("meetingId", meetingId);
        for (int i = 0; i < fields.length; i += 2) {
            request.set((String) fields[i], JSON.valueToTree(fields[i + 1]));
        }
        who.ws().send(request);
        try {
            return who.ws().next(m -> id.equals(m.path("re").asText(null)), ANSWER_MILLIS);
        } catch (AssertionError noAnswer) {
            return null;
        }
    }

    /** Reads what the server sent unasked; true if it says this participant's place is gone. */
    private boolean drainSignals(ResumableSession who) throws InterruptedException {
        boolean gone = false;
        WsClient ws = who.ws();
        if (ws == null) {
            return false;
        }
        for (int i = 0; i < 10_000; i++) {
            JsonNode m = ws.poll(0);
            if (m == null) {
                break;
            }
            String type = m.path("type").asText();
            if (!meetingId.equals(m.path("meetingId").asText())) {
                continue;
            }
            gone |= type.equals("call.moved") || (type.equals("call.left") && !m.has("re"))
                    || (type.equals("call.state") && !m.path("active").asBoolean(true));
        }
        return gone;
    }

    /** Whether the callee receives the caller's packets within {@code window}. */
    boolean flows(Duration window) throws InterruptedException {
        if (publisher == null || subscriber == null) {
            return false;
        }
        long before = subscriber.packetsReceived(audio.ssrc());
        long deadline = System.nanoTime() + window.toNanos();
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < 5; i++) {
                // Sequence numbers only rise, across peer connections too: SRTP replay protection drops repeats.
                int seq = sequence.incrementAndGet();
                publisher.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, seq & 0xffff, seq * 960L, false,
                        new byte[]{1, 2, 3, (byte) seq}, false);
            }
            if (subscriber.packetsReceived(audio.ssrc()) >= before + 5) {
                return true;
            }
            Thread.sleep(40);
        }
        return false;
    }

    /** Second-device probes of both participants. */
    void probeSecondDevices(ChaosCluster cluster) throws InterruptedException {
        caller.probeSecondDevice(cluster, "caller of " + meetingId);
        callee.probeSecondDevice(cluster, "callee of " + meetingId);
    }

    private void closeEndpoints() {
        if (publisher != null) {
            publisher.close();
            publisher = null;
        }
        if (subscriber != null) {
            subscriber.close();
            subscriber = null;
        }
    }

    @Override
    public void close() {
        closeEndpoints();
        caller.close();
        callee.close();
    }
}
