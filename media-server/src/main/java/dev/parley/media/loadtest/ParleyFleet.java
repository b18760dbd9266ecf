package dev.parley.media.loadtest;

import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoReceive;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.ClientSockets;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.srtp.SrtpCiphers;
import dev.parley.media.srtp.SrtpProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Synthetic WebRTC endpoints on a Parley media server: each publisher one publish transport (audio and video
 * tracks), each receiver one subscribe transport (control API) or one WHEP session per publisher (WHIP/WHEP), all
 * with real ICE, DTLS and SRTP through {@link ClientEndpoint}. Client sockets bind loopback unless remote targets
 * are allowed.
 */
final class ParleyFleet implements Fleet {
    private static final Duration CONNECT = Duration.ofSeconds(30);

    private final LoadOptions options;
    private final MediaTarget target;
    private final EmbeddedServer embedded;
    private final List<Stream> streams;
    private final Supplier<ReceiverStats> newReceiver;
    private final List<ReceiverStats> receivers;
    private final String runId;
    private final InetAddress bind;
    private final AllowedNetworks allowed;
    private final List<ClientEndpoint> clients = new CopyOnWriteArrayList<>();
    private final List<String> conferences = new CopyOnWriteArrayList<>();
    private final CpuClock clientThreads = new CpuClock();
    /** Every client's socket, read (and decrypted) by one thread per core, as the server reads its port. */
    private final ClientSockets sockets;

    ParleyFleet(LoadOptions options, MediaTarget target, EmbeddedServer embedded, List<Stream> streams,
                Supplier<ReceiverStats> newReceiver, List<ReceiverStats> receivers, String runId) {
        this.options = options;
        this.target = target;
        this.embedded = embedded;
        this.streams = streams;
        this.newReceiver = newReceiver;
        this.receivers = receivers;
        this.runId = runId;
        this.bind = InetAddress.getLoopbackAddress();
        try {
            this.sockets = new ClientSockets("lg-clients", Runtime.getRuntime().availableProcessors(),
                    Duration.ofSeconds(5));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // As the server does: native OpenSSL SRTP, not jitsi-srtp's pick among Java providers (slower, allocating).
        SrtpCiphers.preferNative();
        this.allowed = options.allowRemoteTarget() ? AllowedNetworks.anyUnicast()
                : new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")));
    }

    @Override
    public String name() {
        return "parley";
    }

    @Override
    public String target() {
        return embedded != null ? embedded.description() : "media server at " + target.base();
    }

    private ClientEndpoint newClient() throws IOException {
        ClientEndpoint client = ClientEndpoint.onSharedSockets(bind, allowed, List.of(SrtpProfile.values()), sockets);
        clients.add(client);
        return client;
    }

    @Override
    public void connectConference(int c) throws Exception {
        String conference = runId + "-c" + c;
        boolean whip = options.api().equals("whip");
        if (!whip) {
            target.createConference(conference);
        }
        conferences.add(conference);
        List<Stream> own = new ArrayList<>();
        for (Stream s : streams) {
            if (s.conference == c) {
                own.add(s);
            }
        }
        // Publishers first, so every receiver's first offer already holds every track.
        String[] publisherIds = new String[options.publishers()];
        List<ClientEndpoint> publishers = new ArrayList<>();
        for (int p = 0; p < options.publishers(); p++) {
            ClientEndpoint client = newClient();
            List<ClientTrack> tracks = new ArrayList<>();
            List<Stream> mine = new ArrayList<>();
            // The track each stream goes out on; a simulcast track's layers are its streams, lowest first.
            List<ClientTrack> trackOf = new ArrayList<>();
            ClientTrack layered = null;
            for (Stream s : own) {
                if (s.publisher != p) {
                    continue;
                }
                if (s.layer >= 0) {
                    if (layered == null) {
                        layered = ClientTrack.simulcastVideo("p" + p, SimulcastLayers.RIDS);
                        tracks.add(layered);
                    }
                    trackOf.add(layered);
                } else {
                    ClientTrack track = s.kind == MediaKind.AUDIO ? ClientTrack.audio("p" + p)
                            : ClientTrack.video("p" + p);
                    tracks.add(track);
                    trackOf.add(track);
                }
                mine.add(s);
            }
            String offer = client.publishOffer(tracks, false);
            String answer;
            if (whip) {
                MediaTarget.Session session = target.whip(conference, offer);
                answer = session.answer();
                publisherIds[p] = session.resource();
            } else {
                publisherIds[p] = "p" + p;
                target.createEndpoint(conference, publisherIds[p]);
                answer = target.publish(conference, publisherIds[p], offer);
            }
            client.acceptAnswer(answer);
            for (int i = 0; i < mine.size(); i++) {
                Stream s = mine.get(i);
                ClientTrack track = trackOf.get(i);
                if (s.layer >= 0) {
                    long ssrc = track.layerSsrcs().get(s.layer);
                    String mid = Integer.toString(tracks.indexOf(track)); // publishOffer numbers mids by position
                    String rid = SimulcastLayers.RIDS[s.layer];
                    s.sink = (stream, sequence, rtpTimestamp) -> client.sendSimulcastRtp(ssrc, ClientEndpoint.VP8_PT,
                            (int) sequence, rtpTimestamp, true, stream.payload, mid, rid, false);
                    continue;
                }
                int payloadType = s.kind == MediaKind.AUDIO ? ClientEndpoint.OPUS_PT : ClientEndpoint.VP8_PT;
                s.sink = (stream, sequence, rtpTimestamp) -> client.sendRtp(track.ssrc(), payloadType, (int) sequence,
                        rtpTimestamp, false, stream.payload, true);
            }
            publishers.add(client);
        }
        for (int p = 0; p < publishers.size(); p++) {
            if (!publishers.get(p).awaitSecure(CONNECT)) {
                throw new IOException("publisher " + p + " of " + conference + " did not connect: "
                        + publishers.get(p).dtlsFailure());
            }
            for (Stream s : own) {
                if (s.publisher == p) {
                    s.active = true;
                }
            }
        }
        List<ClientEndpoint> receiving = new ArrayList<>();
        Map<String, List<String>> videoTracks = options.simulcast() ? videoTracks(conference) : Map.of();
        int receiversPerConference = options.receiversPerConference();
        for (int r = 0; r < receiversPerConference; r++) {
            boolean isPublisher = r >= options.subscribers();
            int self = isPublisher ? r - options.subscribers() : -1;
            String endpoint = isPublisher ? publisherIds[self] : "s" + r;
            if (whip) {
                for (int p = 0; p < options.publishers(); p++) {
                    if (p != self) {
                        ClientEndpoint client = receiver(-1);
                        client.acceptAnswer(target.whep(conference, publisherIds[p], client.receiveOffer()).answer());
                        receiving.add(client);
                    }
                }
            } else {
                if (!isPublisher) {
                    target.createEndpoint(conference, endpoint);
                }
                String offer = target.subscribeOffer(conference, endpoint);
                if (offer == null) {
                    throw new IOException("no subscribe offer for " + conference + "/" + endpoint);
                }
                int layer = options.simulcast() ? SimulcastLayers.wantedBy(r) : -1;
                ClientEndpoint client = receiver(layer);
                if (layer >= 0) {
                    chooseLayer(conference, endpoint, layer, videoTracks);
                }
                target.subscribeAnswer(conference, endpoint, client.answer(offer));
                receiving.add(client);
            }
        }
        for (ClientEndpoint client : receiving) {
            if (!client.awaitSecure(CONNECT)) {
                throw new IOException("a receiver in " + conference + " did not connect: " + client.dtlsFailure());
            }
        }
    }

    /** A receive transport; {@code wantedLayer} is the simulcast layer it asks for, or -1. */
    private ClientEndpoint receiver(int wantedLayer) throws IOException {
        ClientEndpoint client = newClient();
        client.keepReceivedPackets(false);
        ReceiverStats stats = newReceiver.get();
        stats.wantedLayer = wantedLayer;
        receivers.add(stats);
        client.observeRtp(stats);
        return client;
    }

    private Map<String, List<String>> videoTracks(String conference) throws IOException {
        if (embedded != null && embedded.isInProcess()) {
            Map<String, List<String>> byEndpoint = new LinkedHashMap<>();
            for (TrackInfo track : embedded.api().tracks(conference)) {
                if (track.kind().equals("video")) {
                    byEndpoint.computeIfAbsent(track.publisherEndpointId(), k -> new ArrayList<>())
                            .add(track.trackId());
                }
            }
            return byEndpoint;
        }
        return target.videoTracks(conference);
    }

    /**
     * Asks, for a receiver, for one layer of every other publisher's video: a tile of that layer's
     * size. In-process through the API, otherwise through the HTTP API. Before its answer, so no other layer
     * reaches it.
     */
    private void chooseLayer(String conference, String endpoint, int layer, Map<String, List<String>> videoTracks)
            throws IOException {
        List<VideoReceive> videos = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : videoTracks.entrySet()) {
            if (!e.getKey().equals(endpoint)) {
                for (String trackId : e.getValue()) {
                    videos.add(new VideoReceive(trackId, true, SimulcastLayers.WIDTHS[layer],
                            SimulcastLayers.HEIGHTS[layer]));
                }
            }
        }
        if (embedded != null && embedded.isInProcess()) {
            embedded.api().receiveVideo(conference, endpoint, videos);
        } else {
            target.receiveVideo(conference, endpoint, videos);
        }
    }

    @Override
    public ServerSnapshot serverSnapshot() {
        long now = System.nanoTime();
        ServerSnapshot snapshot;
        try {
            snapshot = ServerSnapshot.parse(target.metrics(), now);
        } catch (IOException e) {
            snapshot = ServerSnapshot.empty(now);
        }
        if (embedded != null) {
            snapshot = snapshot.withCpuSeconds(embedded.cpuSeconds());
        }
        return snapshot;
    }

    @Override
    public Map<String, Long> clientDrops() {
        Map<String, Long> drops = new LinkedHashMap<>();
        for (ClientEndpoint client : clients) {
            for (Map.Entry<DropReason, Long> e : client.counters().dropsByReason().entrySet()) {
                if (e.getValue() > 0) {
                    drops.merge(e.getKey().metricName(), e.getValue(), Long::sum);
                }
            }
        }
        return drops;
    }

    @Override
    public double clientCpuSeconds() {
        if (embedded != null && embedded.isInProcess()) {
            return clientThreads.threadSeconds(CpuClock::isClientThread);
        }
        return CpuClock.processSeconds();
    }

    @Override
    public void tick() {
        for (ClientEndpoint client : clients) {
            client.feedback().clear();
        }
    }

    @Override
    public void close() {
        for (Stream s : streams) {
            s.active = false;
        }
        clients.forEach(ClientEndpoint::close);
        sockets.close();
        for (String conference : conferences) {
            target.deleteConference(conference);
        }
    }
}
