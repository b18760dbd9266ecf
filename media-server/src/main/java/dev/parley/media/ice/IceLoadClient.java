package dev.parley.media.ice;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.ice4j.util.Buffer;

/**
 * The load generator's client side of ICE against Parley's ICE-lite server, on a socket that {@link ClientSockets}
 * reads: a controlling agent that checks each of the server's allowed UDP candidates with USE-CANDIDATE (aggressive
 * nomination, written by {@link ControllingCheck}) every {@link #CHECK_INTERVAL} until one answers with a success
 * whose integrity holds, sends media to that candidate from then on, and refreshes consent there every consent
 * interval (RFC 7675). Answers and media are handed over on the reader's thread; STUN never reaches the
 * {@link DatagramReceiver}.
 */
public final class IceLoadClient implements IceTransport {
    /** How often unanswered checks are repeated while connecting. */
    static final Duration CHECK_INTERVAL = Duration.ofMillis(50);
    /** A client that has no answer this long after it started gives up. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    /** Checks remembered, to match answers to (a few check intervals' worth). */
    private static final int REMEMBERED = 8;

    private final DatagramChannel channel;
    private final AllowedNetworks allowed;
    private final ScheduledExecutorService checks;
    private final long consentIntervalMillis;
    private final String ufrag = IceLiteSession.randomIceChars(8);
    private final String password = IceLiteSession.randomIceChars(24);
    private final List<IceCandidate> advertised;
    /** Sending buffer, under this object's monitor (any thread sends). */
    private final ByteBuffer outgoing = ByteBuffer.allocateDirect(ReceiveBuffers.SIZE);
    // The checks thread writes, the reader thread reads; guarded by this.
    private final byte[][] sent = new byte[REMEMBERED][];
    private int sentCount;
    private volatile String remoteUfrag;
    private volatile String remotePassword;
    private volatile List<InetSocketAddress> targets = List.of();
    private volatile InetSocketAddress selected;
    private volatile long lastConsentMillis;
    private volatile long startedNanos;
    private volatile DatagramReceiver receiver;
    private volatile boolean failed;
    private volatile boolean closed;
    private ScheduledFuture<?> schedule;

    IceLoadClient(DatagramChannel channel, AllowedNetworks allowed, ScheduledExecutorService checks,
                  Duration consentInterval) throws IOException {
        this.channel = channel;
        this.allowed = allowed;
        this.checks = checks;
        this.consentIntervalMillis = consentInterval.toMillis();
        InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
        this.advertised = List.of(new IceCandidate("1", 1, "udp", 2_130_706_431L, local.getAddress().getHostAddress(),
                local.getPort(), "host", null, 0));
    }

    DatagramChannel channel() {
        return channel;
    }

    @Override
    public String localUfrag() {
        return ufrag;
    }

    @Override
    public String localPassword() {
        return password;
    }

    @Override
    public List<IceCandidate> localCandidates() {
        return advertised;
    }

    /** Checks the server's allowed UDP candidates (IP literals only) until one answers, then keeps consent there. */
    @Override
    public synchronized void start(String remoteUfrag, String remotePassword, List<IceCandidate> remoteCandidates) {
        this.remoteUfrag = remoteUfrag;
        this.remotePassword = remotePassword;
        List<InetSocketAddress> usable = new ArrayList<>();
        for (IceCandidate candidate : remoteCandidates) {
            InetAddress address = IpLiteral.parse(candidate.address());
            if ("udp".equalsIgnoreCase(candidate.transport()) && address != null && allowed.allows(address)) {
                usable.add(new InetSocketAddress(address, candidate.port()));
            }
        }
        this.targets = List.copyOf(usable);
        this.startedNanos = System.nanoTime();
        if (schedule == null && !closed) {
            schedule = checks.scheduleWithFixedDelay(this::check, 0, CHECK_INTERVAL.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    /** After an ICE restart: the server's new credentials, for every check from now on. */
    public void useRemoteCredentials(String remoteUfrag, String remotePassword) {
        this.remoteUfrag = remoteUfrag;
        this.remotePassword = remotePassword;
    }

    /** Every check interval: nominating checks while connecting, a consent check when one is due. */
    private void check() {
        if (closed) {
            return;
        }
        InetSocketAddress path = selected;
        if (path == null) {
            if (System.nanoTime() - startedNanos > CONNECT_TIMEOUT.toNanos()) {
                failed = true;
                return;
            }
            for (InetSocketAddress target : targets) {
                sendCheck(target, true);
            }
        } else if (System.currentTimeMillis() - lastConsentMillis >= consentIntervalMillis) {
            sendCheck(path, false);
        }
    }

    private void sendCheck(InetSocketAddress target, boolean nominate) {
        byte[] request = ControllingCheck.request(remoteUfrag, ufrag, remotePassword, nominate);
        synchronized (this) {
            sent[sentCount++ % REMEMBERED] = request;
        }
        try {
            send(request, 0, request.length, target);
        } catch (IOException e) {
            // the next interval tries again
        }
    }

    /** A datagram from the reader thread: STUN answers are ICE's; everything else goes to the receiver. */
    void received(Buffer buffer, long arrivalNanos) {
        byte[] data = buffer.getBuffer();
        int length = buffer.getLength();
        if (length >= 20 && (data[0] & 0xff) < 2) {
            onStun(data, length, (InetSocketAddress) buffer.getRemoteAddress());
            ReceiveBuffers.release(buffer);
            return;
        }
        DatagramReceiver target = receiver;
        if (target == null || closed) {
            ReceiveBuffers.release(buffer);
            return;
        }
        target.received(buffer, arrivalNanos);
    }

    private void onStun(byte[] data, int length, InetSocketAddress from) {
        String key = remotePassword;
        if (key == null || !targets.contains(from)) {
            return;
        }
        boolean answered = false;
        synchronized (this) {
            for (byte[] request : sent) {
                if (request != null && ControllingCheck.isVerifiedSuccess(data, length, request, key)) {
                    answered = true;
                    break;
                }
            }
        }
        if (answered) {
            lastConsentMillis = System.currentTimeMillis();
            if (selected == null) {
                selected = from;
            }
        }
    }

    @Override
    public boolean isConnected() {
        return selected != null && !closed;
    }

    @Override
    public boolean isFailed() {
        return failed;
    }

    @Override
    public long lastConsent() {
        return lastConsentMillis;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return selected;
    }

    @Override
    public void receiveWith(DatagramReceiver receiver) {
        this.receiver = receiver;
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        sendOnPath(packet.getData(), packet.getOffset(), packet.getLength());
    }

    @Override
    public void send(ByteBuffer datagram) throws IOException {
        sendOnPath(datagram.array(), datagram.arrayOffset() + datagram.position(), datagram.remaining());
    }

    private void sendOnPath(byte[] data, int offset, int length) throws IOException {
        InetSocketAddress path = selected;
        if (path == null || closed) {
            throw new IOException("no ICE path to send on yet");
        }
        send(data, offset, length, path);
    }

    private synchronized void send(byte[] data, int offset, int length, InetSocketAddress to) throws IOException {
        outgoing.clear();
        outgoing.put(data, offset, length);
        outgoing.flip();
        if (channel.send(outgoing, to) == 0) {
            throw new IOException("the socket's send buffer is full");
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            if (schedule != null) {
                schedule.cancel(false);
            }
        }
        try {
            channel.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
