package dev.parley.media.api;

/**
 * What the server did about a publisher's lost video packets (its uplink's loss): packets it asked for again with
 * NACKs ({@code requested} counts every request, repeats included), retransmissions that arrived in time and were
 * forwarded ({@code recovered}), packets given up ({@code lost}: too old, asked for too often, or in too long a gap),
 * and the round trip its retransmissions took, smoothed (ms; a default of 100 until one is measured).
 */
public record PublishRepair(long requested, long recovered, long lost, double rttMs) {
}
