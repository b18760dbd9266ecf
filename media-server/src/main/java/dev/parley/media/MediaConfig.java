package dev.parley.media;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.ice.IpLiteral;
import dev.parley.media.srtp.SrtpProfile;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The media server's settings, read once at start-up from {@code parley.media} (see config/parley.conf) or built in
 * code by an embedding process.
 *
 * @param udpPort the single ICE/UDP port for every endpoint; 0 picks a free one
 * @param httpHost the address the HTTP API binds to
 * @param httpPort the HTTP API, WHIP and WHEP port; 0 picks a free one
 * @param addresses local addresses to offer candidates on (loopback allowed)
 * @param publicAddress advertised beside each host candidate for a host behind 1:1 NAT, or null
 * @param allowedRemoteNetworks where ICE may come from and media may go to; the default is public unicast only
 *     (no loopback, link-local, private range or address of this host)
 * @param maxConferences cap on live conferences (503 capacity.conferences beyond)
 * @param maxEndpoints cap on live endpoints over all conferences (503 capacity.endpoints beyond)
 * @param connectTimeout an endpoint whose transports are not secure by then is expired
 * @param consentTimeout an endpoint whose ICE consent is older than this is expired
 * @param consentInterval how often ICE consent is checked (process-wide: ice4j reads it once)
 * @param srtpProfiles DTLS-SRTP profiles in order of preference
 * @param maxBitrate the highest bandwidth estimate sent to publishers, bits per second
 * @param authSecret if non-empty, HTTP API, WHIP and WHEP requests must carry a token signed with it
 *     ({@link dev.parley.media.api.MediaToken}); required when the HTTP API listens on a non-loopback address
 * @param maxTracksPerPublisher most tracks one endpoint may publish at once (an offer beyond is refused)
 * @param httpEnabled whether the HTTP API listens at all (an embedding gateway uses the in-process API)
 * @param corsOrigins origins whose pages may call the HTTP API (WHIP/WHEP from a browser); none by default
 * @param dtlsCertificate the kind of the server's one DTLS certificate: ECDSA P-256 (the default, what every
 *     WebRTC stack accepts) or RSA 2048, for peers whose DTLS client offers only ECDHE-RSA suites
 * @param iceServers STUN and TURN servers offered to WHIP and WHEP clients in {@code Link} headers; none by default
 * @param lastN with more participants publishing video than this, each receiver gets video only from this many:
 *     the most recent dominant speakers first (1..1000)
 * @param bandwidthEstimation which links the server estimates: {@link Estimation#ALL} (the default in
 *     reference.conf), {@link Estimation#PUBLISHERS} (what the shorter constructors, and so most tests, use) or
 *     {@link Estimation#OFF}
 * @param mediaPath the media path's threads and how long a packet may wait for one ({@code workers},
 *     {@code max-queue-delay})
 */
public record MediaConfig(int udpPort, String httpHost, int httpPort, List<InetAddress> addresses,
                          InetAddress publicAddress, AllowedNetworks allowedRemoteNetworks, int maxConferences,
                          int maxEndpoints, Duration connectTimeout, Duration consentTimeout,
                          Duration consentInterval, List<SrtpProfile> srtpProfiles, long maxBitrate,
                          String authSecret, int maxTracksPerPublisher, boolean httpEnabled,
                          List<String> corsOrigins, DtlsIdentity.Kind dtlsCertificate, IceServers iceServers,
                          int lastN, Estimation bandwidthEstimation, MediaPath mediaPath) {
    /** Which links the server estimates and shares out ({@code bandwidth-estimation}). */
    public enum Estimation {
        /**
         * Transport-wide congestion control with publishers (their browsers adapt to their uplinks) and with
         * receivers: the server's own send-side estimate of each receiver's downlink, shared among the videos it gets,
         * paced and probed. The default.
         */
        ALL,
        /**
         * Transport-wide congestion control with publishers only; receivers get what their tiles ask for and their
         * REMB caps publishers without transport-cc, as without estimation.
         */
        PUBLISHERS,
        /** Neither: the receivers' REMB is relayed to publishers. For comparison and diagnosis only. */
        OFF;

        /** From the config's words: {@code all}, {@code publishers}, {@code off}. */
        public static Estimation parse(String text) {
            for (Estimation value : values()) {
                if (value.name().equalsIgnoreCase(text.trim())) {
                    return value;
                }
            }
            throw new IllegalArgumentException("parley.media.bandwidth-estimation: " + text
                    + " is none of all, publishers, off");
        }

        /** Whether publishers negotiate transport-cc. */
        public boolean publishers() {
            return this != OFF;
        }

        /** Whether receivers negotiate transport-cc and get their downlink estimated and shared out. */
        public boolean receivers() {
            return this == ALL;
        }
    }

    /**
     * The media path's threads ({@link dev.parley.media.transport.MediaWorkers}).
     *
     * @param workers worker threads; each conference's transports are handled on one of them (0: one per core)
     * @param maxQueueDelay a received packet that waited longer than this for its worker is dropped as late
     *     ({@code receive_late}): 1 ms to 1 s
     */
    public record MediaPath(int workers, Duration maxQueueDelay) {
        public static final MediaPath DEFAULTS = new MediaPath(0, Duration.ofMillis(50));

        public MediaPath {
            check(workers >= 0 && workers <= 256, "workers", "must be 0 (one per core) to 256: " + workers);
            check(maxQueueDelay.compareTo(Duration.ofMillis(1)) >= 0
                    && maxQueueDelay.compareTo(Duration.ofSeconds(1)) <= 0, "max-queue-delay",
                    "must be between 1ms and 1s: " + maxQueueDelay);
        }

        /** The worker threads to start: {@code workers}, or one per core when it is 0. */
        public int workerThreads() {
            return workers > 0 ? workers : Runtime.getRuntime().availableProcessors();
        }
    }

    /** Receivers get video from at most this many others by default (see {@code last-n}). */
    public static final int DEFAULT_LAST_N = 25;

    /**
     * STUN/TURN servers for WHIP and WHEP clients (RFC 9725 §4.6), with TURN credentials minted per response in the
     * TURN REST scheme coturn's {@code use-auth-secret} checks.
     *
     * @param uris {@code stun:}, {@code stuns:}, {@code turn:} or {@code turns:} URIs, e.g.
     *     {@code turn:turn.example.org:3478?transport=udp}
     * @param turnSecret coturn's {@code static-auth-secret}; required when a TURN URI is given
     * @param credentialLifetime how long a minted TURN credential lets a client create allocations
     */
    public record IceServers(List<String> uris, String turnSecret, Duration credentialLifetime) {
        private static final java.util.regex.Pattern URI =
                java.util.regex.Pattern.compile("(stun|stuns|turn|turns):[^\\s<>\",;]+");

        public static final IceServers NONE = new IceServers(List.of(), "", Duration.ofHours(1));

        public IceServers {
            uris = uris == null ? List.of() : List.copyOf(uris);
            turnSecret = turnSecret == null ? "" : turnSecret;
            for (String uri : uris) {
                check(URI.matcher(uri).matches(), "ice-server-uris", "not a stun:, stuns:, turn: or turns: URI "
                        + "(without spaces, quotes, commas or angle brackets): " + uri);
            }
            check(!hasTurn(uris) || !turnSecret.isEmpty(), "turn-secret",
                    "required when ice-server-uris names a TURN server (the static-auth-secret of coturn)");
            check(credentialLifetime.compareTo(Duration.ofMinutes(1)) >= 0
                    && credentialLifetime.compareTo(Duration.ofDays(1)) <= 0, "turn-credential-lifetime",
                    "must be between 1m and 1d");
        }

        /** Whether a URI is a TURN server's (it gets credentials; a STUN server's does not). */
        public static boolean isTurn(String uri) {
            return uri.startsWith("turn:") || uri.startsWith("turns:");
        }

        private static boolean hasTurn(List<String> uris) {
            return uris.stream().anyMatch(IceServers::isTurn);
        }
    }

    public MediaConfig {
        check(dtlsCertificate == DtlsIdentity.Kind.ECDSA_P256 || dtlsCertificate == DtlsIdentity.Kind.RSA_PKCS1,
                "dtls-certificate", "must be ecdsa or rsa");
        check(udpPort >= 0 && udpPort <= 65535, "udp-port", "must be 0..65535");
        check(httpPort >= 0 && httpPort <= 65535, "http-port", "must be 0..65535");
        check(addresses != null && !addresses.isEmpty(), "addresses", "needs at least one local address");
        check(maxConferences > 0, "max-conferences", "must be positive");
        check(maxEndpoints > 0, "max-endpoints", "must be positive");
        check(!connectTimeout.isNegative() && !connectTimeout.isZero(), "connect-timeout", "must be positive");
        check(!consentTimeout.isNegative() && !consentTimeout.isZero(), "consent-timeout", "must be positive");
        check(consentInterval.compareTo(consentTimeout) < 0, "consent-interval",
                "must be shorter than consent-timeout");
        check(srtpProfiles != null && !srtpProfiles.isEmpty(), "srtp-profiles", "needs at least one profile");
        check(maxBitrate >= 100_000, "max-bitrate", "must be at least 100000");
        check(lastN > 0 && lastN <= 1000, "last-n", "must be 1..1000: " + lastN);
        check(bandwidthEstimation != null, "bandwidth-estimation", "must be all, publishers or off");
        mediaPath = mediaPath == null ? MediaPath.DEFAULTS : mediaPath;
        check(maxTracksPerPublisher > 0 && maxTracksPerPublisher <= 64, "max-tracks-per-publisher",
                "must be 1..64");
        addresses = List.copyOf(addresses);
        srtpProfiles = List.copyOf(srtpProfiles);
        authSecret = authSecret == null ? "" : authSecret;
        corsOrigins = corsOrigins == null ? List.of() : List.copyOf(corsOrigins);
        iceServers = iceServers == null ? IceServers.NONE : iceServers;
        check(authSecret.isEmpty() || authSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length >= 32,
                "auth-secret", "must be at least 32 bytes (HS256 needs a 256-bit key)");
        check(!httpEnabled || !authSecret.isEmpty() || isLoopback(httpHost), "auth-secret",
                "required when the HTTP API listens on a non-loopback address (http-host = " + httpHost
                        + "): anyone reaching it could list, play and publish into every conference");
    }

    /** Settings with the default DTLS certificate (ECDSA P-256) and no STUN/TURN servers for WHIP/WHEP clients. */
    public MediaConfig(int udpPort, String httpHost, int httpPort, List<InetAddress> addresses,
                       InetAddress publicAddress, AllowedNetworks allowedRemoteNetworks, int maxConferences,
                       int maxEndpoints, Duration connectTimeout, Duration consentTimeout, Duration consentInterval,
                       List<SrtpProfile> srtpProfiles, long maxBitrate, String authSecret, int maxTracksPerPublisher,
                       boolean httpEnabled, List<String> corsOrigins) {
        this(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks, maxConferences,
                maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles, maxBitrate, authSecret,
                maxTracksPerPublisher, httpEnabled, corsOrigins, DtlsIdentity.Kind.ECDSA_P256, IceServers.NONE,
                DEFAULT_LAST_N, Estimation.PUBLISHERS, MediaPath.DEFAULTS);
    }

    public MediaConfig withDtlsCertificate(DtlsIdentity.Kind kind) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles,
                maxBitrate, authSecret, maxTracksPerPublisher, httpEnabled, corsOrigins, kind, iceServers, lastN,
                bandwidthEstimation, mediaPath);
    }

    /** Defaults for tests and the load generator: loopback only, free ports, the HTTP API on loopback. */
    public static MediaConfig loopback() {
        return new MediaConfig(0, "127.0.0.1", 0, List.of(InetAddress.getLoopbackAddress()), null,
                new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"))), 100, 1000,
                Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(5),
                List.of(SrtpProfile.AEAD_AES_128_GCM, SrtpProfile.AES_CM_128_HMAC_SHA1_80), 2_500_000, "", 8, true, List.of());
    }

    public MediaConfig withPorts(int udp, int http) {
        return new MediaConfig(udp, httpHost, http, addresses, publicAddress, allowedRemoteNetworks, maxConferences,
                maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles, maxBitrate, authSecret,
                maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, iceServers, lastN,
                bandwidthEstimation, mediaPath);
    }

    public MediaConfig withLimits(int conferences, int endpoints) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                conferences, endpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles, maxBitrate,
                authSecret, maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, iceServers, lastN,
                bandwidthEstimation, mediaPath);
    }

    public MediaConfig withTimeouts(Duration connect, Duration consent, Duration interval) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connect, consent, interval, srtpProfiles, maxBitrate, authSecret,
                maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, iceServers, lastN,
                bandwidthEstimation, mediaPath);
    }

    public MediaConfig withAuthSecret(String token) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles,
                maxBitrate, token, maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, iceServers, lastN,
                bandwidthEstimation, mediaPath);
    }

    public MediaConfig withHttp(boolean enabled, List<String> origins) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles,
                maxBitrate, authSecret, maxTracksPerPublisher, enabled, origins, dtlsCertificate, iceServers, lastN,
                bandwidthEstimation, mediaPath);
    }

    public MediaConfig withIceServers(IceServers servers) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles,
                maxBitrate, authSecret, maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, servers,
                lastN, bandwidthEstimation, mediaPath);
    }

    public MediaConfig withMaxTracksPerPublisher(int tracks) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles,
                maxBitrate, authSecret, tracks, httpEnabled, corsOrigins, dtlsCertificate, iceServers, lastN,
                bandwidthEstimation, mediaPath);
    }

    public MediaConfig withLastN(int n) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles,
                maxBitrate, authSecret, maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, iceServers,
                n, bandwidthEstimation, mediaPath);
    }

    public MediaConfig withBandwidthEstimation(Estimation enabled) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles,
                maxBitrate, authSecret, maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, iceServers,
                lastN, enabled, mediaPath);
    }

    public MediaConfig withMediaPath(MediaPath path) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, srtpProfiles,
                maxBitrate, authSecret, maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, iceServers,
                lastN, bandwidthEstimation, path);
    }

    public MediaConfig withSrtpProfiles(List<SrtpProfile> profiles) {
        return new MediaConfig(udpPort, httpHost, httpPort, addresses, publicAddress, allowedRemoteNetworks,
                maxConferences, maxEndpoints, connectTimeout, consentTimeout, consentInterval, profiles, maxBitrate,
                authSecret, maxTracksPerPublisher, httpEnabled, corsOrigins, dtlsCertificate, iceServers, lastN,
                bandwidthEstimation, mediaPath);
    }

    /** Reads {@code parley.media} (the block itself is passed in). Errors name the offending key. */
    public static MediaConfig from(Config media) {
        try {
            List<InetAddress> addresses = new ArrayList<>();
            for (String text : stringList(media, "addresses")) {
                addresses.add(address(text, "addresses"));
            }
            String publicText = media.getString("public-address").trim();
            List<Cidr> networks = new ArrayList<>();
            List<String> allowed = stringList(media, "allowed-remote-networks");
            boolean publicUnicast = allowed.isEmpty();
            for (String text : allowed) {
                if (text.equalsIgnoreCase("public")) {
                    publicUnicast = true;
                    continue;
                }
                try {
                    networks.add(Cidr.parse(text));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("parley.media.allowed-remote-networks: " + e.getMessage());
                }
            }
            List<SrtpProfile> profiles = new ArrayList<>();
            for (String text : stringList(media, "srtp-profiles")) {
                try {
                    profiles.add(SrtpProfile.valueOf(text.trim().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("parley.media.srtp-profiles: unknown profile " + text
                            + " (use AEAD_AES_128_GCM or AES_CM_128_HMAC_SHA1_80)");
                }
            }
            return new MediaConfig(media.getInt("udp-port"), media.getString("http-host"), media.getInt("http-port"),
                    addresses, publicText.isEmpty() ? null : address(publicText, "public-address"),
                    publicUnicast ? AllowedNetworks.publicOnly(networks) : new AllowedNetworks(networks),
                    media.getInt("max-conferences"), media.getInt("max-endpoints"),
                    media.getDuration("connect-timeout"), media.getDuration("consent-timeout"),
                    media.getDuration("consent-interval"), profiles, media.getLong("max-bitrate"),
                    media.getString("auth-secret"), media.getInt("max-tracks-per-publisher"),
                    media.getBoolean("http-enabled"), stringList(media, "cors-origins"),
                    dtlsCertificate(media.getString("dtls-certificate")),
                    new IceServers(stringList(media, "ice-server-uris"), media.getString("turn-secret"),
                            media.getDuration("turn-credential-lifetime")), media.getInt("last-n"),
                    Estimation.parse(media.getString("bandwidth-estimation")),
                    new MediaPath(media.getInt("workers"), media.getDuration("max-queue-delay")));
        } catch (ConfigException e) {
            throw new IllegalArgumentException("parley.media: " + e.getMessage(), e);
        }
    }

    private static DtlsIdentity.Kind dtlsCertificate(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "ecdsa" -> DtlsIdentity.Kind.ECDSA_P256;
            case "rsa" -> DtlsIdentity.Kind.RSA_PKCS1;
            default -> throw new IllegalArgumentException("parley.media.dtls-certificate: " + text
                    + " (use ecdsa or rsa)");
        };
    }

    /** A list key that may also be a comma-separated string (how environment variables override it). */
    private static List<String> stringList(Config config, String key) {
        List<String> values = new ArrayList<>();
        if (config.getValue(key).valueType() == ConfigValueType.STRING) {
            for (String part : config.getString(key).split(",")) {
                if (!part.isBlank()) {
                    values.add(part.trim());
                }
            }
        } else {
            for (String part : config.getStringList(key)) {
                if (!part.isBlank()) {
                    values.add(part.trim());
                }
            }
        }
        return values;
    }

    private static InetAddress address(String text, String key) {
        InetAddress literal = IpLiteral.parse(text);
        if (literal == null) {
            throw new IllegalArgumentException("parley.media." + key + ": not an IP address: " + text);
        }
        return literal;
    }

    /** Only an IP literal counts: a name could resolve anywhere. */
    private static boolean isLoopback(String host) {
        InetAddress literal = IpLiteral.parse(host);
        return literal != null && literal.isLoopbackAddress();
    }

    private static void check(boolean ok, String key, String message) {
        if (!ok) {
            throw new IllegalArgumentException("parley.media." + key + ": " + message);
        }
    }
}
