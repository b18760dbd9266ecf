package dev.parley.signaling.config;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void writesWaitForNoReplicaByDefaultAndTheWaitFitsInOneCommand() {
        assertEquals(0, with(Map.of()).redis().durableReplicas());
        assertEquals(1, with(Map.of("parley.redis.durable-replicas", 1)).redis().durableReplicas());
        assertTrue(errorFor(Map.of("parley.redis.durable-replicas", -1)).contains("parley.redis.durable-replicas"));
        String tooLong = errorFor(Map.of("parley.redis.durable-timeout", "3s"));
        assertTrue(tooLong.contains("parley.redis.durable-timeout") && tooLong.contains("command-timeout"), tooLong);
    }
}
