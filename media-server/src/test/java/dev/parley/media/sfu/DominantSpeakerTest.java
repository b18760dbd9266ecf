package dev.parley.media.sfu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Dominant speaker detection on synthetic audio levels: each endpoint's microphone is a script of 20 ms levels (room
 * noise, syllables with gaps, coughs, clicks, steady noise), played packet by packet into real {@link AudioLevels}
 * with up to 25 ms of arrival jitter, while a timer evaluates every 200 ms as the conference does.
 */
class DominantSpeakerTest {
    private static final long START_NANOS = 5_000_000_007_000L;
    private static final long PACKET_NANOS = 20_000_000L;
    private static final long EVALUATION_NANOS = 200_000_000L;
    /** How long a takeover may take after the new speaker starts. */
    private static final long TAKEOVER_LIMIT_MS = 1200;

    @Test
    void aSpeakerTakesOverWhenTheOtherStops() {
        Call call = new Call();
        call.join("alice", new Script(1).talk(4000).room(4000));
        call.join("bob", new Script(2).room(4000).talk(4000));
        call.run(8000);

        assertEquals("alice", call.dominantAt(4000));
        long takeover = call.firstDominantAfter("bob", 4000);
        assertTrue(takeover - 4000 <= TAKEOVER_LIMIT_MS, "bob took over " + (takeover - 4000) + " ms after starting");
        assertEquals("bob", call.dominantAt(8000));
        assertEquals(List.of("alice", "bob"), call.dominantSequence());
    }

    @Test
    void aCoughOrAClickDoesNotStealDominance() {
        Call call = new Call();
        // Alice talks, pausing for half a second in the middle; Bob clicks his mouse while she talks and coughs once
        // in her pause.
        call.join("alice", new Script(3).talk(3000).room(500).talk(3000));
        call.join("bob", new Script(4).room(1500).burst(40, 10).room(1560).burst(300, 12).room(3000));
        call.run(6600);

        assertEquals(List.of("alice"), call.dominantSequence());
        assertFalse(call.everSpeaking("bob"), "a cough or a click is not speech");
        assertEquals("alice", call.dominantAt(6600));
    }

    @Test
    void steadyNoiseIsNotSpeechHoweverLoud() {
        Call call = new Call();
        // Carol sits by a loud fan (-35 dBov, louder than Alice's quieter syllables); Alice talks, then falls silent.
        call.join("carol", new Script(5).noise(35, 10000));
        call.join("alice", new Script(6).room(1000).talk(3000).room(6000));
        call.run(10000);

        assertNull(call.dominantAt(800), "nobody has spoken yet");
        assertFalse(call.everSpeaking("carol"), "steady noise is not speech");
        assertEquals(List.of("alice"), call.dominantSequence());
        assertEquals("alice", call.dominantAt(10000));
    }

    @Test
    void twoPeopleAlternatingEachBecomeDominantInTurnWithoutFlapping() {
        Call call = new Call();
        call.join("alice", new Script(7).talk(3000).room(3000).talk(3000).room(3000));
        call.join("bob", new Script(8).room(3000).talk(3000).room(3000).talk(3000));
        call.run(12000);

        assertEquals(List.of("alice", "bob", "alice", "bob"), call.dominantSequence());
        for (long turn = 3000; turn < 12000; turn += 3000) {
            String speaker = turn / 3000 % 2 == 0 ? "alice" : "bob";
            long takeover = call.firstDominantAfter(speaker, turn);
            assertTrue(takeover - turn <= TAKEOVER_LIMIT_MS, speaker + " took over " + (takeover - turn) + " ms late");
            assertEquals(speaker, call.dominantAt(turn + 3000));
        }
    }

    @Test
    void talkingOverTheDominantSpeakerRarelyTakesDominanceAndNeverMakesItFlap() {
        // Forty conversations: Alice holds the floor; Bob, as active as she is, talks over her for four seconds, then
        // gives up. Without the takeover delay, most of them hand dominance to Bob and some flap back and forth.
        int conversations = 40;
        int taken = 0;
        for (int seed = 0; seed < conversations; seed++) {
            Call call = new Call();
            call.join("alice", new Script(100 + 2 * seed).talk(9000));
            call.join("bob", new Script(101 + 2 * seed).room(3000).talk(4000).room(2000));
            call.run(9000);

            List<String> sequence = call.dominantSequence();
            assertTrue(sequence.size() <= 3, "dominance flapped: " + sequence);
            assertEquals("alice", call.dominantAt(9000));
            assertEquals(List.of("alice", "bob"), call.resultAt(6000).speaking().stream().sorted().toList());
            taken += sequence.size() > 1 ? 1 : 0;
        }
        assertTrue(taken <= conversations / 3, "Bob took dominance in " + taken + " of " + conversations);
    }

    @Test
    void aShortInterjectionOverTheDominantSpeakerDoesNotTakeTheFloor() {
        // Alice talks on while Bob exclaims something for a second, louder and without a pause, in ten conversations.
        for (int seed = 0; seed < 10; seed++) {
            Call call = new Call();
            call.join("alice", new Script(200 + 2 * seed).talk(8000));
            call.join("bob", new Script(201 + 2 * seed).room(3000).exclaim(1000).room(4000));
            call.run(8000);

            assertTrue(call.resultAt(4000).speaking().contains("bob"), "the interjection is speech");
            assertEquals(List.of("alice"), call.dominantSequence(), "conversation " + seed);
        }
    }

    @Test
    void silenceKeepsTheLastDominantSpeaker() {
        Call call = new Call();
        // Alice talks, then the room is quiet; then Alice's client stops sending (discontinuous transmission).
        call.join("alice", new Script(9).talk(3000).room(5000).nothing(5000));
        call.join("bob", new Script(10).room(13000));
        call.run(13000);

        assertEquals(List.of("alice"), call.dominantSequence());
        assertEquals("alice", call.dominantAt(13000));
        assertEquals(List.of(), call.resultAt(13000).speaking(), "nobody speaks in a quiet room");
        assertEquals(List.of("alice"), call.resultAt(2000).speaking());
    }

    @Test
    void whenTheDominantSpeakerLeavesTheEarlierOneTakesOverIfNobodySpeaks() {
        Call call = new Call();
        call.join("alice", new Script(11).talk(3000).room(5000));
        call.join("bob", new Script(12).room(3000).talk(3000).room(2000));
        call.join("carol", new Script(13).room(8000));
        call.run(7000);
        assertEquals("bob", call.dominantAt(7000));

        call.leave("bob");
        call.run(400);

        DominantSpeaker.Result handedOn = call.firstResultAfter(7000);
        assertEquals("alice", handedOn.dominant(), "the most recent earlier dominant speaker takes over");
        assertTrue(handedOn.dominantChanged());
        assertEquals(List.of("alice"), handedOn.recentDominants());

        call.leave("alice");
        call.run(400);
        DominantSpeaker.Result empty = call.firstResultAfter(7400);
        assertNull(empty.dominant(), "carol never spoke");
        assertTrue(empty.dominantChanged());
    }

    @Test
    void whenTheDominantSpeakerLeavesWhoeverSpeaksTakesOverAtOnce() {
        Call call = new Call();
        // Alice holds the floor; Carol starts talking quietly alongside, not enough to take it; then Alice leaves.
        call.join("alice", new Script(14).talk(6000));
        call.join("carol", new Script(15).room(4000).talk(4000));
        call.join("bob", new Script(16).talk(1000).room(7000));
        call.run(5000);
        assertEquals("alice", call.dominantAt(5000));
        assertTrue(call.resultAt(5000).speaking().contains("carol"));

        call.leave("alice");
        call.run(200);
        DominantSpeaker.Result handedOn = call.firstResultAfter(5000);
        assertEquals("carol", handedOn.dominant(), "the one speaking now, not bob who spoke earlier");
        assertTrue(handedOn.dominantChanged());
    }

    /** A microphone's levels, one per 20 ms, in -dBov (0 loudest, 127 silence); -1 = no packet sent. */
    static final class Script {
        private static final int ROOM = 65;
        private final Random random;
        private final List<Integer> levels = new ArrayList<>();

        Script(long seed) {
            random = new Random(seed);
        }

        /** A quiet room: microphone noise around -65 dBov. */
        Script room(int ms) {
            return noise(ROOM, ms);
        }

        /** Steady noise around {@code level}, a couple of dB either way. */
        Script noise(int level, int ms) {
            for (int i = 0; i < ms / 20; i++) {
                levels.add(level - 2 + random.nextInt(5));
            }
            return this;
        }

        /** Speech: syllables of 100-240 ms between -38 and -22 dBov, gaps of 40-120 ms back at the room's level. */
        Script talk(int ms) {
            int end = levels.size() + ms / 20;
            while (levels.size() < end) {
                int syllable = 5 + random.nextInt(8);
                int loudness = 22 + random.nextInt(17);
                for (int i = 0; i < syllable && levels.size() < end; i++) {
                    levels.add(loudness - 3 + random.nextInt(7));
                }
                int gap = 2 + random.nextInt(5);
                for (int i = 0; i < gap && levels.size() < end; i++) {
                    levels.add(ROOM - 10 + random.nextInt(12));
                }
            }
            return this;
        }

        /** Speech without a pause, -28 to -18 dBov. */
        Script exclaim(int ms) {
            for (int i = 0; i < ms / 20; i++) {
                levels.add(18 + random.nextInt(11));
            }
            return this;
        }

        /** One loud burst (a cough, a click) at {@code level}. */
        Script burst(int ms, int level) {
            for (int i = 0; i < ms / 20; i++) {
                levels.add(level + random.nextInt(3));
            }
            return this;
        }

        /** No packets (discontinuous transmission in silence). */
        Script nothing(int ms) {
            for (int i = 0; i < ms / 20; i++) {
                levels.add(-1);
            }
            return this;
        }

        int level(int packet) {
            return packet < levels.size() ? levels.get(packet) : ROOM;
        }
    }

    /** A conference's endpoints sending packets on one clock, and its speaker timer. */
    private static final class Call {
        private final DominantSpeaker speakers = new DominantSpeaker();
        private final Map<String, Script> scripts = new LinkedHashMap<>();
        private final Map<String, AudioLevels> levels = new LinkedHashMap<>();
        private final Map<Long, DominantSpeaker.Result> results = new LinkedHashMap<>();
        private final Random jitter = new Random(99);
        private int packet;

        void join(String id, Script script) {
            AudioLevels track = new AudioLevels();
            scripts.put(id, script);
            levels.put(id, track);
            assertTrue(speakers.add(id, track));
        }

        void leave(String id) {
            scripts.remove(id);
            levels.remove(id);
            speakers.remove(id);
        }

        /** Plays {@code ms} more of every script. */
        void run(int ms) {
            for (int i = 0; i < ms / 20; i++) {
                long sent = START_NANOS + packet * PACKET_NANOS;
                for (Map.Entry<String, Script> entry : scripts.entrySet()) {
                    int level = entry.getValue().level(packet);
                    if (level >= 0) {
                        levels.get(entry.getKey()).add(level, level < 60, sent + jitter.nextInt(25_000_000));
                    }
                }
                packet++;
                long now = START_NANOS + packet * PACKET_NANOS;
                if ((now - START_NANOS) % EVALUATION_NANOS == 0) {
                    results.put((now - START_NANOS) / 1_000_000, speakers.evaluate(now));
                }
            }
        }

        DominantSpeaker.Result resultAt(long ms) {
            DominantSpeaker.Result result = results.get(ms);
            if (result == null) {
                throw new AssertionError("no evaluation at " + ms + " ms");
            }
            return result;
        }

        DominantSpeaker.Result firstResultAfter(long ms) {
            return resultAt(ms + EVALUATION_NANOS / 1_000_000);
        }

        String dominantAt(long ms) {
            return resultAt(ms).dominant();
        }

        /** The first evaluation at or after {@code ms} where {@code id} is dominant; fails if there is none. */
        long firstDominantAfter(String id, long ms) {
            for (Map.Entry<Long, DominantSpeaker.Result> entry : results.entrySet()) {
                if (entry.getKey() >= ms && id.equals(entry.getValue().dominant())) {
                    return entry.getKey();
                }
            }
            throw new AssertionError(id + " never became dominant after " + ms + " ms; dominant: "
                    + dominantSequence());
        }

        /** Who became dominant, in order, as the changes reported say. */
        List<String> dominantSequence() {
            List<String> sequence = new ArrayList<>();
            for (DominantSpeaker.Result result : results.values()) {
                if (result.dominantChanged()) {
                    sequence.add(result.dominant());
                }
            }
            return sequence;
        }

        boolean everSpeaking(String id) {
            return results.values().stream().anyMatch(result -> result.speaking().contains(id));
        }
    }
}
