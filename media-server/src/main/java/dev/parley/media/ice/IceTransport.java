package dev.parley.media.ice;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * What a secure transport needs from ICE: local credentials and candidates to put in SDP, the peer's credentials to
 * start with, and one path to send and receive the non-STUN datagrams (DTLS, SRTP, SRTCP) on. STUN never comes out
 * of {@link #receive}.
 */
public interface IceTransport extends AutoCloseable {

    String localUfrag();

    String localPassword();

    /** The candidates to advertise in SDP. */
    List<IceCandidate> localCandidates();

    /** Sets the peer's credentials and candidates and starts answering (and, for a full agent, sending) checks. */
    void start(String remoteUfrag, String remotePassword, List<IceCandidate> remoteCandidates);

    /** Whether there is a path to send on. */
    boolean isConnected();

    /** Whether ICE has given up for good. */
    boolean isFailed();

    /** Milliseconds since the epoch of the last consent confirmation on the path media is sent on, or 0. */
    long lastConsent();

    /** The remote address media is sent to, or null while there is none. */
    InetSocketAddress remoteAddress();

    /**
     * Blocks until a non-STUN datagram arrives and copies it into {@code into} (at the packet's offset), with its
     * length and source address.
     *
     * @throws java.net.SocketException once the transport is closed
     */
    void receive(DatagramPacket into) throws IOException;

    /**
     * When the datagram {@link #receive} returned last came off the socket ({@link System#nanoTime()}), before it
     * waited for the receiving thread; 0 when not known. Congestion feedback reports it as the arrival time, so the
     * receiving thread's own delays do not read as network delay.
     */
    default long lastReceivedNanos() {
        return 0;
    }

    /** Sends on the current path. */
    void send(DatagramPacket packet) throws IOException;

    /**
     * Registers what to run when media moves to another path after the one in use went silent (an outage: what was
     * in flight is lost, so decoders want a keyframe). Runs on a pool thread, never on the port's reader.
     */
    default void onPathRecovered(Runnable action) {
    }

    @Override
    void close();
}
