package dev.parley.signaling.bench;

import dev.parley.signaling.testing.ChildPids;
import dev.parley.signaling.testing.GatewayProcess;
import dev.parley.signaling.testing.RedisServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The server side of a chat benchmark: a real redis-server with an append-only file fsynced every second (as a
 * production Redis for Parley would run), and one or more gateways, each in its own JVM, sharing it. Everything listens
 * on 127.0.0.1 only. Reads each process's CPU time, and the rest of the machine's, from /proc so a step can say who
 * was busy.
 */
final class ChatCluster implements AutoCloseable {

    /** CPU seconds used so far by each process, and by each gateway thread ("gateway A: parley-io-1"), named. */
    record CpuTimes(Map<String, Double> seconds, Map<String, Double> gatewayThreadSeconds) {

        /** The gateway threads that used the most CPU since {@code before}, each as "name NN%" of one core. */
        String busiestThreadsSince(CpuTimes before, double wallSeconds, int count) {
            return gatewayThreadSeconds.entrySet().stream()
                    .map(t -> Map.entry(t.getKey(), t.getValue()
                            - before.gatewayThreadSeconds.getOrDefault(t.getKey(), 0.0)))
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(count)
                    .map(t -> String.format(java.util.Locale.ROOT, "%s %.0f%%", t.getKey(),
                            100 * t.getValue() / wallSeconds))
                    .collect(java.util.stream.Collectors.joining(", "));
        }
    }

    private final Path dataDir;
    private final RedisServer redis;
    private final List<GatewayProcess> gateways;
    private final long redisPid;

    private ChatCluster(Path dataDir, RedisServer redis, List<GatewayProcess> gateways, long redisPid) {
        this.dataDir = dataDir;
        this.redis = redis;
        this.gateways = gateways;
        this.redisPid = redisPid;
    }

    static ChatCluster start(int gatewayCount, List<String> gatewayJvmArgs) throws Exception {
        Path dataDir = Files.createTempDirectory("parley-chat-bench-redis");
        List<Long> before = childPids();
        RedisServer redis = RedisServer.startPersistent(dataDir, "everysec");
        List<GatewayProcess> gateways = new ArrayList<>();
        try {
            long redisPid = childPids().stream().filter(pid -> !before.contains(pid)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("redis-server is not a child of this JVM"));
            ChildPids.record();
            for (int i = 0; i < gatewayCount; i++) {
                gateways.add(GatewayProcess.start(redis, Map.of(), gatewayJvmArgs));
                ChildPids.record();
            }
            return new ChatCluster(dataDir, redis, gateways, redisPid);
        } catch (Exception | Error e) {
            for (GatewayProcess gateway : gateways) {
                gateway.close();
            }
            redis.close();
            deleteTree(dataDir);
            throw e;
        }
    }

    private static List<Long> childPids() {
        return ProcessHandle.current().children().map(ProcessHandle::pid).toList();
    }

    int gatewayCount() {
        return gateways.size();
    }

    int port(int gateway) {
        return gateways.get(gateway).port();
    }

    boolean allAlive() {
        return gateways.stream().allMatch(g -> ProcessHandle.of(g.pid()).map(ProcessHandle::isAlive).orElse(false))
                && redis.ping();
    }

    String gatewayOutput(int gateway) {
        return gateways.get(gateway).output();
    }

    CpuTimes cpuTimes() {
        Map<String, Double> seconds = new java.util.LinkedHashMap<>();
        Map<String, Double> threads = new java.util.HashMap<>();
        for (int i = 0; i < gateways.size(); i++) {
            String name = "gateway" + (gateways.size() > 1 ? " " + (char) ('A' + i) : "");
            long pid = gateways.get(i).pid();
            seconds.put(name, cpuSeconds(Path.of("/proc", Long.toString(pid), "stat")));
            try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                tasks.forEach(task -> threads.put(name + ": " + threadName(task) + " (" + task.getFileName() + ")",
                        cpuSeconds(task.resolve("stat"))));
            } catch (IOException | RuntimeException e) {
                // the gateway is gone; the step reports that
            }
        }
        seconds.put("redis", cpuSeconds(Path.of("/proc", Long.toString(redisPid), "stat")));
        seconds.put("bench client", cpuSeconds(Path.of("/proc", Long.toString(ProcessHandle.current().pid()),
                "stat")));
        double ours = seconds.values().stream().mapToDouble(Double::doubleValue).sum();
        seconds.put("other processes", machineBusySeconds() - ours);
        return new CpuTimes(seconds, threads);
    }

    /** Busy CPU time of the whole machine, all cores, from the first line of /proc/stat. */
    private static double machineBusySeconds() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                busy += i == 4 || i == 5 ? 0 : Long.parseLong(f[i]);
            }
            return busy / 100.0;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static String threadName(Path task) {
        try {
            return Files.readString(task.resolve("comm")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    /** utime + stime from a /proc/PID/stat or /proc/PID/task/TID/stat file, in seconds (USER_HZ is 100). */
    private static double cpuSeconds(Path statFile) {
        try {
            String stat = Files.readString(statFile);
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            for (GatewayProcess gateway : gateways) {
                gateway.close();
            }
        } finally {
            redis.close();
            deleteTree(dataDir);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
