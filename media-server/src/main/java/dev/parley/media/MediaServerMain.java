package dev.parley.media;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/** Runs the media server on its own: reads {@code parley.media}, starts, prints its URL, stops on SIGTERM. */
public final class MediaServerMain {
    private MediaServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "parley-media-logback.xml");
        }
        MediaConfig config;
        try {
            // Alone, the HTTP API is the server's only interface: always on (and refused off loopback without
            // an auth-secret, by MediaConfig).
            MediaConfig read = MediaConfig.from(ConfigFactory.load().getConfig("parley.media"));
            config = read.withHttp(true, read.corsOrigins());
        } catch (IllegalArgumentException e) {
            System.err.println("invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        MediaServer server;
        try {
            server = MediaServer.start(config);
        } catch (IOException e) {
            System.err.println("cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "media-shutdown"));
        System.out.println("Parley media server: " + server.httpUri() + " (UDP " + server.udpAddresses() + ")");
        System.out.flush();
        stopped.await();
    }
}
