package dev.parley.media;

import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.srtp.SrtpProfile;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** Test wiring: loopback-only servers with short timeouts, and loopback clients. */
public final class TestMedia {
    public static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    public static final Duration WAIT = Duration.ofSeconds(20);

    private TestMedia() {
    }

    /** Every server in the test JVM shares ice4j's consent interval (1 s), so all use this base config. */
    public static MediaConfig config() {
        return MediaConfig.loopback().withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(4),
                Duration.ofSeconds(1));
    }

    public static InetAddress loopback() {
        return InetAddress.getLoopbackAddress();
    }

    public static ClientEndpoint client() throws IOException {
        return ClientEndpoint.create(loopback(), LOOPBACK, List.of(SrtpProfile.values()));
    }

    public static ClientEndpoint client(SrtpProfile profile) throws IOException {
        return ClientEndpoint.create(loopback(), LOOPBACK, List.of(profile));
    }

    /**
     * Waits until the server's side of an endpoint's transports is secure too (a client can finish DTLS a moment
     * before the server does, and the server forwards nothing to an insecure transport).
     */
    public static void awaitServerSide(MediaServer server, String endpointId, boolean publish, boolean subscribe)
            throws Exception {
        boolean ready = eventually(WAIT, () -> server.stats().endpointStats().stream()
                .anyMatch(s -> s.endpointId().equals(endpointId) && (!publish || s.publishConnected())
                        && (!subscribe || s.subscribeConnected())));
        if (!ready) {
            throw new AssertionError("the server never secured endpoint " + endpointId);
        }
    }

    /** Polls until the condition holds or the time is up; returns whether it held. */
    public static boolean eventually(Duration timeout, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Boolean.TRUE.equals(condition.call())) {
                return true;
            }
            Thread.sleep(20);
        }
        return Boolean.TRUE.equals(condition.call());
    }
}
