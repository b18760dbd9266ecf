package dev.parley.media.ice;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
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
import java.util.concurrent.atomic.AtomicInteger;
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
 *
 * <p>On 64-bit Linux the port works on its socket in batches ({@link NativeUdp}): the reader takes up to
 * {@value #READ_BATCH} datagrams per {@code recvmmsg(2)}, and a media worker's sends leave in one {@code sendmmsg(2)}
 * per pass of its loop ({@link SendBatch}). Elsewhere each datagram is one call through the JDK's channel.
 */
public final class SharedUdpPort implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SharedUdpPort.class);
    /**
     * SO_RCVBUF and SO_SNDBUF: one thread reads for every endpoint, and with the OS default (~208 KB) about 10 ms of
     * it not being scheduled overflow the receive buffer (measured: 4–9 % loss at 22k forwarded packets/s on 2 cores,
     * none with 4 MB). The kernel caps both at net.core.rmem_max and wmem_max.
     */
    public static final int SOCKET_BUFFER_BYTES = 4 << 20;
    /** Datagrams read per system call ({@code recvmmsg}), or per wake-up where each is one call. */
    private static final int READ_BATCH = 64;
    /** How long closing waits for native calls under way (each is one non-blocking system call). */
    private static final long CLOSE_WAIT_NANOS = 100_000_000L;

    private final DatagramChannel channel;
    private final InetSocketAddress local;
    private final AllowedNetworks allowed;
    private final MediaCounters counters;
    /** Sessions by every ufrag their checks may carry (current, and a replaced one still answered). */
    private final Map<String, IceLiteSession> sessions = new ConcurrentHashMap<>();
    /** The pair each remote address holds on this local address. */
    private final Map<RemoteKey, IceLiteSession.RemotePath> pairs = new ConcurrentHashMap<>();
    private final Selector selector;
    private final Thread reader;
    /** The channel's socket, for batched sends; -1 when each datagram goes through the JDK alone. */
    private final int descriptor;
    private final boolean ipv6Socket;
    /**
     * Native calls on {@link #descriptor} under way; the channel (and so the descriptor, which the process could then
     * reuse for another socket) is closed only once none is.
     */
    private final AtomicInteger nativeCalls = new AtomicInteger();
    private volatile boolean closed;

    public SharedUdpPort(InetSocketAddress bind, AllowedNetworks allowed, MediaCounters counters) throws IOException {
        this.allowed = allowed;
        this.counters = counters;
        this.ipv6Socket = bind.getAddress() instanceof Inet6Address;
        DatagramChannel opened = DatagramChannel.open(ipv6Socket
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
        this.descriptor = NativeUdp.descriptorOf(local, ipv6Socket);
        if (NativeUdp.AVAILABLE && descriptor < 0) {
            LOG.warn("the shared UDP port {} sends one datagram per system call: its socket was not found", local);
        }
        this.reader = new Thread(this::read, "media-udp-" + local.getAddress().getHostAddress() + "-" + local.getPort());
        reader.setDaemon(true);
        reader.start();
    }

    public InetSocketAddress boundAddress() {
        return local;
    }

    /** Whether a worker's datagrams leave this port in batches ({@link SendBatch}). */
    public boolean sendsInBatches() {
        return descriptor >= 0;
    }

    /** {@code remote} as this port's socket takes it in a batched send; null when the port does not batch. */
    byte[] nativeAddress(InetSocketAddress remote) {
        if (descriptor < 0 || (!ipv6Socket && remote.getAddress() instanceof Inet6Address)) {
            return null;
        }
        return NativeUdp.sockaddr(remote, ipv6Socket);
    }

    /**
     * Sends one datagram (position to limit, left as they were) from this port's address: into the calling worker's
     * batch when it has one and {@code nativeRemote} (from {@link #nativeAddress}) is given, else at once. False when
     * the socket's send buffer is full (nothing waits).
     */
    boolean send(ByteBuffer datagram, InetSocketAddress remote, byte[] nativeRemote) throws IOException {
        SendBatch batch = nativeRemote == null ? null : SendBatch.ofCurrentThread();
        if (batch != null) {
            if (batch.add(this, datagram, nativeRemote)) {
                return true;
            }
            // Too large for a slot: sent alone, after what the batch holds, so the order stays.
            batch.flush();
        }
        int position = datagram.position();
        boolean sent = channel.send(datagram, remote) > 0;
        datagram.position(position);
        return sent;
    }

    /**
     * Sends {@code total} messages laid out at native address {@code messages} ({@link SendBatch}) with as few calls
     * as the kernel allows; what it refuses is counted as {@code send_failed}.
     */
    void sendBatch(MessageSlots messages, int total) {
        if (!enterNativeCall()) {
            counters.drop(DropReason.SEND_FAILED, total);
            return;
        }
        try {
            int done = 0;
            while (done < total) {
                int sent = NativeUdp.sendmmsg(descriptor, messages.message(done), total - done, NativeUdp.MSG_DONTWAIT);
                if (sent > 0) {
                    done += sent;
                } else if (sent < 0 && NativeUdp.lastError() != NativeUdp.EAGAIN) {
                    // The first message was refused (its destination, say): it alone is lost.
                    counters.drop(DropReason.SEND_FAILED);
                    done++;
                } else {
                    // The send buffer is full: nothing waits.
                    counters.drop(DropReason.SEND_FAILED, total - done);
                    return;
                }
            }
        } finally {
            nativeCalls.decrementAndGet();
        }
    }

    /** False once the port is closing; else the caller may use the descriptor until it decrements the count. */
    private boolean enterNativeCall() {
        nativeCalls.incrementAndGet();
        if (closed) {
            nativeCalls.decrementAndGet();
            return false;
        }
        return true;
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
        pairs.put(RemoteKey.of(remote), path);
    }

    void unroute(InetSocketAddress remote, IceLiteSession.RemotePath path) {
        pairs.remove(RemoteKey.of(remote), path);
    }

    private void read() {
        BindingRequest check = new BindingRequest();
        ByteBuffer answer = ByteBuffer.allocate(BindingRequest.MAX_ANSWER);
        RemoteKey key = new RemoteKey();
        MessageSlots slots = descriptor >= 0 ? new MessageSlots(READ_BATCH) : null;
        ByteBuffer datagram = slots == null ? ByteBuffer.allocateDirect(ReceiveBuffers.SIZE) : null;
        try {
            while (!closed) {
                selector.select(250);
                selector.selectedKeys().clear();
                if (slots != null) {
                    readBatches(slots, key, check, answer);
                } else {
                    readOneByOne(datagram, key, check, answer);
                }
            }
        } catch (ClosedChannelException | ClosedSelectorException e) {
            // closed
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.error("the shared UDP port {} stopped reading", local, e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads what the socket holds, up to {@link #READ_BATCH} datagrams per {@code recvmmsg(2)} call. */
    private void readBatches(MessageSlots slots, RemoteKey key, BindingRequest check, ByteBuffer answer)
            throws IOException, InterruptedException {
        int received;
        do {
            slots.readyToReceive();
            if (!enterNativeCall()) {
                return;
            }
            int errno;
            try {
                received = NativeUdp.recvmmsg(descriptor, slots.message(0), READ_BATCH, NativeUdp.MSG_DONTWAIT, 0);
                errno = received < 0 ? NativeUdp.lastError() : 0;
            } finally {
                nativeCalls.decrementAndGet();
            }
            if (received < 0) {
                if (errno != NativeUdp.EAGAIN && errno != NativeUdp.EINTR && !closed) {
                    // Not seen on a UDP socket without IP_RECVERR; paced so that it cannot spin.
                    LOG.warn("reading the shared UDP port {} failed: errno {}", local, errno);
                    Thread.sleep(10);
                }
                return;
            }
            long arrival = System.nanoTime();
            for (int i = 0; i < received; i++) {
                int length = slots.receivedLength(i);
                Buffer buffer = ReceiveBuffers.take(length);
                slots.copyPayload(i, buffer.getBuffer(), length);
                slots.readAddress(i, key);
                handle(buffer, length, key, null, arrival, check, answer);
            }
        } while (received == READ_BATCH && !closed);
    }

    /** Reads what the socket holds one datagram per call (where batched reads are not available). */
    private void readOneByOne(ByteBuffer datagram, RemoteKey key, BindingRequest check, ByteBuffer answer)
            throws IOException {
        for (int i = 0; i < READ_BATCH; i++) {
            datagram.clear();
            InetSocketAddress from = (InetSocketAddress) channel.receive(datagram);
            if (from == null) {
                return;
            }
            long arrival = System.nanoTime();
            datagram.flip();
            int length = datagram.remaining();
            Buffer buffer = ReceiveBuffers.take(length);
            datagram.get(buffer.getBuffer(), 0, length);
            key.set(from);
            handle(buffer, length, key, from, arrival, check, answer);
        }
    }

    /**
     * One datagram, from the address {@code key} holds ({@code from} too when the JDK already made it): a check is
     * answered here, anything else goes to the pair of its source address. The buffer is given back or handed on.
     */
    private void handle(Buffer buffer, int length, RemoteKey key, InetSocketAddress from, long arrival,
                        BindingRequest check, ByteBuffer answer) throws IOException {
        byte[] data = buffer.getBuffer();
        if (BindingRequest.isStun(data, 0, length)) {
            try {
                answer(check, data, length, from != null ? from : key.toAddress(), key, answer);
            } finally {
                ReceiveBuffers.release(buffer);
            }
            return;
        }
        IceLiteSession.RemotePath path = pairs.get(key);
        if (path == null) {
            counters.drop(DropReason.ICE_UNVERIFIED_ADDRESS);
            ReceiveBuffers.release(buffer);
            return;
        }
        buffer.setRemoteAddress(path.remote);
        buffer.setLocalAddress(local);
        path.received(buffer, arrival);
    }

    /** Answers a check, or drops it and counts why; a check is answered only to the address it came from. */
    private void answer(BindingRequest check, byte[] data, int length, InetSocketAddress from, RemoteKey key,
                        ByteBuffer answer) throws IOException {
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
        } else if (pairs.containsKey(key)) {
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
        // A native call sees the flag or is counted here; none blocks, so this is a moment at most.
        long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
        while (nativeCalls.get() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
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
