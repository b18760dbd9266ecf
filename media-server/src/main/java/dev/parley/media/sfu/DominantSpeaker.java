package dev.parley.media.sfu;

import dev.parley.media.rtp.AudioLevel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which of a conference's endpoints are speaking, and which one is the dominant speaker.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * DominantSpeaker speakers = new DominantSpeaker();
 * speakers.add("alice", aliceAudioLevels);      // when an endpoint's audio track appears (any thread)
 * speakers.remove("bob");                        // when it goes (any thread)
 * // on the conference's timer, every 100-300 ms, always from the same thread:
 * DominantSpeaker.Result result = speakers.evaluate(System.nanoTime());
 * result.dominant();          // endpoint id; null before anyone has spoken, or after every dominant one left
 * result.dominantChanged();   // true on the evaluation where dominant() became another one (tell clients)
 * result.speaking();          // endpoints speaking now, most active first (the UI's speaking outline)
 * result.recentDominants();   // endpoints that have been dominant, most recent first (last-N)
 * }</pre>
 * The {@link AudioLevels} are written by each publisher's receive thread; the clock is {@link System#nanoTime}, the
 * same one the levels were recorded with. {@link #add} with an id already present replaces its levels.
 *
 * <h2>How</h2>
 * In the spirit of Volfin and Cohen, "Dominant speaker identification for multipoint videoconferencing" (Computer
 * Speech and Language 27, 2013): each 20 ms interval of each endpoint is <em>active</em> when its level is at least
 * {@link #ABOVE_FLOOR_DB} over that endpoint's own noise floor (so steady background noise, however loud, is not
 * speech) and louder than {@link #QUIETEST_SPEECH_LEVEL}. Three windows, immediate (200 ms), medium (800 ms) and long
 * (2 s), each give a score: the log-likelihood ratio of their count of active intervals under a speech model against
 * a noise model. An endpoint speaks when its medium and long scores are both positive, so a cough or a click, loud
 * but short, does not count. A speaking endpoint takes dominance when it has out-scored the dominant one in the
 * immediate and medium windows continuously for {@link #TAKEOVER_NANOS}, and also in the long window while the
 * dominant one still speaks. Silence changes nothing: the last dominant speaker stays. When the dominant endpoint is
 * removed, the most active speaker takes over at once, or if nobody speaks, the most recent earlier dominant one still
 * present.
 */
public final class DominantSpeaker {
    /** Endpoints one instance follows; {@link #add} refuses more. */
    public static final int MAX_ENDPOINTS = 1000;
    /** How far above its endpoint's noise floor an interval must be to be active. */
    public static final double ABOVE_FLOOR_DB = 10;
    /** Intervals quieter than this (-dBov) are never active: microphone hiss in a silent room. */
    public static final int QUIETEST_SPEECH_LEVEL = 70;
    /** How long a challenger must out-speak the dominant speaker before it takes over. */
    public static final long TAKEOVER_NANOS = 300_000_000L;

    static final int IMMEDIATE_INTERVALS = 10;
    static final int MEDIUM_INTERVALS = 40;
    static final int LONG_INTERVALS = 100;
    /** Score margins a challenger needs over the dominant speaker; one more active interval is worth about 3.35. */
    static final double IMMEDIATE_MARGIN = 3;
    static final double MEDIUM_MARGIN = 8;
    static final double LONG_MARGIN = 10;
    /**
     * The two models: speech has 60 % of its intervals active, noise 5 %. Each active interval counts ln(0.6/0.05) for
     * speech, each inactive one ln(0.95/0.4) against, so a window scores positive above about 26 % active.
     */
    private static final double ACTIVE_WEIGHT = Math.log(0.6 / 0.05);
    private static final double INACTIVE_WEIGHT = Math.log(0.95 / 0.4);
    /** The noise floor follows the 100 ms mean level: down at once, up by at most this much per interval (5 dB/s). */
    private static final int SMOOTHING_INTERVALS = 5;
    private static final double FLOOR_RISE_DB = 0.1;
    private static final long NONE = Long.MIN_VALUE;

    private final Map<String, Speaker> speakers = new ConcurrentHashMap<>();
    // Below: touched only by evaluate()'s thread.
    private final List<String> recentDominants = new ArrayList<>();
    private Speaker dominant;
    private volatile long dominantChanges;

    /** What one evaluation found. */
    public record Result(String dominant, boolean dominantChanged, List<String> speaking,
                         List<String> recentDominants) {
    }

    /** Follows {@code endpointId}'s audio (replacing levels added before for it); false when already at the limit. */
    public boolean add(String endpointId, AudioLevels levels) {
        if (speakers.size() >= MAX_ENDPOINTS && !speakers.containsKey(endpointId)) {
            return false;
        }
        speakers.put(endpointId, new Speaker(endpointId, levels));
        return true;
    }

    /** Stops following the endpoint; if it was dominant, the next evaluation hands dominance on. */
    public void remove(String endpointId) {
        speakers.remove(endpointId);
    }

    /** Dominant speaker changes so far. */
    public long dominantChanges() {
        return dominantChanges;
    }

    /** Scores every endpoint over the intervals before {@code nowNanos}; call from one thread only. */
    public Result evaluate(long nowNanos) {
        long current = AudioLevels.interval(nowNanos);
        List<Speaker> present = new ArrayList<>(speakers.values());
        List<Speaker> speaking = new ArrayList<>();
        for (Speaker speaker : present) {
            speaker.score(current);
            if (speaker.speaking) {
                speaking.add(speaker);
            }
        }
        speaking.sort(Comparator.comparingDouble((Speaker s) -> s.medium).reversed());
        recentDominants.removeIf(id -> !speakers.containsKey(id));

        Speaker previous = dominant;
        if (dominant != null && speakers.get(dominant.id) != dominant) {
            dominant = handOn(speaking);
        } else if (dominant == null) {
            dominant = speaking.isEmpty() ? null : speaking.get(0);
        } else {
            dominant = challenge(present, nowNanos);
        }
        boolean changed = !Objects.equals(idOf(previous), idOf(dominant));
        if (dominant != previous) {
            for (Speaker speaker : present) {
                speaker.challengingSince = NONE;
            }
        }
        if (changed) {
            dominantChanges = dominantChanges + 1;
        }
        if (changed && dominant != null) {
            recentDominants.remove(dominant.id);
            recentDominants.add(0, dominant.id);
        }
        List<String> speakingIds = new ArrayList<>(speaking.size());
        for (Speaker speaker : speaking) {
            speakingIds.add(speaker.id);
        }
        return new Result(idOf(dominant), changed, List.copyOf(speakingIds),
                List.copyOf(recentDominants));
    }

    private static String idOf(Speaker speaker) {
        return speaker == null ? null : speaker.id;
    }

    private Speaker handOn(List<Speaker> speaking) {
        if (!speaking.isEmpty()) {
            return speaking.get(0);
        }
        for (String id : recentDominants) {
            Speaker earlier = speakers.get(id);
            if (earlier != null) {
                return earlier;
            }
        }
        return null;
    }

    /**
     * The challenge clock runs while a challenger out-scores the dominant speaker in the immediate and medium windows;
     * it takes over once the clock has run for {@link #TAKEOVER_NANOS} and it speaks, and, while the dominant speaker
     * still speaks too, has also out-scored it in the long window.
     */
    private Speaker challenge(List<Speaker> present, long nowNanos) {
        Speaker winner = null;
        for (Speaker challenger : present) {
            if (challenger == dominant) {
                continue;
            }
            boolean outSpeaks = challenger.immediate - dominant.immediate >= IMMEDIATE_MARGIN
                    && challenger.medium - dominant.medium >= MEDIUM_MARGIN;
            if (!outSpeaks) {
                challenger.challengingSince = NONE;
                continue;
            }
            if (challenger.challengingSince == NONE) {
                challenger.challengingSince = nowNanos;
            }
            boolean takesOver = nowNanos - challenger.challengingSince >= TAKEOVER_NANOS && challenger.speaking
                    && (!dominant.speaking || challenger.longTerm - dominant.longTerm > LONG_MARGIN);
            if (takesOver && (winner == null || challenger.medium > winner.medium)) {
                winner = challenger;
            }
        }
        return winner == null ? dominant : winner;
    }

    /** Log-likelihood ratio of speech against noise for {@code active} of {@code intervals}. */
    static double score(int active, int intervals) {
        return active * ACTIVE_WEIGHT - (intervals - active) * INACTIVE_WEIGHT;
    }

    /** One endpoint's audio and what evaluate() has learnt of it. */
    private static final class Speaker {
        final String id;
        final AudioLevels levels;
        final double[] recent = new double[SMOOTHING_INTERVALS];
        int recentCount;
        int recentNext;
        double floor = Double.NaN;
        long lastInterval = NONE;
        double immediate;
        double medium;
        double longTerm;
        boolean speaking;
        long challengingSince = NONE;

        Speaker(String id, AudioLevels levels) {
            this.id = id;
            this.levels = levels;
        }

        /** Updates the noise floor with the intervals new since the last call, then scores the three windows. */
        void score(long current) {
            long first = lastInterval == NONE ? current - LONG_INTERVALS : Math.max(lastInterval + 1,
                    current - LONG_INTERVALS);
            for (long interval = first; interval < current; interval++) {
                int sample = levels.sample(interval);
                if (sample >= 0 && AudioLevel.level(sample) < AudioLevel.SILENCE) {
                    follow(AudioLevel.SILENCE - AudioLevel.level(sample));
                }
            }
            lastInterval = Math.max(lastInterval, current - 1);
            int immediateActive = 0;
            int mediumActive = 0;
            int longActive = 0;
            for (int back = 1; back <= LONG_INTERVALS; back++) {
                if (active(levels.sample(current - back))) {
                    longActive++;
                    if (back <= MEDIUM_INTERVALS) {
                        mediumActive++;
                    }
                    if (back <= IMMEDIATE_INTERVALS) {
                        immediateActive++;
                    }
                }
            }
            immediate = DominantSpeaker.score(immediateActive, IMMEDIATE_INTERVALS);
            medium = DominantSpeaker.score(mediumActive, MEDIUM_INTERVALS);
            longTerm = DominantSpeaker.score(longActive, LONG_INTERVALS);
            speaking = medium > 0 && longTerm > 0;
        }

        /** Digital silence (muted, or no signal) says nothing about the room's noise, so it never reaches here. */
        private void follow(double loudness) {
            recent[recentNext] = loudness;
            recentNext = (recentNext + 1) % SMOOTHING_INTERVALS;
            recentCount = Math.min(recentCount + 1, SMOOTHING_INTERVALS);
            double sum = 0;
            for (int i = 0; i < recentCount; i++) {
                sum += recent[i];
            }
            double mean = sum / recentCount;
            if (Double.isNaN(floor) || mean < floor) {
                floor = mean;
            } else {
                floor = Math.min(mean, floor + FLOOR_RISE_DB);
            }
        }

        private boolean active(int sample) {
            if (sample < 0) {
                return false;
            }
            int level = AudioLevel.level(sample);
            return level <= QUIETEST_SPEECH_LEVEL && AudioLevel.SILENCE - level - floor >= ABOVE_FLOOR_DB;
        }
    }
}
