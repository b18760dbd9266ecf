package dev.parley.media.rtp;

/** Receives the parts of a compound RTCP packet as {@link Rtcp#parse} walks it, without allocating. */
public interface RtcpVisitor {
    /** A sender report; {@code packetOffset}/{@code packetLength} delimit the SR packet alone. */
    default void senderReport(long ssrc, long ntpMiddle, long rtpTimestamp, byte[] buf, int packetOffset,
                              int packetLength) {
    }

    default void receiverReport(long reporterSsrc) {
    }

    default void reportBlock(long reporterSsrc, long sourceSsrc, int fractionLost, int cumulativeLost,
                             long extendedHighestSeq, long jitter, long lastSr, long delaySinceLastSr) {
    }

    default void pli(long senderSsrc, long mediaSsrc) {
    }

    default void fir(long senderSsrc, long mediaSsrc) {
    }

    default void nack(long senderSsrc, long mediaSsrc, int packetId, int lostBitmask) {
    }

    /**
     * Transport-wide congestion control feedback (RTPFB FMT 15); {@code packetOffset}/{@code packetLength} delimit
     * that packet alone, for {@code dev.parley.media.cc.TransportFeedback} to read.
     */
    default void transportFeedback(long senderSsrc, long mediaSsrc, byte[] buf, int packetOffset, int packetLength) {
    }

    default void remb(long senderSsrc, long bitrate, byte[] buf, int ssrcsOffset, int ssrcCount) {
    }
}
