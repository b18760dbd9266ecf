package dev.parley.media.sfu;

import dev.parley.media.MediaConfig;
import dev.parley.media.api.ConferenceInfo;
import dev.parley.media.api.EndpointInfo;
import dev.parley.media.api.EndpointStats;
import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaApi;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.MediaStats;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoForwardStats;
import dev.parley.media.api.VideoReceive;
import dev.parley.media.api.WhipIce;
import dev.parley.media.api.WhipResource;
import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.ice.IceCandidate;
import dev.parley.media.ice.IceLiteSession;
import dev.parley.media.ice.SharedUdpPort;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.sdp.OfferedMedia;
import dev.parley.media.sdp.PeerDescription;
import dev.parley.media.sdp.SdpException;
import dev.parley.media.transport.MediaWorkers;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.SecureTransport;
import dev.parley.media.transport.Worker;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Conferences of endpoints and the forwarding between them: the media server's operations. */
public final class Sfu implements MediaApi {
    /** How long no receiver must ask for a simulcast layer before its publisher is told to stop it. */
    static final long LAYER_UNUSED_NANOS = 3_000_000_000L;
    private static final Logger LOG = LoggerFactory.getLogger(Sfu.class);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
    private static final Pattern STREAM_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Shortest time between two ICE restarts of one WHIP/WHEP session; clients restart on network changes. */
    public static final Duration MIN_ICE_RESTART_INTERVAL = Duration.ofSeconds(1);

    private final MediaConfig config;
    private final List<SharedUdpPort> ports;
    private final DtlsIdentity identity;
    private final MediaCounters counters;
    private final MediaWorkers workers;
    private final Map<String, Conference> conferences = new ConcurrentHashMap<>();
    private final AtomicInteger endpointCount = new AtomicInteger();

    /** @param workers the media path's threads; each conference takes one for all its transports */
    public Sfu(MediaConfig config, List<SharedUdpPort> ports, DtlsIdentity identity, MediaCounters counters,
               MediaWorkers workers) {
        this.config = config;
        this.workers = workers;
        this.ports = List.copyOf(ports);
        this.identity = identity;
        this.counters = counters;
    }

    @Override
    public ConferenceInfo createConference(String conferenceId) {
        String id = conferenceId == null ? newId() : checkId(conferenceId, "conference id");
        synchronized (conferences) {
            if (conferences.containsKey(id)) {
                throw new MediaException(ErrorCode.CONFERENCE_EXISTS, "conference " + id + " exists");
            }
            if (conferences.size() >= config.maxConferences()) {
                throw new MediaException(ErrorCode.CAPACITY_CONFERENCES,
                        "the media server holds its maximum of " + config.maxConferences() + " conferences");
            }
            conferences.put(id, new Conference(id, workers.assign()));
        }
        return new ConferenceInfo(id, List.of());
    }

    @Override
    public void closeConference(String conferenceId) {
        Conference conference = conference(conferenceId);
        synchronized (conference) {
            for (Endpoint endpoint : new ArrayList<>(conference.endpoints.values())) {
                removeEndpoint(conference, endpoint, "conference closed");
            }
        }
        if (conferences.remove(conferenceId, conference)) {
            workers.release(conference.worker);
        }
    }

    @Override
    public List<ConferenceInfo> conferences() {
        List<ConferenceInfo> result = new ArrayList<>();
        for (Conference conference : conferences.values()) {
            synchronized (conference) {
                result.add(new ConferenceInfo(conference.id, List.copyOf(conference.endpoints.keySet())));
            }
        }
        return result;
    }

    @Override
    public EndpointInfo createEndpoint(String conferenceId, String endpointId) {
        Conference conference = conference(conferenceId);
        String id = endpointId == null ? newId() : checkId(endpointId, "endpoint id");
        synchronized (conference) {
            addEndpoint(conference, id, Endpoint.Role.PARTICIPANT);
        }
        return new EndpointInfo(conference.id, id);
    }

    private Endpoint addEndpoint(Conference conference, String id, Endpoint.Role role) {
        if (conference.endpoints.containsKey(id)) {
            throw new MediaException(ErrorCode.ENDPOINT_EXISTS, "endpoint " + id + " exists");
        }
        if (endpointCount.incrementAndGet() > config.maxEndpoints()) {
            endpointCount.decrementAndGet();
            throw new MediaException(ErrorCode.CAPACITY_ENDPOINTS,
                    "the media server holds its maximum of " + config.maxEndpoints() + " endpoints");
        }
        String resourceId = role == Endpoint.Role.PARTICIPANT ? null : newResourceId();
        Endpoint endpoint = new Endpoint(id, conference, role, resourceId);
        conference.endpoints.put(id, endpoint);
        if (resourceId != null) {
            conference.resources.put(resourceId, endpoint);
        }
        return endpoint;
    }

    @Override
    public void closeEndpoint(String conferenceId, String endpointId) {
        Conference conference = conference(conferenceId);
        synchronized (conference) {
            removeEndpoint(conference, endpoint(conference, endpointId), "closed");
        }
    }

    @Override
    public String publish(String conferenceId, String endpointId, String sdpOffer) {
        PeerDescription offer = parse(sdpOffer);
        Conference conference = conference(conferenceId);
        synchronized (conference) {
            return publish(conference, endpoint(conference, endpointId), offer);
        }
    }

    private String publish(Conference conference, Endpoint endpoint, PeerDescription offer) {
        checkPublication(conference, endpoint, offer);
        if (endpoint.publish == null) {
            endpoint.publish = new PublishTransport(endpoint, newTransport(conference, endpoint, "pub"), counters,
                    config.maxBitrate(), config.bandwidthEstimation().publishers(), conference.repairRequests::add);
        }
        PublishTransport.OfferResult result;
        try {
            result = endpoint.publish.applyOffer(offer);
        } catch (RuntimeException e) {
            if (!endpoint.publish.started()) {
                endpoint.publish.close();
                endpoint.publish = null;
            }
            throw e;
        }
        for (Track track : result.removed()) {
            removeTrack(conference, track);
        }
        for (Track track : result.added()) {
            conference.tracks.put(track.id, track);
            if (track.audioLevels != null && endpoint.role == Endpoint.Role.PARTICIPANT) {
                conference.speakers.add(endpoint.id, track.audioLevels);
            }
            conference.emit(seq -> new TrackEvent.TrackAdded(seq, conference.id, track.info()));
        }
        if (!result.added().isEmpty() || !result.removed().isEmpty()) {
            announceSubscriptionChanges(conference, endpoint);
        }
        return result.answer();
    }

    /**
     * Refuses an offer that publishes more than {@code max-tracks-per-publisher} tracks, or announces an SSRC (or
     * RTX SSRC) that another publisher of the conference uses or that it names twice: subscribers receive the
     * publishers' SSRCs as they are, so two streams under one SSRC would break their SRTP and decoding.
     */
    private void checkPublication(Conference conference, Endpoint endpoint, PeerDescription offer) {
        int sending = 0;
        Set<Long> announced = new HashSet<>();
        for (OfferedMedia media : offer.media()) {
            if (media.rejected() || !media.direction().sends()) {
                continue;
            }
            if (++sending > config.maxTracksPerPublisher()) {
                throw new MediaException(ErrorCode.TOO_MANY_TRACKS, "an endpoint may publish at most "
                        + config.maxTracksPerPublisher() + " tracks (parley.media.max-tracks-per-publisher)");
            }
            for (long ssrc : new long[] {media.ssrc(), media.rtxSsrc()}) {
                if (ssrc == 0) {
                    continue;
                }
                if (!announced.add(ssrc)) {
                    throw new MediaException(ErrorCode.SSRC_CONFLICT, "SSRC " + ssrc + " is announced twice");
                }
                for (Track track : conference.tracks.values()) {
                    if (track.source.endpoint != endpoint && (track.ssrc == ssrc || track.rtxSsrc == ssrc)) {
                        throw new MediaException(ErrorCode.SSRC_CONFLICT,
                                "SSRC " + ssrc + " is used by another publisher in this conference");
                    }
                }
            }
        }
    }

    @Override
    public Optional<SubscribeOffer> subscribeOffer(String conferenceId, String endpointId) {
        Conference conference = conference(conferenceId);
        synchronized (conference) {
            Endpoint endpoint = endpoint(conference, endpointId);
            if (endpoint.role != Endpoint.Role.PARTICIPANT) {
                throw new MediaException(ErrorCode.INVALID_REQUEST, "WHIP and WHEP endpoints have no subscribe offer");
            }
            List<Track> wanted = wantedTracks(conference, endpoint);
            if (endpoint.subscribe == null) {
                if (wanted.isEmpty()) {
                    return Optional.empty();
                }
                endpoint.subscribe = new SubscribeTransport(endpoint, newTransport(conference, endpoint, "sub"),
                        counters, config.lastN(), config.bandwidthEstimation().receivers(), conference.timerRequests::add);
            }
            SubscribeTransport subscribe = endpoint.subscribe;
            return subscribe.createOffer(wanted).map(sdp -> new SubscribeOffer(sdp, subscribe.version()));
        }
    }

    @Override
    public void subscribeAnswer(String conferenceId, String endpointId, String sdpAnswer) {
        PeerDescription answer = parse(sdpAnswer);
        Conference conference = conference(conferenceId);
        synchronized (conference) {
            Endpoint endpoint = endpoint(conference, endpointId);
            if (endpoint.subscribe == null) {
                throw new MediaException(ErrorCode.INVALID_SDP, "no subscribe offer is outstanding");
            }
            endpoint.subscribe.applyAnswer(answer);
        }
    }

    @Override
    public void receiveVideo(String conferenceId, String endpointId, List<VideoReceive> videos) {
        if (videos.size() > VideoReceive.MAX_TRACKS) {
            throw new MediaException(ErrorCode.INVALID_REQUEST, "at most " + VideoReceive.MAX_TRACKS
                    + " videos may be described at once (got " + videos.size() + ")");
        }
        for (VideoReceive video : videos) {
            if (video.trackId() == null || video.width() < 0 || video.height() < 0
                    || video.width() > VideoReceive.MAX_DIMENSION || video.height() > VideoReceive.MAX_DIMENSION) {
                throw new MediaException(ErrorCode.INVALID_REQUEST, "a video needs a track id and a width and height"
                        + " of 0.." + VideoReceive.MAX_DIMENSION);
            }
        }
        Conference conference = conference(conferenceId);
        synchronized (conference) {
            Endpoint endpoint = endpoint(conference, endpointId);
            endpoint.receiveVideo(videos);
            if (endpoint.subscribe != null) {
                endpoint.subscribe.selectLayers(System.nanoTime());
            }
            announceWantedLayers(conference, System.nanoTime());
        }
    }

    @Override
    public List<TrackInfo> tracks(String conferenceId) {
        Conference conference = conference(conferenceId);
        synchronized (conference) {
            return conference.tracks.values().stream().map(Track::info).toList();
        }
    }

    @Override
    public List<TrackEvent> events(String conferenceId, long afterSequence) {
        return conference(conferenceId).eventsAfter(afterSequence);
    }

    @Override
    public AutoCloseable onEvent(String conferenceId, Consumer<TrackEvent> listener) {
        return conference(conferenceId).addListener(listener);
    }

    @Override
    public WhipResource whipPublish(String conferenceId, String streamName, String sdpOffer) {
        checkId(conferenceId, "conference id");
        if (streamName != null && !STREAM_NAME.matcher(streamName).matches()) {
            throw new MediaException(ErrorCode.STREAM_NAME_INVALID,
                    "a stream name must be 1-64 characters of letters, digits, '_', '.' or '-'");
        }
        PeerDescription offer = parse(sdpOffer);
        Conference conference;
        synchronized (conferences) {
            conference = conferences.get(conferenceId);
            if (conference == null) {
                createConference(conferenceId);
                conference = conferences.get(conferenceId);
            }
        }
        synchronized (conference) {
            if (streamName != null && namedStream(conference, streamName) != null) {
                throw new MediaException(ErrorCode.STREAM_EXISTS, "conference " + conference.id
                        + " already has a live stream named " + streamName + "; end it first or choose another name");
            }
            Endpoint endpoint = addEndpoint(conference, newId(), Endpoint.Role.WHIP);
            endpoint.streamName = streamName;
            rememberIceSection(endpoint, offer);
            try {
                String answer = publish(conference, endpoint, offer);
                if (endpoint.publish.tracks().isEmpty()) {
                    throw new MediaException(ErrorCode.NO_TRACKS, "the offer publishes nothing: no audio or video"
                            + " m-section sends (a=sendonly or a=sendrecv) in a codec the server forwards");
                }
                return new WhipResource(conference.id, endpoint.resourceId, endpoint.id, answer);
            } catch (RuntimeException e) {
                removeEndpoint(conference, endpoint, "publish failed");
                throw e;
            }
        }
    }

    @Override
    public WhipResource whepPlay(String conferenceId, String publisherId, String sdpOffer,
                                 Predicate<WhipResource.Publisher> allowed) {
        PeerDescription offer = parse(sdpOffer);
        Conference conference = conferenceId == null ? null : conferences.get(conferenceId);
        if (conference == null) {
            throw new MediaException(publisherId == null ? ErrorCode.NO_STREAM : ErrorCode.NOT_FOUND,
                    "no conference " + conferenceId);
        }
        synchronized (conference) {
            Endpoint publisher = publisherId == null ? latestStream(conference) : publisher(conference, publisherId);
            if (!allowed.test(new WhipResource.Publisher(publisher.id,
                    publisher.role == Endpoint.Role.WHIP ? publisher.resourceId : null, publisher.streamName))) {
                throw new MediaException(ErrorCode.FORBIDDEN, "the token does not allow playing "
                        + (publisherId == null ? "the stream of conference " + conference.id : publisherId));
            }
            List<Track> tracks = publisher.publish == null ? List.of() : publisher.publish.tracks();
            if (tracks.isEmpty()) {
                throw new MediaException(ErrorCode.NO_TRACKS, "endpoint " + publisherId + " publishes nothing");
            }
            Endpoint endpoint = addEndpoint(conference, newId(), Endpoint.Role.WHEP);
            rememberIceSection(endpoint, offer);
            try {
                endpoint.subscribe = new SubscribeTransport(endpoint, newTransport(conference, endpoint, "whep"),
                        counters, config.lastN(), config.bandwidthEstimation().receivers(), conference.timerRequests::add);
                return new WhipResource(conference.id, endpoint.resourceId, endpoint.id,
                        endpoint.subscribe.answerOffer(offer, tracks));
            } catch (RuntimeException e) {
                removeEndpoint(conference, endpoint, "play failed");
                throw e;
            }
        }
    }

    /**
     * The publisher a WHEP request names: a WHIP resource of the conference, else a WHIP stream name, else an endpoint
     * (a call participant). Resource ids are 32 random hex digits and so never taken for a name.
     */
    private static Endpoint publisher(Conference conference, String publisherId) {
        Endpoint whip = conference.resources.get(publisherId);
        if (whip != null && whip.role == Endpoint.Role.WHIP) {
            return whip;
        }
        Endpoint named = namedStream(conference, publisherId);
        if (named != null) {
            return named;
        }
        Endpoint endpoint = conference.endpoints.get(publisherId);
        if (endpoint == null) {
            throw new MediaException(ErrorCode.NOT_FOUND, "no WHIP resource, stream or endpoint " + publisherId
                    + " in " + conference.id);
        }
        return endpoint;
    }

    /** The live WHIP publication named {@code name}, or null. Call under the conference lock. */
    private static Endpoint namedStream(Conference conference, String name) {
        for (Endpoint endpoint : conference.endpoints.values()) {
            if (endpoint.role == Endpoint.Role.WHIP && name.equals(endpoint.streamName)) {
                return endpoint;
            }
        }
        return null;
    }

    /**
     * The conference's stream: its most recently started WHIP publication that is still live and publishes
     * something (endpoints are kept in creation order). Call under the conference lock.
     */
    private static Endpoint latestStream(Conference conference) {
        Endpoint latest = null;
        for (Endpoint endpoint : conference.endpoints.values()) {
            if (endpoint.role == Endpoint.Role.WHIP && endpoint.publish != null
                    && !endpoint.publish.tracks().isEmpty()) {
                latest = endpoint;
            }
        }
        if (latest == null) {
            throw new MediaException(ErrorCode.NO_STREAM, "nothing is published into conference " + conference.id
                    + " over WHIP");
        }
        return latest;
    }

    @Override
    public void closeWhipResource(String conferenceId, WhipResource.Kind kind, String resourceId) {
        Conference conference = conferenceId == null || resourceId == null ? null
                : conferences.get(conferenceId);
        if (conference != null) {
            synchronized (conference) {
                Endpoint endpoint = resource(conference, kind, resourceId);
                if (endpoint != null) {
                    removeEndpoint(conference, endpoint, "closed");
                    return;
                }
            }
        }
        throw noResource(conferenceId, kind, resourceId);
    }

    @Override
    public boolean hasWhipResource(String conferenceId, WhipResource.Kind kind, String resourceId) {
        Conference conference = conferenceId == null || resourceId == null ? null
                : conferences.get(conferenceId);
        if (conference == null) {
            return false;
        }
        synchronized (conference) {
            return resource(conference, kind, resourceId) != null;
        }
    }

    @Override
    public WhipIce whipIce(String conferenceId, WhipResource.Kind kind, String resourceId) {
        Conference conference = conferenceId == null ? null : conferences.get(conferenceId);
        if (conference != null) {
            synchronized (conference) {
                Endpoint endpoint = resource(conference, kind, resourceId);
                if (endpoint != null) {
                    return whipIce(endpoint);
                }
            }
        }
        throw noResource(conferenceId, kind, resourceId);
    }

    @Override
    public WhipIce restartWhipIce(String conferenceId, WhipResource.Kind kind, String resourceId, String remoteUfrag,
                                  String remotePassword, String expectedLocalUfrag) {
        Conference conference = conferenceId == null ? null : conferences.get(conferenceId);
        if (conference != null) {
            synchronized (conference) {
                Endpoint endpoint = resource(conference, kind, resourceId);
                if (endpoint != null) {
                    IceLiteSession ice = iceOf(endpoint);
                    if (expectedLocalUfrag != null && !expectedLocalUfrag.equals(ice.localUfrag())) {
                        throw new MediaException(ErrorCode.PRECONDITION_FAILED,
                                "the ICE session has changed (restarted) since that entity tag");
                    }
                    long now = System.nanoTime();
                    if (endpoint.lastIceRestartNanos != 0
                            && now - endpoint.lastIceRestartNanos < MIN_ICE_RESTART_INTERVAL.toNanos()) {
                        throw new MediaException(ErrorCode.ICE_RESTART_TOO_SOON, "at most one ICE restart per "
                                + MIN_ICE_RESTART_INTERVAL.toSeconds() + " s; retry shortly");
                    }
                    endpoint.lastIceRestartNanos = now;
                    ice.restart(remoteUfrag, remotePassword);
                    LOG.info("conference {}: ICE restart of {} endpoint {}", conference.id, kind, endpoint.id);
                    return whipIce(endpoint);
                }
            }
        }
        throw noResource(conferenceId, kind, resourceId);
    }

    /** Call under the conference lock. */
    private static WhipIce whipIce(Endpoint endpoint) {
        IceLiteSession ice = iceOf(endpoint);
        return new WhipIce(ice.localUfrag(), ice.localPassword(),
                ice.localCandidates().stream().map(IceCandidate::toSdpValue).toList(), endpoint.iceKind,
                endpoint.iceMid, ice.remoteUfrag(), ice.remotePassword());
    }

    /** A WHIP endpoint's ICE is its publish transport's, a WHEP endpoint's its subscribe transport's. */
    private static IceLiteSession iceOf(Endpoint endpoint) {
        SecureTransport transport = endpoint.role == Endpoint.Role.WHIP ? endpoint.publish.transport
                : endpoint.subscribe.transport;
        return (IceLiteSession) transport.ice();
    }

    private static void rememberIceSection(Endpoint endpoint, PeerDescription offer) {
        for (OfferedMedia media : offer.media()) {
            if (!media.rejected()) {
                endpoint.iceKind = media.kind().sdp();
                endpoint.iceMid = media.mid();
                return;
            }
        }
    }

    private static MediaException noResource(String conferenceId, WhipResource.Kind kind, String resourceId) {
        return new MediaException(ErrorCode.RESOURCE_NOT_FOUND, "no " + kind.name() + " resource " + resourceId
                + " in conference " + conferenceId + ": use the Location the " + kind.name() + " request returned");
    }

    /** The live endpoint a resource of this kind created, or null. Call under the conference lock. */
    private static Endpoint resource(Conference conference, WhipResource.Kind kind, String resourceId) {
        Endpoint endpoint = conference.resources.get(resourceId);
        Endpoint.Role role = kind == WhipResource.Kind.WHIP ? Endpoint.Role.WHIP : Endpoint.Role.WHEP;
        return endpoint != null && endpoint.role == role ? endpoint : null;
    }

    @Override
    public MediaStats stats() {
        Map<String, Long> drops = new LinkedHashMap<>();
        for (DropReason reason : DropReason.values()) {
            drops.put(reason.metricName(), counters.drops(reason));
        }
        List<EndpointStats> endpoints = new ArrayList<>();
        for (Conference conference : conferences.values()) {
            synchronized (conference) {
                for (Endpoint endpoint : conference.endpoints.values()) {
                    endpoints.add(endpointStats(conference, endpoint));
                }
            }
        }
        return new MediaStats(conferences.size(), endpointCount.get(), counters.packetsIn(), counters.bytesIn(),
                counters.packetsOut(), counters.bytesOut(), drops, endpoints);
    }

    /** Whether any simulcast layer in the conference started or stopped since the last look (under its lock). */
    private static boolean layersStartedOrStopped(Conference conference, long nowNanos) {
        boolean moved = false;
        for (Track track : conference.tracks.values()) {
            if (!track.simulcast()) {
                continue;
            }
            for (int i = 0; i < track.layers.length; i++) {
                boolean sending = LayerChoice.sending(track.layers, i, nowNanos);
                moved |= sending != track.sendingSeen[i];
                track.sendingSeen[i] = sending;
            }
        }
        return moved;
    }

    /**
     * Tells publishers which simulcast layers some receiver asks for ({@link TrackEvent.LayersWanted}), so they can
     * stop encoding the rest: a layer is announced as soon as one receiver's tile asks for it, and withdrawn after
     * nobody has for {@link #LAYER_UNUSED_NANOS} (so a window being resized does not make it flap); the lowest layer
     * is never withdrawn. Under the lock.
     */
    private void announceWantedLayers(Conference conference, long nowNanos) {
        for (Track track : conference.tracks.values()) {
            if (!track.simulcast()) {
                continue;
            }
            boolean changed = false;
            for (Layer layer : track.layers) {
                boolean wanted = false;
                for (Forward forward : track.forwards()) {
                    // The layer a receiver asks for, and the one it still gets until that one arrives: withdrawing
                    // the second first would leave the receiver with nothing.
                    LayerRewriter rewriter = forward.rewriter;
                    wanted |= forward.preferredLayer == layer.index
                            || rewriter != null && rewriter.currentSpatial() == layer.index;
                }
                // The lowest layer always stays on: it is cheap, a new receiver gets video from it at once, and a
                // publisher slow to turn a layer back on never leaves its receivers with nothing.
                wanted |= layer.index == 0;
                int i = layer.index;
                if (wanted) {
                    track.unwantedSinceNanos[i] = 0;
                    changed |= !track.announcedLayers[i];
                    track.announcedLayers[i] = true;
                    continue;
                }
                if (track.unwantedSinceNanos[i] == 0) {
                    track.unwantedSinceNanos[i] = nowNanos;
                }
                if (track.announcedLayers[i] && nowNanos - track.unwantedSinceNanos[i] >= LAYER_UNUSED_NANOS) {
                    track.announcedLayers[i] = false;
                    changed = true;
                }
            }
            if (changed) {
                List<String> rids = new ArrayList<>();
                for (Layer layer : track.layers) {
                    if (track.announcedLayers[layer.index]) {
                        rids.add(layer.rid);
                    }
                }
                conference.emit(seq -> new TrackEvent.LayersWanted(seq, conference.id, track.source.endpoint.id,
                        track.id, track.mid, rids));
            }
        }
    }

    /**
     * Finds who speaks and who is dominant in every conference, and tells ({@link TrackEvent.SpeakersChanged}) when
     * that changed. Run every 200 ms, always from the same thread.
     */
    public void evaluateSpeakers() {
        long nowNanos = System.nanoTime();
        for (Conference conference : conferences.values()) {
            DominantSpeaker.Result result = conference.speakers.evaluate(nowNanos);
            synchronized (conference) {
                if (result.dominantChanged()) {
                    counters.dominantSpeakerChanged();
                }
                boolean reallocated = false;
                boolean layersMoved = layersStartedOrStopped(conference, nowNanos);
                if (!result.dominantChanged()) {
                    // A receiver's downlink estimate moved, or a publisher stopped or started a layer: choose again
                    // now rather than at the next report.
                    for (Endpoint endpoint : conference.endpoints.values()) {
                        if (endpoint.subscribe != null && (endpoint.subscribe.takeAllocationDue() || layersMoved)) {
                            endpoint.subscribe.selectLayers(nowNanos);
                            reallocated = true;
                        }
                    }
                }
                if (reallocated) {
                    announceWantedLayers(conference, nowNanos);
                }
                boolean dominantMoved = !java.util.Objects.equals(result.dominant(), conference.announcedDominant);
                conference.recentDominants = result.recentDominants();
                if (result.dominantChanged()) {
                    for (Endpoint endpoint : conference.endpoints.values()) {
                        if (endpoint.subscribe != null) {
                            endpoint.subscribe.selectLayers(nowNanos);
                        }
                    }
                    announceWantedLayers(conference, nowNanos);
                }
                if (dominantMoved || !result.speaking().equals(conference.announcedSpeaking)) {
                    conference.announcedDominant = result.dominant();
                    conference.announcedSpeaking = result.speaking();
                    conference.emit(seq -> new TrackEvent.SpeakersChanged(seq, conference.id, result.dominant(),
                            result.speaking()));
                }
            }
        }
    }

    /** Live endpoints over all conferences. */
    public int endpointCount() {
        return endpointCount.get();
    }

    public int conferenceCount() {
        return conferences.size();
    }

    private EndpointStats endpointStats(Conference conference, Endpoint endpoint) {
        PublishTransport publish = endpoint.publish;
        SubscribeTransport subscribe = endpoint.subscribe;
        long sent = 0;
        double rttSum = 0;
        int rttCount = 0;
        double subscribeLoss = 0;
        List<VideoForwardStats> videos = new ArrayList<>();
        if (subscribe != null) {
            for (Forward forward : subscribe.forwards()) {
                if (forward.rewriter != null) {
                    videos.add(forward.videoStats());
                }
                sent += forward.packetsSent;
                if (!Double.isNaN(forward.rttMs)) {
                    rttSum += forward.rttMs;
                    rttCount++;
                }
                subscribeLoss = Math.max(subscribeLoss, forward.reportedLoss);
            }
        }
        String profile = publish != null && publish.transport.profile() != null ? publish.transport.profile().name()
                : subscribe != null && subscribe.transport.profile() != null ? subscribe.transport.profile().name()
                : null;
        return new EndpointStats(conference.id, endpoint.id, publish != null && publish.transport.isSecure(),
                subscribe != null && subscribe.transport.isSecure(), profile,
                publish == null ? 0 : publish.packetsReceived(), sent, rttCount == 0 ? null : rttSum / rttCount,
                publish == null ? 0 : publish.lossFraction(), subscribeLoss,
                publish == null ? 0 : publish.bandwidthEstimate(), videos,
                subscribe == null ? null : subscribe.receiveEstimate(), publish == null ? null : publish.repair());
    }

    /**
     * How many video forwards send each layer now: index 0..2 the layer, 3 paused (hidden tiles), 4 waiting for a
     * first keyframe or layer. For the metrics' gauges.
     */
    public long[] videoForwardsByLayer() {
        long[] counts = new long[5];
        for (Conference conference : conferences.values()) {
            synchronized (conference) {
                for (Endpoint endpoint : conference.endpoints.values()) {
                    if (endpoint.subscribe == null) {
                        continue;
                    }
                    for (Forward forward : endpoint.subscribe.forwards()) {
                        LayerRewriter rewriter = forward.rewriter;
                        if (rewriter == null) {
                            continue;
                        }
                        int current = rewriter.currentSpatial();
                        counts[rewriter.targetSpatial() < 0 ? 3 : current < 0 ? 4 : Math.min(2, current)]++;
                    }
                }
            }
        }
        return counts;
    }

    /** Expires endpoints that never started or finished connecting, or lost ICE consent. Run about once a second. */
    public void expireEndpoints() {
        long nowNanos = System.nanoTime();
        long nowMillis = System.currentTimeMillis();
        for (Conference conference : conferences.values()) {
            synchronized (conference) {
                for (Endpoint endpoint : new ArrayList<>(conference.endpoints.values())) {
                    String reason = endpoint.expiryReason(nowNanos, nowMillis, config.connectTimeout().toNanos(),
                            config.consentTimeout().toMillis(), hasTracksFromOthers(conference, endpoint));
                    if (reason != null) {
                        LOG.info("conference {}: expiring endpoint {}: {}", conference.id, endpoint.id, reason);
                        removeEndpoint(conference, endpoint, reason);
                    }
                }
            }
        }
    }

    /**
     * Sends receiver reports and bandwidth estimates to every publisher of the conferences {@code worker} handles, and
     * re-selects every receiver's layers (a publisher may have stopped or resumed one). Run about once a second, on
     * that worker.
     */
    public void sendReports(Worker worker) {
        long nowNanos = System.nanoTime();
        long nowMillis = System.currentTimeMillis();
        for (Conference conference : conferences.values()) {
            if (conference.worker != worker) {
                continue;
            }
            List<PublishTransport> publishers = new ArrayList<>();
            synchronized (conference) {
                for (Track track : conference.tracks.values()) {
                    for (Layer layer : track.layers) {
                        layer.measure(nowNanos);
                    }
                }
                for (Endpoint endpoint : conference.endpoints.values()) {
                    if (endpoint.publish != null) {
                        publishers.add(endpoint.publish);
                    }
                    if (endpoint.subscribe != null) {
                        endpoint.subscribe.selectLayers(nowNanos);
                    }
                }
                announceWantedLayers(conference, nowNanos);
            }
            for (PublishTransport publisher : publishers) {
                publisher.sendReports(conference.reportBuffer, nowNanos, nowMillis);
            }
        }
    }

    /**
     * Runs the probe clusters receivers asked for and drains their pacers ({@link SubscribeTransport#timerTick}), and
     * asks publishers for the packets they are missing ({@link PublishTransport#requestRetransmissions}), in the
     * conferences {@code worker} handles: every 5 ms, on that worker, so the pacers, probes and repair state have
     * one thread with the packets that fill them. Costs two queue polls per conference when nobody probes, waits or
     * misses packets.
     */
    public void paceAndProbe(Worker worker) {
        long nowNanos = System.nanoTime();
        for (Conference conference : conferences.values()) {
            if (conference.worker != worker) {
                continue;
            }
            admit(conference.timerRequests, conference.ticking);
            conference.ticking.removeIf(subscriber -> !subscriber.timerTick(nowNanos));
            admit(conference.repairRequests, conference.repairing);
            conference.repairing.removeIf(publisher -> !publisher.requestRetransmissions(conference.reportBuffer,
                    nowNanos));
        }
    }

    /** Moves what asked for the timer into the list it serves, each once (the worker's thread). */
    private static <T> void admit(java.util.Queue<T> asked, List<T> served) {
        for (T next; (next = asked.poll()) != null; ) {
            if (!served.contains(next)) {
                served.add(next);
            }
        }
    }

    /**
     * Sends transport-wide congestion control feedback to every publisher that negotiated it and sent something since
     * the last, in the conferences {@code worker} handles. Run every 50 ms, on that worker.
     */
    public void sendTransportFeedback(Worker worker) {
        for (Conference conference : conferences.values()) {
            if (conference.worker != worker) {
                continue;
            }
            List<PublishTransport> targets = conference.feedbackTargets;
            synchronized (conference) {
                for (Endpoint endpoint : conference.endpoints.values()) {
                    if (endpoint.publish != null && endpoint.publish.transportCc()) {
                        targets.add(endpoint.publish);
                    }
                }
            }
            for (PublishTransport publisher : targets) {
                publisher.sendTransportFeedback(conference.reportBuffer);
            }
            targets.clear();
        }
    }

    public void close() {
        for (Conference conference : new ArrayList<>(conferences.values())) {
            closeConference(conference.id);
        }
    }

    private void removeEndpoint(Conference conference, Endpoint endpoint, String reason) {
        if (conference.endpoints.remove(endpoint.id) == null) {
            return;
        }
        endpointCount.decrementAndGet();
        if (endpoint.resourceId != null) {
            conference.resources.remove(endpoint.resourceId);
        }
        if (endpoint.publish != null) {
            for (Track track : endpoint.publish.tracks()) {
                removeTrack(conference, track);
            }
            announceSubscriptionChanges(conference, endpoint);
        }
        endpoint.close();
        conference.emit(seq -> new TrackEvent.EndpointClosed(seq, conference.id, endpoint.id, reason));
        for (Endpoint other : new ArrayList<>(conference.endpoints.values())) {
            if (other.role == Endpoint.Role.WHEP && other.subscribe != null && other.subscribe.forwards().isEmpty()
                    && endpoint.role != Endpoint.Role.WHEP) {
                removeEndpoint(conference, other, "publisher gone");
            }
        }
    }

    private void removeTrack(Conference conference, Track track) {
        if (conference.tracks.remove(track.id) == null) {
            return;
        }
        for (Endpoint endpoint : conference.endpoints.values()) {
            if (endpoint.subscribe != null) {
                endpoint.subscribe.trackRemoved(track);
            }
        }
        track.removeAllForwards();
        if (track.audioLevels != null) {
            conference.speakers.remove(track.source.endpoint.id);
        }
        conference.emit(seq -> new TrackEvent.TrackRemoved(seq, conference.id, track.id, track.source.endpoint.id));
    }

    private void announceSubscriptionChanges(Conference conference, Endpoint publisher) {
        for (Endpoint endpoint : conference.endpoints.values()) {
            if (endpoint != publisher && endpoint.role == Endpoint.Role.PARTICIPANT) {
                conference.emit(seq -> new TrackEvent.SubscriptionChanged(seq, conference.id, endpoint.id));
            }
        }
    }

    private static boolean hasTracksFromOthers(Conference conference, Endpoint endpoint) {
        for (Track track : conference.tracks.values()) {
            if (track.source.endpoint != endpoint) {
                return true;
            }
        }
        return false;
    }

    private List<Track> wantedTracks(Conference conference, Endpoint endpoint) {
        List<Track> wanted = new ArrayList<>();
        for (Track track : conference.tracks.values()) {
            if (track.source.endpoint != endpoint) {
                wanted.add(track);
            }
        }
        return wanted;
    }

    private SecureTransport newTransport(Conference conference, Endpoint endpoint, String purpose) {
        IceLiteSession ice = IceLiteSession.open(ports, config.publicAddress(), counters, config.consentTimeout());
        return new SecureTransport(conference.id + "/" + endpoint.id + "/" + purpose, ice, identity,
                config.srtpProfiles(), counters, conference.worker);
    }

    private Conference conference(String conferenceId) {
        Conference conference = conferenceId == null ? null : conferences.get(conferenceId);
        if (conference == null) {
            throw new MediaException(ErrorCode.NOT_FOUND, "no conference " + conferenceId);
        }
        return conference;
    }

    private static Endpoint endpoint(Conference conference, String endpointId) {
        Endpoint endpoint = endpointId == null ? null : conference.endpoints.get(endpointId);
        if (endpoint == null) {
            throw new MediaException(ErrorCode.NOT_FOUND, "no endpoint " + endpointId + " in " + conference.id);
        }
        return endpoint;
    }

    private static PeerDescription parse(String sdp) {
        try {
            return PeerDescription.parse(sdp);
        } catch (SdpException e) {
            throw new MediaException(ErrorCode.INVALID_SDP, e.getMessage());
        }
    }

    private static String checkId(String id, String what) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new MediaException(ErrorCode.INVALID_REQUEST,
                    what + " must be 1-64 characters of letters, digits, '_', '.', ':' or '-'");
        }
        return id;
    }

    /** 128 random bits as 32 lowercase hex digits: a URL-safe WHIP/WHEP resource id nobody can guess. */
    private static String newResourceId() {
        byte[] bits = new byte[16];
        RANDOM.nextBytes(bits);
        return HexFormat.of().formatHex(bits);
    }

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }
}
