package dev.parley.signaling.medianode;

import com.typesafe.config.ConfigFactory;
import dev.parley.signaling.config.GatewayConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MediaNodeConfigTest {

    private static MediaNodeConfig with(Map<String, Object> settings) {
        return MediaNodeConfig.from(ConfigFactory.parseMap(settings)
                .withFallback(ConfigFactory.parseResources("parley.conf")).resolve().getConfig("parley.media-node"));
    }

    private static String errorFor(Map<String, Object> settings) {
        return assertThrows(GatewayConfig.InvalidConfigException.class, () -> with(settings)).getMessage();
    }

    @Test
    void theDocumentedDefaultsLoad() {
        MediaNodeConfig config = with(Map.of());
        assertEquals("", config.id());
        assertEquals("", config.region());
        assertNull(config.apiUrl());
        assertEquals(Duration.ofSeconds(2), config.reportInterval());
        assertEquals(Duration.ofSeconds(6), config.ttl());
        assertEquals(Duration.ofSeconds(30), config.drainGrace());
        assertEquals(Duration.ofSeconds(60), config.orphanGrace());
    }

    @Test
    void badValuesAreRefusedNamingTheirKey() {
        assertTrue(errorFor(Map.of("parley.media-node.id", "a b")).contains("parley.media-node.id"));
        assertTrue(errorFor(Map.of("parley.media-node.region", "x".repeat(65))).contains("parley.media-node.region"));
        assertTrue(errorFor(Map.of("parley.media-node.api-url", "ftp://host")).contains("parley.media-node.api-url"));
        assertTrue(errorFor(Map.of("parley.media-node.ttl", "3s")).contains("twice report-interval"));
        assertTrue(errorFor(Map.of("parley.media-node.report-interval", "10ms")).contains("report-interval"));
        assertTrue(errorFor(Map.of("parley.media-node.drain-grace", "2h")).contains("drain-grace"));
        assertTrue(errorFor(Map.of("parley.media-node.orphan-grace", "0s")).contains("orphan-grace"));
        assertEquals("http://10.0.0.5:8081", with(Map.of("parley.media-node.api-url", "http://10.0.0.5:8081"))
                .apiUrl().toString());
    }
}
