package dev.parley.signaling.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.parley.media.MediaConfig;
import dev.parley.media.api.MediaToken;

import java.io.File;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The gateway's configuration, read once at start-up from {@code parley.conf} (keys documented there) and validated,
 * so a wrong value stops the process with a message that names the key.
 */
public record GatewayConfig(Http http, Redis redis, Session session, Auth auth, Meetings meetings, Chat chat,
                            Calls calls, Turn turn, MediaConfig media, WebSocket ws, Metrics metrics,
                            Presence presence) {

    /**
     * {@code idleTimeout}: how long a connection may go without a complete request before it is closed (a WebSocket
     * is exempt once upgraded: the heartbeat watches it). {@code maxConnectionsPerAddress}: open connections one
     * client address (an IPv6 /64) may hold; trusted proxies are not limited.
     */
    public record Http(String host, int port, int maxBodySize, Path staticDir, Set<String> trustedProxies,
                       Duration idleTimeout, int maxConnectionsPerAddress) {
    }

    /** The separate listener that serves /metrics (loopback by default, so only the host's Prometheus reaches it). */
    public record Metrics(String host, int port) {
    }

    /**
     * Where Redis is and how hard a write must try to survive its failover. {@code durableReplicas} is how many
     * replicas a chat message and a session lock must reach (Redis WAIT, within {@code durableTimeout}) before the
     * gateway acts on them; 0 waits for none.
     */
    public record Redis(URI uri, Duration commandTimeout, int durableReplicas, Duration durableTimeout) {

        /** Whether the URI names seeds of a Redis Cluster ({@code redis-cluster://}, {@code rediss-cluster://}). */
        public boolean cluster() {
            return uri.getScheme().endsWith("-cluster");
        }

        /**
         * A cluster URI's seed nodes, each as {@code redis://[user:pass@]host:port} ({@code rediss://} for TLS), with
         * the URI's query; empty for any other URI.
         */
        public List<URI> clusterSeeds() {
            return cluster() ? seedsOf(uri) : List.of();
        }

        private static List<URI> seedsOf(URI uri) {
            String scheme = uri.getScheme().substring(0, uri.getScheme().length() - "-cluster".length());
            String authority = uri.getRawAuthority();
            int at = authority.lastIndexOf('@');
            String userInfo = at < 0 ? "" : authority.substring(0, at + 1);
            String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
            return Arrays.stream(authority.substring(at + 1).split(","))
                    .map(seed -> URI.create(scheme + "://" + userInfo + seed.trim() + query)).toList();
        }

        /**
         * Where the URI points, for messages: host:port, the sentinels and master name, or the cluster's seed nodes;
         * never a password.
         */
        public String where() {
            String hosts = uri.getHost() != null ? uri.getHost() + ":" + uri.getPort() : uri.getRawAuthority();
            if (hosts != null && hosts.contains("@")) {
                hosts = hosts.substring(hosts.lastIndexOf('@') + 1);
            }
            if (cluster()) {
                return "cluster seeds " + hosts;
            }
            return uri.getScheme().endsWith("-sentinel") ? "sentinels " + hosts + " (master " + uri.getFragment() + ")"
                    : hosts;
        }
    }

    public record Session(Duration lockTtl, Duration heartbeat, Duration helloTimeout) {
    }

    public record Auth(Set<String> providers, Duration tokenTtl, LoginLimits login,
                       int maxRegistrationsPerAddress, Duration registrationWindow,
                       int argon2MemoryKib, int argon2Iterations, int argon2Parallelism,
                       int hashingThreads, int hashingQueue, Firebase firebase) {
    }

    /**
     * Password sign-in throttling (LoginThrottle): free attempts per username and address before exponential
     * back-off, its first and longest wait, and the failures allowed per address and per username (from addresses
     * the user has not signed in from) within the window.
     */
    public record LoginLimits(int backoffAfter, Duration backoffBase, Duration backoffMax, int maxFailuresPerAddress,
                              int maxFailuresPerUser, Duration failureWindow) {
    }

    /**
     * @param sessionTtl {@code parley.auth.firebase.session-ttl}: the longest a Parley token from a Firebase sign-in
     *                   lives (never beyond the ID token's own expiry); the client renews it with a fresh ID token,
     *                   which a disabled or deleted Firebase account cannot get. Default 10m, no env var.
     */
    public record Firebase(String projectId, String credentialsFile, String webApiKey, String authDomain,
                           String emulatorHost, Duration timeout, Duration sessionTtl) {
    }

    /**
     * {@code parley.meetings}: invite-ttl (24h) a link's lifetime; max-invites-per-hour (100) links one user may
     * create per hour; invite-max-uses (25) the most joins one link may allow; max-live-invites (50) live links per
     * meeting; max-memberships-per-user (1000) meetings one user may be in.
     */
    public record Meetings(Duration inviteTtl, int maxInvitesPerHour, int inviteMaxUses, int maxLiveInvites,
                           int maxMembershipsPerUser) {
    }

    /** {@code parley.presence}: max-watched (1000) users one connection may watch. */
    public record Presence(int maxWatched) {
    }

    public record Chat(Duration dedupeWindow, long maxMessagesPerMeeting, int maxInFlight) {
    }

    /**
     * {@code parley.calls}: enabled (true, PARLEY_CALLS_ENABLED); reconnect-grace (20s); max-calls-per-user (2) calls
     * one user may hold a place (and so a media endpoint) in at once, across every gateway.
     *
     * @param mediaTokenTtl lifetime of the WHIP/WHEP tokens members get (parley.calls.media-token-ttl, default 10m,
     *                      at most 1h)
     * @param maxMediaTokensPerHour tokens one user may get per hour (parley.calls.max-media-tokens-per-hour, 60)
     * @param ringTimeout how long a direct call rings before it ends as missed (parley.calls.ring-timeout, 30s,
     *                    5s-5m)
     * @param maxRingsPerMinute direct calls one user may start per minute, across every gateway
     *                          (parley.calls.max-rings-per-minute, 10); beyond it ring.start gets rate_limited
     */
    /**
     * {@code preferredRegion}: the media-node region new calls go to when it has any node; blank for none.
     * {@code embeddedMedia}: whether this gateway runs its own media server (else calls go to media nodes only).
     */
    public record Calls(boolean enabled, Duration reconnectGrace, Duration mediaTokenTtl, int maxMediaTokensPerHour,
                        int maxCallsPerUser, Duration ringTimeout, int maxRingsPerMinute, String preferredRegion,
                        boolean embeddedMedia) {
    }

    /**
     * TURN servers for browsers: credentials valid at least {@code credentialLifetime} (their expiry rounded up to a
     * multiple of it, so one user's username is the same all through one such window), at most
     * {@code maxCredentialsPerHour} handed to one user per hour ({@code call.join} and {@code call.turn} together).
     */
    public record Turn(List<String> uris, String secret, Duration credentialLifetime, int maxCredentialsPerHour) {
    }

    /**
     * {@code messagesPerSecond}/{@code messageBurst} count every frame, pings and pongs too. {@code allowedOrigins}:
     * browser origins besides the page's own (the Host header's) that may open the WebSocket.
     */
    public record WebSocket(int maxMessageSize, int maxFrameSize, double messagesPerSecond, int messageBurst,
                            Set<String> allowedOrigins) {
    }

    /** Thrown for a missing or invalid key; its message names the key and what is wrong. */
    public static final class InvalidConfigException extends RuntimeException {
        public InvalidConfigException(String message) {
            super(message);
        }
    }

    private static final Set<String> KNOWN_PROVIDERS = Set.of("local", "firebase");

    /**
     * Loads the defaults from the classpath's parley.conf, then the file named by -Dconfig.file, then system
     * properties; environment variables named in parley.conf override the defaults.
     */
    public static Config loadRaw() {
        Config defaults = ConfigFactory.parseResources("parley.conf");
        String siteFile = System.getProperty("config.file");
        Config site = siteFile == null ? ConfigFactory.empty() : ConfigFactory.parseFile(new File(siteFile));
        if (siteFile != null && site.isEmpty() && !new File(siteFile).isFile()) {
            throw new InvalidConfigException("config.file: " + siteFile + " does not exist");
        }
        // reference.conf files hold the media server's and libraries' own defaults.
        return ConfigFactory.systemProperties().withFallback(site).withFallback(defaults)
                .withFallback(ConfigFactory.parseResources("reference.conf")).resolve();
    }

    public static GatewayConfig load() {
        try {
            return from(loadRaw().getConfig("parley"));
        } catch (ConfigException e) {
            throw new InvalidConfigException(e.getMessage());
        }
    }

    /** Reads and validates the {@code parley} block. */
    public static GatewayConfig from(Config parley) {
        try {
            return read(parley);
        } catch (ConfigException.Missing | ConfigException.WrongType | ConfigException.BadValue e) {
            throw new InvalidConfigException("invalid configuration: " + e.getMessage());
        }
    }

    private static GatewayConfig read(Config c) {
        Http http = new Http(
                nonEmpty(c, "http.host"),
                port(c, "http.port"),
                positiveBytes(c, "http.max-body-size"),
                c.getString("http.static-dir").isBlank() ? null : Path.of(c.getString("http.static-dir")),
                Arrays.stream(c.getString("http.trusted-proxies").split(",")).map(String::trim)
                        .filter(a -> !a.isEmpty()).collect(java.util.stream.Collectors.toUnmodifiableSet()),
                positive(c, "http.idle-timeout"),
                atLeast(c, "http.max-connections-per-address", 1));
        Metrics metrics = new Metrics(nonEmpty(c, "metrics.host"), port(c, "metrics.port"));
        for (String proxy : http.trustedProxies()) {
            if (io.netty.util.NetUtil.createByteArrayFromIpAddressString(proxy) == null) {
                throw new InvalidConfigException("parley.http.trusted-proxies: '" + proxy + "' is not an IP address"
                        + " (exact addresses, comma-separated; PARLEY_HTTP_TRUSTED_PROXIES)");
            }
        }
        Redis redis = new Redis(redisUri(c, "redis.uri"), positive(c, "redis.command-timeout"),
                atLeast(c, "redis.durable-replicas", 0), positive(c, "redis.durable-timeout"));
        if (redis.cluster() && redis.durableReplicas() > 0) {
            throw new InvalidConfigException("parley.redis.durable-replicas must be 0 with a Redis Cluster ("
                    + redis.where() + "), got " + redis.durableReplicas() + ": waiting for replicas (Redis WAIT) is not"
                    + " supported on a cluster, where each shard has replicas of its own"
                    + envHint("redis.durable-replicas"));
        }
        if (redis.durableTimeout().compareTo(redis.commandTimeout()) >= 0) {
            throw new InvalidConfigException("parley.redis.durable-timeout (" + redis.durableTimeout()
                    + ") must be shorter than parley.redis.command-timeout (" + redis.commandTimeout()
                    + "): the wait for replicas is one command");
        }
        Session session = new Session(
                positive(c, "session.lock-ttl"),
                positive(c, "session.heartbeat"),
                positive(c, "session.hello-timeout"));
        if (session.heartbeat().compareTo(session.lockTtl()) >= 0) {
            throw new InvalidConfigException("parley.session.heartbeat (" + session.heartbeat()
                    + ") must be shorter than parley.session.lock-ttl (" + session.lockTtl()
                    + "), or locks expire between renewals (PARLEY_SESSION_HEARTBEAT, PARLEY_SESSION_LOCK_TTL)");
        }
        Auth auth = new Auth(
                providers(c, "auth.providers"),
                positive(c, "auth.token-ttl"),
                new LoginLimits(
                        atLeast(c, "auth.backoff-after", 1),
                        positive(c, "auth.backoff-base"),
                        positive(c, "auth.backoff-max"),
                        atLeast(c, "auth.max-failures-per-address", 1),
                        atLeast(c, "auth.max-failures-per-user", 1),
                        positive(c, "auth.failure-window")),
                atLeast(c, "auth.max-registrations-per-address", 1),
                positive(c, "auth.registration-window"),
                atLeast(c, "auth.argon2-memory-kib", 8),
                atLeast(c, "auth.argon2-iterations", 1),
                atLeast(c, "auth.argon2-parallelism", 1),
                atLeast(c, "auth.hashing-threads", 1),
                atLeast(c, "auth.hashing-queue", 1),
                new Firebase(c.getString("auth.firebase.project-id").trim(),
                        c.getString("auth.firebase.credentials-file").trim(),
                        c.getString("auth.firebase.web-api-key").trim(),
                        c.getString("auth.firebase.auth-domain").trim(),
                        c.getString("auth.firebase.emulator-host").trim(),
                        positive(c, "auth.firebase.timeout"),
                        positive(c, "auth.firebase.session-ttl")));
        if (auth.login().backoffMax().compareTo(auth.login().backoffBase()) < 0) {
            throw new InvalidConfigException("parley.auth.backoff-max (" + auth.login().backoffMax()
                    + ") must be at least parley.auth.backoff-base (" + auth.login().backoffBase() + ")");
        }
        if (auth.providers().contains("firebase") && auth.firebase().projectId().isEmpty()) {
            throw new InvalidConfigException("parley.auth.firebase.project-id must be set when parley.auth.providers"
                    + " includes firebase (PARLEY_FIREBASE_PROJECT_ID)");
        }
        WebSocket ws = new WebSocket(
                positiveBytes(c, "ws.max-message-size"),
                positiveBytes(c, "ws.max-frame-size"),
                c.getDouble("ws.messages-per-second"),
                atLeast(c, "ws.message-burst", 1),
                origins(c, "ws.allowed-origins"));
        if (ws.messagesPerSecond() <= 0) {
            throw new InvalidConfigException("parley.ws.messages-per-second must be positive");
        }
        if (ws.maxFrameSize() < ws.maxMessageSize()) {
            throw new InvalidConfigException("parley.ws.max-frame-size must be at least parley.ws.max-message-size");
        }
        Meetings meetings = new Meetings(positive(c, "meetings.invite-ttl"),
                atLeast(c, "meetings.max-invites-per-hour", 1), atLeast(c, "meetings.invite-max-uses", 1),
                atLeast(c, "meetings.max-live-invites", 1), atLeast(c, "meetings.max-memberships-per-user", 1));
        Presence presence = new Presence(atLeast(c, "presence.max-watched", 1));
        Chat chat = new Chat(positive(c, "chat.dedupe-window"), atLeast(c, "chat.max-messages-per-meeting", 100),
                atLeast(c, "chat.max-in-flight", 1));
        Calls calls = new Calls(c.getBoolean("calls.enabled"), positive(c, "calls.reconnect-grace"),
                positive(c, "calls.media-token-ttl"), atLeast(c, "calls.max-media-tokens-per-hour", 1),
                atLeast(c, "calls.max-calls-per-user", 1), positive(c, "calls.ring-timeout"),
                atLeast(c, "calls.max-rings-per-minute", 1), c.getString("calls.preferred-region").trim(),
                c.getBoolean("calls.embedded-media"));
        if (calls.ringTimeout().compareTo(Duration.ofSeconds(5)) < 0
                || calls.ringTimeout().compareTo(Duration.ofMinutes(5)) > 0) {
            throw new InvalidConfigException("parley.calls.ring-timeout must be between 5s and 5m");
        }
        if (calls.mediaTokenTtl().compareTo(MediaToken.MAX_LIFETIME) > 0) {
            throw new InvalidConfigException("parley.calls.media-token-ttl must be at most 1h (the media server"
                    + " refuses longer-lived tokens)");
        }
        List<String> turnUris = Arrays.stream(c.getString("turn.uris").split(","))
                .map(String::trim).filter(u -> !u.isEmpty()).toList();
        for (String uri : turnUris) {
            if (!uri.matches("turns?:[^\\s]+")) {
                throw new InvalidConfigException("parley.turn.uris: '" + uri + "' is not a turn: or turns: URI"
                        + " (PARLEY_TURN_URIS)");
            }
        }
        Turn turn = new Turn(turnUris, c.getString("turn.secret"), positive(c, "turn.credential-lifetime"),
                atLeast(c, "turn.max-credentials-per-hour", 1));
        if (turn.credentialLifetime().compareTo(Duration.ofMinutes(1)) < 0
                || turn.credentialLifetime().compareTo(Duration.ofDays(1)) > 0) {
            throw new InvalidConfigException("parley.turn.credential-lifetime must be between 1m and 1d, got "
                    + turn.credentialLifetime());
        }
        if (!turnUris.isEmpty() && turn.secret().isBlank()) {
            throw new InvalidConfigException("parley.turn.secret must be set when parley.turn.uris is"
                    + " (PARLEY_TURN_SECRET, the same as coturn's static-auth-secret)");
        }
        MediaConfig media;
        try {
            media = MediaConfig.from(c.getConfig("media"));
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(e.getMessage());
        }
        return new GatewayConfig(http, redis, session, auth, meetings, chat, calls, turn, media, ws, metrics,
                presence);
    }

    private static String nonEmpty(Config c, String key) {
        String value = c.getString(key);
        if (value.isBlank()) {
            throw new InvalidConfigException("parley." + key + " must not be empty");
        }
        return value;
    }

    private static int port(Config c, String key) {
        int port;
        try {
            port = c.getInt(key);
        } catch (ConfigException.WrongType e) {
            throw new InvalidConfigException("parley." + key + " must be a port number 0-65535, got '"
                    + c.getValue(key).unwrapped() + "'" + envHint(key));
        }
        if (port < 0 || port > 65535) {
            throw new InvalidConfigException("parley." + key + " must be a port number 0-65535, got " + port
                    + envHint(key));
        }
        return port;
    }

    private static Duration positive(Config c, String key) {
        Duration value;
        try {
            value = c.getDuration(key);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw new InvalidConfigException("parley." + key + " must be a duration such as 30s or 500ms, got '"
                    + c.getValue(key).unwrapped() + "'" + envHint(key));
        }
        if (value.isNegative() || value.isZero()) {
            throw new InvalidConfigException("parley." + key + " must be longer than zero" + envHint(key));
        }
        return value;
    }

    private static int positiveBytes(Config c, String key) {
        long bytes = c.getBytes(key);
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new InvalidConfigException("parley." + key + " must be between 1 byte and 2 GiB");
        }
        return (int) bytes;
    }

    private static int atLeast(Config c, String key, int min) {
        int value = c.getInt(key);
        if (value < min) {
            throw new InvalidConfigException("parley." + key + " must be at least " + min + ", got " + value);
        }
        return value;
    }

    private static final Set<String> REDIS_SCHEMES = Set.of("redis", "rediss", "redis-sentinel", "rediss-sentinel",
            "redis-cluster", "rediss-cluster");

    /**
     * A Redis URI: {@code redis://host:port} (or rediss:// with TLS) for one Redis,
     * {@code redis-sentinel://host:port,host:port/0#master} for the primary that Sentinel names {@code master}, or
     * {@code redis-cluster://host:port,host:port} for a Redis Cluster reached through any of those seed nodes.
     */
    private static URI redisUri(Config c, String key) {
        String raw = c.getString(key);
        try {
            URI uri = URI.create(raw);
            if (uri.getScheme() == null || !REDIS_SCHEMES.contains(uri.getScheme())) {
                throw new IllegalArgumentException("unknown scheme");
            }
            if (uri.getScheme().endsWith("-cluster")) {
                checkClusterUri(uri);
                return uri;
            }
            boolean sentinel = uri.getScheme().endsWith("-sentinel");
            if (sentinel ? uri.getRawAuthority() == null || uri.getFragment() == null || uri.getFragment().isBlank()
                    : uri.getHost() == null) {
                throw new IllegalArgumentException(sentinel ? "no sentinels or no master name" : "no host");
            }
            // Lettuce reads it too: anything it cannot (a bad port, an empty host in the list) fails here, at start.
            io.lettuce.core.RedisURI.create(uri);
            return uri;
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException("parley." + key + " must be a URI like redis://127.0.0.1:6379,"
                    + " redis-sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/0#parley or"
                    + " redis-cluster://10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379, got '" + raw + "' ("
                    + e.getMessage() + ")" + envHint(key));
        }
    }

    /** Every seed must be a host and port Lettuce can read; a cluster has only database 0 and no master name. */
    private static void checkClusterUri(URI uri) {
        if (uri.getRawAuthority() == null) {
            throw new IllegalArgumentException("no seed nodes");
        }
        if (uri.getFragment() != null) {
            throw new IllegalArgumentException("a cluster URI names no master");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        if (!path.isEmpty() && !path.equals("/") && !path.equals("/0")) {
            throw new IllegalArgumentException("a Redis Cluster has only database 0");
        }
        for (URI seed : Redis.seedsOf(uri)) {
            if (seed.getHost() == null || seed.getPort() < 0) {
                throw new IllegalArgumentException("seed '" + seed.getRawAuthority().substring(
                        seed.getRawAuthority().lastIndexOf('@') + 1) + "' is not host:port");
            }
            io.lettuce.core.RedisURI.create(seed);
        }
    }

    private static Set<String> providers(Config c, String key) {
        List<String> names = Arrays.stream(c.getString(key).split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (names.isEmpty()) {
            throw new InvalidConfigException("parley." + key + " must name at least one of " + KNOWN_PROVIDERS
                    + envHint(key));
        }
        for (String name : names) {
            if (!KNOWN_PROVIDERS.contains(name)) {
                throw new InvalidConfigException("parley." + key + ": unknown provider '" + name + "', expected "
                        + "local and/or firebase" + envHint(key));
            }
        }
        return Set.copyOf(names);
    }

    /** Origins as browsers send them: scheme://host[:port], lower case, no path; a trailing slash is forgiven. */
    private static Set<String> origins(Config c, String key) {
        Set<String> origins = new java.util.LinkedHashSet<>();
        for (String raw : c.getString(key).split(",")) {
            String origin = raw.trim().toLowerCase(java.util.Locale.ROOT);
            if (origin.endsWith("/")) {
                origin = origin.substring(0, origin.length() - 1);
            }
            if (origin.isEmpty()) {
                continue;
            }
            if (!origin.matches("https?://[a-z0-9.\\[\\]:-]+")) {
                throw new InvalidConfigException("parley." + key + ": '" + raw.trim() + "' is not an origin like"
                        + " https://meet.example.org or http://localhost:5173" + envHint(key));
            }
            origins.add(origin);
        }
        return Set.copyOf(origins);
    }

    private static String envHint(String key) {
        return switch (key) {
            case "http.port" -> " (PARLEY_HTTP_PORT)";
            case "metrics.port" -> " (PARLEY_METRICS_PORT)";
            case "ws.allowed-origins" -> " (PARLEY_WS_ALLOWED_ORIGINS)";
            case "redis.uri" -> " (PARLEY_REDIS_URI)";
            case "redis.durable-replicas" -> " (PARLEY_REDIS_DURABLE_REPLICAS)";
            case "session.lock-ttl" -> " (PARLEY_SESSION_LOCK_TTL)";
            case "session.heartbeat" -> " (PARLEY_SESSION_HEARTBEAT)";
            case "auth.providers" -> " (PARLEY_AUTH_PROVIDERS)";
            default -> "";
        };
    }
}
