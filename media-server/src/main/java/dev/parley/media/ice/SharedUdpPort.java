package dev.parley.media.ice;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.ice4j.util.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one UDP port all endpoints share on one local address, read by one thread of its own. It answers ICE checks
 * itself (the server is a lite agent: it only ever answers) and hands every other datagram, unread, to the session
 * that holds a pair with its source address; that session hands it to its conference's worker.
 *
 * <p>A datagram from an address that holds no pair here is read only if it is a STUN binding request, from inside
 * the allowed networks, whose USERNAME names a live session; the session then decides (credentials, its limits on
 * addresses and rates) whether it is answered and becomes a pair. Everything refused is counted by name, and nothing
 * is ever sent to an address except in answer to a check from it or on a pair a valid check opened.
 */
public final class SharedUdpPort implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SharedUdpPort.class);
    /**
     * SO_RCVBUF and SO_SNDBUF: one thread reads for every endpoint, and with the OS default (~208 KB) about 10 ms of
     * it not being scheduled overflow the receive buffer (measured: 4–9 % loss at 22k forwarded packets/s on 2 cores,
     * none with 4 MB). The kernel caps both at net.core.rmem_max and wmem_max.
     */
    public static final int SOCKET_BUFFER_BYTES = 4 << 20;
    /** Datagrams read per wake-up of the reader before it looks at the selector again. */
    private static final int READ_BATCH = 64;

    private final DatagramChannel channel;
    private final InetSocketAddress local;
    private final AllowedNetworks allowed;
    private final MediaCounters counters;
    /** Sessions by every ufrag their checks may carry (current, and a replaced one still answered). */
    private final Map<String, IceLiteSession> sessions = new ConcurrentHashMap<>();
    /** The pair each remote address holds on this local address. */
    private final Map<InetSocketAddress, IceLiteSession.RemotePath> pairs = new ConcurrentHashMap<>();
    private final Selector selector;
    private final Thread reader;
    private volatile boolean closed;

    public SharedUdpPort(InetSocketAddress bind, AllowedNetworks allowed, MediaCounters counters) throws IOException {
        this.allowed = allowed;
        this.counters = counters;
        DatagramChannel opened = DatagramChannel.open(bind.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        Selector watching = null;
        try {
            opened.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            opened.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
            opened.bind(bind);
            opened.configureBlocking(false);
            watching = Selector.open();
            opened.register(watching, SelectionKey.OP_READ);
        } catch (IOException | RuntimeException e) {
            opened.close();
            if (watching != null) {
                watching.close();
            }
            throw e;
        }
        this.channel = opened;
        this.selector = watching;
        InetSocketAddress bound = (InetSocketAddress) opened.getLocalAddress();
        this.local = new InetSocketAddress(bound.getAddress(), bound.getPort());
        this.reader = new Thread(this::read, "media-udp-" + local.getAddress().getHostAddress() + "-" + local.getPort());
        reader.setDaemon(true);
        reader.start();
    }

    public InetSocketAddress boundAddress() {
        return local;
    }

    /** Sends one datagram from this port's address; false when the socket's send buffer is full (nothing waits). */
    boolean send(ByteBuffer datagram, InetSocketAddress remote) throws IOException {
        return channel.send(datagram, remote) > 0;
    }

    void register(String localUfrag, IceLiteSession session) {
        sessions.put(localUfrag, session);
    }

    /** Whether no other session checks with {@code localUfrag} here. */
    boolean isFree(String localUfrag) {
        return !sessions.containsKey(localUfrag);
    }

    void unregister(String localUfrag, IceLiteSession session) {
        sessions.remove(localUfrag, session);
    }

    /** Routes {@code remote}'s datagrams to {@code path} from now on (the session whose check came last wins). */
    void route(InetSocketAddress remote, IceLiteSession.RemotePath path) {
        pairs.put(remote, path);
    }

    void unroute(InetSocketAddress remote, IceLiteSession.RemotePath path) {
        pairs.remove(remote, path);
    }

    private void read() {
        ByteBuffer datagram = ByteBuffer.allocateDirect(ReceiveBuffers.SIZE);
        BindingRequest check = new BindingRequest();
        ByteBuffer answer = ByteBuffer.allocate(BindingRequest.MAX_ANSWER);
        try {
            while (!closed) {
                selector.select(250);
                selector.selectedKeys().clear();
                for (int i = 0; i < READ_BATCH; i++) {
                    datagram.clear();
                    SocketAddress from = channel.receive(datagram);
                    if (from == null) {
                        break;
                    }
                    long arrival = System.nanoTime();
                    datagram.flip();
                    handle(datagram, (InetSocketAddress) from, arrival, check, answer);
                }
            }
        } catch (ClosedChannelException | ClosedSelectorException e) {
            // closed
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.error("the shared UDP port {} stopped reading", local, e);
            }
        }
    }

    private void handle(ByteBuffer datagram, InetSocketAddress from, long arrival, BindingRequest check,
                        ByteBuffer answer) throws IOException {
        int length = datagram.remaining();
        Buffer buffer = ReceiveBuffers.take(length);
        datagram.get(buffer.getBuffer(), 0, length);
        byte[] data = buffer.getBuffer();
        if (BindingRequest.isStun(data, 0, length)) {
            try {
                answer(check, data, length, from, answer);
            } finally {
                ReceiveBuffers.release(buffer);
            }
            return;
        }
        IceLiteSession.RemotePath path = pairs.get(from);
        if (path == null) {
            counters.drop(DropReason.ICE_UNVERIFIED_ADDRESS);
            ReceiveBuffers.release(buffer);
            return;
        }
        buffer.setRemoteAddress(from);
        buffer.setLocalAddress(local);
        path.received(buffer, arrival);
    }

    /** Answers a check, or drops it and counts why; a check is answered only to the address it came from. */
    private void answer(BindingRequest check, byte[] data, int length, InetSocketAddress from, ByteBuffer answer)
            throws IOException {
        if (!allowed.allows(from.getAddress())) {
            counters.drop(DropReason.REMOTE_NOT_ALLOWED);
            return;
        }
        switch (check.parse(data, 0, length)) {
            case MALFORMED -> {
                counters.drop(DropReason.STUN_MALFORMED);
                return;
            }
            case IGNORED -> {
                return;
            }
            case REQUEST -> {
                // answered below
            }
        }
        String ufrag = check.localUfrag();
        IceLiteSession session = ufrag == null ? null : sessions.get(ufrag);
        int written;
        if (session != null) {
            written = session.answer(this, from, ufrag, check, answer.array());
        } else if (pairs.containsKey(from)) {
            // A peer on a pair checks with credentials no longer valid (a completed ICE restart): it is told so.
            counters.drop(DropReason.STUN_UNAUTHENTICATED);
            written = check.writeError(answer.array(), 401, "Unauthorized");
        } else {
            // An address without a pair learns nothing, not even that the port answers.
            counters.drop(DropReason.STUN_UNKNOWN_UFRAG);
            return;
        }
        if (written > 0) {
            answer.clear().limit(written);
            if (channel.send(answer, from) == 0) {
                counters.drop(DropReason.SEND_FAILED);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            selector.close();
        } catch (IOException e) {
            LOG.debug("closing the selector of {}", local, e);
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing {}", local, e);
        }
    }
}
