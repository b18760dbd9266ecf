package dev.parley.signaling.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.TestGateway;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A chaos run (issue 19; {@code scripts/chaos}, and {@code ChaosTest} in its short form). On loopback: two gateways,
 * two media nodes, a Redis primary with a replica and three sentinels ({@link ChaosCluster}); chat users chatting
 * through the gateways ({@link ChatUser}) and calls with media through the nodes ({@link CallPair}). Each process is
 * killed in turn with kill -9 — media node A, gateway 1, the Redis primary, media node B, gateway 2 — and started
 * again (a killed primary comes back as a replica) once the kill's effects are measured, before the next kill.
 * Reports double sessions, acknowledged messages lost, messages duplicated, calls that did not recover, and how long
 * each kind of kill took to recover from ({@link ChaosReport}).
 */
public final class ChaosRun {

    private final ChaosSettings settings;
    private final PrintStream log;
    private final ChaosLedger ledger = new ChaosLedger();
    private final Random random = new Random(19);
    private final List<ChatUser> users = new ArrayList<>();
    private final List<CallPair> calls = new ArrayList<>();
    private final Map<String, String> meetingTokens = new HashMap<>();
    private final List<ChaosReport.KillResult> kills = new ArrayList<>();
    private ChaosCluster cluster;

    private ChaosRun(ChaosSettings settings, PrintStream log) {
        this.settings = settings;
        this.log = log;
    }

    public static void main(String[] args) throws Exception {
        // The media stack's libraries log every ICE step at INFO: keep the report readable.
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(java.util.logging.Level.WARNING);
        for (java.util.logging.Handler handler : root.getHandlers()) {
            handler.setLevel(java.util.logging.Level.WARNING);
        }
        ChaosSettings settings = ChaosSettings.longRun();
        ChaosReport report = run(settings, System.out);
        report.print(System.out);
        report.write(settings.report());
        System.out.println("report written to " + settings.report().toAbsolutePath());
        System.exit(report.failures().isEmpty() ? 0 : 1);
    }

    /** Starts everything, kills each process once, stops everything; the report of what was seen. */
    static ChaosReport run(ChaosSettings settings, PrintStream log) throws Exception {
        return new ChaosRun(settings, log).run();
    }

    private ChaosReport run() throws Exception {
        long started = System.nanoTime();
        // The whole run is bounded: setup, steady load around each of five kills, each kill's recovery, the end.
        long deadline = started + settings.steady().multipliedBy(6).plus(settings.recoveryBound().multipliedBy(12))
                .plusMinutes(5).toNanos();
        log.println("chaos: starting Redis (primary, replica, 3 sentinels), 2 media nodes, 2 gateways");
        cluster = ChaosCluster.start();
        Thread closer = new Thread(this::closeQuietly, "chaos-close");
        Runtime.getRuntime().addShutdownHook(closer);
        List<Thread> threads = new ArrayList<>();
        try {
            setUpCalls(deadline);
            setUpChat(deadline, threads);
            log.printf("chaos: %d chat users and %d calls running%n", users.size(), calls.size());
            Thread.sleep(settings.steady().toMillis());

            killAndRecover("media node A", () -> cluster.killNode(0), () -> cluster.restartNode(0));
            killAndRecover("gateway 1", () -> cluster.killGateway(0), () -> cluster.restartGateway(0));
            killRedisPrimary();
            killAndRecover("media node B", () -> cluster.killNode(1), () -> cluster.restartNode(1));
            killAndRecover("gateway 2", () -> cluster.killGateway(1), () -> cluster.restartGateway(1));

            return finish(threads, started);
        } finally {
            for (ChatUser user : users) {
                user.stop();
            }
            for (Thread thread : threads) {
                thread.join(5_000);
            }
            calls.forEach(CallPair::close);
            closeQuietly();
            try {
                Runtime.getRuntime().removeShutdownHook(closer);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running already
            }
        }
    }

    private void setUpChat(long deadline, List<Thread> threads) throws Exception {
        int port = cluster.liveGatewayPorts().get(0);
        String meetingId = null;
        for (int i = 0; i < settings.users(); i++) {
            String name = "chat-user-" + i;
            JsonNode user = register(port, name);
            String token = user.get("token").asText();
            if (i % settings.meetingSize() == 0) {
                meetingId = createMeeting(port, token, "Chaos " + i);
            } else {
                addMember(port, meetingId, name);
            }
            users.add(new ChatUser(name, token, meetingId, i, cluster, ledger,
                    settings.messageInterval().toNanos(), deadline));
        }
        for (ChatUser user : users) {
            Thread thread = new Thread(user, "chat-" + user.name());
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
    }

    private void setUpCalls(long deadline) throws Exception {
        int port = cluster.liveGatewayPorts().get(0);
        for (int i = 0; i < settings.calls(); i++) {
            String callerToken = register(port, "caller" + i).get("token").asText();
            String calleeToken = register(port, "callee" + i).get("token").asText();
            String meetingId = createMeeting(port, callerToken, "Call " + i);
            addMember(port, meetingId, "callee" + i);
            CallPair call = new CallPair(meetingId, callerToken, calleeToken, cluster, ledger);
            calls.add(call);
            call.start(Math.min(deadline, System.nanoTime() + settings.recoveryBound().toNanos()));
        }
    }

    private JsonNode register(int port, String username) throws Exception {
        TestGateway.Response response = TestGateway.request(port, "POST", "/api/auth/register",
                "{\"username\":\"" + username + "\",\"password\":\"correct horse\",\"displayName\":\"" + username
                        + "\"}", null);
        if (response.status() != 201) {
            throw new IllegalStateException("registering " + username + " failed: " + response);
        }
        return response.body();
    }

    private String createMeeting(int port, String token, String title) throws Exception {
        TestGateway.Response response = TestGateway.request(port, "POST", "/api/meetings",
                "{\"title\":\"" + title + "\"}", token);
        if (response.status() != 201) {
            throw new IllegalStateException("creating a meeting failed: " + response);
        }
        String meetingId = response.body().get("meetingId").asText();
        meetingTokens.put(meetingId, token);
        return meetingId;
    }

    private void addMember(int port, String meetingId, String username) throws Exception {
        TestGateway.Response response = TestGateway.request(port, "POST", "/api/meetings/" + meetingId + "/members",
                "{\"username\":\"" + username + "\"}", meetingTokens.get(meetingId));
        if (response.status() != 200) {
            throw new IllegalStateException("adding " + username + " failed: " + response);
        }
    }

    /** A step that may throw, for the kill and restart of each process. */
    private interface Step {
        void run() throws Exception;
    }

    private void killAndRecover(String kind, Step kill, Step restart) throws Exception {
        log.printf("chaos: kill -9 of %s%n", kind);
        long killed = System.nanoTime();
        ledger.phase("kill -9 of " + kind);
        kill.run();
        Measurement measurement = measureRecovery(killed, () -> {
            restart.run();
            return -1L;
        });
        record(kind, killed, measurement);
    }

    private void killRedisPrimary() throws Exception {
        String kind = "Redis primary";
        int oldPrimary = cluster.primaryPort();
        log.printf("chaos: kill -9 of %s (port %d)%n", kind, oldPrimary);
        long killed = System.nanoTime();
        ledger.phase("kill -9 of " + kind);
        cluster.killRedis(oldPrimary);
        Measurement measurement = measureRecovery(killed, () -> {
            int newPrimary = cluster.awaitFailover(oldPrimary, settings.recoveryBound());
            long promoted = (System.nanoTime() - killed) / 1_000_000;
            cluster.restartRedisAsReplica(oldPrimary, newPrimary, settings.recoveryBound());
            return promoted;
        });
        record(kind, killed, measurement);
    }

    /** Bringing a killed process back; returns the Redis failover time, or -1. */
    private interface Restart {
        long run() throws Exception;
    }

    private record Measurement(long backMillis, long failoverMillis, List<CallPair.Recovery> calls, long wholeNanos) {
    }

    /**
     * While the calls recover on their own threads: second devices try to sign in during the disruption, the killed
     * process is started again, then waits (within the recovery bound) until every chat user has an ack after the
     * kill and every call is done.
     */
    private Measurement measureRecovery(long killed, Restart restart) throws Exception {
        long bound = killed + settings.recoveryBound().toNanos();
        ExecutorService recoveries = Executors.newFixedThreadPool(Math.max(1, calls.size()));
        try {
            List<Future<CallPair.Recovery>> futures = new ArrayList<>();
            for (CallPair call : calls) {
                futures.add(recoveries.submit(() -> call.recover(killed, bound)));
            }
            askProbes();
            long failover = restart.run();
            long back = (System.nanoTime() - killed) / 1_000_000;
            List<CallPair.Recovery> results = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                long left = Math.max(1, bound - System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
                try {
                    results.add(futures.get(i).get(left, TimeUnit.NANOSECONDS));
                } catch (Exception e) {
                    results.add(new CallPair.Recovery(calls.get(i).meetingId(), true, false,
                            (System.nanoTime() - killed) / 1_000_000, "recovery failed: " + e));
                }
            }
            while (System.nanoTime() < bound && !everyUserAckedAfter(killed)) {
                Thread.sleep(100);
            }
            return new Measurement(back, failover, results, System.nanoTime());
        } finally {
            recoveries.shutdownNow();
        }
    }

    private boolean everyUserAckedAfter(long nanos) {
        for (ChatUser user : users) {
            if (user.firstAckAfter(nanos) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Second-device sign-ins for a random sample of the chat users, done by their own threads. */
    private List<ChatUser> askProbes() {
        List<ChatUser> sample = new ArrayList<>(users);
        Collections.shuffle(sample, random);
        sample = sample.subList(0, Math.min(settings.probes(), sample.size()));
        sample.forEach(ChatUser::probeSecondDevice);
        return sample;
    }

    private void record(String kind, long killed, Measurement measurement) throws Exception {
        List<Long> chat = new ArrayList<>();
        int notBack = 0;
        for (ChatUser user : users) {
            long ack = user.firstAckAfter(killed);
            if (ack < 0 || ack > killed + settings.recoveryBound().toNanos()) {
                notBack++;
            } else {
                chat.add((ack - killed) / 1_000_000);
            }
        }
        long aroundFrom = killed - TimeUnit.SECONDS.toNanos(2);
        long maxAck = 0;
        int overOneSecond = 0;
        for (ChaosLedger.Ack ack : ledger.acks().values()) {
            if (ack.firstSentNanos() >= aroundFrom && ack.firstSentNanos() <= measurement.wholeNanos()) {
                maxAck = Math.max(maxAck, ack.millis());
                overOneSecond += ack.millis() > 1_000 ? 1 : 0;
            }
        }
        // Once whole: second devices of a sample of users and of every call's participants must be refused.
        List<ChatUser> probed = askProbes();
        for (CallPair call : calls) {
            call.probeSecondDevices(cluster);
        }
        long probesBound = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < probesBound && !probed.stream().allMatch(ChatUser::probeDone)) {
            Thread.sleep(50);
        }
        int expected = users.size() + 2 * calls.size();
        int live = sessionsLiveSettled(expected);
        if (live > expected) {
            ledger.doubleSession("after the kill of " + kind + ": the gateways count " + live
                    + " live sessions for " + expected + " signed-in clients");
        }
        ChaosReport.KillResult result = new ChaosReport.KillResult(kind, measurement.backMillis(),
                measurement.failoverMillis(), chat, notBack, measurement.calls(), maxAck, overOneSecond, live,
                expected);
        kills.add(result);
        log.printf("chaos: %s back after %d ms; chat first ack after kill (median / max) %s; calls hit %d, media "
                + "again %s%n", kind, result.backMillis(), ChaosReport.medianMax(chat), result.callsAffected(),
                ChaosReport.medianMax(result.callMillis()));
        Thread.sleep(settings.steady().toMillis());
    }

    /** The gateways' live-session count, read until it stops moving above what the run holds (5 s at most). */
    private int sessionsLiveSettled(int expected) throws Exception {
        int live = cluster.sessionsLive();
        for (int i = 0; i < 10 && live > expected; i++) {
            Thread.sleep(500);
            live = cluster.sessionsLive();
        }
        return live;
    }

    private ChaosReport finish(List<Thread> threads, long started) throws Exception {
        users.forEach(ChatUser::stopSending);
        long bound = System.nanoTime() + settings.recoveryBound().toNanos();
        while (System.nanoTime() < bound && users.stream().anyMatch(ChatUser::hasPendingMessage)) {
            Thread.sleep(100);
        }
        // Deliveries of the last acknowledged messages to the other members.
        Thread.sleep(1_000);
        for (ChatUser user : users) {
            user.stop();
        }
        for (Thread thread : threads) {
            thread.join(5_000);
        }
        Map<String, ChaosLedger.Ack> acks = ledger.acks();
        Map<String, List<String>> stored = history();
        List<String> lost = new ArrayList<>();
        List<String> duplicated = new ArrayList<>();
        int storedCount = 0;
        for (Map.Entry<String, List<String>> entry : stored.entrySet()) {
            storedCount += entry.getValue().size();
            if (entry.getValue().size() > 1) {
                duplicated.add(entry.getKey() + " stored as " + entry.getValue());
            }
        }
        for (ChaosLedger.Ack ack : acks.values()) {
            List<String> ids = stored.get(ack.clientMsgId());
            if (ids == null) {
                lost.add(ack.clientMsgId() + " (acknowledged as " + ack.messageId() + ")");
            } else if (!ids.contains(ack.messageId())) {
                duplicated.add(ack.clientMsgId() + " acknowledged as " + ack.messageId() + " but stored as " + ids);
            }
        }
        ledger.deliveredUnderSeveralIds().forEach((clientMsgId, ids) ->
                duplicated.add(clientMsgId + " delivered as " + ids));
        ledger.ackConflicts().forEach(conflict -> duplicated.add(conflict));
        return new ChaosReport(machine(), settings, List.copyOf(kills), acks.size(), storedCount, lost, duplicated,
                ledger.doubleSessions(), ledger.probeAnswers(), ledger.sendRefusals(), ledger.socketsClosed(), ledger.resumesRefused(),
                ledger.sessionsReplaced(), (System.nanoTime() - started) / 1_000_000_000);
    }

    /** Every chat meeting's stored messages, clientMsgId → messageIds, read page by page (newest first). */
    private Map<String, List<String>> history() throws Exception {
        Map<String, List<String>> stored = new HashMap<>();
        int port = cluster.liveGatewayPorts().get(0);
        for (Map.Entry<String, String> meeting : meetingTokens.entrySet()) {
            String before = null;
            for (int page = 0; page < 100_000; page++) {
                String path = "/api/meetings/" + meeting.getKey() + "/messages?limit=100"
                        + (before == null ? "" : "&before=" + before);
                TestGateway.Response response = TestGateway.request(port, "GET", path, null, meeting.getValue());
                if (response.status() != 200) {
                    throw new IllegalStateException("GET " + path + " answered " + response);
                }
                JsonNode messages = response.body().get("messages");
                for (JsonNode m : messages) {
                    before = m.get("messageId").asText();
                    if (!m.path("system").asBoolean() && m.hasNonNull("clientMsgId")) {
                        stored.computeIfAbsent(m.get("clientMsgId").asText(), id -> new ArrayList<>())
                                .add(m.get("messageId").asText());
                    }
                }
                if (!response.body().path("hasMore").asBoolean() || messages.isEmpty()) {
                    break;
                }
            }
        }
        return stored;
    }

    private static String machine() {
        String model = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (Exception e) {
            // not Linux: the model stays unknown
        }
        return Runtime.getRuntime().availableProcessors() + " CPUs, " + model;
    }

    private void closeQuietly() {
        ChaosCluster running = cluster;
        if (running == null) {
            return;
        }
        try {
            running.close();
        } catch (Exception e) {
            log.println("chaos: stopping the processes: " + e);
        }
    }
}
