package dev.parley.media.transport;

/** Where forwarded RTP goes: protected and sent, or refused until the transport is secure. */
public interface RtpSender {
    boolean isSecure();

    /** Protects the packet in place and sends it; false (and counted) when it could not be sent. */
    boolean sendRtp(PacketBuffer packet);
}
