package dev.parley.media.api;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Mints a media token from the shared secret in {@code PARLEY_MEDIA_AUTH_SECRET}, for operators, WHIP/WHEP tools
 * and {@code scripts/loadtest --token}:
 * {@code java -cp 'media-server/target/parley-media-server-0.1.0-SNAPSHOT.jar:media-server/target/lib/*'
 * dev.parley.media.api.MediaTokenMain --conference room1 --grant publish [--endpoint alice] [--ttl 10m]}.
 */
public final class MediaTokenMain {
    private MediaTokenMain() {
    }

    public static void main(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        String secret = System.getenv("PARLEY_MEDIA_AUTH_SECRET");
        String conference = options.get("--conference");
        MediaToken.Grant grant = MediaToken.Grant.parse(options.get("--grant"));
        if (args.length % 2 != 0 || secret == null || secret.isEmpty() || conference == null || grant == null) {
            System.err.println("usage: PARLEY_MEDIA_AUTH_SECRET=... MediaTokenMain --conference ID|'*' "
                    + "--grant publish|play|admin [--endpoint ID] [--ttl 10m (at most 1h)]");
            System.exit(2);
            return;
        }
        try {
            Duration ttl = Duration.parse("PT" + options.getOrDefault("--ttl", "10m").toUpperCase());
            System.out.println(MediaToken.mint(secret, conference, options.get("--endpoint"), grant, ttl));
        } catch (RuntimeException e) {
            System.err.println("cannot mint: " + e.getMessage());
            System.exit(2);
        }
    }
}
