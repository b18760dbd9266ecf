package dev.parley.media.transport;

import dev.parley.media.dtls.DtlsHandshake;
import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.dtls.Fingerprint;
import dev.parley.media.ice.IceCandidate;
import dev.parley.media.ice.IceTransport;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.Rtcp;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.media.srtp.SrtpSession;
import java.io.IOException;
import java.net.DatagramPacket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bouncycastle.tls.DTLSTransport;
import org.bouncycastle.tls.DatagramTransport;
import org.ice4j.util.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ICE, then DTLS, then SRTP over one ICE transport. The transport's {@link Worker} owns the inbound path: ICE hands
 * it each datagram, and on the worker's thread the transport demultiplexes it (RFC 7983), decrypts it in place once
 * and hands plain RTP/RTCP to the {@link Listener}. Sending protects the caller's buffer in place and writes it to
 * ICE's current path. The DTLS handshake runs on a thread of its own, which ends with the handshake. DTLS and SRTP
 * state belong to this transport, not to a path, so when ICE moves to another remote address (a TURN relay, a new
 * NAT mapping) the session, its keys and its counters carry on.
 */
public final class SecureTransport implements RtpSender, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SecureTransport.class);
    private static final int MAX_RECEIVE_SSRCS = 64;

    /** Which DTLS role this side plays. */
    public enum DtlsRole { SERVER, CLIENT }

    /** What the transport reports, all on its worker's thread except {@link #onSecure} and {@link #onFailed}. */
    public interface Listener {
        /** Whether RTP from this SSRC is expected; unexpected SSRCs are dropped before decryption. */
        boolean acceptsRtpSsrc(long ssrc);

        void onRtp(PacketBuffer packet);

        void onRtcp(PacketBuffer packet);

        default void onSecure() {
        }

        /** ICE moved the media to another path after an outage on the old one (on a pool thread). */
        default void onPathRecovered() {
        }

        default void onFailed(String reason) {
        }
    }

    private final String name;
    private final IceTransport ice;
    private final DtlsIdentity identity;
    private final List<SrtpProfile> profiles;
    private final MediaCounters counters;
    private final Worker worker;
    private final BlockingQueue<byte[]> dtlsInbound = new ArrayBlockingQueue<>(64);
    /** Whether a task to read DTLS records after the handshake is waiting on the upkeep thread. */
    private final AtomicBoolean upkeepAsked = new AtomicBoolean();
    private volatile SrtpSession srtp;
    private volatile DTLSTransport association;
    private volatile Listener listener;
    private volatile boolean closed;
    private volatile String failure;
    private boolean started;
    private Thread handshaker;
    private volatile int[] clientCipherSuites;

    /**
     * @param worker the thread that handles everything this transport receives; null: ICE's reading thread handles
     *     it (a client with a reader thread of its own, where a hand-off would only add a thread hop)
     */
    public SecureTransport(String name, IceTransport ice, DtlsIdentity identity, List<SrtpProfile> profiles,
                           MediaCounters counters, Worker worker) {
        this.name = name;
        this.ice = ice;
        this.identity = identity;
        this.profiles = List.copyOf(profiles);
        this.counters = counters;
        this.worker = worker;
    }

    /** Offers only these DTLS cipher suites when this side is the DTLS client (test and load peers). */
    public void offerCipherSuitesOnly(int[] cipherSuites) {
        this.clientCipherSuites = cipherSuites.clone();
    }

    public IceTransport ice() {
        return ice;
    }

    /** The SHA-256 fingerprint of the certificate this transport presents, for its SDP. */
    public Fingerprint localFingerprint() {
        return new Fingerprint("sha-256", identity.fingerprint());
    }

    /** Starts ICE with the peer's parameters, receiving on the worker, and the DTLS handshake. */
    public synchronized void start(DtlsRole role, String remoteSha256Fingerprint, String remoteUfrag,
                                   String remotePassword, List<IceCandidate> remoteCandidates, Listener listener) {
        start(role, List.of(new Fingerprint("sha-256", remoteSha256Fingerprint)), remoteUfrag, remotePassword,
                remoteCandidates, listener);
    }

    /**
     * Starts ICE with the peer's parameters, receiving on the worker, and the DTLS handshake; the peer's certificate
     * must match one of {@code remoteFingerprints} (each under its own hash function).
     */
    public synchronized void start(DtlsRole role, List<Fingerprint> remoteFingerprints, String remoteUfrag,
                                   String remotePassword, List<IceCandidate> remoteCandidates, Listener listener) {
        if (started) {
            throw new IllegalStateException("already started");
        }
        started = true;
        this.listener = listener;
        ice.onPathRecovered(() -> {
            if (isSecure()) {
                listener.onPathRecovered();
            }
        });
        if (worker != null) {
            ice.receiveWith((buffer, arrivalNanos) -> worker.offer(this, buffer, arrivalNanos));
        } else {
            PacketBuffer view = new PacketBuffer();
            ice.receiveWith((buffer, arrivalNanos) -> Worker.handle(this, buffer, arrivalNanos, view, counters));
        }
        ice.start(remoteUfrag, remotePassword, remoteCandidates);
        handshaker = new Thread(() -> handshake(role, remoteFingerprints), "dtls-" + name);
        handshaker.setDaemon(true);
        handshaker.start();
    }

    @Override
    public boolean isSecure() {
        return srtp != null && !closed;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Why DTLS failed, or null. */
    public String failure() {
        return failure;
    }

    public SrtpProfile profile() {
        SrtpSession session = srtp;
        return session == null ? null : session.profile();
    }

    @Override
    public boolean sendRtp(PacketBuffer packet) {
        SrtpSession session = srtp;
        if (session == null || closed) {
            return false;
        }
        if (!session.protectRtp(packet)) {
            counters.drop(DropReason.SRTP_OTHER);
            return false;
        }
        return send(packet);
    }

    public boolean sendRtcp(PacketBuffer packet) {
        SrtpSession session = srtp;
        if (session == null || closed) {
            return false;
        }
        if (!session.protectRtcp(packet)) {
            counters.drop(DropReason.SRTP_OTHER);
            return false;
        }
        return send(packet);
    }

    /** Protects without sending, for peers that replay or tamper with packets on purpose (tests, load tools). */
    public boolean protect(PacketBuffer packet, boolean rtcp) {
        SrtpSession session = srtp;
        return session != null && (rtcp ? session.protectRtcp(packet) : session.protectRtp(packet));
    }

    /** Sends bytes as they are, without SRTP (used by tests that play a misbehaving peer). */
    public boolean sendRaw(PacketBuffer packet) {
        return send(packet);
    }

    private boolean send(PacketBuffer packet) {
        try {
            int length = packet.getLength();
            ice.send(packet.byteBufferForSend());
            counters.sent(length);
            return true;
        } catch (IOException e) {
            counters.drop(DropReason.SEND_FAILED);
            return false;
        }
    }

    /**
     * One datagram, on the worker's thread: worked on in place in ICE's buffer through {@code view} (the worker's
     * own, pointed at it), which nothing may keep.
     */
    void receive(Buffer datagram, long arrivalNanos, PacketBuffer view) {
        if (closed) {
            counters.drop(DropReason.TRANSPORT_NOT_STARTED);
            return;
        }
        view.wrap(datagram.getBuffer(), datagram.getOffset(), datagram.getLength());
        view.setReceivedNanos(arrivalNanos);
        handleInbound(view);
    }

    private void handleInbound(PacketBuffer buffer) {
        byte[] data = buffer.getBuffer();
        int off = buffer.getOffset();
        int len = buffer.getLength();
        counters.received(len);
        Inbound kind = classify(data, off, len);
        if (kind == Inbound.DTLS) {
            if (!dtlsInbound.offer(Arrays.copyOfRange(data, off, off + len))) {
                counters.drop(DropReason.DTLS_FAILED);
            } else if (association != null && upkeepAsked.compareAndSet(false, true)) {
                upkeep(this::readDtlsRecords);
            }
            return;
        }
        if (kind == Inbound.OTHER) {
            counters.drop(DropReason.NOT_RTP_OR_DTLS);
            return;
        }
        SrtpSession session = srtp;
        if (session == null) {
            counters.drop(DropReason.BEFORE_DTLS);
            return;
        }
        Listener target = listener;
        if (kind == Inbound.RTCP) {
            DropReason reason = session.unprotectRtcp(buffer);
            if (reason != null) {
                counters.drop(reason);
                return;
            }
            if (!Rtcp.isValidCompound(buffer.getBuffer(), buffer.getOffset(), buffer.getLength())) {
                counters.drop(DropReason.MALFORMED_RTCP);
                return;
            }
            target.onRtcp(buffer);
            return;
        }
        if (kind == Inbound.MALFORMED_RTP) {
            counters.drop(DropReason.MALFORMED_RTP);
            return;
        }
        if (!target.acceptsRtpSsrc(Rtp.ssrc(data, off))) {
            counters.drop(DropReason.UNKNOWN_SSRC);
            return;
        }
        DropReason reason = session.unprotectRtp(buffer);
        if (reason != null) {
            counters.drop(reason);
            return;
        }
        target.onRtp(buffer);
    }

    /** What a datagram is, by its first byte (RFC 7983) and, for RTP, its header. */
    enum Inbound { DTLS, RTCP, RTP, MALFORMED_RTP, OTHER }

    /**
     * Demultiplexes a datagram before anything is decrypted: the first look Parley's code takes at bytes from the
     * network (fuzzed by {@code ReceivePathFuzzTest}). Reads nothing outside {@code [off, off + len)}.
     */
    static Inbound classify(byte[] data, int off, int len) {
        int first = len > 0 ? data[off] & 0xff : 0;
        if (first >= 20 && first <= 63) {
            return Inbound.DTLS;
        }
        if (!Rtp.isRtpOrRtcp(data, off, len)) {
            return Inbound.OTHER;
        }
        if (Rtp.isRtcp(data, off, len)) {
            return Inbound.RTCP;
        }
        return Rtp.isValid(data, off, len) ? Inbound.RTP : Inbound.MALFORMED_RTP;
    }

    private void handshake(DtlsRole role, List<Fingerprint> remoteFingerprints) {
        try {
            DtlsHandshake.Result result;
            DatagramTransport transport = new QueuedDatagramTransport();
            if (role == DtlsRole.CLIENT) {
                while (!ice.isConnected() && !closed) {
                    if (ice.isFailed()) {
                        throw new IOException("ICE failed");
                    }
                    Thread.sleep(10);
                }
                result = DtlsHandshake.connect(identity, remoteFingerprints, profiles, clientCipherSuites, transport);
            } else {
                result = DtlsHandshake.accept(identity, remoteFingerprints, profiles, transport);
            }
            if (closed) {
                return;
            }
            association = result.association();
            srtp = new SrtpSession(result.keys(), MAX_RECEIVE_SSRCS);
            LOG.debug("{}: DTLS done with {}", name, result.keys().profile());
            listener.onSecure();
            if (!dtlsInbound.isEmpty() && upkeepAsked.compareAndSet(false, true)) {
                upkeep(this::readDtlsRecords);
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                failure = String.valueOf(e.getMessage());
                if (e instanceof DtlsHandshake.CertificateRefused) {
                    counters.drop(DropReason.DTLS_CERTIFICATE_REFUSED);
                    LOG.warn("{}: DTLS refused the peer's certificate: {}", name, failure);
                } else {
                    counters.drop(DropReason.DTLS_FAILED);
                    LOG.info("{}: DTLS failed: {}", name, failure);
                }
                listener.onFailed("dtls: " + failure);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs slow work off the media path: on the workers' upkeep thread, or on a thread of its own without one. */
    private void upkeep(Runnable work) {
        if (worker != null) {
            worker.upkeep().execute(work);
        } else {
            Thread thread = new Thread(work, "dtls-upkeep-" + name);
            thread.setDaemon(true);
            thread.start();
        }
    }

    /**
     * Reads the DTLS records that came after the handshake (on the upkeep thread), so BouncyCastle answers a peer that
     * repeats its last flight (our final flight was lost). No application data is expected.
     */
    private void readDtlsRecords() {
        upkeepAsked.set(false);
        DTLSTransport dtls = association;
        byte[] buffer = new byte[1500];
        while (dtls != null && !closed && !dtlsInbound.isEmpty()) {
            try {
                dtls.receive(buffer, 0, buffer.length, 1);
            } catch (IOException | RuntimeException e) {
                LOG.debug("{}: DTLS record after the handshake refused", name, e);
                dtlsInbound.clear();
                return;
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        DTLSTransport dtls = association;
        if (dtls != null) {
            try {
                dtls.close();
            } catch (IOException | RuntimeException ignored) {
                // the peer may be gone already
            }
        }
        closed = true;
        ice.close();
        if (handshaker != null) {
            handshaker.interrupt();
        }
        SrtpSession session = srtp;
        if (session != null) {
            session.close();
        }
    }

    /** BouncyCastle's view of the DTLS records: inbound from the receive thread's queue, outbound to ICE. */
    private final class QueuedDatagramTransport implements DatagramTransport {
        @Override
        public int getReceiveLimit() {
            return 1500;
        }

        @Override
        public int getSendLimit() {
            return 1150;
        }

        @Override
        public int receive(byte[] buf, int off, int len, int waitMillis) throws IOException {
            if (closed) {
                throw new IOException("transport closed");
            }
            try {
                byte[] record = dtlsInbound.poll(waitMillis, TimeUnit.MILLISECONDS);
                if (record == null) {
                    if (closed) {
                        throw new IOException("transport closed");
                    }
                    return -1;
                }
                int n = Math.min(len, record.length);
                System.arraycopy(record, 0, buf, off, n);
                return n;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }

        @Override
        public void send(byte[] buf, int off, int len) {
            if (closed) {
                return;
            }
            try {
                ice.send(new DatagramPacket(buf, off, len));
            } catch (IOException e) {
                // Not connected yet: DTLS retransmits on its own timer.
            }
        }

        @Override
        public void close() {
        }
    }
}
