package dev.parley.signaling.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every client of a chaos run saw, written by all of their threads at once: each acknowledged message (by its
 * clientMsgId) with the messageId its ack named and how long the ack took, every messageId each clientMsgId was
 * delivered under, and each answer a second device got.
 */
final class ChaosLedger {

    /** One chat.ack: its messageId, when the first attempt was sent and when the ack came ({@code System.nanoTime}). */
    record Ack(String clientMsgId, String messageId, long firstSentNanos, long ackNanos) {
        long millis() {
            return (ackNanos - firstSentNanos) / 1_000_000;
        }
    }

    private final Map<String, Ack> acks = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> deliveries = new ConcurrentHashMap<>();
    private final List<String> doubleSessions = new ArrayList<>();
    private final List<String> ackConflicts = new ArrayList<>();
    private final Map<String, AtomicInteger> probeAnswers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> sendRefusals = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> socketsClosed = new ConcurrentHashMap<>();
    private final AtomicInteger resumesRefused = new AtomicInteger();
    private final AtomicInteger sessionsReplaced = new AtomicInteger();

    void acked(Ack ack) {
        Ack earlier = acks.putIfAbsent(ack.clientMsgId(), ack);
        if (earlier != null && !earlier.messageId().equals(ack.messageId())) {
            synchronized (ackConflicts) {
                ackConflicts.add(ack.clientMsgId() + " acknowledged as " + earlier.messageId() + " and as "
                        + ack.messageId());
            }
        }
    }

    void delivered(String clientMsgId, String messageId) {
        deliveries.computeIfAbsent(clientMsgId, id -> new ConcurrentSkipListSet<>()).add(messageId);
    }

    private volatile String phase = "before the first kill";
    private volatile long phaseNanos = System.nanoTime();

    /** What the run is doing (the last kill), named in what is recorded from now on. */
    void phase(String name) {
        phase = name;
        phaseNanos = System.nanoTime();
    }

    void doubleSession(String what) {
        String when = " (" + phase + ", " + (System.nanoTime() - phaseNanos) / 1_000_000 + " ms after it)";
        synchronized (doubleSessions) {
            doubleSessions.add(what + when);
        }
    }

    void probeAnswered(String answer) {
        probeAnswers.computeIfAbsent(answer, a -> new AtomicInteger()).incrementAndGet();
    }

    void sendRefused(String code) {
        sendRefusals.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
    }

    /** A client found its socket closed with this close code (-1: without one), recorded under the last kill. */
    void socketClosed(int code) {
        socketsClosed.computeIfAbsent(phase + ": " + code, c -> new AtomicInteger()).incrementAndGet();
    }

    Map<String, Integer> socketsClosed() {
        return counts(socketsClosed);
    }

    void resumeRefused() {
        resumesRefused.incrementAndGet();
    }

    void sessionReplaced() {
        sessionsReplaced.incrementAndGet();
    }

    Map<String, Ack> acks() {
        return Map.copyOf(acks);
    }

    /** clientMsgIds delivered under more than one messageId, with those ids. */
    Map<String, Set<String>> deliveredUnderSeveralIds() {
        Map<String, Set<String>> several = new ConcurrentHashMap<>();
        deliveries.forEach((clientMsgId, ids) -> {
            if (ids.size() > 1) {
                several.put(clientMsgId, Set.copyOf(ids));
            }
        });
        return several;
    }

    List<String> doubleSessions() {
        synchronized (doubleSessions) {
            return List.copyOf(doubleSessions);
        }
    }

    List<String> ackConflicts() {
        synchronized (ackConflicts) {
            return List.copyOf(ackConflicts);
        }
    }

    Map<String, Integer> probeAnswers() {
        return counts(probeAnswers);
    }

    Map<String, Integer> sendRefusals() {
        return counts(sendRefusals);
    }

    int resumesRefused() {
        return resumesRefused.get();
    }

    int sessionsReplaced() {
        return sessionsReplaced.get();
    }

    private static Map<String, Integer> counts(Map<String, AtomicInteger> counters) {
        Map<String, Integer> copy = new java.util.TreeMap<>();
        counters.forEach((k, v) -> copy.put(k, v.get()));
        return copy;
    }
}
