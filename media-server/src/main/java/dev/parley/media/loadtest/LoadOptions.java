package dev.parley.media.loadtest;

import java.net.URI;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The load generator's settings, parsed from the command line. A scenario sets the shape; options given
 * explicitly override it. Every value is bounded, so a run always ends by itself.
 */
record LoadOptions(String scenario, URI target, boolean allowRemoteTarget, String embedded,
                   List<String> serverJvmOptions, String token, String api, int conferences, int publishers,
                   int subscribers, long audioBitrate, int audioPtimeMs, long videoBitrate, int packetSize,
                   int durationSeconds, int rampUpSeconds, int warmUpSeconds, long seed, boolean baseline,
                   boolean simulcast, boolean findCapacity, double lossThresholdPercent, int stepSeconds,
                   double stepFactor,
                   int maxSteps, double startMultiplier, Path out, boolean progress) {

    static final int MAX_CONFERENCES = 100;
    static final int MAX_ENDPOINTS = 1000;
    static final int MAX_SECONDS = 3600;
    static final double MAX_OFFERED_PPS = 400_000;

    /** Named shapes: conferences, publishers, subscribers, and whether there is video. */
    enum Scenario {
        CUSTOM("custom", "the shape given by --conferences, --publishers and --subscribers", 1, 1, 1, true),
        ONE_TO_MANY("one-to-many", "one speaker to many listeners: 1 conference, 1 publisher, 50 subscribers",
                1, 1, 50, true),
        SMALL_MEETINGS("small-meetings", "20 conferences of 4, everyone publishing audio and video", 20, 4, 0, true),
        AUDIO_ONLY("audio-only", "10 audio-only rooms, 3 speakers and 3 listeners each", 10, 3, 3, false);

        final String id;
        final String description;
        final int conferences;
        final int publishers;
        final int subscribers;
        final boolean video;

        Scenario(String id, String description, int conferences, int publishers, int subscribers, boolean video) {
            this.id = id;
            this.description = description;
            this.conferences = conferences;
            this.publishers = publishers;
            this.subscribers = subscribers;
            this.video = video;
        }

        static Scenario byId(String id) {
            for (Scenario s : values()) {
                if (s.id.equals(id)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown --scenario " + id + " (one of: " + ids() + ")");
        }

        static String ids() {
            List<String> ids = new ArrayList<>();
            for (Scenario s : values()) {
                ids.add(s.id);
            }
            return String.join(", ", ids);
        }
    }

    static final String HELP = """
            Usage: scripts/loadtest [options]

            Synthetic WebRTC endpoints (real ICE, DTLS 1.2 and SRTP, the media server's own client code) publish and
            receive RTP through a Parley media server. Each packet carries a sequence number and its send time, so the
            receivers measure throughput, loss, duplicates, reordering, RFC 3550 jitter and one-way latency.

            Target
              --target URL             a media server's HTTP API (default: start one on loopback for the run)
              --allow-remote-target    allow a --target that is not a loopback address (off: such targets are refused)
              --embedded MODE          process (own JVM, the default) or in-process, when no --target is given
              --server-jvm-option OPT  extra JVM option for the embedded server process (repeatable)
              --token TOKEN            bearer token for the target's API
              --api API                control (publish/subscribe API, default) or whip (WHIP to publish, WHEP to play)

            Load
              --scenario NAME          one-to-many | small-meetings | audio-only | custom (default custom)
              --conferences N          conferences (1..100)
              --publishers N           publishers per conference; each also receives the other publishers
              --subscribers N          receive-only endpoints per conference
              --audio-bitrate BPS      per publisher, 0 for none (default 32k)
              --audio-ptime MS         audio packet interval (default 20)
              --video-bitrate BPS      per publisher, 0 for none (default 1m)
              --packet-size BYTES      video RTP payload size (28..1400, default 1200)
              --duration S             measured seconds (default 30, at most 3600)
              --ramp-up S              spread the conferences' joins over S seconds (default 5)
              --warm-up S              traffic before measuring (default 5)
              --seed N                 seed for stream phases and payload bytes (default 1)

            Modes
              --baseline               also run a plain UDP relay (no ICE, DTLS, SRTP) under the same traffic
              --simulcast              publish video as three VP8 simulcast layers (q 320x180, h 640x360,
                                       f 1280x720; 15/30/55 % of --video-bitrate, a keyframe a second); receiver
                                       i of a conference asks for layer i mod 3, and gets only that layer (needs
                                       --api control, video, and --warm-up of at least 2)
              --find-capacity          raise the packet rate step by step until loss exceeds the threshold
              --loss-threshold PCT     loss that ends --find-capacity, in percent (default 0.1)
              --step-duration S        seconds per capacity step (default 10)
              --step-factor F          rate multiplier from one step to the next (default 1.25)
              --max-steps N            at most N steps (default 20)
              --start-multiplier M     packet-rate multiplier of the run, or of the first capacity step (default 1)

            Output
              --out DIR                where summary.json, windows.csv, samples.csv and report.html go
                                       (default loadtest-results/<date-time>)
              --no-progress            no live progress line
              --help                   this text
            """;

    static LoadOptions parse(String[] args) {
        Map<String, String> given = new LinkedHashMap<>();
        List<String> jvm = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            int eq = arg.indexOf('=');
            String name = eq > 0 ? arg.substring(0, eq) : arg;
            switch (name) {
                case "--allow-remote-target", "--baseline", "--simulcast", "--find-capacity", "--no-progress",
                     "--help", "-h" -> {
                    given.put(name, "true");
                    continue;
                }
                default -> {
                }
            }
            if (!name.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + arg + " (see --help)");
            }
            String value;
            if (eq > 0) {
                value = arg.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException(name + " needs a value");
            }
            if (name.equals("--server-jvm-option")) {
                jvm.add(value);
            } else {
                given.put(name, value);
            }
        }
        if (given.containsKey("--help") || given.containsKey("-h")) {
            return null;
        }
        Scenario scenario = Scenario.byId(given.getOrDefault("--scenario", "custom"));
        Values v = new Values(given);
        URI target = given.containsKey("--target") ? URI.create(given.get("--target")) : null;
        boolean allowRemote = given.containsKey("--allow-remote-target");
        if (target != null) {
            MediaTarget.checkLoopback(target, allowRemote);
        }
        String embedded = v.choice("--embedded", "process", "process", "in-process");
        String api = v.choice("--api", "control", "control", "whip");
        int conferences = v.integer("--conferences", scenario.conferences, 1, MAX_CONFERENCES);
        int publishers = v.integer("--publishers", scenario.publishers, 1, MAX_ENDPOINTS);
        int subscribers = v.integer("--subscribers", scenario.subscribers, 0, MAX_ENDPOINTS);
        if ((long) conferences * (publishers + subscribers) > MAX_ENDPOINTS) {
            throw new IllegalArgumentException("at most " + MAX_ENDPOINTS + " endpoints in all (conferences x "
                    + "(publishers + subscribers))");
        }
        long audio = v.rate("--audio-bitrate", 32_000);
        int ptime = v.integer("--audio-ptime", 20, 5, 120);
        long video = v.rate("--video-bitrate", scenario.video ? 1_000_000 : 0);
        int packetSize = v.integer("--packet-size", 1200, Probe.SIZE, 1400);
        if (audio == 0 && video == 0) {
            throw new IllegalArgumentException("--audio-bitrate and --video-bitrate cannot both be 0");
        }
        double lossThreshold = v.decimal("--loss-threshold", 0.1, 0, 100);
        double stepFactor = v.decimal("--step-factor", 1.25, 1.01, 4);
        double startMultiplier = v.decimal("--start-multiplier", 1, 0.01, 1000);
        int maxSteps = v.integer("--max-steps", 20, 1, 40);
        int warmUp = v.integer("--warm-up", 5, 0, 600);
        boolean simulcast = given.containsKey("--simulcast");
        if (simulcast && video == 0) {
            throw new IllegalArgumentException("--simulcast needs video (a --video-bitrate above 0)");
        }
        if (simulcast && !api.equals("control")) {
            throw new IllegalArgumentException("--simulcast needs --api control (receivers choose their layer "
                    + "through the control API)");
        }
        if (simulcast && warmUp < 2) {
            throw new IllegalArgumentException("--simulcast needs --warm-up 2 or more: a receiver gets its layer "
                    + "from that layer's next keyframe, sent once a second");
        }
        LoadOptions options = new LoadOptions(scenario.id, target, allowRemote, embedded, List.copyOf(jvm),
                given.getOrDefault("--token", ""), api, conferences, publishers, subscribers, audio, ptime, video,
                packetSize, v.integer("--duration", 30, 1, MAX_SECONDS), v.integer("--ramp-up", 5, 0, 600),
                warmUp, v.integer("--seed", 1, 0, Integer.MAX_VALUE),
                given.containsKey("--baseline"), simulcast, given.containsKey("--find-capacity"), lossThreshold,
                v.integer("--step-duration", 10, 1, 600), stepFactor, maxSteps, startMultiplier,
                Path.of(given.getOrDefault("--out", "loadtest-results/"
                        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))),
                !given.containsKey("--no-progress"));
        double peak = options.offeredPacketsPerSecond() * options.peakMultiplier();
        if (peak > MAX_OFFERED_PPS) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "the run would offer up to %.0f packets/s "
                    + "from this host; the cap is %.0f", peak, MAX_OFFERED_PPS));
        }
        v.rejectUnknown();
        return options;
    }

    double audioPacketsPerSecond() {
        return audioBitrate == 0 ? 0 : 1000.0 / audioPtimeMs;
    }

    int audioPayloadBytes() {
        return (int) Math.max(Probe.SIZE, audioBitrate / 8 * audioPtimeMs / 1000);
    }

    double videoPacketsPerSecond() {
        return videoBitrate == 0 ? 0 : videoBitrate / 8.0 / packetSize;
    }

    /** Packets per second all publishers send at multiplier 1. */
    double offeredPacketsPerSecond() {
        return (double) conferences * publishers * (audioPacketsPerSecond() + videoPacketsPerSecond());
    }

    /** Receivers of each stream: the conference's subscribers and its other publishers. */
    int fanout() {
        return subscribers + publishers - 1;
    }

    /** Receive transports per conference: its subscribers, then (with more than one) its publishers. */
    int receiversPerConference() {
        return subscribers + (publishers > 1 ? publishers : 0);
    }

    /**
     * Receivers of one stream of {@code publisher}: all of {@link #fanout()} for a stream sent once; for a
     * simulcast layer, those among them that ask for it ({@link SimulcastLayers#wantedBy}).
     */
    int fanout(int publisher, int layer) {
        if (layer < 0) {
            return fanout();
        }
        int count = 0;
        for (int r = 0; r < receiversPerConference(); r++) {
            boolean self = publishers > 1 && r == subscribers + publisher;
            if (!self && SimulcastLayers.wantedBy(r) == layer) {
                count++;
            }
        }
        return count;
    }

    double peakMultiplier() {
        return findCapacity ? startMultiplier * Math.pow(stepFactor, maxSteps - 1) : startMultiplier;
    }

    /** Upper bound on the run's length, for sizing per-second arrays. */
    int plannedSeconds() {
        int measured = findCapacity ? stepSeconds * maxSteps : durationSeconds;
        return rampUpSeconds + warmUpSeconds + measured + 600;
    }

    /** Reads typed values, remembering which options were used so unknown ones can be refused. */
    private static final class Values {
        private final Map<String, String> given;
        private final List<String> known = new ArrayList<>(List.of("--scenario", "--target", "--allow-remote-target",
                "--token", "--baseline", "--simulcast", "--find-capacity", "--out", "--no-progress"));

        Values(Map<String, String> given) {
            this.given = given;
        }

        int integer(String name, int fallback, int min, int max) {
            known.add(name);
            String text = given.get(name);
            if (text == null) {
                return fallback;
            }
            long value;
            try {
                value = Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": not a whole number: " + text);
            }
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + ": must be " + min + ".." + max + ", got " + text);
            }
            return (int) value;
        }

        double decimal(String name, double fallback, double min, double max) {
            known.add(name);
            String text = given.get(name);
            if (text == null) {
                return fallback;
            }
            double value;
            try {
                value = Double.parseDouble(text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": not a number: " + text);
            }
            if (!(value >= min && value <= max)) {
                throw new IllegalArgumentException(name + ": must be " + min + ".." + max + ", got " + text);
            }
            return value;
        }

        /** A bit rate: plain, or with k or m (1000, 1000000). */
        long rate(String name, long fallback) {
            known.add(name);
            String text = given.get(name);
            if (text == null) {
                return fallback;
            }
            String t = text.trim().toLowerCase(Locale.ROOT);
            long unit = 1;
            if (t.endsWith("k")) {
                unit = 1000;
                t = t.substring(0, t.length() - 1);
            } else if (t.endsWith("m")) {
                unit = 1_000_000;
                t = t.substring(0, t.length() - 1);
            }
            double value;
            try {
                value = Double.parseDouble(t) * unit;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": not a bit rate: " + text);
            }
            if (value != 0 && (value < 8_000 || value > 50_000_000)) {
                throw new IllegalArgumentException(name + ": must be 0 or 8k..50m, got " + text);
            }
            return (long) value;
        }

        String choice(String name, String fallback, String... allowed) {
            known.add(name);
            String text = given.getOrDefault(name, fallback);
            for (String a : allowed) {
                if (a.equals(text)) {
                    return text;
                }
            }
            throw new IllegalArgumentException(name + ": one of " + String.join(", ", allowed) + ", got " + text);
        }

        void rejectUnknown() {
            for (String name : given.keySet()) {
                if (!known.contains(name)) {
                    throw new IllegalArgumentException("unknown option " + name + " (see --help)");
                }
            }
        }
    }
}
