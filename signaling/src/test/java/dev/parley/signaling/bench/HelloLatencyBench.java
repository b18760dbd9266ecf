package dev.parley.signaling.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Benchmark: how long a hello takes to be welcomed when 1,000 clients sign in at the same instant. One gateway in its
 * own JVM against a real redis-server; the users are registered first, every WebSocket is open before the first hello,
 * then a latch releases all hellos at once. Each round closes every socket and waits until Redis holds no session lock.
 * The first rounds include the gateway's JIT warm-up, so every round is reported.
 *
 * <p>Settings (system properties): bench.clients (1000), bench.rounds (5), bench.senderThreads (4),
 * bench.clientThreads (2).
 */
public final class HelloLatencyBench {

    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);

    /** Send-to-welcome times of one round, in nanoseconds, sorted. */
    record Round(int number, long[] sendToWelcome, long[] releaseToWelcome, long wallNanos, int failures,
                 String firstFailure) {

        String describe() {
            return String.format(Locale.ROOT,
                    "round %d: %d welcomed, %d failed | send->welcome p50 %s p99 %s max %s"
                            + " | release->welcome p50 %s p99 %s max %s | wall %s%s",
                    number, sendToWelcome.length, failures, ms(percentile(sendToWelcome, 50)),
                    ms(percentile(sendToWelcome, 99)), ms(max(sendToWelcome)), ms(percentile(releaseToWelcome, 50)),
                    ms(percentile(releaseToWelcome, 99)), ms(max(releaseToWelcome)), ms(wallNanos),
                    firstFailure == null ? "" : " | first failure: " + firstFailure);
        }
    }

    private HelloLatencyBench() {
    }

    public static void main(String[] args) throws Exception {
        int clients = Integer.getInteger("bench.clients", 1000);
        int rounds = Integer.getInteger("bench.rounds", 5);
        int senderThreads = Integer.getInteger("bench.senderThreads", 4);
        int clientThreads = Integer.getInteger("bench.clientThreads", 2);
        // All sockets are open before the first hello; a generous hello timeout keeps slow opening from closing them.
        List<String> jvmArgs = List.of("-Dparley.session.hello-timeout=120s");
        try (BenchGateway gateway = BenchGateway.start(jvmArgs);
             ClientCrowd crowd = new ClientCrowd(gateway.port(), 1, clientThreads)) {
            System.out.printf("hello latency: %d clients, %d rounds; gateway pid %d, JVM options %s, heartbeat and"
                    + " lock TTL at their defaults%n", clients, rounds, gateway.pid(), gateway.jvmArgs());
            long registerStart = System.nanoTime();
            List<String> tokens = new BenchUsers(gateway.port()).register(clients, Duration.ofMinutes(3));
            System.out.printf("registered %d users in %s%n", clients, ms(System.nanoTime() - registerStart));
            List<String> hellos = tokens.stream().map(BenchUsers::helloJson).toList();
            List<Round> results = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                Round result = runRound(round, crowd, hellos, senderThreads);
                results.add(result);
                System.out.println(result.describe());
                awaitNoSessions(gateway);
            }
            System.out.println("hello latency summary (ms, send->welcome):");
            for (Round r : results) {
                System.out.printf(Locale.ROOT, "  | %d | %d/%d | %s | %s | %s | %s |%n", r.number(),
                        r.sendToWelcome().length, clients, ms(percentile(r.sendToWelcome(), 50)),
                        ms(percentile(r.sendToWelcome(), 99)), ms(max(r.sendToWelcome())), ms(r.wallNanos()));
            }
            if (!gateway.isAlive()) {
                throw new IllegalStateException("the gateway died:\n" + gateway.output());
            }
        }
    }

    private static Round runRound(int number, ClientCrowd crowd, List<String> hellos, int senderThreads)
            throws Exception {
        ClientCrowd.Opened opened = crowd.open(hellos.size(), STEP_TIMEOUT);
        if (!opened.failures().isEmpty()) {
            ClientCrowd.closeAll(opened.sockets(), Duration.ofSeconds(10));
            throw new IllegalStateException(opened.failures().size() + " of " + hellos.size()
                    + " sockets did not open; first: " + opened.failures().get(0));
        }
        List<BenchSocket> sockets = opened.sockets();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < senderThreads; t++) {
            int first = t;
            Thread sender = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = first; i < sockets.size(); i += senderThreads) {
                    sockets.get(i).sendHello(hellos.get(i));
                }
            }, "hello-sender-" + t);
            sender.start();
            senders.add(sender);
        }
        Thread.sleep(200);
        long released = System.nanoTime();
        go.countDown();
        for (Thread sender : senders) {
            sender.join(STEP_TIMEOUT.toMillis());
        }
        CompletableFuture<?>[] welcomes = sockets.stream().map(BenchSocket::welcomed).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(welcomes).get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // counted per socket below
        }
        List<Long> sendToWelcome = new ArrayList<>();
        List<Long> releaseToWelcome = new ArrayList<>();
        long lastWelcome = released;
        int failures = 0;
        String firstFailure = null;
        for (BenchSocket socket : sockets) {
            CompletableFuture<Long> welcome = socket.welcomed();
            if (welcome.isDone() && !welcome.isCompletedExceptionally()) {
                long at = welcome.join();
                sendToWelcome.add(at - socket.helloWrittenNanos());
                releaseToWelcome.add(at - released);
                lastWelcome = Math.max(lastWelcome, at);
            } else {
                failures++;
                if (firstFailure == null) {
                    firstFailure = welcome.isDone() ? welcome.handle((v, e) -> e.toString()).join() : "no welcome";
                }
            }
        }
        ClientCrowd.closeAll(sockets, Duration.ofSeconds(30));
        return new Round(number, sorted(sendToWelcome), sorted(releaseToWelcome), lastWelcome - released, failures,
                firstFailure);
    }

    /** Waits, bounded, until the gateway has no sockets and Redis no session locks, so the next round can sign in. */
    private static void awaitNoSessions(BenchGateway gateway) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String metrics = gateway.metrics();
            if (BenchGateway.value(metrics, "parley_ws_sockets") == 0 && gateway.sessionLocks() == 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("sessions still open on the gateway 30 s after every client closed");
    }

    private static long[] sorted(List<Long> values) {
        long[] array = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(array);
        return array;
    }

    /** Nearest-rank percentile of a sorted array. */
    static long percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    static long max(long[] sorted) {
        return sorted.length == 0 ? -1 : sorted[sorted.length - 1];
    }

    static String ms(long nanos) {
        return nanos < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }
}
