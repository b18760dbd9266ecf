package dev.parley.signaling.medianode;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a media node says of itself in Redis every report interval: where gateways reach it, what it can hold and how
 * loaded it is. Stored as one hash per node ({@link MediaNodeRegistry}).
 *
 * @param addresses        the UDP addresses browsers reach it on (host:port), as it advertises them
 * @param capacity         the endpoints it accepts at most (parley.media.max-endpoints)
 * @param maxConferences   the conferences it accepts at most (parley.media.max-conferences)
 * @param packetsPerSecond media packets in and out per second over the last interval
 * @param cpu              the node process's share of the machine's CPU over the last interval, 0 to 1
 * @param draining         true from SIGTERM on: no new call goes there
 */
public record MediaNodeReport(String id, String apiUrl, List<String> addresses, String region, int capacity,
                              int maxConferences, int endpoints, int conferences, long packetsPerSecond, double cpu,
                              boolean draining, long startedAt, long reportedAt) {

    Map<String, String> toHash() {
        Map<String, String> hash = new LinkedHashMap<>();
        hash.put("id", id);
        hash.put("apiUrl", apiUrl);
        hash.put("addresses", String.join(",", addresses));
        hash.put("region", region);
        hash.put("capacity", Integer.toString(capacity));
        hash.put("maxConferences", Integer.toString(maxConferences));
        hash.put("endpoints", Integer.toString(endpoints));
        hash.put("conferences", Integer.toString(conferences));
        hash.put("packetsPerSecond", Long.toString(packetsPerSecond));
        hash.put("cpu", String.format(java.util.Locale.ROOT, "%.3f", cpu));
        hash.put("state", draining ? "draining" : "live");
        hash.put("startedAt", Long.toString(startedAt));
        hash.put("reportedAt", Long.toString(reportedAt));
        return hash;
    }

    /** The report a hash holds, or null when a field is missing or malformed (a node of another version). */
    static MediaNodeReport fromHash(Map<String, String> hash) {
        try {
            String addresses = hash.get("addresses");
            return new MediaNodeReport(required(hash, "id"), required(hash, "apiUrl"),
                    addresses == null || addresses.isEmpty() ? List.of() : Arrays.asList(addresses.split(",")),
                    hash.getOrDefault("region", ""), Integer.parseInt(required(hash, "capacity")),
                    Integer.parseInt(required(hash, "maxConferences")),
                    Integer.parseInt(required(hash, "endpoints")), Integer.parseInt(required(hash, "conferences")),
                    Long.parseLong(required(hash, "packetsPerSecond")), Double.parseDouble(required(hash, "cpu")),
                    "draining".equals(hash.get("state")), Long.parseLong(required(hash, "startedAt")),
                    Long.parseLong(required(hash, "reportedAt")));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String required(Map<String, String> hash, String field) {
        String value = hash.get(field);
        if (value == null) {
            throw new IllegalArgumentException("no " + field);
        }
        return value;
    }
}
