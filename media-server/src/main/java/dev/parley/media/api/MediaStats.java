package dev.parley.media.api;

import java.util.List;
import java.util.Map;

/** Server-wide figures: sizes, traffic, drops by reason, and each endpoint. */
public record MediaStats(int conferences, int endpoints, long packetsIn, long bytesIn, long packetsOut, long bytesOut,
                         Map<String, Long> drops, List<EndpointStats> endpointStats) {
}
