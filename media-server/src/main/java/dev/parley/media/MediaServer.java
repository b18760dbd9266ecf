package dev.parley.media;

import dev.parley.media.api.ConferenceInfo;
import dev.parley.media.api.EndpointInfo;
import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.HttpApiServer;
import dev.parley.media.api.MediaApi;
import dev.parley.media.api.MediaStats;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoReceive;
import dev.parley.media.api.WhipIce;
import dev.parley.media.api.WhipResource;
import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Ice4jSettings;
import dev.parley.media.ice.SharedUdpPort;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.metrics.PrometheusMetrics;
import dev.parley.media.sfu.Sfu;
import dev.parley.media.srtp.SrtpCiphers;
import dev.parley.media.srtp.SrtpKeys;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.media.srtp.SrtpSession;
import dev.parley.media.transport.MediaWorkers;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.Worker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.logging.Level;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The media server's composition root: the shared UDP ports, the DTLS identity, the SFU, the HTTP API and the
 * timers. Embed it with {@link #start(MediaConfig)} and use it as the {@link MediaApi}; {@link #close()} stops it.
 */
public final class MediaServer implements MediaApi, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MediaServer.class);

    private final MediaConfig config;
    private final List<SharedUdpPort> ports;
    private final Sfu sfu;
    private final PrometheusMetrics metrics;
    private final ScheduledExecutorService timers;
    private final MediaWorkers workers;
    private final ExecutorService apiWork;
    private final HttpApiServer http;
    private final List<java.util.logging.Logger> quietLoggers = new ArrayList<>();

    private MediaServer(MediaConfig config) throws IOException, InterruptedException {
        this.config = config;
        quietLibraryLogs();
        MediaCounters counters = new MediaCounters();
        warmUpSrtp();
        this.ports = bindPorts(config, counters);
        long generating = System.nanoTime();
        DtlsIdentity identity = DtlsIdentity.generate(config.dtlsCertificate());
        LOG.info("DTLS certificate: {} ({} ms to generate)", identity.describe(),
                (System.nanoTime() - generating) / 1_000_000);
        this.workers = new MediaWorkers("media", config.mediaPath().workerThreads(),
                config.mediaPath().maxQueueDelay(), counters);
        this.sfu = new Sfu(config, ports, identity, counters, workers);
        List<String> refusalCodes = new ArrayList<>(HttpApiServer.OTHER_ERROR_CODES);
        for (ErrorCode code : ErrorCode.values()) {
            refusalCodes.add(code.code());
        }
        this.metrics = new PrometheusMetrics(counters, sfu::conferenceCount, sfu::endpointCount, refusalCodes,
                sfu::videoForwardsByLayer, workers::queueDelays);
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "media-timers"));
        timers.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
        timers.scheduleAtFixedRate(this::speakers, 200, 200, TimeUnit.MILLISECONDS);
        // The conferences' own timers run on their workers; this thread only says when.
        List<WorkerTick> reports = new ArrayList<>();
        List<WorkerTick> feedback = new ArrayList<>();
        List<WorkerTick> pacing = new ArrayList<>();
        for (Worker worker : workers.all()) {
            reports.add(new WorkerTick(worker, () -> sfu.sendReports(worker)));
            feedback.add(new WorkerTick(worker, () -> sfu.sendTransportFeedback(worker)));
            pacing.add(new WorkerTick(worker, () -> sfu.paceAndProbe(worker)));
        }
        timers.scheduleAtFixedRate(() -> reports.forEach(WorkerTick::due), 1, 1, TimeUnit.SECONDS);
        timers.scheduleAtFixedRate(() -> feedback.forEach(WorkerTick::due), 50, 50, TimeUnit.MILLISECONDS);
        timers.scheduleAtFixedRate(() -> pacing.forEach(WorkerTick::due), 5, 5, TimeUnit.MILLISECONDS);
        this.apiWork = Executors.newFixedThreadPool(4, r -> daemon(r, "media-api"));
        // Embedded in the gateway, the server is driven in-process: no listener unless configured (http-enabled).
        HttpApiServer listener = null;
        if (config.httpEnabled()) {
            try {
                listener = new HttpApiServer(new InetSocketAddress(config.httpHost(), config.httpPort()), sfu,
                        config.authSecret(), config.corsOrigins(), apiWork, metrics::scrape, config.iceServers(),
                        counters);
            } catch (IOException | InterruptedException | RuntimeException e) {
                // Nothing half-started stays behind (UDP ports, threads) when the HTTP port is taken.
                releaseAfterFailedStart();
                throw e;
            }
        }
        this.http = listener;
    }

    /** Stops everything but the HTTP listener. */
    private void releaseAfterFailedStart() {
        timers.shutdownNow();
        apiWork.shutdownNow();
        sfu.close();
        ports.forEach(SharedUdpPort::close);
        workers.close();
        metrics.close();
    }

    /** Starts a media server. ice4j's process-wide settings are fixed by the first server started in a JVM. */
    public static MediaServer start(MediaConfig config) throws IOException {
        Ice4jSettings.apply(config.consentInterval());
        try {
            MediaServer server = new MediaServer(config);
            LOG.info("media server up: HTTP {}, UDP {}",
                    server.httpUri() == null ? "off (http-enabled = false)" : server.httpUri(), server.udpAddresses());
            return server;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting", e);
        }
    }

    /** The HTTP API's URL, or null when it is not enabled. */
    public URI httpUri() {
        if (http == null) {
            return null;
        }
        InetSocketAddress address = http.localAddress();
        String host = address.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + address.getPort());
    }

    public List<InetSocketAddress> udpAddresses() {
        return ports.stream().map(SharedUdpPort::boundAddress).toList();
    }

    public MediaConfig config() {
        return config;
    }

    public String metricsText() {
        return metrics.scrape();
    }

    private void tick() {
        try {
            sfu.expireEndpoints();
        } catch (RuntimeException e) {
            LOG.warn("periodic media work failed", e);
        }
    }

    /**
     * One worker's share of a periodic job: every second its conferences' reports, every 50 ms their transport
     * feedback (libwebrtc's receivers send it every 50-250 ms), every 5 ms their probes, pacers and NACKs. Handed to
     * the worker when due, unless the last one has not run yet (a worker that fell behind gets one tick, not a pile).
     */
    private static final class WorkerTick implements Runnable {
        private final Worker worker;
        private final Runnable work;
        private final AtomicBoolean waiting = new AtomicBoolean();

        WorkerTick(Worker worker, Runnable work) {
            this.worker = worker;
            this.work = work;
        }

        void due() {
            if (waiting.compareAndSet(false, true) && !worker.execute(this)) {
                waiting.set(false);
            }
        }

        @Override
        public void run() {
            waiting.set(false);
            work.run();
        }
    }

    /** Speaker detection, on the same timer thread as {@link #tick} (detection wants one thread). */
    private void speakers() {
        try {
            sfu.evaluateSpeakers();
        } catch (RuntimeException e) {
            LOG.warn("speaker detection failed", e);
        }
    }

    private void quietLibraryLogs() {
        for (String name : List.of("org.ice4j", "org.jitsi")) {
            java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
            logger.setLevel(Level.WARNING);
            quietLoggers.add(logger);
        }
    }

    /** jitsi-srtp picks a cipher implementation on first use; do it now, not in the first call. */
    private static void warmUpSrtp() {
        if (!SrtpCiphers.preferNative()) {
            LOG.warn("native OpenSSL SRTP ciphers unavailable: using Java ciphers (slower, allocating)");
        }
        for (SrtpProfile profile : SrtpProfile.values()) {
            byte[] material = new byte[2 * (profile.keyLength() + profile.saltLength())];
            SrtpSession session = new SrtpSession(SrtpKeys.fromKeyingMaterial(profile, material, false), 4);
            PacketBuffer packet = new PacketBuffer();
            packet.copyFrom(new byte[] {(byte) 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, 0, 16);
            session.protectRtp(packet);
            session.close();
        }
    }

    private static List<SharedUdpPort> bindPorts(MediaConfig config, MediaCounters counters) throws IOException {
        List<SharedUdpPort> ports = new ArrayList<>();
        int port = config.udpPort();
        AllowedNetworks allowed = config.allowedRemoteNetworks().excludingOwn(ownAddresses(config));
        try {
            for (InetAddress address : config.addresses()) {
                SharedUdpPort shared = new SharedUdpPort(new InetSocketAddress(address, port), allowed, counters);
                ports.add(shared);
                port = shared.boundAddress().getPort();
            }
        } catch (IOException e) {
            ports.forEach(SharedUdpPort::close);
            throw new IOException("cannot bind UDP port " + port + " (parley.media.udp-port): " + e.getMessage(), e);
        }
        return ports;
    }

    /**
     * Every address of this host (its interfaces, the configured ones, the public one): a peer naming one of them
     * would have the server send media to itself or to a service beside it, so they are refused unless configured.
     */
    private static Set<InetAddress> ownAddresses(MediaConfig config) {
        Set<InetAddress> own = new HashSet<>(config.addresses());
        if (config.publicAddress() != null) {
            own.add(config.publicAddress());
        }
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                own.addAll(Collections.list(nic.getInetAddresses()));
            }
        } catch (SocketException e) {
            LOG.warn("cannot list this host's addresses; only the configured ones are refused as remotes", e);
        }
        return own;
    }

    private static Thread daemon(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
    }

    @Override
    public void close() {
        if (http != null) {
            http.close();
        }
        releaseAfterFailedStart();
        LOG.info("media server stopped");
    }

    @Override
    public ConferenceInfo createConference(String conferenceId) {
        return sfu.createConference(conferenceId);
    }

    @Override
    public void closeConference(String conferenceId) {
        sfu.closeConference(conferenceId);
    }

    @Override
    public List<ConferenceInfo> conferences() {
        return sfu.conferences();
    }

    @Override
    public EndpointInfo createEndpoint(String conferenceId, String endpointId) {
        return sfu.createEndpoint(conferenceId, endpointId);
    }

    @Override
    public void closeEndpoint(String conferenceId, String endpointId) {
        sfu.closeEndpoint(conferenceId, endpointId);
    }

    @Override
    public String publish(String conferenceId, String endpointId, String sdpOffer) {
        return sfu.publish(conferenceId, endpointId, sdpOffer);
    }

    @Override
    public Optional<SubscribeOffer> subscribeOffer(String conferenceId, String endpointId) {
        return sfu.subscribeOffer(conferenceId, endpointId);
    }

    @Override
    public void subscribeAnswer(String conferenceId, String endpointId, String sdpAnswer) {
        sfu.subscribeAnswer(conferenceId, endpointId, sdpAnswer);
    }

    @Override
    public void receiveVideo(String conferenceId, String endpointId, List<VideoReceive> videos) {
        sfu.receiveVideo(conferenceId, endpointId, videos);
    }

    @Override
    public List<TrackInfo> tracks(String conferenceId) {
        return sfu.tracks(conferenceId);
    }

    @Override
    public List<TrackEvent> events(String conferenceId, long afterSequence) {
        return sfu.events(conferenceId, afterSequence);
    }

    @Override
    public AutoCloseable onEvent(String conferenceId, Consumer<TrackEvent> listener) {
        return sfu.onEvent(conferenceId, listener);
    }

    @Override
    public WhipResource whipPublish(String conferenceId, String streamName, String sdpOffer) {
        return sfu.whipPublish(conferenceId, streamName, sdpOffer);
    }

    @Override
    public WhipResource whepPlay(String conferenceId, String publisherId, String sdpOffer,
                                 Predicate<WhipResource.Publisher> allowed) {
        return sfu.whepPlay(conferenceId, publisherId, sdpOffer, allowed);
    }

    @Override
    public WhipIce whipIce(String conferenceId, WhipResource.Kind kind, String resourceId) {
        return sfu.whipIce(conferenceId, kind, resourceId);
    }

    @Override
    public WhipIce restartWhipIce(String conferenceId, WhipResource.Kind kind, String resourceId, String remoteUfrag,
                                  String remotePassword, String expectedLocalUfrag) {
        return sfu.restartWhipIce(conferenceId, kind, resourceId, remoteUfrag, remotePassword, expectedLocalUfrag);
    }

    @Override
    public void closeWhipResource(String conferenceId, WhipResource.Kind kind, String resourceId) {
        sfu.closeWhipResource(conferenceId, kind, resourceId);
    }

    @Override
    public boolean hasWhipResource(String conferenceId, WhipResource.Kind kind, String resourceId) {
        return sfu.hasWhipResource(conferenceId, kind, resourceId);
    }

    @Override
    public MediaStats stats() {
        return sfu.stats();
    }

    /** Endpoints open now: a counter read, for callers that need only this (placement), not {@link #stats()}. */
    public int endpointCount() {
        return sfu.endpointCount();
    }

    /** Conferences open now, read as cheaply as {@link #endpointCount()}. */
    public int conferenceCount() {
        return sfu.conferenceCount();
    }
}
