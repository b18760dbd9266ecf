package dev.parley.media.srtp;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.rtp.Rtcp;
import dev.parley.media.rtp.Rtp;
import java.security.GeneralSecurityException;
import java.util.function.Supplier;
import org.jitsi.srtp.SrtcpCryptoContext;
import org.jitsi.srtp.SrtpContextFactory;
import org.jitsi.srtp.SrtpCryptoContext;
import org.jitsi.srtp.SrtpErrorStatus;
import org.jitsi.utils.ByteArrayBuffer;
import org.jitsi.utils.logging2.Logger;
import org.jitsi.utils.logging2.LoggerImpl;

/**
 * SRTP and SRTCP for one DTLS association: one crypto context per SSRC and direction. Contexts are created once
 * per SSRC; packet work allocates nothing. jitsi-srtp's contexts are synchronized, so several forwarding threads
 * may protect for the same receiver.
 */
public final class SrtpSession {
    private static final Logger LOGGER = new LoggerImpl(SrtpSession.class.getName());

    private final SrtpProfile profile;
    private final SrtpContextFactory sendFactory;
    private final SrtpContextFactory receiveFactory;
    private final SsrcTable<SrtpCryptoContext> sendRtp = new SsrcTable<>();
    private final SsrcTable<SrtpCryptoContext> receiveRtp = new SsrcTable<>();
    private final SsrcTable<SrtcpCryptoContext> sendRtcp = new SsrcTable<>();
    private final SsrcTable<SrtcpCryptoContext> receiveRtcp = new SsrcTable<>();
    private final int maxReceiveSsrcs;

    public SrtpSession(SrtpKeys keys, int maxReceiveSsrcs) {
        this.profile = keys.profile();
        this.maxReceiveSsrcs = maxReceiveSsrcs;
        this.sendFactory = new SrtpContextFactory(true, keys.localKey(), keys.localSalt(), profile.policy(),
                profile.policy(), LOGGER);
        this.receiveFactory = new SrtpContextFactory(false, keys.remoteKey(), keys.remoteSalt(), profile.policy(),
                profile.policy(), LOGGER);
    }

    public SrtpProfile profile() {
        return profile;
    }

    /** Decrypts an SRTP packet in place. Returns null on success, else why it must be dropped. */
    public DropReason unprotectRtp(ByteArrayBuffer packet) {
        long ssrc = Rtp.ssrc(packet.getBuffer(), packet.getOffset());
        SrtpCryptoContext context = receiveRtp.get(ssrc);
        if (context == null) {
            if (receiveRtp.size() >= maxReceiveSsrcs) {
                return DropReason.TOO_MANY_SSRCS;
            }
            context = createReceiveContext(ssrc);
        }
        try {
            return rtpStatus(context.reverseTransformPacket(packet, false));
        } catch (GeneralSecurityException e) {
            return DropReason.SRTP_OTHER;
        }
    }

    public DropReason unprotectRtcp(ByteArrayBuffer packet) {
        long ssrc = Rtcp.senderSsrc(packet.getBuffer(), packet.getOffset());
        SrtcpCryptoContext context = receiveRtcp.get(ssrc);
        if (context == null) {
            if (receiveRtcp.size() >= maxReceiveSsrcs) {
                return DropReason.TOO_MANY_SSRCS;
            }
            context = createReceiveControlContext(ssrc);
        }
        SrtpErrorStatus status;
        try {
            status = context.reverseTransformPacket(packet);
        } catch (GeneralSecurityException e) {
            return DropReason.SRTCP_AUTH_FAIL;
        }
        return switch (status) {
            case OK -> null;
            case AUTH_FAIL -> DropReason.SRTCP_AUTH_FAIL;
            case REPLAY_FAIL, REPLAY_OLD -> DropReason.SRTCP_REPLAY;
            default -> DropReason.MALFORMED_RTCP;
        };
    }

    /** Encrypts an RTP packet in place; returns false if it could not be protected. */
    public boolean protectRtp(ByteArrayBuffer packet) {
        long ssrc = Rtp.ssrc(packet.getBuffer(), packet.getOffset());
        SrtpCryptoContext context = sendRtp.get(ssrc);
        if (context == null) {
            context = createSendContext(ssrc);
        }
        try {
            return context.transformPacket(packet) == SrtpErrorStatus.OK;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    public boolean protectRtcp(ByteArrayBuffer packet) {
        long ssrc = Rtcp.senderSsrc(packet.getBuffer(), packet.getOffset());
        SrtcpCryptoContext context = sendRtcp.get(ssrc);
        if (context == null) {
            context = createSendControlContext(ssrc);
        }
        try {
            return context.transformPacket(packet) == SrtpErrorStatus.OK;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static DropReason rtpStatus(SrtpErrorStatus status) {
        return switch (status) {
            case OK -> null;
            case AUTH_FAIL -> DropReason.SRTP_AUTH_FAIL;
            case REPLAY_FAIL, REPLAY_OLD -> DropReason.SRTP_REPLAY;
            default -> DropReason.SRTP_OTHER;
        };
    }

    private SrtpCryptoContext createReceiveContext(long ssrc) {
        return getOrCreate(receiveRtp, ssrc, () -> derive(receiveFactory, ssrc));
    }

    private SrtpCryptoContext createSendContext(long ssrc) {
        return getOrCreate(sendRtp, ssrc, () -> derive(sendFactory, ssrc));
    }

    private SrtcpCryptoContext createReceiveControlContext(long ssrc) {
        return getOrCreate(receiveRtcp, ssrc, () -> deriveControl(receiveFactory, ssrc));
    }

    private SrtcpCryptoContext createSendControlContext(long ssrc) {
        return getOrCreate(sendRtcp, ssrc, () -> deriveControl(sendFactory, ssrc));
    }

    /** Creates a context once per SSRC (rarely, so under this session's lock). */
    private synchronized <T> T getOrCreate(SsrcTable<T> table, long ssrc, Supplier<T> create) {
        T existing = table.get(ssrc);
        if (existing != null) {
            return existing;
        }
        T created = create.get();
        table.put(ssrc, created);
        return created;
    }

    private static SrtpCryptoContext derive(SrtpContextFactory factory, long ssrc) {
        try {
            return factory.deriveContext((int) ssrc, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive SRTP context", e);
        }
    }

    private static SrtcpCryptoContext deriveControl(SrtpContextFactory factory, long ssrc) {
        try {
            return factory.deriveControlContext((int) ssrc);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive SRTCP context", e);
        }
    }

    public void close() {
        sendFactory.close();
        receiveFactory.close();
    }
}
