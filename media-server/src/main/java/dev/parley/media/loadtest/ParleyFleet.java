package dev.parley.media.loadtest;

import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.srtp.SrtpCiphers;
import dev.parley.media.srtp.SrtpProfile;
import java.io.IOException;
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
        ClientEndpoint client = ClientEndpoint.create(bind, allowed, List.of(SrtpProfile.values()));
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
            for (Stream s : own) {
                if (s.publisher == p) {
                    tracks.add(s.kind == MediaKind.AUDIO ? ClientTrack.audio("p" + p) : ClientTrack.video("p" + p));
                    mine.add(s);
                }
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
                ClientTrack track = tracks.get(i);
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
        int receiversPerConference = options.subscribers() + (options.publishers() > 1 ? options.publishers() : 0);
        for (int r = 0; r < receiversPerConference; r++) {
            boolean isPublisher = r >= options.subscribers();
            int self = isPublisher ? r - options.subscribers() : -1;
            String endpoint = isPublisher ? publisherIds[self] : "s" + r;
            if (whip) {
                for (int p = 0; p < options.publishers(); p++) {
                    if (p != self) {
                        ClientEndpoint client = receiver();
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
                ClientEndpoint client = receiver();
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

    private ClientEndpoint receiver() throws IOException {
        ClientEndpoint client = newClient();
        client.keepReceivedPackets(false);
        ReceiverStats stats = newReceiver.get();
        receivers.add(stats);
        client.observeRtp(stats);
        return client;
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
        for (String conference : conferences) {
            target.deleteConference(conference);
        }
    }
}
