package dev.parley.signaling.medianode;

import dev.parley.signaling.call.CallMedia;
import dev.parley.signaling.call.MediaPlacement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * Places each new call on a media node by load, as LiveKit does: of the nodes that can take it, two are drawn at
 * random and the less loaded one wins, which spreads calls almost as evenly as always taking the least loaded one
 * without every gateway piling onto the same node between two reports (loads within {@link #SAME_LOAD} count as
 * equal). The gateway's embedded media server (when
 * calls are on) is one of the candidates, with its load read on the spot; standalone nodes come from the registry,
 * read every second. A node is a candidate while its registration lives, it is not draining, it has room, it has
 * an API URL, and it has not failed this gateway in the last {@link #LOST_FOR}. With a preferred region, nodes
 * labelled with it are drawn from when there are any.
 */
public final class NodePlacement implements MediaPlacement {

    /** How long a node that failed this gateway gets no new call from it (longer than a registration lives). */
    static final Duration LOST_FOR = Duration.ofSeconds(30);
    /**
     * Loads closer than this count as equal and the first node drawn wins: a few points of CPU between two idle
     * nodes are noise, and reports are up to two seconds old, so a burst of calls would otherwise all follow it.
     */
    static final double SAME_LOAD = 0.05;
    private static final Logger log = LoggerFactory.getLogger(NodePlacement.class);

    /** A candidate: where a call can go and how loaded it is, 0 to 1. */
    private record Candidate(String id, String region, double load, CallMedia media) {
    }

    private final MediaNodeRegistry registry;
    private final CallMedia local;
    private final DoubleSupplier localLoad;
    private final String preferredRegion;
    private final String secret;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final ScheduledExecutorService timers;
    private final Map<String, Long> lostUntil = new ConcurrentHashMap<>();
    private final Map<String, RemoteMediaApi> remotes = new ConcurrentHashMap<>();
    private volatile List<MediaNodeReport> nodes = List.of();

    /**
     * @param local      the embedded media server, or null when this gateway hosts no media itself
     * @param localLoad  its load now, 0 to 1
     * @param secret     the media nodes' auth-secret (the same as the embedded server's), signing requests to them
     */
    public NodePlacement(MediaNodeRegistry registry, CallMedia local, DoubleSupplier localLoad,
                         String preferredRegion, String secret, Duration requestTimeout,
                         ScheduledExecutorService timers) {
        this.registry = registry;
        this.local = local;
        this.localLoad = localLoad;
        this.preferredRegion = preferredRegion;
        this.secret = secret;
        this.requestTimeout = requestTimeout;
        this.timers = timers;
        this.http = HttpClient.newBuilder().connectTimeout(requestTimeout).version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /** Reads the registry now and then every second. */
    public void start() {
        refresh();
        timers.scheduleWithFixedDelay(this::refresh, 1, 1, TimeUnit.SECONDS);
    }

    private void refresh() {
        try {
            registry.nodes().whenComplete((read, failure) -> {
                if (failure != null) {
                    log.warn("could not read the media nodes; placing on the last known ones: {}", failure.toString());
                } else {
                    nodes = List.copyOf(read);
                    // Calls under way keep their own reference; only new placements use this map.
                    remotes.keySet().retainAll(read.stream().map(MediaNodeReport::id).toList());
                }
            });
        } catch (RuntimeException e) {
            // A periodic task that throws is never run again.
            log.warn("could not read the media nodes: {}", e.toString());
        }
    }

    @Override
    public CallMedia place(String meetingId) {
        List<Candidate> candidates = candidates();
        if (candidates.isEmpty()) {
            throw new CallMedia.Unreachable("no media server can take a call now", null);
        }
        if (!preferredRegion.isEmpty()) {
            List<Candidate> inRegion = candidates.stream().filter(c -> c.region().equals(preferredRegion)).toList();
            if (!inRegion.isEmpty()) {
                candidates = inRegion;
            }
        }
        Candidate chosen;
        if (candidates.size() == 1) {
            chosen = candidates.get(0);
        } else {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            int first = random.nextInt(candidates.size());
            int second = random.nextInt(candidates.size() - 1);
            if (second >= first) {
                second++;
            }
            Candidate a = candidates.get(first);
            Candidate b = candidates.get(second);
            chosen = b.load() < a.load() - SAME_LOAD ? b : a;
        }
        return chosen.media();
    }

    @Override
    public void lost(String nodeId) {
        if (local != null && local.nodeId().equals(nodeId)) {
            return;
        }
        long until = System.nanoTime() + LOST_FOR.toNanos();
        if (lostUntil.put(nodeId, until) == null) {
            log.warn("media node {} failed; no new call goes there for {} s", nodeId, LOST_FOR.toSeconds());
        }
    }

    private List<Candidate> candidates() {
        long now = System.nanoTime();
        lostUntil.values().removeIf(until -> until - now < 0);
        List<Candidate> candidates = new ArrayList<>();
        if (local != null) {
            candidates.add(new Candidate(local.nodeId(), "", localLoad.getAsDouble(), local));
        }
        for (MediaNodeReport node : nodes) {
            if (node.draining() || node.apiUrl().isEmpty() || node.endpoints() >= node.capacity()
                    || lostUntil.containsKey(node.id()) || (local != null && node.id().equals(local.nodeId()))) {
                continue;
            }
            candidates.add(new Candidate(node.id(), node.region(), node.load(), remote(node)));
        }
        return candidates;
    }

    private RemoteMediaApi remote(MediaNodeReport node) {
        RemoteMediaApi known = remotes.get(node.id());
        if (known != null && known.httpUri().toString().equals(trimmed(node.apiUrl()))) {
            return known;
        }
        RemoteMediaApi fresh = new RemoteMediaApi(node.id(), URI.create(node.apiUrl()), secret, http, requestTimeout,
                timers);
        remotes.put(node.id(), fresh);
        return fresh;
    }

    private static String trimmed(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
