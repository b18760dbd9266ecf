package dev.parley.media.metrics;

/** Why a packet or request was dropped. Each reason is a counter, exported under its stable name. */
public enum DropReason {
    NOT_RTP_OR_DTLS("not_rtp_or_dtls"),
    STUN_UNKNOWN_UFRAG("stun_unknown_ufrag"),
    /** STUN that does not parse: lengths or attributes past its end, or a FINGERPRINT that does not match. */
    STUN_MALFORMED("stun_malformed"),
    /** A check whose MESSAGE-INTEGRITY is missing or wrong (answered 400 or 401; it moves nothing). */
    STUN_UNAUTHENTICATED("stun_unauthenticated"),
    REMOTE_NOT_ALLOWED("remote_not_allowed"),
    /** A session already holds its most remote addresses (or has taken its lifetime's worth). */
    ICE_TOO_MANY_ADDRESSES("ice_too_many_addresses"),
    /** Checks or new addresses above their rate; the address is ignored for a while. */
    ICE_RATE_LIMITED("ice_rate_limited"),
    /** Media from a remote address that has not sent a valid check. */
    ICE_UNVERIFIED_ADDRESS("ice_unverified_address"),
    /** The worker's queue was full (the worker fell behind the shared ports' readers). */
    RECEIVE_QUEUE_FULL("receive_queue_full"),
    /** A datagram waited for its worker longer than {@code media.max-queue-delay}: dropped unread, as late. */
    RECEIVE_LATE("receive_late"),
    /** A datagram for a transport that has not started, or has closed. */
    TRANSPORT_NOT_STARTED("transport_not_started"),
    BEFORE_DTLS("before_dtls"),
    DTLS_FAILED("dtls_failed"),
    /**
     * A DTLS handshake refused because of the peer certificate's key: RSA under 2048 bits, an EC curve other than
     * P-256/P-384, another kind of key (counted here instead of {@code dtls_failed}).
     */
    DTLS_CERTIFICATE_REFUSED("dtls_certificate_refused"),
    MALFORMED_RTP("malformed_rtp"),
    MALFORMED_RTCP("malformed_rtcp"),
    UNKNOWN_SSRC("unknown_ssrc"),
    SRTP_AUTH_FAIL("srtp_auth_fail"),
    SRTP_REPLAY("srtp_replay"),
    SRTP_OTHER("srtp_other"),
    SRTCP_AUTH_FAIL("srtcp_auth_fail"),
    SRTCP_REPLAY("srtcp_replay"),
    RTCP_UNKNOWN_SSRC("rtcp_unknown_ssrc"),
    PAYLOAD_TYPE_NOT_NEGOTIATED("payload_type_not_negotiated"),
    SEND_FAILED("send_failed"),
    TOO_MANY_SSRCS("too_many_ssrcs"),
    /**
     * A packet on a publisher's RTX stream that is not a retransmission the server asked for and still misses: padding
     * (bandwidth probes), old packets sent again as probe padding, a second copy.
     */
    RTX_FROM_PUBLISHER("rtx_from_publisher"),
    /**
     * A publisher's video packet that never arrived: asked for again (NACK) until it was 1 s old or asked for 10 times,
     * or missing in a gap of over 256 packets, which is not asked for. Every receiver of the stream misses it.
     */
    PUBLISHER_PACKET_LOST("publisher_packet_lost"),
    NACK_NOT_IN_CACHE("nack_not_in_cache"),
    /** A NACK for a packet already retransmitted to that subscriber within the last 100 ms. */
    NACK_DUPLICATE("nack_duplicate"),
    /** A NACK beyond the subscriber's retransmission budget (15 % of what it is sent, plus a burst). */
    NACK_BUDGET_EXCEEDED("nack_budget_exceeded"),
    /** A video packet that waited in a subscriber's pacer longer than it may (400 ms): the link is full. */
    PACER_LATE("pacer_late"),
    /** A video packet that found a subscriber's pacer queue full (128 packets). */
    PACER_QUEUE_FULL("pacer_queue_full"),
    /**
     * Transport-wide congestion control: an arrival left out of the feedback (the packet itself is forwarded) because
     * its transport-wide sequence number was already recorded.
     */
    TRANSPORT_CC_DUPLICATE("transport_cc_duplicate"),
    /** An arrival left out of the feedback: its sequence number was already reported (as lost) or is older still. */
    TRANSPORT_CC_LATE("transport_cc_late"),
    /** Recorded arrivals given up unreported: the sequence numbers jumped ahead by more than the arrival ring holds. */
    TRANSPORT_CC_OVERFLOW("transport_cc_overflow"),
    /**
     * A packet sent to a receiver with transport-cc that its feedback had not reported when the server's record of
     * sent packets needed its place (the packet itself was sent): the receiver's feedback lags too far behind.
     */
    TRANSPORT_CC_UNREPORTED("transport_cc_unreported"),
    /** Transport feedback from a receiver that is malformed, or reports more packets than the server reads at once. */
    TRANSPORT_FEEDBACK_MALFORMED("transport_feedback_malformed"),
    /** Transport feedback beyond a receiver's budget (packet statuses per second, and at once): not read. */
    TRANSPORT_FEEDBACK_RATE_LIMITED("transport_feedback_rate_limited"),
    /** Transport feedback from a receiver that did not negotiate transport-cc: ignored. */
    TRANSPORT_FEEDBACK_NOT_NEGOTIATED("transport_feedback_not_negotiated"),
    /** A packet a receiver's transport feedback reports that the server did not send it or no longer remembers. */
    TRANSPORT_FEEDBACK_UNKNOWN("transport_feedback_unknown");

    private final String metricName;

    DropReason(String metricName) {
        this.metricName = metricName;
    }

    public String metricName() {
        return metricName;
    }
}
