package dev.parley.media.sfu;

import dev.parley.media.api.TrackEvent;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.Worker;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Endpoints that see each other's tracks. Control operations lock the conference; the media path never does. All
 * the conference's transports receive on one worker, so one publisher's packets reach its subscribers on the thread
 * that handles their feedback too.
 * Keeps the latest events for polling and calls listeners for the in-process API.
 */
final class Conference {
    private static final Logger LOG = LoggerFactory.getLogger(Conference.class);
    private static final int EVENTS_KEPT = 1000;

    final String id;
    /** The thread that handles everything the conference's transports receive, and the conference's timers. */
    final Worker worker;
    /**
     * Subscribers that asked for the 5 ms timer, a probe cluster to run or a pacer to drain (any thread), and those it
     * serves (the worker only).
     */
    final Queue<SubscribeTransport> timerRequests = new ConcurrentLinkedQueue<>();
    final List<SubscribeTransport> ticking = new ArrayList<>();
    /** Publishers with packets missing, asking the timer for ticks; those it ticks (the worker only). */
    final Queue<PublishTransport> repairRequests = new ConcurrentLinkedQueue<>();
    final List<PublishTransport> repairing = new ArrayList<>();
    /** Publishers to send transport feedback to, gathered under the lock (the worker only). */
    final List<PublishTransport> feedbackTargets = new ArrayList<>();
    /** Where the worker writes the conference's reports, feedback and NACKs. */
    final PacketBuffer reportBuffer = new PacketBuffer();
    final Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    final Map<String, Track> tracks = new LinkedHashMap<>();
    /** The WHIP and WHEP endpoints by their resource id; an entry lives exactly as long as its endpoint. */
    final Map<String, Endpoint> resources = new HashMap<>();
    /** Speaker detection over the participants' audio; evaluated by the timer thread only. */
    final DominantSpeaker speakers = new DominantSpeaker();
    /** The last speakers announced, and who has been dominant, most recent first (under the lock). */
    List<String> announcedSpeaking = List.of();
    String announcedDominant;
    List<String> recentDominants = List.of();
    private final Deque<TrackEvent> events = new ArrayDeque<>();
    private final List<Consumer<TrackEvent>> listeners = new CopyOnWriteArrayList<>();
    private long sequence;

    Conference(String id, Worker worker) {
        this.id = id;
        this.worker = worker;
    }

    /** Records an event built from the next sequence number, then tells the listeners. Call under the lock. */
    void emit(LongFunction<TrackEvent> event) {
        TrackEvent built = event.apply(++sequence);
        events.addLast(built);
        while (events.size() > EVENTS_KEPT) {
            events.removeFirst();
        }
        for (Consumer<TrackEvent> listener : listeners) {
            try {
                listener.accept(built);
            } catch (RuntimeException e) {
                LOG.warn("conference {}: event listener failed", id, e);
            }
        }
    }

    synchronized List<TrackEvent> eventsAfter(long after) {
        List<TrackEvent> result = new ArrayList<>();
        for (TrackEvent event : events) {
            if (event.sequence() > after) {
                result.add(event);
            }
        }
        return result;
    }

    /**
     * The participants whose video {@code receiver} gets when more than {@code lastN} others publish video: those
     * whose tiles it pinned, and {@code lastN} more, the most recent dominant speakers first, then the others in the
     * order they joined; null when everyone fits (under the lock).
     */
    java.util.Set<String> lastN(String receiver, int lastN) {
        java.util.Set<String> publishers = new java.util.LinkedHashSet<>();
        for (Track track : tracks.values()) {
            String publisher = track.source.endpoint.id;
            if (track.kind == dev.parley.media.sdp.MediaKind.VIDEO && !publisher.equals(receiver)) {
                publishers.add(publisher);
            }
        }
        if (publishers.size() <= lastN) {
            return null;
        }
        java.util.Set<String> pinned = new java.util.HashSet<>();
        Endpoint receiving = endpoints.get(receiver);
        if (receiving != null) {
            for (dev.parley.media.api.VideoReceive video : receiving.videoReceives.values()) {
                Track track = tracks.get(video.trackId());
                if (video.pinned() && track != null) {
                    pinned.add(track.source.endpoint.id);
                }
            }
        }
        java.util.Set<String> chosen = new java.util.LinkedHashSet<>();
        for (String speaker : recentDominants) {
            if (chosen.size() < lastN && publishers.contains(speaker) && !pinned.contains(speaker)) {
                chosen.add(speaker);
            }
        }
        for (Endpoint endpoint : endpoints.values()) {
            if (chosen.size() < lastN && publishers.contains(endpoint.id) && !pinned.contains(endpoint.id)) {
                chosen.add(endpoint.id);
            }
        }
        chosen.addAll(pinned);
        return chosen;
    }

    /**
     * Whether a video track is a shared screen, as the web client tells: a publisher's camera is the stream (msid)
     * that carries its microphone, else its first stream; its video in any other stream is a screen (under the lock).
     */
    boolean isScreen(Track track) {
        if (track.kind != dev.parley.media.sdp.MediaKind.VIDEO || track.streamId == null) {
            return false;
        }
        String camera = null;
        for (Track other : tracks.values()) {
            if (other.source != track.source || other.streamId == null) {
                continue;
            }
            if (other.kind == dev.parley.media.sdp.MediaKind.AUDIO) {
                camera = other.streamId;
                break;
            }
            if (camera == null) {
                camera = other.streamId;
            }
        }
        return camera != null && !camera.equals(track.streamId);
    }

    /** A random SSRC no track of the conference sends with, for the server's own outgoing streams (under the lock). */
    long newSsrc() {
        for (;;) {
            long ssrc = java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 0x1_0000_0000L);
            boolean taken = false;
            for (Track track : tracks.values()) {
                taken |= track.ssrc == ssrc || track.rtxSsrc == ssrc;
            }
            if (!taken) {
                return ssrc;
            }
        }
    }

    AutoCloseable addListener(Consumer<TrackEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }
}
