package dev.parley.signaling.medianode;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.parley.signaling.config.GatewayConfig;

import java.util.concurrent.CountDownLatch;

/**
 * Runs a standalone media node ({@code scripts/media-node}): reads {@code parley.media}, {@code parley.redis} and
 * {@code parley.media-node}, starts, prints where it is, and drains on SIGTERM.
 */
public final class MediaNodeMain {

    private MediaNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        GatewayConfig gateway;
        MediaNodeConfig config;
        try {
            Config raw = GatewayConfig.loadRaw();
            gateway = GatewayConfig.from(raw.getConfig("parley"));
            config = MediaNodeConfig.from(raw.getConfig("parley.media-node"));
        } catch (GatewayConfig.InvalidConfigException | ConfigException e) {
            System.err.println("parley media node: " + e.getMessage());
            System.exit(2);
            return;
        }
        MediaNode node;
        try {
            node = MediaNode.start(gateway.redis(), gateway.media(), config);
        } catch (Exception e) {
            System.err.println("parley media node: could not start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.drainAndStop();
            stopped.countDown();
        }, "media-node-shutdown"));
        System.out.println("Parley media node " + node.id() + " at " + node.apiUrl() + " (UDP "
                + node.mediaServer().udpAddresses() + ")");
        System.out.flush();
        stopped.await();
    }
}
