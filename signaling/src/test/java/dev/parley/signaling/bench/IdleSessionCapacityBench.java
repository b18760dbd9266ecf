package dev.parley.signaling.bench;

import com.sun.management.UnixOperatingSystemMXBean;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark: how many idle signed-in WebSockets one gateway holds in a fixed heap. Sessions are opened in batches
 * (register users, open sockets, hello, wait for every welcome) until something fails — a socket that does not open
 * or is not welcomed, an OutOfMemoryError in the gateway's log, the gateway dying — or a cap is reached: a socket
 * count, a time budget, or the open-files limit of this machine (the gateway needs one descriptor per socket, and so
 * does this client). Then every session is held through more than one heartbeat (pings answered, locks renewed) and
 * the gateway's heap after a full GC is read, to give the heap cost of one idle session. Last, the gateway is
 * stopped with SIGTERM while every session is connected, to see how long a graceful stop of that many takes.
 *
 * <p>Settings (system properties): bench.gatewayHeap (512m), bench.maxSockets (30000), bench.maxMinutes (5),
 * bench.batch (1000), bench.sourceAddresses (4), bench.clientThreads (2), bench.holdSeconds (35).
 */
public final class IdleSessionCapacityBench {

    /** Descriptors kept free for everything else a JVM opens: jars, epoll, Redis, the listener. */
    private static final int DESCRIPTOR_HEADROOM = 300;

    private IdleSessionCapacityBench() {
    }

    public static void main(String[] args) throws Exception {
        String heap = System.getProperty("bench.gatewayHeap", "512m");
        int maxSockets = Integer.getInteger("bench.maxSockets", 30_000);
        Duration budget = Duration.ofMinutes(Integer.getInteger("bench.maxMinutes", 5));
        int batch = Integer.getInteger("bench.batch", 1000);
        int sourceAddresses = Integer.getInteger("bench.sourceAddresses", 4);
        int clientThreads = Integer.getInteger("bench.clientThreads", 2);
        Duration hold = Duration.ofSeconds(Integer.getInteger("bench.holdSeconds", 35));
        long descriptorLimit = descriptorLimit();
        int cap = (int) Math.min(maxSockets, descriptorLimit - DESCRIPTOR_HEADROOM);

        try (BenchGateway gateway = BenchGateway.start(List.of("-Xmx" + heap));
             ClientCrowd crowd = new ClientCrowd(gateway.port(), sourceAddresses, clientThreads)) {
            System.out.printf("idle capacity: gateway pid %d, JVM options %s, heartbeat and lock TTL at their"
                            + " defaults; cap %d sockets (asked %d; open-files limit %d here, gateway: %s),"
                            + " budget %d min, batches of %d from %d loopback source addresses%n",
                    gateway.pid(), gateway.jvmArgs(), cap, maxSockets, descriptorLimit, gateway.openFilesLimit(),
                    budget.toMinutes(), batch, sourceAddresses);
            long baselineHeap = gateway.heapUsedAfterGc();
            long baselineRss = gateway.residentBytes();
            System.out.printf("baseline (no sockets): heap after GC %s, RSS %s%n", mib(baselineHeap), mib(baselineRss));

            BenchUsers users = new BenchUsers(gateway.port());
            List<BenchSocket> live = new ArrayList<>();
            long start = System.nanoTime();
            long deadline = start + budget.toNanos();
            String stop = null;
            while (stop == null) {
                if (live.size() >= cap) {
                    stop = "cap of " + cap + " sockets reached";
                    break;
                }
                if (System.nanoTime() >= deadline) {
                    stop = "time budget of " + budget.toMinutes() + " min used up";
                    break;
                }
                int n = Math.min(batch, cap - live.size());
                Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
                List<String> tokens;
                try {
                    tokens = users.register(n, left);
                } catch (Exception e) {
                    stop = "registering users failed: " + e;
                    break;
                }
                ClientCrowd.Opened opened = crowd.open(n, Duration.ofSeconds(60));
                for (int i = 0; i < opened.sockets().size(); i++) {
                    opened.sockets().get(i).sendHello(BenchUsers.helloJson(tokens.get(i)));
                }
                int welcomed = 0;
                String firstFailure = opened.failures().isEmpty() ? null : opened.failures().get(0).toString();
                for (BenchSocket socket : opened.sockets()) {
                    try {
                        socket.welcomed().get(30, TimeUnit.SECONDS);
                        live.add(socket);
                        welcomed++;
                    } catch (Exception e) {
                        firstFailure = firstFailure == null ? String.valueOf(e.getCause() == null ? e : e.getCause())
                                : firstFailure;
                        socket.abort();
                    }
                }
                String metrics = gateway.isAlive() ? gateway.metrics() : "";
                System.out.printf(Locale.ROOT, "  %6d live after %5.1f s | gateway: sessions %.0f, heap used %s"
                                + " (before GC), RSS %s%n", live.size(), (System.nanoTime() - start) / 1e9,
                        BenchGateway.value(metrics, "parley_sessions_live"), mib(BenchGateway.heapUsed(metrics)),
                        gateway.isAlive() ? mib(gateway.residentBytes()) : "n/a");
                if (welcomed < n) {
                    stop = (n - welcomed) + " of " + n + " sockets in the last batch failed; first: " + firstFailure;
                } else if (!gateway.isAlive()) {
                    stop = "the gateway died";
                } else if (gateway.output().contains("OutOfMemoryError")) {
                    stop = "OutOfMemoryError in the gateway log";
                }
            }
            long openingNanos = System.nanoTime() - start;
            System.out.printf("stopped: %s; %d sessions live after %.1f s%n", stop, live.size(), openingNanos / 1e9);

            if (!gateway.isAlive()) {
                System.out.println("the gateway is gone; its last output:\n" + tail(gateway.output(), 40));
                return;
            }
            System.out.printf("holding %d idle sessions for %d s (heartbeat 25 s: every socket is pinged and renews its"
                    + " lock at least once)%n", live.size(), hold.toSeconds());
            Thread.sleep(hold.toMillis());
            long stillOpen = live.stream().filter(BenchSocket::isOpen).count();
            String metrics = gateway.metrics();
            long heapAfterGc = gateway.heapUsedAfterGc();
            long rss = gateway.residentBytes();
            double sessions = BenchGateway.value(metrics, "parley_sessions_live");
            long perSession = live.isEmpty() ? 0 : (heapAfterGc - baselineHeap) / live.size();
            System.out.printf("after the hold: %d of %d client sockets open; gateway reports %.0f live sessions,"
                            + " %.0f sockets, %.0f heartbeat timeouts%n", stillOpen, live.size(), sessions,
                    BenchGateway.value(metrics, "parley_ws_sockets"),
                    BenchGateway.value(metrics, "parley_ws_heartbeat_timeouts_total"));
            System.out.printf("gateway heap after full GC: %s (baseline %s) -> %d bytes of heap per idle session;"
                    + " RSS %s (baseline %s) -> %d bytes of RSS per session%n", mib(heapAfterGc), mib(baselineHeap),
                    perSession, mib(rss), mib(baselineRss),
                    live.isEmpty() ? 0 : (rss - baselineRss) / live.size());
            System.out.println("jcmd GC.heap_info:\n" + gateway.heapInfo().strip());
            System.out.println("jcmd GC.class_histogram, top 20:\n" + gateway.classHistogram(20).strip());
            if (gateway.output().contains("OutOfMemoryError") || gateway.output().contains("Too many open files")) {
                System.out.println("gateway log mentions resource exhaustion:\n" + grep(gateway.output()));
            }
            // A rolling restart with every session still connected: how long SIGTERM takes, and whether every
            // session lock was given back (parley.session.lock-ttl would otherwise keep those users out).
            long locksBefore = gateway.sessionLocks();
            long stopStart = System.nanoTime();
            String stopped;
            try {
                stopped = "exit code " + gateway.terminate();
            } catch (AssertionError e) {
                stopped = "still running 20 s after SIGTERM";
            }
            System.out.printf(Locale.ROOT, "SIGTERM with %d live sessions: %s after %.1f s; session locks in Redis"
                            + " before %d, after %d%n", live.size(), stopped, (System.nanoTime() - stopStart) / 1e9,
                    locksBefore, gateway.sessionLocks());
            ClientCrowd.closeAll(live, Duration.ofSeconds(60));
        }
    }

    private static long descriptorLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return Long.MAX_VALUE;
    }

    private static String grep(String output) {
        StringBuilder lines = new StringBuilder();
        output.lines().filter(l -> l.contains("OutOfMemoryError") || l.contains("Too many open files")).limit(10)
                .forEach(l -> lines.append(l).append('\n'));
        return lines.toString();
    }

    private static String tail(String output, int count) {
        List<String> lines = output.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
