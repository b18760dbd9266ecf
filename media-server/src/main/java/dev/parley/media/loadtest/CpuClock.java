package dev.parley.media.loadtest;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * CPU time of this process, of another process (from /proc), or of this JVM's threads selected by name. Threads
 * that have ended keep the time last seen for them, so a sum never goes backwards.
 */
final class CpuClock {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final double CLOCK_TICKS = 100.0;

    private final Map<Long, Long> lastSeen = new HashMap<>();

    /** CPU seconds of this JVM process. */
    static double processSeconds() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return Double.NaN;
    }

    /** CPU seconds (user + system) of another process on this host, or NaN. */
    static double processSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / CLOCK_TICKS;
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    /**
     * UDP datagrams this host's kernel dropped because a socket's receive buffer was full (RcvbufErrors in
     * /proc/net/snmp), or -1: where loopback loss happens when a reader falls behind.
     */
    static long udpReceiveBufferErrors() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/snmp"));
            for (int i = 0; i + 1 < lines.size(); i++) {
                if (lines.get(i).startsWith("Udp:") && lines.get(i + 1).startsWith("Udp:")) {
                    List<String> names = Arrays.asList(lines.get(i).split("\\s+"));
                    String[] values = lines.get(i + 1).split("\\s+");
                    int at = names.indexOf("RcvbufErrors");
                    return at < 0 ? -1 : Long.parseLong(values[at]);
                }
            }
        } catch (Exception e) {
            // not Linux
        }
        return -1;
    }

    /** CPU seconds of this JVM's threads whose names match, including threads that have ended since. */
    synchronized double threadSeconds(Predicate<String> nameMatches) {
        if (!THREADS.isThreadCpuTimeSupported()) {
            return Double.NaN;
        }
        for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info == null || !nameMatches.test(info.getThreadName())) {
                continue;
            }
            long nanos = THREADS.getThreadCpuTime(info.getThreadId());
            if (nanos >= 0) {
                lastSeen.put(info.getThreadId(), nanos);
            }
        }
        long sum = 0;
        for (long v : lastSeen.values()) {
            sum += v;
        }
        return sum / 1e9;
    }

    /** Threads of the load generator's own side when a server runs in the same JVM. */
    static boolean isClientThread(String name) {
        return name.startsWith("client-") || name.startsWith("ice-client-") || name.startsWith("dtls-client-")
                || name.startsWith("lg-")
                || name.startsWith("HttpClient") || name.equals("main");
    }
}
