package dev.parley.signaling.medianode;

import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
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

/**
 * Places each new call on a media node by load, as LiveKit does: of the nodes that can take it, two are drawn at
 * random and the less loaded one wins, which spreads calls almost as evenly as always taking the least loaded one
 * without every gateway piling onto the same node between two reports. Load is the share of a node's endpoint
 * capacity in use, counting the calls this gateway placed there since the node last reported (each as one
 * endpoint), so a burst of calls alternates instead of following one stale figure; a node whose CPU is above
 * {@link #BUSY_CPU} is passed over while any other can take the call. The gateway's embedded media server (when
 * calls are on) is one of the candidates, its figures read on the spot; standalone nodes come from the registry,
 * read every second. A node is a candidate while its registration lives, it is not draining, it has room for
 * another conference and endpoint, it has
 * an API URL, and it has not failed this gateway in the last {@link #LOST_FOR}. With a preferred region, nodes
 * labelled with it are drawn from when there are any.
 */
public final class NodePlacement implements MediaPlacement {

    /** How long a node that failed this gateway gets no new call from it (longer than a registration lives). */
    static final Duration LOST_FOR = Duration.ofSeconds(30);
    /** A node's share of its machine's CPU above which it gets no new call while another can take it. */
    static final double BUSY_CPU = 0.8;
    private static final Logger log = LoggerFactory.getLogger(NodePlacement.class);

    /** A candidate: where a call can go, how much of its endpoint capacity is used (0 to 1), and its CPU. */
    private record Candidate(String id, String region, double load, double cpu, CallMedia media) {
    }

    /** The embedded server's figures now: endpoints and conferences in use, their limits, its process's CPU. */
    public record LocalLoad(int endpoints, int capacity, int conferences, int maxConferences, double cpu) {
    }

    /** Calls placed on a node since the report they were counted against (its reportedAt). */
    private record Placed(long reportedAt, int calls) {
    }

    private final MediaNodeRegistry registry;
    private final CallMedia local;
    private final java.util.function.Supplier<LocalLoad> localLoad;
    private final String preferredRegion;
    private final String secret;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final ScheduledExecutorService timers;
    private final Map<String, Long> lostUntil = new ConcurrentHashMap<>();
    private final Map<String, RemoteMediaApi> remotes = new ConcurrentHashMap<>();
    private final Map<String, Placed> placed = new ConcurrentHashMap<>();
    private volatile List<MediaNodeReport> nodes = List.of();

    /**
     * @param local      the embedded media server, or null when this gateway hosts no media itself
     * @param localLoad  its figures now
     * @param secret     the media nodes' auth-secret (the same as the embedded server's), signing requests to them
     */
    public NodePlacement(MediaNodeRegistry registry, CallMedia local,
                         java.util.function.Supplier<LocalLoad> localLoad,
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
                    List<String> ids = read.stream().map(MediaNodeReport::id).toList();
                    remotes.keySet().retainAll(ids);
                    placed.keySet().retainAll(ids);
                }
            });
        } catch (RuntimeException e) {
            // A periodic task that throws is never run again.
            log.warn("could not read the media nodes: {}", e.toString());
        }
    }

    @Override
    public synchronized CallMedia place(String meetingId) {
        boolean[] full = {false};
        List<Candidate> candidates = candidates(full);
        if (candidates.isEmpty()) {
            if (full[0]) {
                throw new MediaException(ErrorCode.CAPACITY_CONFERENCES, "every media server is full");
            }
            throw new CallMedia.Unreachable("no media server can take a call now", null);
        }
        if (!preferredRegion.isEmpty()) {
            List<Candidate> inRegion = candidates.stream().filter(c -> c.region().equals(preferredRegion)).toList();
            if (!inRegion.isEmpty()) {
                candidates = inRegion;
            }
        }
        List<Candidate> calm = candidates.stream().filter(c -> c.cpu() <= BUSY_CPU).toList();
        if (!calm.isEmpty()) {
            candidates = calm;
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
            chosen = b.load() < a.load() ? b : a;
        }
        placed.computeIfPresent(chosen.id(), (id, p) -> new Placed(p.reportedAt(), p.calls() + 1));
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

    /** The servers that can take a call; {@code full[0]} tells whether any was left out only for being full. */
    private List<Candidate> candidates(boolean[] full) {
        long now = System.nanoTime();
        lostUntil.values().removeIf(until -> until - now < 0);
        List<Candidate> candidates = new ArrayList<>();
        if (local != null) {
            LocalLoad load = localLoad.get();
            if (load.endpoints() < load.capacity() && load.conferences() < load.maxConferences()) {
                candidates.add(new Candidate(local.nodeId(), "", (double) load.endpoints() / load.capacity(),
                        load.cpu(), local));
            } else {
                full[0] = true;
            }
        }
        for (MediaNodeReport node : nodes) {
            if (node.draining() || node.apiUrl().isEmpty() || lostUntil.containsKey(node.id())
                    || (local != null && node.id().equals(local.nodeId()))) {
                continue;
            }
            // What this gateway placed there since the report: the report cannot show it yet.
            Placed since = placed.compute(node.id(), (id, p) -> p == null || p.reportedAt() != node.reportedAt()
                    ? new Placed(node.reportedAt(), 0) : p);
            if (node.endpoints() + since.calls() >= node.capacity()
                    || node.conferences() + since.calls() >= node.maxConferences()) {
                full[0] = true;
                continue;
            }
            double load = (double) (node.endpoints() + since.calls()) / node.capacity();
            candidates.add(new Candidate(node.id(), node.region(), load, node.cpu(), remote(node)));
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
