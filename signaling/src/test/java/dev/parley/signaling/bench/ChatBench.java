package dev.parley.signaling.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.testing.TestGateway;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Benchmark: chat latency and sustained throughput, from a sender's socket to every other member's socket. Shapes are
 * meetings x members (default one meeting of 50, and 100 meetings of 5); each shape runs against one gateway and
 * against two gateways sharing one Redis (members of every meeting split between them, so half the fan-out crosses
 * gateways). Every gateway is its own JVM; Redis is a real redis-server with AOF fsynced every second.
 *
 * <p>Each step offers a fixed send rate for a fixed time, spread round-robin over all members (every member is a
 * sender), then waits a bounded time for the stragglers. Latency is chat.send written → chat.message read, over every
 * (message, other member) pair. A step fails on any loss, error, closed socket or duplicate, or when p99 exceeds the
 * limit; the steps stop at the first failure. The sustained rate is the last step that passed.
 *
 * <p>Settings (system properties): bench.shapes (1x50,100x5), bench.gateways (1,2), bench.rates
 * (100,200,500,1000,1500,2000,3000,5000,8000,12000 msg/s), bench.stepSeconds (10), bench.warmupSeconds (10),
 * bench.warmupRate (500 msg/s, not reported as a step), bench.drainSeconds (5), bench.p99LimitMs (1000),
 * bench.clientThreads (2), bench.gatewayHeap (512m).
 */
public final class ChatBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A chat line of about 100 characters, as people type. */
    private static final String FILLER = " the quick brown fox jumps over the lazy dog"
            + " while the meeting goes on and on";
    /**
     * The per-socket limit (default 20/s, burst 60), raised so the limiter never closes a sender: 50 senders at
     * 12,000 msg/s send 240/s each.
     */
    static final int SOCKET_MESSAGES_PER_SECOND = 1000;
    static final int SOCKET_MESSAGE_BURST = 2000;

    record Shape(int meetings, int membersPerMeeting) {
        static Shape parse(String text) {
            String[] parts = text.trim().split("x");
            return new Shape(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
        }

        int users() {
            return meetings * membersPerMeeting;
        }

        String describe() {
            return meetings == 1 ? "1 meeting of " + membersPerMeeting
                    : meetings + " meetings of " + membersPerMeeting;
        }
    }

    record Settings(List<Shape> shapes, List<Integer> gatewayCounts, List<Integer> rates, int stepSeconds,
                    int warmupSeconds, int warmupRate, int drainSeconds, long p99LimitMicros, int clientThreads,
                    String gatewayHeap) {

        static Settings fromSystemProperties() {
            return new Settings(
                    Arrays.stream(System.getProperty("bench.shapes", "1x50,100x5").split(",")).map(Shape::parse)
                            .toList(),
                    ints(System.getProperty("bench.gateways", "1,2")),
                    ints(System.getProperty("bench.rates", "100,200,500,1000,1500,2000,3000,5000,8000,12000")),
                    Integer.getInteger("bench.stepSeconds", 10),
                    Integer.getInteger("bench.warmupSeconds", 10),
                    Integer.getInteger("bench.warmupRate", 500),
                    Integer.getInteger("bench.drainSeconds", 5),
                    Integer.getInteger("bench.p99LimitMs", 1000) * 1000L,
                    Integer.getInteger("bench.clientThreads", 2),
                    System.getProperty("bench.gatewayHeap", "512m"));
        }

        private static List<Integer> ints(String csv) {
            return Arrays.stream(csv.split(",")).map(String::trim).map(Integer::parseInt).toList();
        }

        int sendCapacity() {
            return warmupSeconds * warmupRate + rates.stream().mapToInt(r -> r * stepSeconds).sum() + 1;
        }
    }

    /** One step's outcome; latencies in microseconds, CPU as percent of one core over the step. */
    record Step(int offeredRate, int sent, double sentRate, int acked, long expected, long delivered,
                double deliveredPerSecond, Histogram latency, Histogram ackLatency, long duplicates, long errors,
                int closedSockets, Map<String, Double> cpuPercent, String busiestThread, String failure) {

        boolean passed() {
            return failure == null;
        }

        Step failedBecause(String why) {
            return new Step(offeredRate, sent, sentRate, acked, expected, delivered, deliveredPerSecond, latency,
                    ackLatency, duplicates, errors, closedSockets, cpuPercent, busiestThread, why);
        }

        String describe() {
            StringBuilder cpu = new StringBuilder();
            cpuPercent.forEach((name, pct) -> cpu.append(cpu.length() == 0 ? "" : ", ")
                    .append(String.format(Locale.ROOT, "%s %.0f%%", name, pct)));
            return String.format(Locale.ROOT, "%5d msg/s offered: sent %d (%.0f/s), acked %d, delivered %d/%d"
                            + " (%.0f deliveries/s) | latency p50 %s p99 %s max %s | ack p50 %s p99 %s"
                            + " | dup %d, errors %d, closed %d | CPU %s; busiest gateway threads %s | %s",
                    offeredRate, sent, sentRate, acked, delivered, expected, deliveredPerSecond,
                    ms(latency, 50), ms(latency, 99), msMax(latency), ms(ackLatency, 50), ms(ackLatency, 99),
                    duplicates, errors, closedSockets, cpu, busiestThread, passed() ? "ok" : "FAILED: " + failure);
        }
    }

    record Run(Shape shape, int gateways, List<Step> steps, String setupFailure) {
        Step sustained() {
            Step best = null;
            for (Step step : steps) {
                if (!step.passed()) {
                    break;
                }
                best = step;
            }
            return best;
        }
    }

    private ChatBench() {
    }

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.fromSystemProperties();
        System.out.printf("chat benchmark: shapes %s, gateways %s, offered rates %s msg/s, %d s per step"
                        + " (warm-up %d s at %d msg/s), drain %d s, p99 limit %d ms; every member sends, round-robin%n",
                settings.shapes(), settings.gatewayCounts(), settings.rates(), settings.stepSeconds(),
                settings.warmupSeconds(), settings.warmupRate(), settings.drainSeconds(),
                settings.p99LimitMicros() / 1000);
        System.out.printf("gateway JVM options: %s%n", gatewayJvmArgs(settings));
        List<Run> runs = new ArrayList<>();
        for (Shape shape : settings.shapes()) {
            for (int gateways : settings.gatewayCounts()) {
                runs.add(run(settings, shape, gateways));
            }
        }
        printSummary(runs);
    }

    static List<String> gatewayJvmArgs(Settings settings) {
        return List.of("-Xmx" + settings.gatewayHeap(),
                // Cheap Argon2id so hundreds of benchmark users register in seconds; the chat path never hashes.
                "-Dparley.auth.argon2-memory-kib=1024", "-Dparley.auth.argon2-iterations=1",
                "-Dparley.ws.messages-per-second=" + SOCKET_MESSAGES_PER_SECOND,
                "-Dparley.ws.message-burst=" + SOCKET_MESSAGE_BURST);
    }

    private static Run run(Settings settings, Shape shape, int gatewayCount) throws Exception {
        System.out.printf("%n== %s, %d gateway%s ==%n", shape.describe(), gatewayCount, gatewayCount > 1 ? "s" : "");
        ChatLedger ledger = new ChatLedger(settings.sendCapacity(), shape.membersPerMeeting() - 1);
        List<Step> steps = new ArrayList<>();
        try (ChatCluster cluster = ChatCluster.start(gatewayCount, gatewayJvmArgs(settings))) {
            Thread stopOnExit = new Thread(() -> closeQuietly(cluster), "chat-bench-stop");
            Runtime.getRuntime().addShutdownHook(stopOnExit);
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(settings.clientThreads(),
                    NioIoHandler.newFactory());
            List<ChatMember> members = List.of();
            try {
                members = setUp(cluster, shape, ledger, group);
                List<ChatMember> senders = interleaveMeetings(members, shape);
                Step warmup = runStep(settings, cluster, ledger, members, senders, settings.warmupRate(),
                        settings.warmupSeconds());
                System.out.println("warm-up " + warmup.describe());
                for (int rate : settings.rates()) {
                    Thread.sleep(1000);
                    Step step = runStep(settings, cluster, ledger, members, senders, rate, settings.stepSeconds());
                    steps.add(step);
                    System.out.println(step.describe());
                    if (!step.passed()) {
                        break;
                    }
                }
                return new Run(shape, gatewayCount, steps, null);
            } catch (Exception e) {
                System.out.println("run failed: " + e);
                for (int i = 0; i < cluster.gatewayCount(); i++) {
                    String output = cluster.gatewayOutput(i);
                    System.out.println("gateway " + i + " output (tail):\n"
                            + output.substring(Math.max(0, output.length() - 3000)));
                }
                return new Run(shape, gatewayCount, steps, e.toString());
            } finally {
                members.forEach(ChatMember::close);
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
                Runtime.getRuntime().removeShutdownHook(stopOnExit);
            }
        }
    }

    private static void closeQuietly(ChatCluster cluster) {
        try {
            cluster.close();
        } catch (Exception ignored) {
            // the process is exiting; the calling script stops what is left by PID
        }
    }

    /**
     * Registers the users, makes the meetings (the first member of each is its owner and adds the others), and signs
     * every member in. Member j of a meeting connects to gateway j mod the gateway count.
     */
    private static List<ChatMember> setUp(ChatCluster cluster, Shape shape, ChatLedger ledger, EventLoopGroup group)
            throws Exception {
        long started = System.nanoTime();
        int rest = cluster.port(0);
        String prefix = "chat" + Long.toString(System.nanoTime() % 1_000_000, 36) + "-";
        List<JsonNode> users = new ArrayList<>(shape.users());
        for (int i = 0; i < shape.users(); i++) {
            users.add(expect(201, post(rest, "/api/auth/register", Map.of("username", prefix + i,
                    "password", "correct horse battery", "displayName", "Member " + i), null)));
        }
        List<String> meetingIds = new ArrayList<>(shape.meetings());
        for (int m = 0; m < shape.meetings(); m++) {
            String ownerToken = users.get(m * shape.membersPerMeeting()).get("token").asText();
            String id = expect(201, post(rest, "/api/meetings", Map.of("title", "Bench meeting " + m), ownerToken))
                    .get("meetingId").asText();
            for (int j = 1; j < shape.membersPerMeeting(); j++) {
                String username = users.get(m * shape.membersPerMeeting() + j).get("username").asText();
                expect(200, post(rest, "/api/meetings/" + id + "/members", Map.of("username", username), ownerToken));
            }
            meetingIds.add(id);
        }
        List<CompletableFuture<ChatMember>> signing = new ArrayList<>();
        for (int i = 0; i < shape.users(); i++) {
            int meeting = i / shape.membersPerMeeting();
            int gateway = (i % shape.membersPerMeeting()) % cluster.gatewayCount();
            signing.add(ChatMember.signIn(group, i, meetingIds.get(meeting), users.get(i).get("token").asText(),
                    ledger, cluster.port(gateway)));
        }
        List<ChatMember> members = new ArrayList<>();
        for (CompletableFuture<ChatMember> future : signing) {
            members.add(future.get(30, TimeUnit.SECONDS));
        }
        // Presence and membership notices from signing in settle before anything is measured.
        Thread.sleep(2000);
        System.out.printf("set up %d users in %d meeting(s), all signed in, in %.1f s%n", shape.users(),
                shape.meetings(), (System.nanoTime() - started) / 1e9);
        return members;
    }

    /** Senders in an order that visits every meeting before any meeting's next member. */
    private static List<ChatMember> interleaveMeetings(List<ChatMember> members, Shape shape) {
        List<ChatMember> order = new ArrayList<>(members.size());
        for (int j = 0; j < shape.membersPerMeeting(); j++) {
            for (int m = 0; m < shape.meetings(); m++) {
                order.add(members.get(m * shape.membersPerMeeting() + j));
            }
        }
        return order;
    }

    private static Step runStep(Settings settings, ChatCluster cluster, ChatLedger ledger, List<ChatMember> members,
                                List<ChatMember> senders, int rate, int seconds) throws InterruptedException {
        long errorsBefore = ledger.errors();
        long duplicatesBefore = ledger.duplicates();
        int closedBefore = closed(members);
        int first = ledger.beginStep();
        int count = Math.min(rate * seconds, ledger.capacity() - first);
        ChatCluster.CpuTimes cpuBefore = cluster.cpuTimes();
        long start = System.nanoTime();
        long giveUp = start + TimeUnit.SECONDS.toNanos(seconds + 2);
        long lastSend = start;
        int sent = 0;
        String failure = null;
        for (int k = 0; k < count; k++) {
            long due = start + (long) (k * 1e9 / rate);
            long now;
            while ((now = System.nanoTime()) < due) {
                LockSupport.parkNanos(due - now);
            }
            if (now > giveUp) {
                failure = "the sender could not keep the pace";
                break;
            }
            ChatMember sender = senders.get(k % senders.size());
            int seq = ledger.recordSend(sender.index());
            sender.send("{\"type\":\"chat.send\",\"meetingId\":\"" + sender.meetingId() + "\",\"clientMsgId\":\"b"
                    + seq + "\",\"text\":\"" + seq + FILLER + "\"}");
            lastSend = System.nanoTime();
            sent++;
        }
        int end = first + sent;
        long expected = (long) sent * ledger.recipientsPerMessage();
        long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.drainSeconds());
        long delivered = ledger.deliveredBetween(first, end);
        int acked = ledger.ackedBetween(first, end);
        while ((delivered < expected || acked < sent) && System.nanoTime() < drainUntil
                && closed(members) == closedBefore) {
            Thread.sleep(20);
            delivered = ledger.deliveredBetween(first, end);
            acked = ledger.ackedBetween(first, end);
        }
        long stepEnd = System.nanoTime();
        ChatCluster.CpuTimes cpuAfter = cluster.cpuTimes();
        Histogram latency = ledger.takeDeliveryMicros();
        Histogram ackLatency = ledger.takeAckMicros();
        long duplicates = ledger.duplicates() - duplicatesBefore;
        long errors = ledger.errors() - errorsBefore;
        int closedNow = closed(members) - closedBefore;
        double sentRate = sent / ((lastSend - start) / 1e9 + 1.0 / rate);
        long lastDelivery = ledger.lastDeliveryNanos();
        double deliveredPerSecond = lastDelivery > start ? delivered / ((lastDelivery - start) / 1e9) : 0;
        Map<String, Double> cpu = new LinkedHashMap<>();
        double wallSeconds = (stepEnd - start) / 1e9;
        cpuAfter.seconds().forEach((name, after) -> cpu.put(name,
                100 * (after - cpuBefore.seconds().get(name)) / wallSeconds));
        Step step = new Step(rate, sent, sentRate, acked, expected, delivered, deliveredPerSecond, latency,
                ackLatency, duplicates, errors, closedNow, cpu, cpuAfter.busiestThreadsSince(cpuBefore, wallSeconds, 3),
                failure);
        return failure != null ? step : step.failedBecause(verdict(settings, cluster, ledger, step, members));
    }

    /** Why a step failed, or null when it passed. */
    private static String verdict(Settings settings, ChatCluster cluster, ChatLedger ledger, Step step,
                                  List<ChatMember> members) {
        if (step.closedSockets() > 0) {
            return step.closedSockets() + " socket(s) closed by the gateway (first close code "
                    + firstCloseCode(members) + ")";
        } else if (!cluster.allAlive()) {
            return "a gateway or Redis died";
        } else if (step.errors() > 0) {
            return step.errors() + " error answer(s), first: " + ledger.firstError();
        } else if (step.acked() < step.sent()) {
            return (step.sent() - step.acked()) + " send(s) never acknowledged within " + settings.drainSeconds()
                    + " s";
        } else if (step.delivered() < step.expected()) {
            return (step.expected() - step.delivered()) + " deliveries missing after " + settings.drainSeconds()
                    + " s";
        } else if (step.duplicates() > 0) {
            return step.duplicates() + " duplicate deliveries";
        } else if (step.latency().getValueAtPercentile(99) > settings.p99LimitMicros()) {
            return "p99 over " + settings.p99LimitMicros() / 1000 + " ms";
        } else if (step.sentRate() < 0.95 * step.offeredRate()) {
            return "the sender could not keep the pace";
        }
        return null;
    }

    private static int closed(List<ChatMember> members) {
        int closed = 0;
        for (ChatMember member : members) {
            closed += member.isOpen() ? 0 : 1;
        }
        return closed;
    }

    private static int firstCloseCode(List<ChatMember> members) {
        return members.stream().filter(m -> !m.isOpen()).mapToInt(ChatMember::closeCode).findFirst().orElse(-1);
    }

    private static void printSummary(List<Run> runs) {
        System.out.println();
        System.out.println("chat summary (latency = chat.send written -> chat.message read by each other member):");
        System.out.println("| shape | gateways | offered msg/s | sent msg/s | deliveries/s | p50 ms | p99 ms | max ms"
                + " | ack p99 ms | lost | CPU % | result |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Run run : runs) {
            for (Step s : run.steps()) {
                StringBuilder cpu = new StringBuilder();
                s.cpuPercent().forEach((name, pct) -> cpu.append(cpu.length() == 0 ? "" : ", ")
                        .append(String.format(Locale.ROOT, "%s %.0f", name, pct)));
                System.out.printf(Locale.ROOT, "| %s | %d | %d | %.0f | %.0f | %s | %s | %s | %s | %d | %s | %s |%n",
                        run.shape().describe(), run.gateways(), s.offeredRate(), s.sentRate(),
                        s.deliveredPerSecond(), ms(s.latency(), 50), ms(s.latency(), 99), msMax(s.latency()),
                        ms(s.ackLatency(), 99), s.expected() - s.delivered(), cpu,
                        s.passed() ? "ok" : s.failure());
            }
        }
        System.out.println();
        for (Run run : runs) {
            Step best = run.sustained();
            System.out.printf(Locale.ROOT, "sustained, %s, %d gateway(s): %s%s%n", run.shape().describe(),
                    run.gateways(), best == null ? "no step passed"
                            : String.format(Locale.ROOT, "%d msg/s (%.0f deliveries/s), p50 %s ms, p99 %s ms",
                            best.offeredRate(), best.deliveredPerSecond(), ms(best.latency(), 50),
                            ms(best.latency(), 99)),
                    run.setupFailure() == null ? "" : " (run failed: " + run.setupFailure() + ")");
        }
    }

    private static String ms(Histogram micros, double percentile) {
        return micros.getTotalCount() == 0 ? "-"
                : String.format(Locale.ROOT, "%.1f", micros.getValueAtPercentile(percentile) / 1000.0);
    }

    private static String msMax(Histogram micros) {
        return micros.getTotalCount() == 0 ? "-" : String.format(Locale.ROOT, "%.1f", micros.getMaxValue() / 1000.0);
    }

    private static TestGateway.Response post(int port, String path, Object body, String token) throws Exception {
        return TestGateway.request(port, "POST", path, JSON.writeValueAsString(body), token);
    }

    private static JsonNode expect(int status, TestGateway.Response response) {
        if (response.status() != status) {
            throw new IllegalStateException("expected " + status + ", got " + response.status() + ": "
                    + response.raw());
        }
        return response.body();
    }
}
