package dev.parley.media.ice;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;

/**
 * ice4j's process-wide settings, which it reads through Typesafe Config when its classes first load: no cloud
 * metadata (AWS) lookup, no STUN mapping, no link-local addresses, the consent check interval and a 4 MB receive
 * buffer on the shared UDP port. Applied as system properties, each only if the operator has not set it; must run
 * before the first ice4j agent exists.
 */
public final class Ice4jSettings {
    /** SO_RCVBUF of the shared UDP port. */
    public static final int RECEIVE_BUFFER_BYTES = 4 << 20;

    private Ice4jSettings() {
    }

    public static void apply(Duration consentInterval) {
        setIfAbsent("ice4j.harvest.mapping.aws.enabled", "false");
        setIfAbsent("ice4j.harvest.use-link-local-addresses", "false");
        setIfAbsent("ice4j.consent-freshness.interval", consentInterval.toMillis() + " ms");
        setIfAbsent("ice4j.ice.termination-delay", "1 second");
        // The shared UDP port is read by one harvester thread for every endpoint; with the OS default buffer
        // (~208 KB) about 10 ms of that thread not being scheduled overflow it (measured: 4-9 % loss at
        // 22k forwarded packets/s on 2 cores, none with 4 MB). The kernel caps it at net.core.rmem_max.
        setIfAbsent("ice4j.harvest.udp.receive-buffer-size", Integer.toString(RECEIVE_BUFFER_BYTES));
        ConfigFactory.invalidateCaches();
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
