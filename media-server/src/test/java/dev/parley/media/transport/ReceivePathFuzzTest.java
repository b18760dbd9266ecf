package dev.parley.media.transport;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.srtp.SrtpKeys;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.media.srtp.SrtpSession;

/**
 * A transport's receive path up to and including decryption: RFC 7983 demultiplexing, the RTP header checks made
 * before SRTP, and SRTP/SRTCP unprotection of whatever passes (with fixed keys, so almost everything fails
 * authentication, which must be a counted drop, never an exception). Corpus:
 * {@code src/test/resources/dev/parley/media/transport/ReceivePathFuzzTestInputs}.
 */
class ReceivePathFuzzTest {
    private static final SrtpSession[] SESSIONS = new SrtpSession[SrtpProfile.values().length];

    static {
        for (SrtpProfile profile : SrtpProfile.values()) {
            byte[] material = new byte[2 * (profile.keyLength() + profile.saltLength())];
            SESSIONS[profile.ordinal()] = new SrtpSession(SrtpKeys.fromKeyingMaterial(profile, material, false), 4);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void demultiplexAndUnprotect(byte[] input) {
        byte[] buf = new byte[input.length];
        System.arraycopy(input, 0, buf, 0, input.length);
        SecureTransport.Inbound kind = SecureTransport.classify(buf, 0, buf.length);
        if (kind == SecureTransport.Inbound.DTLS || kind == SecureTransport.Inbound.OTHER
                || kind == SecureTransport.Inbound.MALFORMED_RTP) {
            return;
        }
        if (kind == SecureTransport.Inbound.RTP) {
            Rtp.ssrc(buf, 0);
        }
        for (SrtpSession session : SESSIONS) {
            PacketBuffer packet = new PacketBuffer();
            packet.copyFrom(buf, 0, buf.length);
            DropReason reason = kind == SecureTransport.Inbound.RTCP ? session.unprotectRtcp(packet)
                    : session.unprotectRtp(packet);
            if (reason == null && packet.getLength() > buf.length) {
                throw new AssertionError("unprotecting made the packet longer");
            }
        }
    }
}
