package dev.parley.signaling;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.parley.media.MediaServer;
import dev.parley.signaling.auth.AccountStore;
import dev.parley.signaling.auth.AuthRoutes;
import dev.parley.signaling.auth.AuthService;
import dev.parley.signaling.auth.FirebaseSignIn;
import dev.parley.signaling.auth.LoginThrottle;
import dev.parley.signaling.auth.PasswordHasher;
import dev.parley.signaling.auth.SigningKeys;
import dev.parley.signaling.auth.TokenService;
import dev.parley.signaling.routing.CallPlacement;
import dev.parley.signaling.routing.CallRouter;
import dev.parley.signaling.call.CallRoutes;
import dev.parley.signaling.call.MediaTokenRoutes;
import dev.parley.signaling.call.CallPlaces;
import dev.parley.signaling.call.CallService;
import dev.parley.signaling.call.TurnCredentials;
import dev.parley.signaling.call.TurnRenewal;
import dev.parley.signaling.chat.ChatService;
import dev.parley.signaling.chat.ChatStore;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.http.ClientAddresses;
import dev.parley.signaling.http.GatewayInitializer;
import dev.parley.signaling.http.GatewayServer;
import dev.parley.signaling.http.HttpRequestHandler;
import dev.parley.signaling.http.MetricsEndpoint;
import dev.parley.signaling.http.RestRouter;
import dev.parley.signaling.http.StaticFiles;
import dev.parley.signaling.meeting.MeetingRoutes;
import dev.parley.signaling.meeting.MeetingService;
import dev.parley.signaling.meeting.MeetingStore;
import dev.parley.signaling.metrics.GatewayMetrics;
import dev.parley.signaling.presence.PresenceService;
import dev.parley.signaling.session.SessionLock;
import dev.parley.signaling.call.LocalCallMedia;
import dev.parley.signaling.call.MediaPlacement;
import dev.parley.signaling.medianode.MediaNodeRegistry;
import dev.parley.signaling.medianode.NodePlacement;
import dev.parley.signaling.store.DurableWrites;
import dev.parley.signaling.store.KeyMigration;
import dev.parley.signaling.store.RedisConnections;
import dev.parley.signaling.store.RedisEvents;
import dev.parley.signaling.store.RedisRateLimit;
import dev.parley.signaling.protocol.ClientMessageParser;
import dev.parley.signaling.ws.LiveSessions;
import dev.parley.signaling.protocol.ServerMessage;
import dev.parley.signaling.ws.Capability;
import dev.parley.signaling.ws.MessageDispatcher;
import dev.parley.signaling.ws.WebSocketConnection;
import dev.parley.signaling.block.BlockRoutes;
import dev.parley.signaling.block.Blocks;
import dev.parley.signaling.ring.RingHandler;
import dev.parley.signaling.ring.RingService;
import dev.parley.signaling.session.SessionHandler;
import dev.parley.signaling.session.TokenLifetime;
import dev.parley.signaling.presence.PresenceHandler;
import dev.parley.signaling.chat.ChatHandler;
import dev.parley.signaling.chat.ChatRoutes;
import dev.parley.signaling.call.CallHandler;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** The composition root of a gateway process: wires every part with constructors, starts and stops them. */
public final class ParleyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ParleyServer.class);
    /** How long shutdown waits for every socket's lock release and goodbye (tens of thousands take seconds). */
    private static final java.time.Duration SHUTDOWN_GRACE = java.time.Duration.ofSeconds(20);
    /** How long a crashed gateway's claim on its calls survives it. */
    private static final java.time.Duration CALL_CLAIM_TTL = java.time.Duration.ofSeconds(30);
    /** How long one request to a standalone media node may take before the call is refused or moved. */
    private static final java.time.Duration MEDIA_NODE_REQUEST_TIMEOUT = java.time.Duration.ofSeconds(5);
    /** A user's place in a call lapses this long after its host last renewed it (heartbeat: every 5 s). */
    private static final java.time.Duration CALL_PLACE_TTL = java.time.Duration.ofSeconds(30);
    /** Threads the calls share; each call uses one at a time, so this many calls do media operations at once. */
    private static final int CALL_WORK_THREADS = 4;
    /** Password changes one user may make per hour (each costs two hashes). */
    private static final int MAX_PASSWORD_CHANGES_PER_HOUR = 10;

    private final RedisConnections redis;
    private final ScheduledExecutorService timers;
    private final ExecutorService hashing;
    private final LiveSessions sessions;
    private final GatewayServer gateway;
    private final CallService calls;
    private final ScheduledExecutorService callThread;
    private final ExecutorService callWork;
    private final MediaServer media;
    private final FirebaseSignIn firebase;
    private final CallPlacement placement;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ParleyServer(RedisConnections redis, ScheduledExecutorService timers, ExecutorService hashing,
                         LiveSessions sessions, GatewayServer gateway, CallService calls,
                         ScheduledExecutorService callThread, ExecutorService callWork, MediaServer media,
                         FirebaseSignIn firebase, CallPlacement placement) {
        this.callWork = callWork;
        this.placement = placement;
        this.firebase = firebase;
        this.redis = redis;
        this.timers = timers;
        this.hashing = hashing;
        this.sessions = sessions;
        this.gateway = gateway;
        this.calls = calls;
        this.callThread = callThread;
        this.media = media;
    }

    /** The embedded media server, when calls are enabled. */
    public java.util.Optional<MediaServer> mediaServer() {
        return java.util.Optional.ofNullable(media);
    }

    public static ParleyServer start(GatewayConfig config) throws Exception {
        ObjectMapper json = new ObjectMapper();
        GatewayMetrics metrics = new GatewayMetrics();
        RedisConnections redis = RedisConnections.connect(config.redis());
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(named("parley-timers"));
        ScheduledExecutorService callThread = Executors.newSingleThreadScheduledExecutor(named("parley-calls"));
        // Each call runs its operations one at a time on this pool (CallService); calls run side by side.
        ExecutorService callWork = Executors.newFixedThreadPool(CALL_WORK_THREADS, named("parley-call-work"));
        MediaServer media = null;
        FirebaseSignIn firebase = null;
        ExecutorService hashing = new ThreadPoolExecutor(config.auth().hashingThreads(), config.auth().hashingThreads(),
                60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(config.auth().hashingQueue()), named("parley-hashing"));
        try {
            if (!redis.cluster()) {
                KeyMigration.toHashTags(redis.async());
            }
            RedisEvents events = new RedisEvents(redis);
            SigningKeys signingKeys = SigningKeys.load(redis.async(), Clock.systemUTC());
            events.subscribe(SigningKeys.CHANNEL, kid -> signingKeys.reload());
            long reloadMillis = SigningKeys.RELOAD_INTERVAL.toMillis();
            timers.scheduleWithFixedDelay(() -> {
                try {
                    signingKeys.reload().exceptionally(e -> {
                        log.warn("could not re-read the token signing keys: {}", e.toString());
                        return null;
                    });
                } catch (RuntimeException e) {
                    // A periodic task that throws is never run again.
                    log.warn("could not re-read the token signing keys: {}", e.toString());
                }
            }, reloadMillis, reloadMillis, TimeUnit.MILLISECONDS);
            TokenService tokens = new TokenService(redis.async(), events, signingKeys, config.auth().tokenTtl(),
                    Clock.systemUTC());
            AccountStore accounts = new AccountStore(redis.async());
            accounts.buildSearchIndex().whenComplete((indexed, error) -> {
                if (error != null) {
                    log.warn("could not index the accounts made before people search: {}", error.toString());
                } else if (indexed > 0) {
                    log.info("indexed {} accounts for people search", indexed);
                }
            });
            Blocks blocks = new Blocks(redis.async(), accounts);
            GatewayConfig.Auth authConfig = config.auth();
            AuthService auth = new AuthService(accounts, tokens,
                    new LoginThrottle(redis.async(), authConfig.login()), metrics,
                    new PasswordHasher(authConfig.argon2MemoryKib(), authConfig.argon2Iterations(),
                            authConfig.argon2Parallelism()),
                    hashing, new RedisRateLimit(redis.async(), "register", authConfig.maxRegistrationsPerAddress(),
                            authConfig.registrationWindow()),
                    new RedisRateLimit(redis.async(), "password-change", MAX_PASSWORD_CHANGES_PER_HOUR,
                            java.time.Duration.ofHours(1)));
            DurableWrites durable = redis.durableWrites(metrics::replicationShortfall);
            SessionLock lock = new SessionLock(redis.async(), durable, config.session().lockTtl());
            long sweepMillis = Math.min(5_000, config.session().heartbeat().toMillis());
            PresenceService presence = new PresenceService(redis.async(), events, timers, sweepMillis);
            ObjectWriter messageWriter = json.writerFor(ServerMessage.class);
            byte[] nodeBytes = new byte[6];
            new java.security.SecureRandom().nextBytes(nodeBytes);
            String nodeId = "g" + java.util.HexFormat.of().formatHex(nodeBytes);
            LiveSessions sessions = new LiveSessions(events, messageWriter, lock::owners, nodeId);
            MeetingStore meetingStore = new MeetingStore(redis.async());
            ChatStore chatStore = new ChatStore(redis.async(), durable, config.chat().dedupeWindow(),
                    config.chat().maxMessagesPerMeeting());
            ChatService chat = new ChatService(meetingStore, chatStore, sessions, Clock.systemUTC(),
                    config.chat().maxInFlight(), blocks);
            if (config.calls().enabled() && config.calls().embeddedMedia()) {
                media = MediaServer.start(config.media());
            }
            TurnCredentials turn = new TurnCredentials(config.turn().uris(), config.turn().secret(),
                    config.turn().credentialLifetime(), Clock.systemUTC(), new RedisRateLimit(redis.async(),
                    "turn-credentials", config.turn().maxCredentialsPerHour(), java.time.Duration.ofHours(1)), metrics);
            CallPlacement placement = new CallPlacement(redis.async(), nodeId, CALL_CLAIM_TTL, Clock.systemUTC());
            CallPlaces callPlaces = new CallPlaces(redis.async(), Clock.systemUTC(), CALL_PLACE_TTL,
                    config.calls().maxCallsPerUser());
            MediaPlacement mediaPlacement = null;
            if (config.calls().enabled()) {
                // The embedded media server, if any, is one candidate among the standalone nodes in Redis.
                MediaServer embedded = media;
                LocalCallMedia local = embedded == null ? null : new LocalCallMedia(embedded, nodeId,
                        mediaHttp(config) == null ? null : embedded.httpUri());
                NodePlacement nodes = new NodePlacement(new MediaNodeRegistry(redis.async()), local,
                        () -> embeddedLoad(embedded), config.calls().preferredRegion(), config.media().authSecret(),
                        MEDIA_NODE_REQUEST_TIMEOUT, timers);
                nodes.start();
                mediaPlacement = nodes;
            }
            CallService calls = new CallService(mediaPlacement, meetingStore, chat, sessions, presence, turn,
                    callThread, callWork, config.calls().reconnectGrace(), Clock.systemUTC(), placement, json,
                    callPlaces);
            CallRouter callRouter = new CallRouter(calls, placement, meetingStore, events, sessions, json);
            MeetingService meetings = new MeetingService(meetingStore, chat, accounts, sessions, callRouter,
                    Clock.systemUTC(), config.meetings(), new RedisRateLimit(redis.async(), "invites",
                    config.meetings().maxInvitesPerHour(), java.time.Duration.ofHours(1)),
                    presence::coMembersJoined, blocks);
            // Someone blocked stops seeing the blocker's presence at once; unblocked, they see it again if they
            // share a meeting (PresenceHandler checks).
            blocks.listen((blocker, blocked) -> presence.hide(blocked, blocker),
                    (blocker, blocked) -> presence.coMembersJoined(blocker, List.of(blocked)));
            RingService rings = new RingService(redis.async(), meetings, chat, sessions, presence,
                    new RedisRateLimit(redis.async(), "rings", config.calls().maxRingsPerMinute(),
                            java.time.Duration.ofMinutes(1)), timers, metrics, Clock.systemUTC(),
                    config.calls().ringTimeout(), blocks);
            calls.reportLoad();
            calls.heartbeat();
            long reportMillis = CallPlacement.REPORT_INTERVAL.toMillis();
            callThread.scheduleWithFixedDelay(calls::reportLoad, reportMillis, reportMillis, TimeUnit.MILLISECONDS);
            callThread.scheduleWithFixedDelay(calls::heartbeat, 5, 5, TimeUnit.SECONDS);

            RestRouter router = new RestRouter();
            if (authConfig.providers().contains("firebase")) {
                firebase = FirebaseSignIn.start(authConfig.firebase(), accounts, redis.async(), Clock.systemUTC());
            }
            new AuthRoutes(auth, accounts, authConfig, firebase, tokens).register(router);
            new MeetingRoutes(auth, meetings).register(router);
            new ChatRoutes(auth, chat).register(router);
            new BlockRoutes(auth, blocks).register(router);
            new CallRoutes(auth, calls).register(router);
            new MediaTokenRoutes(auth, meetingStore, calls, mediaHttp(config), config.calls().mediaTokenTtl(),
                    new RedisRateLimit(redis.async(), "media-tokens", config.calls().maxMediaTokensPerHour(),
                            java.time.Duration.ofHours(1)), Clock.systemUTC()).register(router);

            MessageDispatcher dispatcher = new MessageDispatcher();
            for (Capability capability : List.of(
                    new SessionHandler(config.session(), auth, lock, sessions, events, metrics,
                            userId -> presence.announce(userId, PresenceService.OFFLINE)),
                    new TokenLifetime(auth, tokens, sessions, events, metrics, Clock.systemUTC()),
                    new PresenceHandler(presence, new PresenceHandler.CoMembers() {
                        @Override
                        public CompletionStage<List<String>> of(String userId) {
                            return meetings.coMembers(userId).thenCompose(ids -> blocks.notBlocking(userId, ids));
                        }

                        @Override
                        public CompletionStage<List<String>> among(String userId, List<String> candidates) {
                            return meetings.coMembersAmong(userId, candidates)
                                    .thenCompose(ids -> blocks.notBlocking(userId, ids));
                        }
                    }, config.presence().maxWatched()),
                    new ChatHandler(chat),
                    new RingHandler(rings),
                    new CallHandler(callRouter, new TurnRenewal(callPlaces, turn)))) {
                capability.register(dispatcher);
            }
            dispatcher.requireEveryMessageType();
            var wsServices = new WebSocketConnection.Services(config, new ClientMessageParser(json), messageWriter,
                    metrics, dispatcher);
            var httpServices = new HttpRequestHandler.Services(router, StaticFiles.load(config.http().staticDir()),
                    redis, metrics, json, new ClientAddresses(config.http().trustedProxies(), metrics));
            var workers = new MultiThreadIoEventLoopGroup(0, named("parley-io"), NioIoHandler.newFactory());
            GatewayServer gateway = GatewayServer.start(config.http().host(), config.http().port(),
                    new GatewayInitializer(config, httpServices, () -> new WebSocketConnection(wsServices)),
                    config.metrics().host(), config.metrics().port(), new MetricsEndpoint(metrics, json), workers);
            return new ParleyServer(redis, timers, hashing, sessions, gateway, calls, callThread, callWork, media,
                    firebase, placement);
        } catch (Exception | Error e) {
            if (firebase != null) {
                firebase.close();
            }
            if (media != null) {
                media.close();
            }
            callThread.shutdownNow();
            callWork.shutdownNow();
            timers.shutdownNow();
            hashing.shutdownNow();
            redis.close();
            throw e;
        }
    }

    public int httpPort() {
        return gateway.port();
    }

    public int metricsPort() {
        return gateway.metricsPort();
    }

    /**
     * Graceful stop: no new connections, every session's lock released and its socket closed with 1001, then the
     * rest shut down.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        gateway.stopAccepting();
        calls.closeAll();
        try {
            placement.unregister().toCompletableFuture().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("could not unregister this media host; it ages out by itself: {}", e.toString());
        }
        try {
            sessions.closeAll().get(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("some session locks were not released in time; they expire by themselves: {}", e.toString());
        }
        gateway.close();
        if (media != null) {
            media.close();
        }
        if (firebase != null) {
            firebase.close();
        }
        callThread.shutdownNow();
        callWork.shutdownNow();
        timers.shutdownNow();
        hashing.shutdownNow();
        redis.close();
    }

    public static void main(String[] args) {
        GatewayConfig config;
        try {
            config = GatewayConfig.load();
        } catch (GatewayConfig.InvalidConfigException e) {
            System.err.println("parley: " + e.getMessage());
            System.exit(2);
            return;
        }
        ParleyServer server;
        try {
            server = start(config);
        } catch (Exception e) {
            log.error("parley could not start: {}", e.getMessage());
            System.err.println("parley: could not start: " + e.getMessage());
            System.exit(1);
            return;
        }
        String shownHost = config.http().host().equals("0.0.0.0") ? "127.0.0.1" : config.http().host();
        log.info("Parley gateway listening on port {}", server.httpPort());
        System.out.println("Prometheus metrics at http://" + config.metrics().host() + ":" + server.metricsPort()
                + "/metrics");
        System.out.println("Parley is running at http://" + shownHost + ":" + server.httpPort() + "/");
        Runnable stop = () -> {
            log.info("shutting down");
            server.close();
            log.info("stopped");
            System.exit(0);
        };
        Signal.handle(new Signal("TERM"), signal -> new Thread(stop, "parley-shutdown").start());
        Signal.handle(new Signal("INT"), signal -> new Thread(stop, "parley-shutdown").start());
    }

    /** The embedded media server's figures for placement: endpoints, capacity, and this process's CPU share. */
    private static NodePlacement.LocalLoad embeddedLoad(MediaServer media) {
        double cpu = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuLoad();
        return new NodePlacement.LocalLoad(media.endpointCount(), media.config().maxEndpoints(),
                media.conferenceCount(), media.config().maxConferences(), Math.max(0, cpu));
    }

    /** WHIP/WHEP tokens are offered when media servers check them: an auth-secret is set. */
    private static MediaTokenRoutes.MediaHttp mediaHttp(GatewayConfig config) {
        String secret = config.media().authSecret();
        return !config.calls().enabled() || secret.isEmpty() ? null : new MediaTokenRoutes.MediaHttp(secret);
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
