package dev.parley.signaling.chaos;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How big a chaos run is. Every kill is done once whatever the size; the size sets the load around the kills.
 *
 * @param users            chat users, each on its own WebSocket, sending one message every {@code messageInterval}
 * @param meetingSize      members per meeting (the users are split into meetings of this size)
 * @param calls            two-person calls, each with audio from one participant to the other
 * @param messageInterval  pause between a user's acknowledged message and its next
 * @param recoveryBound    how long after a kill everything must be whole again (users chatting, calls' media)
 * @param probes           users whose second device tries to sign in, right after each kill and once it is whole
 * @param steady           load before the first kill and between one kill's recovery and the next kill
 * @param report           where the JSON report goes
 */
record ChaosSettings(int users, int meetingSize, int calls, Duration messageInterval, Duration recoveryBound,
                     int probes, Duration steady, Path report) {

    /** The run {@code scripts/chaos} does; each figure can be changed with a {@code -Dchaos.*} property. */
    static ChaosSettings longRun() {
        return new ChaosSettings(Integer.getInteger("chaos.users", 60), Integer.getInteger("chaos.meetingSize", 5),
                Integer.getInteger("chaos.calls", 4),
                Duration.ofMillis(Integer.getInteger("chaos.messageIntervalMillis", 250)),
                Duration.ofSeconds(Integer.getInteger("chaos.recoverySeconds", 60)),
                Integer.getInteger("chaos.probes", 10), Duration.ofSeconds(Integer.getInteger("chaos.steadySeconds", 10)),
                Path.of(System.getProperty("chaos.report", "target/chaos-report.json")));
    }

    /** The run the build does ({@code ChaosTest}): every kill once, a small load, short pauses. */
    static ChaosSettings shortRun() {
        return new ChaosSettings(12, 4, 2, Duration.ofMillis(400), Duration.ofSeconds(60), 4, Duration.ofSeconds(2),
                Path.of("target/chaos-report-short.json"));
    }
}
