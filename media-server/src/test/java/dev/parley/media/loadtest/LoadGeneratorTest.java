package dev.parley.media.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.loadtest.Results.Phase;
import dev.parley.media.loadtest.Results.Window;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The load generator against a media server in the test JVM: a few seconds of real ICE, DTLS and SRTP traffic. */
class LoadGeneratorTest {
    @TempDir
    Path out;

    private LoadOptions options(String... extra) {
        List<String> args = new ArrayList<>(List.of("--embedded", "in-process", "--ramp-up", "0", "--warm-up", "1",
                "--no-progress", "--out", out.toString(), "--video-bitrate", "300k"));
        args.addAll(List.of(extra));
        return LoadOptions.parse(args.toArray(new String[0]));
    }

    @Test
    void everySentPacketIsReceivedOrLostAndTheReportsAreWellFormed() throws Exception {
        LoadOptions options = options("--conferences", "2", "--publishers", "2", "--subscribers", "1",
                "--duration", "2", "--baseline");

        Report report = LoadTestMain.execute(options, () -> false, null, "test run");

        for (String name : List.of("parley", "baseline")) {
            Phase phase = report.phase(name);
            assertNotNull(phase, name + " phase ran");
            assertEquals(1, phase.windows().size());
            Window w = phase.windows().get(0);
            assertEquals(8, w.streams(), "2 conferences x 2 publishers x (audio + video)");
            assertTrue(w.sent() > 0, name + " sent packets");
            assertEquals(w.sent() * 2, w.expected(), "two receivers per stream: a subscriber, the other publisher");
            assertEquals(w.expected(), w.received() + w.lost(), name + ": every packet is received or lost");
            assertTrue(w.lost() >= 0 && w.received() > w.expected() / 2, name + " delivers: " + w);
            assertTrue(w.latencyP50Ms() > 0 && w.latencyP99Ms() >= w.latencyP50Ms(), name + " measures latency");
        }
        assertEquals(1, report.ratios().size(), "Parley is compared with the baseline");

        JsonNode json = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(2, json.get("phases").size());
        JsonNode parleyWindow = json.get("phases").get(0).get("windows").get(0);
        Window parley = report.phase("parley").windows().get(0);
        assertEquals(parley.expected(), parleyWindow.get("expected").asLong());
        assertEquals(parley.received() + parley.lost(), parleyWindow.get("received").asLong()
                + parleyWindow.get("lost").asLong());

        List<String> windows = Files.readAllLines(out.resolve("windows.csv"));
        assertEquals(3, windows.size(), "a header and one row per phase");
        assertRectangular(windows);
        List<String> samples = Files.readAllLines(out.resolve("samples.csv"));
        assertTrue(samples.size() > 4, "a row per second and phase");
        assertRectangular(samples);

        Document html = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(out.resolve("report.html").toFile());
        NodeList charts = html.getElementsByTagName("svg");
        assertEquals(5, charts.getLength(), "throughput, loss, latency, CPU, heap/GC charts");
        assertTrue(((Element) charts.item(0)).getElementsByTagName("polyline").getLength() >= 4,
                "Parley and baseline lines in the throughput chart");
        assertEquals(0, html.getElementsByTagName("script").getLength(), "the report needs no script");
        assertFalse(Files.readString(out.resolve("report.html")).contains("http://cdn"), "nothing fetched");
    }

    @Test
    void withSimulcastEachReceiverGetsOnlyTheLayerItAskedForFromParleyAndTheBaseline() throws Exception {
        // Receivers 0..5 of the conference: subscribers s0..s3 take layers q, h, f, q; publishers p0 and p1 (receivers
        // 4 and 5) take h and f. Smaller packets, so even the lowest layer sends a dozen packets a second.
        LoadOptions options = options("--conferences", "1", "--publishers", "2", "--subscribers", "4",
                "--duration", "3", "--warm-up", "2", "--packet-size", "400", "--simulcast", "--baseline");

        Report report = LoadTestMain.execute(options, () -> false, null, "simulcast run");

        for (String name : List.of("parley", "baseline")) {
            Window w = report.phase(name).windows().get(0);
            assertEquals(8, w.streams(), "2 publishers x (audio + 3 video layers)");
            assertEquals(w.expected(), w.received() + w.lost(), name + ": every packet is received or lost");
            List<Results.Layer> layers = w.layers();
            assertEquals(3, layers.size(), name + " has a row per layer");
            long[] receiversOfLayer = {2, 1 + 2, 1 + 2}; // q: s0, s3; h: s1 and p1 (p0's own), f: s2 and p0 (p1's)
            for (Results.Layer layer : layers) {
                assertEquals(2, layer.streams(), "one stream of the layer per publisher");
                assertTrue(layer.sent() > 10, name + " sends layer " + layer.rid() + ": " + layer);
                assertEquals(0, layer.toOtherReceivers(), name + ": layer " + layer.rid()
                        + " reaches only the receivers that asked for it");
                assertEquals(layer.expected(), layer.received() + layer.lost());
                assertTrue(layer.received() > layer.expected() * 0.9, name + " delivers layer " + layer.rid() + ": "
                        + layer);
                // Expected = each publisher's packets of the layer x its receivers of that layer.
                assertTrue(layer.expected() >= layer.sent() / 2 * (receiversOfLayer[layer.layer()] - 1)
                        && layer.expected() <= layer.sent() * receiversOfLayer[layer.layer()], name + ": " + layer);
            }
            assertEquals(2 * layers.get(0).sent(), layers.get(0).expected(), "two receivers take q from each");
            double fullOverQuarter = (double) layers.get(2).sent() / layers.get(0).sent();
            assertTrue(fullOverQuarter > 2.5 && fullOverQuarter < 5, "55 % against 15 % of the bitrate: "
                    + fullOverQuarter);
            long audioAndVideo = layers.stream().mapToLong(Results.Layer::received).sum();
            assertTrue(w.received() > audioAndVideo, "audio goes to every receiver besides");
        }

        JsonNode layers = new ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("phases").get(0)
                .get("windows").get(0).get("layers");
        assertEquals(3, layers.size());
        assertEquals("f", layers.get(2).get("rid").asText());
        assertTrue(Files.readString(out.resolve("report.html")).contains("Simulcast layers"));
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        report.printSummary(new PrintStream(text, true, StandardCharsets.UTF_8), out);
        String summary = text.toString(StandardCharsets.UTF_8);
        assertTrue(summary.contains("layer q 320x180: 2 stream(s)") && summary.contains("layer f 1280x720"), summary);
        assertTrue(summary.contains("0 to receivers of other layers"), summary);
    }

    @Test
    void simulcastNeedsTheControlApiVideoAndAWarmUpForTheFirstKeyframes() {
        for (String[] bad : List.of(new String[] {"--simulcast", "--api", "whip"},
                new String[] {"--simulcast", "--video-bitrate", "0"},
                new String[] {"--simulcast", "--warm-up", "1"})) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> LoadOptions.parse(bad));
            assertTrue(refused.getMessage().contains("--simulcast"), refused.getMessage());
        }
        assertTrue(LoadOptions.parse(new String[] {"--simulcast"}).simulcast());
    }

    @Test
    void aStopRequestEndsTheWindowEarlyAndStillReports() throws Exception {
        LoadOptions options = options("--conferences", "1", "--publishers", "1", "--subscribers", "2",
                "--duration", "60");
        long stopAt = System.nanoTime() + 4_000_000_000L;

        Report report = LoadTestMain.execute(options, () -> System.nanoTime() > stopAt, null, "stopped run");

        Phase phase = report.phase("parley");
        assertTrue(phase.interrupted());
        // On a slow machine the stop may even come before measuring starts: then there is no window to account for.
        for (Window w : phase.windows()) {
            assertTrue(w.seconds() < 30, "the window ended at the stop request");
            assertEquals(w.expected(), w.received() + w.lost());
        }
        assertTrue(Files.exists(out.resolve("report.html")));
        assertTrue(Files.exists(out.resolve("summary.json")));
    }

    @Test
    void findCapacityStepsTheRateAndReportsTheLastGoodStep() throws Exception {
        LoadOptions options = options("--conferences", "1", "--publishers", "1", "--subscribers", "1",
                "--find-capacity", "--step-duration", "1", "--max-steps", "2", "--step-factor", "2",
                "--loss-threshold", "100");

        Report report = LoadTestMain.execute(options, () -> false, null, "capacity run");

        Phase phase = report.phase("parley");
        assertEquals(2, phase.windows().size());
        assertEquals(2, phase.lastGoodWindow());
        assertEquals(2.0, phase.windows().get(1).multiplier() / phase.windows().get(0).multiplier(), 1e-9);
        assertTrue(phase.windows().get(1).sent() > phase.windows().get(0).sent(), "the second step sends more");
    }

    @Test
    void aTargetOffLoopbackIsRefusedUnlessAllowed() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(new String[] {"--target", "http://192.0.2.2:8081"}));
        assertTrue(refused.getMessage().contains("--allow-remote-target"), refused.getMessage());
        assertNotNull(LoadOptions.parse(new String[] {"--target", "http://127.0.0.1:8081"}));

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = LoadTestMain.run(new String[] {"--target", "http://192.0.2.2:8081"}, System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8), () -> false);
        assertEquals(2, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("not on loopback"));
    }

    @Test
    void helpAndBadOptionsAreAnsweredWithoutRunning() {
        assertNull(LoadOptions.parse(new String[] {"--help"}));
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PrintStream stream = new PrintStream(text, true, StandardCharsets.UTF_8);
        assertEquals(0, LoadTestMain.run(new String[] {"--help"}, stream, stream, () -> false));
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("--find-capacity"));
        assertEquals(2, LoadTestMain.run(new String[] {"--conferences", "0"}, stream, stream, () -> false));
        assertEquals(2, LoadTestMain.run(new String[] {"--bogus", "1"}, stream, stream, () -> false));
        assertEquals(2, LoadTestMain.run(new String[] {"--scenario", "one-to-many", "--find-capacity",
            "--video-bitrate", "50m", "--start-multiplier", "100"}, stream, stream, () -> false),
                "an offered rate beyond the cap is refused");
    }

    @Test
    void theServerExposesTheFiguresTheReportExplainsResultsWith() throws Exception {
        try (MediaServer server = MediaServer.start(TestMedia.config())) {
            server.createConference("metrics");
            ServerSnapshot snapshot = ServerSnapshot.parse(server.metricsText(), System.nanoTime());
            assertEquals(0, snapshot.packetsIn());
            assertEquals(0, snapshot.bytesOut());
            assertEquals(1, snapshot.conferences());
            assertEquals(0, snapshot.endpoints());
            assertTrue(snapshot.drops().containsKey("srtp_auth_fail"));
            assertTrue(snapshot.cpuSeconds() > 0, "process CPU time");
            assertTrue(snapshot.heapBytes() > 0, "heap in use");
        }
    }

    @Test
    void theLatencyHistogramFindsPercentilesWithinItsResolution() {
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 1; i <= 10_000; i++) {
            h.record(i);
        }
        assertEquals(5000, h.quantile(0.5), 5000 * 0.07);
        assertEquals(9900, h.quantile(0.99), 9900 * 0.07);
        assertEquals(10_000, h.max);
    }

    private static void assertRectangular(List<String> csv) {
        int columns = csv.get(0).split(",", -1).length;
        for (String line : csv) {
            assertEquals(columns, line.split(",", -1).length, line);
        }
    }
}
