package dev.parley.media.ice;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import org.ice4j.util.Buffer;

/**
 * What a secure transport needs from ICE: local credentials and candidates to put in SDP, the peer's credentials to
 * start with, and one path to send and receive the non-STUN datagrams (DTLS, SRTP, SRTCP) on. STUN never reaches
 * the {@link DatagramReceiver}.
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
     * Where every non-STUN datagram goes from now on, on the thread that read it (for the server, the shared port's
     * reader: the receiver must hand the datagram off at once). The receiver owns the buffer from then on and gives
     * it back with {@link #release}. Until a receiver is set, datagrams are dropped.
     */
    void receiveWith(DatagramReceiver receiver);

    /** Takes the non-STUN datagrams an ICE transport reads. */
    @FunctionalInterface
    interface DatagramReceiver {
        /**
         * @param buffer the datagram, with its source and local addresses; the receiver owns it
         * @param arrivalNanos when it came off the socket ({@link System#nanoTime()}); congestion feedback reports
         *     it as the arrival time, so the time it waited for its worker does not read as network delay
         */
        void received(Buffer buffer, long arrivalNanos);
    }

    /** Gives a received datagram's buffer back for reuse. */
    static void release(Buffer buffer) {
        ReceiveBuffers.release(buffer);
    }

    /** Sends on the current path. */
    void send(DatagramPacket packet) throws IOException;

    /**
     * Sends the buffer's remaining bytes on the current path, leaving its position where it was; an implementation
     * on a channel takes them from there without a copy (the default makes a {@link DatagramPacket} of them).
     */
    default void send(ByteBuffer datagram) throws IOException {
        send(new DatagramPacket(datagram.array(), datagram.arrayOffset() + datagram.position(),
                datagram.remaining()));
    }

    /**
     * Registers what to run when media moves to another path after the one in use went silent (an outage: what was
     * in flight is lost, so decoders want a keyframe). Runs on a pool thread, never on the port's reader.
     */
    default void onPathRecovered(Runnable action) {
    }

    @Override
    void close();
}
