package dev.parley.signaling.medianode;

import com.typesafe.config.Config;
import dev.parley.signaling.config.GatewayConfig.InvalidConfigException;

import java.net.URI;
import java.time.Duration;

/**
 * A standalone media node's own settings ({@code parley.media-node}, documented in parley.conf); its media server
 * and Redis are configured as the gateway's are ({@code parley.media}, {@code parley.redis}).
 *
 * @param id             this node's name in Redis; blank picks one at start
 * @param region         a label gateways may prefer when placing calls; blank for none
 * @param apiUrl         the media API's URL as gateways reach it; blank for the address it listens on
 * @param reportInterval how often the node writes its registration and load
 * @param ttl            how long a registration outlives the node's last report
 * @param drainGrace     after SIGTERM, how long running calls may go on before the node ends them
 * @param orphanGrace    how long a conference may stay without any endpoint before the node closes it (its
 *                       gateway died, or forgot it)
 */
public record MediaNodeConfig(String id, String region, URI apiUrl, Duration reportInterval, Duration ttl,
                              Duration drainGrace, Duration orphanGrace) {

    /** Ids and region labels: what fits in a Redis key and a metric label without quoting. */
    private static final String NAME = "[A-Za-z0-9._-]{1,64}";

    public static MediaNodeConfig from(Config c) {
        String id = c.getString("id").trim();
        String region = c.getString("region").trim();
        if (!id.isEmpty() && !id.matches(NAME)) {
            throw new InvalidConfigException("parley.media-node.id must be 1-64 of A-Z a-z 0-9 . _ -, got '" + id
                    + "' (PARLEY_MEDIA_NODE_ID)");
        }
        if (!region.isEmpty() && !region.matches(NAME)) {
            throw new InvalidConfigException("parley.media-node.region must be 1-64 of A-Z a-z 0-9 . _ -, got '"
                    + region + "' (PARLEY_MEDIA_NODE_REGION)");
        }
        URI apiUrl = null;
        String rawUrl = c.getString("api-url").trim();
        if (!rawUrl.isEmpty()) {
            try {
                apiUrl = URI.create(rawUrl);
            } catch (IllegalArgumentException e) {
                apiUrl = null;
            }
            if (apiUrl == null || apiUrl.getHost() == null
                    || !("http".equals(apiUrl.getScheme()) || "https".equals(apiUrl.getScheme()))) {
                throw new InvalidConfigException("parley.media-node.api-url must be an http(s) URL like"
                        + " http://10.0.0.5:8081, got '" + rawUrl + "' (PARLEY_MEDIA_NODE_API_URL)");
            }
        }
        Duration interval = c.getDuration("report-interval");
        Duration ttl = c.getDuration("ttl");
        Duration grace = c.getDuration("drain-grace");
        if (interval.compareTo(Duration.ofMillis(100)) < 0 || interval.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new InvalidConfigException("parley.media-node.report-interval must be between 100ms and 1m, got "
                    + interval);
        }
        if (ttl.compareTo(interval.multipliedBy(2)) < 0 || ttl.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new InvalidConfigException("parley.media-node.ttl must be at least twice report-interval and at"
                    + " most 5m, got " + ttl);
        }
        if (grace.isNegative() || grace.compareTo(Duration.ofHours(1)) > 0) {
            throw new InvalidConfigException("parley.media-node.drain-grace must be between 0s and 1h, got " + grace
                    + " (PARLEY_MEDIA_NODE_DRAIN_GRACE)");
        }
        Duration orphanGrace = c.getDuration("orphan-grace");
        if (orphanGrace.compareTo(Duration.ofSeconds(1)) < 0 || orphanGrace.compareTo(Duration.ofHours(1)) > 0) {
            throw new InvalidConfigException("parley.media-node.orphan-grace must be between 1s and 1h, got "
                    + orphanGrace);
        }
        return new MediaNodeConfig(id, region, apiUrl, interval, ttl, grace, orphanGrace);
    }
}
