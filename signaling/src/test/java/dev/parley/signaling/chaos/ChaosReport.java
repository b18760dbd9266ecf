package dev.parley.signaling.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The figures of one chaos run, what must be zero and was not, printed for people and written as JSON. */
record ChaosReport(String machine, ChaosSettings settings, List<KillResult> kills, int acknowledged, int stored,
                   List<String> lost, List<String> duplicated, List<String> doubleSessions,
                   Map<String, Integer> secondDeviceAnswers, Map<String, Integer> sendRefusals,
                   Map<String, Integer> socketsClosed, int resumesRefused,
                   int sessionsReplaced, long seconds) {

    /**
     * One kill and how the system came back.
     *
     * @param backMillis           kill → the killed process running again (for Redis: the old primary following
     *                             the new one as a replica)
     * @param failoverMillis       Redis only: kill → the sentinels name the new primary (else -1)
     * @param chatMillis           per chat user, kill → its first chat.ack after the kill
     * @param usersNotBack         chat users with no ack within the recovery bound
     * @param calls                what each call did
     * @param maxAckMillis         the longest chat.ack wait (first attempt → ack) of a message sent around the kill
     * @param acksOverOneSecond    messages whose ack took longer than one second
     * @param sessionsLive         parley_sessions_live summed over the gateways once whole again
     * @param sessionsExpected     sockets the run holds open (chat users and call participants)
     */
    record KillResult(String kind, long backMillis, long failoverMillis, List<Long> chatMillis, int usersNotBack,
                      List<CallPair.Recovery> calls, long maxAckMillis, int acksOverOneSecond, int sessionsLive,
                      int sessionsExpected) {

        List<Long> callMillis() {
            List<Long> millis = new ArrayList<>();
            for (CallPair.Recovery call : calls) {
                if (call.affected() && call.recovered()) {
                    millis.add(call.millis());
                }
            }
            return millis;
        }

        long callsAffected() {
            return calls.stream().filter(CallPair.Recovery::affected).count();
        }

        long callsNotRecovered() {
            return calls.stream().filter(c -> !c.recovered()).count();
        }
    }

    /** Everything that makes the run fail: must-be-zero counts that are not, calls and users that did not recover. */
    List<String> failures() {
        List<String> failures = new ArrayList<>();
        if (!doubleSessions.isEmpty()) {
            failures.add(doubleSessions.size() + " double session(s): " + doubleSessions);
        }
        if (!lost.isEmpty()) {
            failures.add(lost.size() + " acknowledged message(s) lost: " + first(lost));
        }
        if (!duplicated.isEmpty()) {
            failures.add(duplicated.size() + " message(s) duplicated: " + first(duplicated));
        }
        for (KillResult kill : kills) {
            if (kill.callsNotRecovered() > 0) {
                failures.add(kill.kind() + ": " + kill.callsNotRecovered() + " call(s) did not recover within "
                        + settings.recoveryBound().toSeconds() + " s: " + kill.calls());
            }
            if (kill.usersNotBack() > 0) {
                failures.add(kill.kind() + ": " + kill.usersNotBack() + " chat user(s) got no ack within "
                        + settings.recoveryBound().toSeconds() + " s");
            }
        }
        return failures;
    }

    private static List<String> first(List<String> items) {
        return items.subList(0, Math.min(10, items.size()));
    }

    void print(PrintStream out) {
        out.println();
        out.println("Chaos run: " + machine);
        out.printf(Locale.ROOT, "load: %d chat users in meetings of %d, one message each per %d ms; %d calls; %d s%n",
                settings.users(), settings.meetingSize(), settings.messageInterval().toMillis(), settings.calls(),
                seconds);
        out.println();
        out.printf(Locale.ROOT, "%-30s %9s %22s %22s %14s%n", "kill -9 of", "back", "chat: first ack after",
                "call media again", "calls hit");
        for (KillResult kill : kills) {
            out.printf(Locale.ROOT, "%-30s %7d ms %22s %22s %8d of %d%n", kill.kind(), kill.backMillis(),
                    medianMax(kill.chatMillis()), medianMax(kill.callMillis()), kill.callsAffected(),
                    kill.calls().size());
        }
        for (KillResult kill : kills) {
            if (kill.failoverMillis() >= 0) {
                out.printf(Locale.ROOT, "%s: sentinels promoted the replica after %d ms; longest chat.ack wait of a"
                        + " message sent around it %d ms, %d acks took over 1 s%n", kill.kind(),
                        kill.failoverMillis(), kill.maxAckMillis(), kill.acksOverOneSecond());
            }
        }
        for (KillResult kill : kills) {
            for (CallPair.Recovery call : kill.calls()) {
                if (call.affected()) {
                    out.printf(Locale.ROOT, "  %s, call %s: %s after %d ms (%s)%n", kill.kind(), call.meetingId(),
                            call.recovered() ? "media again" : "NOT recovered", call.millis(), call.how());
                }
            }
        }
        out.println();
        out.printf(Locale.ROOT, "double sessions:            %d (must be 0)%n", doubleSessions.size());
        out.printf(Locale.ROOT, "acknowledged but lost:      %d of %d acknowledged (must be 0; %d stored)%n",
                lost.size(), acknowledged, stored);
        out.printf(Locale.ROOT, "duplicated:                 %d (must be 0)%n", duplicated.size());
        out.printf(Locale.ROOT, "second devices answered:    %s%n", secondDeviceAnswers);
        out.printf(Locale.ROOT, "chat sends refused:         %s (each sent again until acknowledged)%n",
                sendRefusals);
        out.printf(Locale.ROOT, "sockets lost, by close code: %s (-1: connection gone without a close frame)%n",
                socketsClosed);
        out.printf(Locale.ROOT, "resumes refused:            %d; sessions replaced: %d%n", resumesRefused,
                sessionsReplaced);
        for (KillResult kill : kills) {
            out.printf(Locale.ROOT, "sessions live after %-22s %d on the gateways for %d clients%n", kill.kind() + ":",
                    kill.sessionsLive(), kill.sessionsExpected());
        }
        List<String> failures = failures();
        out.println(failures.isEmpty() ? "PASSED" : "FAILED:\n  " + String.join("\n  ", failures));
    }

    static String medianMax(List<Long> millis) {
        return millis.isEmpty() ? "-" : String.format(Locale.ROOT, "%d / %d ms", median(millis), max(millis));
    }

    void write(Path file) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", machine);
        json.put("settings", Map.of("users", settings.users(), "meetingSize", settings.meetingSize(),
                "calls", settings.calls(), "messageIntervalMillis", settings.messageInterval().toMillis(),
                "recoveryBoundSeconds", settings.recoveryBound().toSeconds(), "probes", settings.probes()));
        json.put("seconds", seconds);
        List<Map<String, Object>> killFigures = new ArrayList<>();
        for (KillResult kill : kills) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("kind", kill.kind());
            k.put("backMillis", kill.backMillis());
            if (kill.failoverMillis() >= 0) {
                k.put("failoverMillis", kill.failoverMillis());
            }
            k.put("chatFirstAckMillis", Map.of("median", median(kill.chatMillis()), "max", max(kill.chatMillis())));
            k.put("usersNotBack", kill.usersNotBack());
            k.put("callsAffected", kill.callsAffected());
            k.put("callsNotRecovered", kill.callsNotRecovered());
            k.put("callMediaAgainMillis", Map.of("median", median(kill.callMillis()), "max", max(kill.callMillis())));
            k.put("calls", kill.calls());
            k.put("maxAckMillis", kill.maxAckMillis());
            k.put("acksOverOneSecond", kill.acksOverOneSecond());
            k.put("sessionsLive", kill.sessionsLive());
            k.put("sessionsExpected", kill.sessionsExpected());
            killFigures.add(k);
        }
        json.put("kills", killFigures);
        json.put("doubleSessions", doubleSessions);
        json.put("acknowledged", acknowledged);
        json.put("stored", stored);
        json.put("lost", lost);
        json.put("duplicated", duplicated);
        json.put("secondDeviceAnswers", secondDeviceAnswers);
        json.put("sendRefusals", sendRefusals);
        json.put("socketsClosedByCode", socketsClosed);
        json.put("resumesRefused", resumesRefused);
        json.put("sessionsReplaced", sessionsReplaced);
        json.put("failures", failures());
        Path absolute = file.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(absolute.toFile(), json);
    }

    private static long median(List<Long> millis) {
        if (millis.isEmpty()) {
            return -1;
        }
        List<Long> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        int middle = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(middle) : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
    }

    private static long max(List<Long> millis) {
        return millis.isEmpty() ? -1 : Collections.max(millis);
    }
}
