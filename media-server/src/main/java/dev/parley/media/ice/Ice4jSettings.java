package dev.parley.media.ice;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;

/**
 * ice4j's process-wide settings for Parley's own client agents ({@link IceClientSession}: the tests, and peers in the
 * same process as a server), which it reads through Typesafe Config when its classes first load: no cloud metadata
 * (AWS) lookup, no STUN mapping, no link-local addresses, and the consent check interval. Applied as system
 * properties, each only if the operator has not set it; must run before the first ice4j agent exists. The server's
 * own ICE does not use ice4j.
 */
public final class Ice4jSettings {
    private Ice4jSettings() {
    }

    public static void apply(Duration consentInterval) {
        setIfAbsent("ice4j.harvest.mapping.aws.enabled", "false");
        setIfAbsent("ice4j.harvest.use-link-local-addresses", "false");
        setIfAbsent("ice4j.consent-freshness.interval", consentInterval.toMillis() + " ms");
        setIfAbsent("ice4j.ice.termination-delay", "1 second");
        ConfigFactory.invalidateCaches();
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
