package dev.parley.signaling.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.parley.media.MediaConfig;

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
                            Calls calls, Turn turn, MediaConfig media, WebSocket ws) {

    public record Http(String host, int port, int maxBodySize, Path staticDir, Set<String> trustedProxies) {
    }

    public record Redis(URI uri, Duration commandTimeout) {
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

    public record Firebase(String projectId, String credentialsFile, String webApiKey, String authDomain,
                           String emulatorHost, Duration timeout) {
    }

    public record Meetings(Duration inviteTtl, int maxInvitesPerHour) {
    }

    public record Chat(Duration dedupeWindow, long maxMessagesPerMeeting, int maxInFlight) {
    }

    public record Calls(boolean enabled, Duration reconnectGrace) {
    }

    /**
     * TURN servers for browsers: credentials valid at least {@code credentialLifetime} (their expiry rounded up to a
     * multiple of it, so one user's username is the same all through one such window), at most
     * {@code maxCredentialsPerHour} handed to one user per hour.
     */
    public record Turn(List<String> uris, String secret, Duration credentialLifetime, int maxCredentialsPerHour) {
    }

    public record WebSocket(int maxMessageSize, int maxFrameSize, double messagesPerSecond, int messageBurst) {
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
                        .filter(a -> !a.isEmpty()).collect(java.util.stream.Collectors.toUnmodifiableSet()));
        for (String proxy : http.trustedProxies()) {
            if (io.netty.util.NetUtil.createByteArrayFromIpAddressString(proxy) == null) {
                throw new InvalidConfigException("parley.http.trusted-proxies: '" + proxy + "' is not an IP address"
                        + " (exact addresses, comma-separated; PARLEY_HTTP_TRUSTED_PROXIES)");
            }
        }
        Redis redis = new Redis(redisUri(c, "redis.uri"), positive(c, "redis.command-timeout"));
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
                        positive(c, "auth.firebase.timeout")));
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
                atLeast(c, "ws.message-burst", 1));
        if (ws.messagesPerSecond() <= 0) {
            throw new InvalidConfigException("parley.ws.messages-per-second must be positive");
        }
        if (ws.maxFrameSize() < ws.maxMessageSize()) {
            throw new InvalidConfigException("parley.ws.max-frame-size must be at least parley.ws.max-message-size");
        }
        Meetings meetings = new Meetings(positive(c, "meetings.invite-ttl"),
                atLeast(c, "meetings.max-invites-per-hour", 1));
        Chat chat = new Chat(positive(c, "chat.dedupe-window"), atLeast(c, "chat.max-messages-per-meeting", 100),
                atLeast(c, "chat.max-in-flight", 1));
        Calls calls = new Calls(c.getBoolean("calls.enabled"), positive(c, "calls.reconnect-grace"));
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
        return new GatewayConfig(http, redis, session, auth, meetings, chat, calls, turn, media, ws);
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

    private static URI redisUri(Config c, String key) {
        String raw = c.getString(key);
        try {
            URI uri = URI.create(raw);
            if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("scheme must be redis:// or rediss:// with a host");
            }
            return uri;
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException("parley." + key + " must be a URI like redis://127.0.0.1:6379, got '"
                    + raw + "'" + envHint(key));
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

    private static String envHint(String key) {
        return switch (key) {
            case "http.port" -> " (PARLEY_HTTP_PORT)";
            case "redis.uri" -> " (PARLEY_REDIS_URI)";
            case "session.lock-ttl" -> " (PARLEY_SESSION_LOCK_TTL)";
            case "session.heartbeat" -> " (PARLEY_SESSION_HEARTBEAT)";
            case "auth.providers" -> " (PARLEY_AUTH_PROVIDERS)";
            default -> "";
        };
    }
}
