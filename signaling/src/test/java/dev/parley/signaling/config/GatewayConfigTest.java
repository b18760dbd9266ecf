package dev.parley.signaling.config;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GatewayConfigTest {

    private static GatewayConfig with(Map<String, Object> settings) {
        return GatewayConfig.from(ConfigFactory.parseMap(settings)
                .withFallback(ConfigFactory.parseResources("parley.conf"))
                .withFallback(ConfigFactory.parseResources("reference.conf")).resolve().getConfig("parley"));
    }

    private static String errorFor(Map<String, Object> settings) {
        return assertThrows(GatewayConfig.InvalidConfigException.class, () -> with(settings)).getMessage();
    }

    @Test
    void theDocumentedDefaultsLoad() {
        GatewayConfig config = with(Map.of());
        assertEquals(8080, config.http().port());
        assertEquals(Duration.ofSeconds(30), config.session().lockTtl());
        assertEquals(Duration.ofSeconds(25), config.session().heartbeat());
        assertEquals(java.util.Set.of("local"), config.auth().providers());
        assertEquals(64 * 1024, config.ws().maxMessageSize());
    }

    @Test
    void connectionLimitsAndTheMetricsListenerHaveSafeDefaults() {
        GatewayConfig config = with(Map.of());
        assertEquals("127.0.0.1", config.metrics().host());
        assertEquals(8082, config.metrics().port());
        assertEquals(Duration.ofSeconds(60), config.http().idleTimeout());
        assertEquals(256, config.http().maxConnectionsPerAddress());
        assertEquals(java.util.Set.of(), config.ws().allowedOrigins());
    }

    @Test
    void allowedOriginsAreNormalizedAndABadOneNamesTheKey() {
        GatewayConfig config = with(Map.of("parley.ws.allowed-origins",
                " https://Meet.example.org/ , http://localhost:5173"));
        assertEquals(java.util.Set.of("https://meet.example.org", "http://localhost:5173"),
                config.ws().allowedOrigins());
        String message = errorFor(Map.of("parley.ws.allowed-origins", "meet.example.org/app"));
        assertTrue(message.contains("parley.ws.allowed-origins") && message.contains("PARLEY_WS_ALLOWED_ORIGINS"),
                message);
    }

    @Test
    void aBadPortNamesTheKeyAndItsVariable() {
        String message = errorFor(Map.of("parley.http.port", "eighty"));
        assertTrue(message.contains("parley.http.port") && message.contains("PARLEY_HTTP_PORT"), message);
        assertTrue(errorFor(Map.of("parley.http.port", 70000)).contains("parley.http.port"));
    }

    @Test
    void aHeartbeatNotShorterThanTheLockTtlIsRefused() {
        String message = errorFor(Map.of("parley.session.heartbeat", "30s"));
        assertTrue(message.contains("parley.session.heartbeat") && message.contains("lock-ttl"), message);
    }

    @Test
    void aBadDurationNamesTheKey() {
        String message = errorFor(Map.of("parley.session.lock-ttl", "soon"));
        assertTrue(message.contains("parley.session.lock-ttl"), message);
    }

    @Test
    void anUnknownAuthProviderIsRefused() {
        String message = errorFor(Map.of("parley.auth.providers", "local,ldap"));
        assertTrue(message.contains("parley.auth.providers") && message.contains("ldap"), message);
    }

    @Test
    void turnUrisNeedASecret() {
        String message = errorFor(Map.of("parley.turn.uris", "turn:127.0.0.1:3478"));
        assertTrue(message.contains("parley.turn.secret"), message);
        assertTrue(errorFor(Map.of("parley.turn.uris", "http://x", "parley.turn.secret", "s"))
                .contains("parley.turn.uris"));
    }

    @Test
    void trustedProxiesMustBeIpAddresses() {
        String message = errorFor(Map.of("parley.http.trusted-proxies", "10.0.0.1, proxy.example.org"));
        assertTrue(message.contains("parley.http.trusted-proxies") && message.contains("proxy.example.org"), message);
        assertEquals(java.util.Set.of("10.0.0.1", "::1"),
                with(Map.of("parley.http.trusted-proxies", "10.0.0.1, ::1")).http().trustedProxies());
    }

    @Test
    void signInBackOffAndTurnLifetimeAreChecked() {
        String message = errorFor(Map.of("parley.auth.backoff-base", "1m", "parley.auth.backoff-max", "10s"));
        assertTrue(message.contains("parley.auth.backoff-max"), message);
        assertTrue(errorFor(Map.of("parley.turn.credential-lifetime", "2d"))
                .contains("parley.turn.credential-lifetime"));
        GatewayConfig defaults = with(Map.of());
        assertEquals(Duration.ofHours(1), defaults.turn().credentialLifetime());
        assertEquals(5, defaults.auth().login().backoffAfter());
    }

    @Test
    void aBadMediaAddressNamesTheKey() {
        String message = errorFor(Map.of("parley.media.addresses", "not-an-ip"));
        assertTrue(message.contains("parley.media.addresses"), message);
    }

    @Test
    void membershipWatchAndCallLimitsHaveTheirDefaultsAndMustBePositive() {
        GatewayConfig config = with(Map.of());
        assertEquals(Duration.ofHours(24), config.meetings().inviteTtl());
        assertEquals(1000, config.meetings().maxMembershipsPerUser());
        assertEquals(1000, config.presence().maxWatched());
        assertEquals(2, config.calls().maxCallsPerUser());
        for (String key : java.util.List.of("parley.meetings.invite-max-uses", "parley.meetings.max-live-invites",
                "parley.meetings.max-memberships-per-user", "parley.presence.max-watched",
                "parley.calls.max-calls-per-user")) {
            assertTrue(errorFor(Map.of(key, 0)).contains(key), key);
        }
    }

    @Test
    void ringingHasItsDefaultsAndBounds() {
        GatewayConfig config = with(Map.of());
        assertEquals(Duration.ofSeconds(30), config.calls().ringTimeout());
        assertEquals(10, config.calls().maxRingsPerMinute());
        for (String timeout : java.util.List.of("4s", "6m")) {
            String message = errorFor(Map.of("parley.calls.ring-timeout", timeout));
            assertTrue(message.contains("parley.calls.ring-timeout"), message);
        }
        assertEquals(Duration.ofSeconds(5), with(Map.of("parley.calls.ring-timeout", "5s")).calls().ringTimeout());
        assertTrue(errorFor(Map.of("parley.calls.max-rings-per-minute", 0)).contains("parley.calls.max-rings-per-minute"));
    }

    @Test
    void aRedisUriWithoutRedisSchemeIsRefused() {
        String message = errorFor(Map.of("parley.redis.uri", "http://example"));
        assertTrue(message.contains("parley.redis.uri"), message);
    }

    @Test
    void sentinelUrisAreTakenAndBrokenOnesRefusedWithTheirReason() {
        GatewayConfig.Redis sentinel = with(Map.of("parley.redis.uri",
                "redis-sentinel://:secret@10.0.0.1:26379,10.0.0.2:26379/0#parley")).redis();
        assertEquals("redis-sentinel", sentinel.uri().getScheme());
        assertEquals("sentinels 10.0.0.1:26379,10.0.0.2:26379 (master parley)", sentinel.where(),
                "messages name the sentinels and never the password");
        assertEquals("127.0.0.1:6379", with(Map.of()).redis().where());
        String noMaster = errorFor(Map.of("parley.redis.uri", "redis-sentinel://10.0.0.1:26379"));
        assertTrue(noMaster.contains("parley.redis.uri") && noMaster.contains("master name"), noMaster);
        String badPort = errorFor(Map.of("parley.redis.uri", "redis-sentinel://10.0.0.1:notaport#parley"));
        assertTrue(badPort.contains("parley.redis.uri"), badPort);
    }

    @Test
    void clusterUrisGiveTheirSeedsAndMessagesNameThemWithoutThePassword() {
        GatewayConfig.Redis cluster = with(Map.of("parley.redis.uri",
                "redis-cluster://:secret@127.0.0.1:7001,127.0.0.1:7002/")).redis();
        assertTrue(cluster.cluster());
        assertEquals("cluster seeds 127.0.0.1:7001,127.0.0.1:7002", cluster.where());
        assertEquals(List.of(URI.create("redis://:secret@127.0.0.1:7001"),
                URI.create("redis://:secret@127.0.0.1:7002")), cluster.clusterSeeds(), "each seed has the credentials");

        GatewayConfig.Redis tls = with(Map.of("parley.redis.uri",
                "rediss-cluster://parley:secret@10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379")).redis();
        assertEquals("cluster seeds 10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379", tls.where());
        assertEquals(URI.create("rediss://parley:secret@10.0.0.3:6379"), tls.clusterSeeds().get(2));

        GatewayConfig.Redis one = with(Map.of("parley.redis.uri", "redis-cluster://10.0.0.1:6379")).redis();
        assertEquals("cluster seeds 10.0.0.1:6379", one.where());
        assertEquals(List.of(URI.create("redis://10.0.0.1:6379")), one.clusterSeeds());
        GatewayConfig.Redis plain = with(Map.of()).redis();
        assertFalse(plain.cluster());
        assertEquals(List.of(), plain.clusterSeeds());
    }

    @Test
    void brokenClusterUrisAreRefusedWithTheirReason() {
        Map<String, String> reasons = Map.of(
                "redis-cluster://10.0.0.1:6379,10.0.0.2", "not host:port",
                "redis-cluster://10.0.0.1:6379,10.0.0.2:port", "not host:port",
                "redis-cluster://10.0.0.1:6379/3", "only database 0",
                "redis-cluster://10.0.0.1:6379#parley", "names no master",
                "redis-cluster:///", "no seed nodes");
        reasons.forEach((uri, reason) -> {
            String message = errorFor(Map.of("parley.redis.uri", uri));
            assertTrue(message.contains("parley.redis.uri") && message.contains(reason)
                    && message.contains("redis-cluster://10.0.0.1:6379,"), message);
        });
        String emptySeed = errorFor(Map.of("parley.redis.uri", "redis-cluster://10.0.0.1:6379,,10.0.0.2:6379"));
        assertTrue(emptySeed.contains("parley.redis.uri"), emptySeed);
    }

    @Test
    void aClusterRefusesWaitingForReplicas() {
        String message = errorFor(Map.of("parley.redis.uri", "redis-cluster://:secret@10.0.0.1:6379",
                "parley.redis.durable-replicas", 1));
        assertTrue(message.contains("parley.redis.durable-replicas") && message.contains("Redis Cluster")
                && message.contains("WAIT") && message.contains("PARLEY_REDIS_DURABLE_REPLICAS"), message);
        assertFalse(message.contains("secret"), message);
        assertEquals(0, with(Map.of("parley.redis.uri", "redis-cluster://10.0.0.1:6379")).redis().durableReplicas());
    }

    @Test
    void writesWaitForNoReplicaByDefaultAndTheWaitFitsInOneCommand() {
        assertEquals(0, with(Map.of()).redis().durableReplicas());
        assertEquals(1, with(Map.of("parley.redis.durable-replicas", 1)).redis().durableReplicas());
        assertTrue(errorFor(Map.of("parley.redis.durable-replicas", -1)).contains("parley.redis.durable-replicas"));
        String tooLong = errorFor(Map.of("parley.redis.durable-timeout", "3s"));
        assertTrue(tooLong.contains("parley.redis.durable-timeout") && tooLong.contains("command-timeout"), tooLong);
    }
}
