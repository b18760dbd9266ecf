package dev.parley.signaling.medianode;

import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import dev.parley.media.api.ConferenceInfo;
import dev.parley.media.api.MediaStats;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.store.RedisConnections;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A media server running on its own, registered in Redis: it reports itself every {@code report-interval} with a
 * {@code ttl}, so gateways see it while it lives and lose it within the ttl when it dies. {@link #drainAndStop()}
 * (SIGTERM) marks it draining at once, lets running calls go on for up to {@code drain-grace}, then ends them,
 * takes the registration out and stops. Conferences left without endpoints for {@code orphan-grace} are closed (a
 * gateway that died leaves its calls' conferences behind). The media server itself knows nothing of Redis.
 */
public final class MediaNode implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MediaNode.class);

    private final MediaServer media;
    private final RedisConnections redis;
    private final MediaNodeRegistry registry;
    private final MediaNodeConfig config;
    private final String id;
    private final String apiUrl;
    private final ScheduledExecutorService reporter;
    private final Clock clock;
    private final long startedAt;
    private final com.sun.management.OperatingSystemMXBean os;
    private volatile boolean draining;
    /** Conferences without endpoints, and since when (System.nanoTime). */
    private final java.util.Map<String, Long> emptySince = new java.util.HashMap<>();
    private long lastPackets = -1;
    private long lastNanos;
    private long lastCpuNanos;

    private MediaNode(MediaServer media, RedisConnections redis, MediaNodeConfig config, String id, Clock clock) {
        this.media = media;
        this.redis = redis;
        this.registry = new MediaNodeRegistry(redis.async());
        this.config = config;
        this.id = id;
        this.apiUrl = (config.apiUrl() != null ? config.apiUrl() : media.httpUri()).toString();
        this.clock = clock;
        this.startedAt = clock.millis();
        this.os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        this.reporter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "parley-media-node");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Connects to Redis, starts the media server with its HTTP API on, and reports at once and then periodically. */
    public static MediaNode start(GatewayConfig.Redis redisConfig, MediaConfig mediaConfig, MediaNodeConfig config)
            throws IOException {
        String id = config.id().isEmpty() ? randomId() : config.id();
        RedisConnections redis = RedisConnections.connect(redisConfig);
        MediaServer media;
        try {
            media = MediaServer.start(mediaConfig.withHttp(true, mediaConfig.corsOrigins()));
        } catch (IOException | RuntimeException e) {
            redis.close();
            throw e;
        }
        MediaNode node = new MediaNode(media, redis, config, id, Clock.systemUTC());
        try {
            node.report().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            node.close();
            throw new IOException("could not register in Redis: " + e.getMessage(), e);
        }
        long every = config.reportInterval().toMillis();
        node.reporter.scheduleAtFixedRate(node::reportQuietly, every, every, TimeUnit.MILLISECONDS);
        return node;
    }

    public String id() {
        return id;
    }

    public String apiUrl() {
        return apiUrl;
    }

    public MediaServer mediaServer() {
        return media;
    }

    /**
     * SIGTERM: draining from now on (reported at once, so gateways stop placing calls here), calls may run on for
     * the grace, then are ended; the registration goes and everything stops.
     */
    public void drainAndStop() {
        draining = true;
        reportQuietly();
        long deadline = System.nanoTime() + config.drainGrace().toNanos();
        while (media.stats().endpoints() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = media.stats().conferences();
        if (left > 0) {
            log.info("drain grace over: ending {} call(s) still running", left);
        }
        close();
    }

    /** Stops at once: registration out, calls ended, connections closed. */
    @Override
    public void close() {
        reporter.shutdownNow();
        try {
            registry.remove(id).toCompletableFuture().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("could not take media node {} out of Redis; it expires by itself: {}", id, e.toString());
        }
        media.close();
        redis.close();
    }

    private void reportQuietly() {
        try {
            report().whenComplete((ok, failure) -> {
                if (failure != null) {
                    log.warn("could not report media node {} to Redis: {}", id, failure.toString());
                }
            });
        } catch (RuntimeException e) {
            // A periodic task that throws is never run again.
            log.warn("could not report media node {} to Redis: {}", id, e.toString());
        }
    }

    /**
     * Closes conferences that have had no endpoint for the orphan grace: a gateway that died leaves its calls'
     * conferences behind, and nobody else would close them. Runs with each report.
     */
    private void closeOrphans() {
        long now = System.nanoTime();
        java.util.Set<String> live = new java.util.HashSet<>();
        for (ConferenceInfo conference : media.conferences()) {
            String id = conference.conferenceId();
            live.add(id);
            if (!conference.endpointIds().isEmpty()) {
                emptySince.remove(id);
                continue;
            }
            long since = emptySince.computeIfAbsent(id, k -> now);
            if (now - since >= config.orphanGrace().toNanos()) {
                log.info("closing conference {}: no endpoint for {}", id, config.orphanGrace());
                try {
                    media.closeConference(id);
                } catch (RuntimeException e) {
                    log.debug("conference {} went meanwhile: {}", id, e.toString());
                }
                emptySince.remove(id);
            }
        }
        emptySince.keySet().retainAll(live);
    }

    private synchronized java.util.concurrent.CompletionStage<Void> report() {
        closeOrphans();
        MediaStats stats = media.stats();
        long now = System.nanoTime();
        long packets = stats.packetsIn() + stats.packetsOut();
        long cpuNanos = os.getProcessCpuTime();
        long perSecond = 0;
        double cpu = 0;
        if (lastPackets >= 0 && now > lastNanos) {
            double seconds = (now - lastNanos) / 1e9;
            perSecond = Math.round((packets - lastPackets) / seconds);
            cpu = Math.min(1.0, Math.max(0.0, (cpuNanos - lastCpuNanos) / 1e9 / seconds / os.getAvailableProcessors()));
        }
        lastPackets = packets;
        lastNanos = now;
        lastCpuNanos = cpuNanos;
        List<String> addresses = media.udpAddresses().stream().map(MediaNode::hostPort).toList();
        MediaNodeReport report = new MediaNodeReport(id, apiUrl, addresses, config.region(),
                media.config().maxEndpoints(), media.config().maxConferences(), stats.endpoints(), stats.conferences(),
                perSecond, cpu, draining, startedAt, clock.millis());
        return registry.report(report, config.ttl());
    }

    private static String hostPort(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private static String randomId() {
        byte[] bytes = new byte[6];
        new java.security.SecureRandom().nextBytes(bytes);
        return "m" + java.util.HexFormat.of().formatHex(bytes);
    }

    /** How long {@link #drainAndStop()} may take at most, for whoever waits on it. */
    public Duration drainGrace() {
        return config.drainGrace();
    }
}
