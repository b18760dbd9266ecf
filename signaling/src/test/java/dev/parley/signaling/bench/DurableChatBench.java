package dev.parley.signaling.bench;

import dev.parley.signaling.chat.ChatStore;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.store.RedisConnections;
import dev.parley.signaling.testing.ChildPids;
import dev.parley.signaling.testing.SentinelRedis;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark: what waiting for a replica (parley.redis.durable-replicas = 1, Redis WAIT) costs a chat send. A real
 * primary, replica and three sentinels on loopback; the gateway's own ChatStore and connections, reached through the
 * {@code redis-sentinel://} URI. Each round stores {@code bench.messages} (20,000) messages with at most
 * {@code bench.concurrency} (64) under way, first without waiting and then waiting for one replica, alternately, and
 * prints messages per second and the latency of one store (p50, p99).
 */
public final class DurableChatBench {

    public static void main(String[] args) throws Exception {
        int messages = Integer.getInteger("bench.messages", 20_000);
        int concurrency = Integer.getInteger("bench.concurrency", 64);
        int rounds = Integer.getInteger("bench.rounds", 3);
        try (SentinelRedis redis = SentinelRedis.start()) {
            ChildPids.record();
            System.out.printf(Locale.ROOT, "%d messages per round, %d under way at most%n", messages, concurrency);
            for (int round = 0; round < rounds; round++) {
                for (int replicas : new int[]{0, 1}) {
                    run(redis.uri(), replicas, messages, concurrency, "r" + round + "w" + replicas);
                }
            }
        }
    }

    private static void run(String uri, int replicas, int messages, int concurrency, String meeting)
            throws Exception {
        GatewayConfig.Redis config = new GatewayConfig.Redis(URI.create(uri), Duration.ofSeconds(2), replicas,
                Duration.ofMillis(500));
        try (RedisConnections redis = RedisConnections.connect(config)) {
            AtomicLong shortfalls = new AtomicLong();
            ChatStore store = new ChatStore(redis.async(), redis.durableWrites(w -> shortfalls.incrementAndGet()),
                    Duration.ofHours(1), 100_000);
            Histogram micros = new Histogram(10_000_000, 3);
            Semaphore window = new Semaphore(concurrency);
            AtomicLong failures = new AtomicLong();
            long start = System.nanoTime();
            for (int i = 0; i < messages; i++) {
                window.acquire();
                long sent = System.nanoTime();
                store.append(meeting, "u" + (i % 50), "Member", "the quick brown fox jumps over the lazy dog",
                        "c" + i, false, System.currentTimeMillis()).whenComplete((stored, failure) -> {
                    synchronized (micros) {
                        micros.recordValue(Math.min(10_000_000, (System.nanoTime() - sent) / 1000));
                    }
                    if (failure != null) {
                        failures.incrementAndGet();
                    }
                    window.release();
                });
            }
            if (!window.tryAcquire(concurrency, 30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("stores still under way after 30 s");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "durable-replicas=%d: %,.0f msg/s, p50 %.2f ms, p99 %.2f ms,"
                            + " failures %d, shortfalls %d%n", replicas, messages / seconds,
                    micros.getValueAtPercentile(50) / 1000.0, micros.getValueAtPercentile(99) / 1000.0,
                    failures.get(), shortfalls.get());
        }
    }
}
