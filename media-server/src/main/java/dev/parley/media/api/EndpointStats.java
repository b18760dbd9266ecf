package dev.parley.media.api;

import java.util.List;

/**
 * One endpoint's transport figures. RTT comes from its receiver reports on forwarded streams (null until known);
 * loss fractions are 0..1: what the server saw from the publisher, and what the subscriber reported. {@code videos}:
 * each remote video it receives, with the layer it gets. {@code bandwidthEstimate}: the REMB sent to it as a
 * publisher (0 with transport-cc). {@code receiveEstimate}: the server's send-side estimate of its downlink, null when
 * its subscribe transport did not negotiate transport-cc. {@code publishRepair}: the retransmissions asked of it as a
 * publisher, null when it does not publish.
 */
public record EndpointStats(String conferenceId, String endpointId, boolean publishConnected,
                            boolean subscribeConnected, String srtpProfile, long packetsReceived, long packetsSent,
                            Double rttMs, double publishLoss, double subscribeLoss, long bandwidthEstimate,
                            List<VideoForwardStats> videos, ReceiveEstimate receiveEstimate,
                            PublishRepair publishRepair) {
    public EndpointStats {
        videos = List.copyOf(videos);
    }
}
