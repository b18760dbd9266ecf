package dev.parley.media.ice;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.ice4j.StunMessageEvent;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.ice.Agent;
import org.ice4j.ice.Component;
import org.ice4j.ice.IceMediaStream;
import org.ice4j.ice.KeepAliveStrategy;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.attribute.Attribute;
import org.ice4j.attribute.AttributeFactory;
import org.ice4j.attribute.UsernameAttribute;
import org.ice4j.message.MessageFactory;
import org.ice4j.message.Request;
import org.ice4j.message.Response;
import org.ice4j.security.CredentialsAuthority;
import org.ice4j.stack.RequestListener;
import org.ice4j.util.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's side of ICE, as an ICE-lite agent (RFC 8445 §2.5) on ice4j. The server never sends checks: it answers
 * every binding request with valid credentials (ice4j's STUN stack checks USERNAME and MESSAGE-INTEGRITY) with
 * success, from any admitted remote address, for as long as the session lives — peer-reflexive addresses such as a
 * TURN relay or a new NAT mapping included — and sends media to the address the controlling agent nominated last
 * (USE-CANDIDATE), or to the first address that checked until one is nominated; and when the selected address has
 * gone silent for {@link #SILENCE} while the browser's media arrives from another verified address, to that one (the
 * browser has moved; its nominating check follows at its own pace). DTLS and SRTP live above, in the transport, so a
 * move between addresses keeps them.
 *
 * <p>A path is a candidate pair: one of the server's local addresses (one shared port each) and one remote address.
 * A full agent checks every server candidate from each of its own, so one remote address usually holds a pair on
 * every local address; each pair has its own socket, its own consent and can be selected on its own, and media
 * leaves from the local address of the selected pair. A datagram belongs to the pair of the port that read it (ice4j
 * records the reading socket's local address in each buffer) and the address it came from.
 *
 * <p>Bounded: at most {@link #MAX_REMOTE_ADDRESSES} remote addresses at once (each with at most one pair per local
 * address), each inside the allowed networks (the port checks); new pairs are rate-limited per session and checks per
 * remote address, whatever local address they go to; a remote address over its rate is ignored on every local
 * address for {@link #PENALTY}. Responses go only to the address a check came from. A pair that stops checking for
 * the consent timeout (RFC 7675) is dropped; when the selected one does, consent is lost and the endpoint expires.
 */
public final class IceLiteSession implements IceTransport {
    private static final Logger LOG = LoggerFactory.getLogger(IceLiteSession.class);

    /**
     * Remote addresses one session holds at once (host, server-reflexive, relays, new mappings). Each may hold one pair
     * per local address, so the pairs are at most this many times the number of local addresses.
     */
    public static final int MAX_REMOTE_ADDRESSES = 16;
    /**
     * Pairs one session opens over its lifetime, per local address (a remote address checks each of them); far above
     * what network changes produce.
     */
    public static final int MAX_ADMISSIONS = 256;
    /**
     * Checks per second one remote address may send on average, to all local addresses together (a browser paces all
     * its checks together, a few a second once connected), and the burst above it.
     */
    public static final int CHECKS_PER_SECOND = 50;
    public static final int CHECK_BURST = 100;
    /** New pairs per second one session opens on average, per local address, and the burst above it. */
    public static final int NEW_ADDRESSES_PER_SECOND = 8;
    public static final int NEW_ADDRESS_BURST = 16;
    /**
     * How long a remote address that went over its rate is ignored, on every local address (nothing from it is read
     * or answered).
     */
    public static final Duration PENALTY = Duration.ofSeconds(2);
    /** An address whose first request carried no valid credentials is forgotten after this. */
    public static final Duration UNVERIFIED_TIMEOUT = Duration.ofSeconds(5);
    /**
     * How long the selected address must have sent nothing before media from another verified address moves the
     * media there; a browser in a call sends RTP or RTCP several times a second.
     */
    public static final Duration SILENCE = Duration.ofSeconds(1);
    private static final long SILENCE_NANOS = SILENCE.toNanos();
    private static final int MAX_PENALIZED = 64;
    /** Closing an address's socket waits until the STUN stack has answered the request that led to it. */
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Executor LATER = CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS);

    private final LiteAgent agent;
    private final IceMediaStream stream;
    private final List<SharedUdpPort> ports;
    /** One per port, in the order of {@link #ports}. */
    private final LocalSide[] sides;
    private final MediaCounters counters;
    private final long consentTimeoutNanos;
    private final List<IceCandidate> advertised;
    /** The ufrag the shared ports know the agent's candidate by (the first one); they route later ones to it. */
    private final String harvestedUfrag;
    /** The credentials checks must carry now; an ICE restart replaces them. */
    private volatile Credentials local;
    /**
     * The credentials an ICE restart replaced, still answered on addresses the session holds until the peer's first
     * check with the new ones, at most the consent timeout: the peer goes on checking with them until it has the
     * server's answer. Null when none.
     */
    private volatile Credentials previous;
    private volatile long previousUntilNanos;
    /** Where non-STUN datagrams go; null until the transport above starts (they are dropped meanwhile). */
    private volatile DatagramReceiver receiver;
    // Guarded by this.
    private final Map<InetSocketAddress, Long> penalizedUntil = new HashMap<>();
    private final TokenBucket newAddresses;
    private final int maxAdmissions;
    private int admissions;
    private volatile RemotePath selected;
    private volatile Runnable pathRecovered = () -> { };
    private volatile boolean closed;

    private IceLiteSession(List<SharedUdpPort> ports, InetAddress publicAddress, MediaCounters counters,
                           Duration consentTimeout) {
        this.ports = List.copyOf(ports);
        this.sides = new LocalSide[this.ports.size()];
        for (int i = 0; i < sides.length; i++) {
            sides[i] = new LocalSide(this.ports.get(i));
        }
        int localAddresses = Math.max(1, sides.length);
        this.newAddresses = new TokenBucket(NEW_ADDRESSES_PER_SECOND * localAddresses,
                NEW_ADDRESS_BURST * localAddresses);
        this.maxAdmissions = MAX_ADMISSIONS * localAddresses;
        this.counters = counters;
        this.consentTimeoutNanos = consentTimeout.toNanos();
        this.agent = new LiteAgent();
        this.local = new Credentials(agent.originalUfrag(), agent.originalPassword());
        PreviousCredentials answering = new PreviousCredentials();
        agent.getStunStack().getCredentialsManager().registerAuthority(answering);
        agent.getStunStack().addRequestListener(answering);
        agent.setUseDynamicPorts(false);
        agent.setControlling(false);
        agent.setTrickling(false);
        for (SharedUdpPort port : ports) {
            agent.addCandidateHarvester(port);
        }
        this.stream = agent.createMediaStream("media");
        Component component;
        try {
            // No component socket: non-STUN datagrams come through the push callback below.
            component = agent.createComponent(stream, KeepAliveStrategy.SELECTED_ONLY, false);
        } catch (IOException e) {
            agent.free();
            throw new IllegalStateException("cannot create the ICE component", e);
        }
        component.setBufferCallback(this::onDatagram);
        this.harvestedUfrag = agent.getLocalUfrag();
        this.advertised = advertise(component, ports, publicAddress);
        for (SharedUdpPort port : ports) {
            port.register(harvestedUfrag, this);
        }
    }

    /**
     * A session on the shared ports.
     *
     * @param publicAddress advertised as a server-reflexive candidate beside each host candidate, or null
     * @param consentTimeout how long a remote address may go without a valid check before it is dropped
     */
    public static IceLiteSession open(List<SharedUdpPort> ports, InetAddress publicAddress, MediaCounters counters,
                                      Duration consentTimeout) {
        return new IceLiteSession(ports, publicAddress, counters, consentTimeout);
    }

    private static List<IceCandidate> advertise(Component component, List<SharedUdpPort> ports,
                                                InetAddress publicAddress) {
        List<IceCandidate> candidates = new ArrayList<>();
        int index = 1;
        for (LocalCandidate local : component.getLocalCandidates()) {
            TransportAddress address = local.getTransportAddress();
            candidates.add(new IceCandidate(Integer.toString(index++), 1, "udp", local.getPriority(),
                    address.getHostAddress(), address.getPort(), "host", null, 0));
        }
        if (publicAddress != null) {
            index = 100;
            for (SharedUdpPort port : ports) {
                InetSocketAddress local = port.boundAddress();
                long priority = (100L << 24) | (65535L << 8) | 255;
                candidates.add(new IceCandidate(Integer.toString(index++), 1, "udp", priority,
                        publicAddress.getHostAddress(), local.getPort(), "srflx",
                        local.getAddress().getHostAddress(), local.getPort()));
            }
        }
        return List.copyOf(candidates);
    }

    /** A local ICE username fragment and password. */
    public record Credentials(String ufrag, String password) {
    }

    @Override
    public String localUfrag() {
        return local.ufrag();
    }

    @Override
    public String localPassword() {
        return local.password();
    }

    /** The peer's current ICE username fragment (null before {@link #start}). */
    public String remoteUfrag() {
        return stream.getRemoteUfrag();
    }

    public String remotePassword() {
        return stream.getRemotePassword();
    }

    /** The ufrag the shared ports' candidate was harvested under: new addresses of this session join through it. */
    String harvestedUfrag() {
        return harvestedUfrag;
    }

    /**
     * ICE restart (RFC 8445 §9): new local credentials, and the peer's new ones. Checks with the new credentials are
     * answered from the addresses the session holds and from new ones; the old credentials are answered only from
     * addresses the session holds, and only until the first check with the new ones (the restart has completed) or
     * for the consent timeout at most. The selected path keeps carrying media meanwhile, so DTLS and SRTP go on.
     */
    public synchronized Credentials restart(String remoteUfrag, String remotePassword) {
        if (closed) {
            throw new IllegalStateException("ICE session closed");
        }
        Credentials previous = local;
        Credentials next = new Credentials(randomIceChars(8), randomIceChars(24));
        this.previous = previous;
        this.previousUntilNanos = System.nanoTime() + consentTimeoutNanos;
        local = next;
        stream.setRemoteUfrag(remoteUfrag);
        stream.setRemotePassword(remotePassword);
        for (SharedUdpPort port : ports) {
            port.register(next.ufrag(), this);
            port.unregister(previous.ufrag(), this);
        }
        LOG.debug("{}: ICE restarted as {}", previous.ufrag(), next.ufrag());
        return next;
    }

    /** Random characters of the ICE grammar's ice-char set that are also URL- and SDP-safe (letters and digits). */
    static String randomIceChars(int length) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return text.toString();
    }

    @Override
    public List<IceCandidate> localCandidates() {
        return advertised;
    }

    /**
     * Records the peer's credentials. A lite agent sends no checks, so the peer's candidates are not needed: its
     * addresses are learned from the checks it sends.
     */
    @Override
    public void start(String remoteUfrag, String remotePassword, List<IceCandidate> remoteCandidates) {
        stream.setRemoteUfrag(remoteUfrag);
        stream.setRemotePassword(remotePassword);
    }

    @Override
    public boolean isConnected() {
        return selected != null && !closed;
    }

    @Override
    public boolean isFailed() {
        return false;
    }

    @Override
    public long lastConsent() {
        RemotePath path = selected;
        return path == null ? 0 : path.lastCheckMillis;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        RemotePath path = selected;
        return path == null ? null : path.remote;
    }

    /** The local address of the pair media is sent on (its datagrams leave from it), or null while there is none. */
    public InetSocketAddress localAddress() {
        RemotePath path = selected;
        return path == null ? null : path.side.address;
    }

    /** The remote addresses currently held, selected or not, each once (for tests and diagnostics). */
    public List<InetSocketAddress> remoteAddresses() {
        List<InetSocketAddress> remotes = new ArrayList<>();
        for (LocalSide side : sides) {
            for (InetSocketAddress remote : side.paths.keySet()) {
                if (!remotes.contains(remote)) {
                    remotes.add(remote);
                }
            }
        }
        return List.copyOf(remotes);
    }

    /** The candidate pairs currently held, selected or not (for tests and diagnostics). */
    public List<Pair> pairs() {
        List<Pair> pairs = new ArrayList<>();
        for (LocalSide side : sides) {
            for (InetSocketAddress remote : side.paths.keySet()) {
                pairs.add(new Pair(side.address, remote));
            }
        }
        return List.copyOf(pairs);
    }

    @Override
    public void receiveWith(DatagramReceiver receiver) {
        this.receiver = receiver;
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        RemotePath path = selected;
        if (path == null || closed) {
            throw new IOException("no ICE path to send on yet");
        }
        // The port's per-address socket sends to its own remote address, whatever the packet says.
        path.socket.send(packet);
    }

    @Override
    public void onPathRecovered(Runnable action) {
        pathRecovered = action;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (LocalSide side : sides) {
                side.paths.clear();
            }
            selected = null;
        }
        for (SharedUdpPort port : ports) {
            port.unregister(harvestedUfrag, this);
            port.unregister(local.ufrag(), this);
        }
        agent.free();
    }

    // ---- called by the shared port's reader thread

    /**
     * Whether a remote address may start a pair on a port's local address (before its first request's credentials
     * are known).
     */
    synchronized boolean admit(InetSocketAddress remote) {
        if (closed) {
            counters.drop(DropReason.STUN_UNKNOWN_UFRAG);
            return false;
        }
        long now = System.nanoTime();
        Long until = penalizedUntil.get(remote);
        if (until != null) {
            if (now - until < 0) {
                counters.drop(DropReason.ICE_RATE_LIMITED);
                return false;
            }
            penalizedUntil.remove(remote);
        }
        expireStalePaths(now);
        if (!holdsRemote(remote) && remoteCount() >= MAX_REMOTE_ADDRESSES || admissions >= maxAdmissions) {
            counters.drop(DropReason.ICE_TOO_MANY_ADDRESSES);
            return false;
        }
        if (!newAddresses.take(now)) {
            counters.drop(DropReason.ICE_RATE_LIMITED);
            return false;
        }
        admissions++;
        return true;
    }

    /**
     * {@code port} made a socket for {@code remote}: the pair of its local address and {@code remote}, which counts
     * once a request on it validates. It replaces only an earlier pair of the same two addresses (the port had
     * forgotten the remote address); the remote address's pairs on other local addresses stay as they are.
     */
    void pathOpened(SharedUdpPort port, InetSocketAddress remote, DatagramSocket socket) {
        InetSocketAddress key = plain(remote);
        LocalSide side = side(port);
        RemotePath path = null;
        synchronized (this) {
            if (side != null) {
                path = new RemotePath(side, key, socket, checksOf(key), System.nanoTime());
                if (!closed && (holdsRemote(key) || remoteCount() < MAX_REMOTE_ADDRESSES)) {
                    RemotePath old = side.paths.put(key, path);
                    if (old != null) {
                        if (selected == old) {
                            // The same pair on a new socket: it stays selected (the check that opened it verifies it).
                            selected = path;
                        }
                        closeLater(old);
                    }
                    return;
                }
            }
        }
        counters.drop(DropReason.ICE_TOO_MANY_ADDRESSES);
        if (path != null) {
            closeLater(path);
        } else {
            socket.close();
        }
    }

    /**
     * Push receive: every non-STUN datagram on a pair this session holds goes to the receiver, on the port's reader
     * thread (no allocation: it runs per packet).
     */
    private void onDatagram(Buffer buffer) {
        SocketAddress from = buffer.getRemoteAddress();
        LocalSide side = side(buffer.getLocalAddress());
        RemotePath path = from == null || side == null ? null : side.paths.get(from);
        if (path == null || !path.verified) {
            counters.drop(DropReason.ICE_UNVERIFIED_ADDRESS);
            ReceiveBuffers.release(buffer);
            return;
        }
        long now = System.nanoTime();
        path.lastReceiveNanos = now;
        RemotePath current = selected;
        if (current != path && current != null && now - current.lastReceiveNanos > SILENCE_NANOS) {
            followMedia(path, now);
        }
        DatagramReceiver target = receiver;
        if (target == null || closed) {
            counters.drop(DropReason.TRANSPORT_NOT_STARTED);
            ReceiveBuffers.release(buffer);
            return;
        }
        target.received(buffer, now);
    }

    /**
     * The browser's media now comes on another of its verified pairs while the selected one has gone silent: it has
     * moved (its nominating check may be seconds away, browsers check a new path at their own pace), so media follows
     * at once. A browser sends media only on the pair it selected, and takes it on any of its pairs.
     */
    private synchronized void followMedia(RemotePath path, long now) {
        RemotePath current = selected;
        if (closed || current == path || path.side.paths.get(path.remote) != path
                || current != null && now - current.lastReceiveNanos <= SILENCE_NANOS) {
            return;
        }
        LOG.debug("{}: media now goes to {} (its media arrives there)", local.ufrag(), path.remote);
        select(path, now);
    }

    /** Caller holds the lock. */
    private void select(RemotePath path, long now) {
        RemotePath previous = selected;
        selected = path;
        counters.icePathSelected();
        if (previous != null && now - previous.lastReceiveNanos > SILENCE_NANOS) {
            CompletableFuture.runAsync(pathRecovered);
        }
    }

    // ---- called by ice4j's STUN stack, after it has checked USERNAME and MESSAGE-INTEGRITY

    /** Always answered with success (true): a lite agent never refuses a check with valid credentials. */
    private boolean onValidCheck(TransportAddress from, TransportAddress to, boolean useCandidate) {
        counters.iceCheckAnswered();
        long now = System.nanoTime();
        LocalSide side = side(to);
        RemotePath path = side == null ? null : side.paths.get(plain(from));
        if (path == null) {
            return true;
        }
        synchronized (this) {
            if (closed) {
                return true;
            }
            path.verified = true;
            path.lastCheckNanos = now;
            path.lastReceiveNanos = now;
            path.lastCheckMillis = System.currentTimeMillis();
            if (!path.checks.take(now)) {
                counters.drop(DropReason.ICE_RATE_LIMITED);
                penalize(path, now);
                return true;
            }
            if (selected == null || useCandidate && selected != path) {
                LOG.debug("{}: media now goes to {}{}", local.ufrag(), path.remote, useCandidate ? " (nominated)" : "");
                select(path, now);
            }
            expireStalePaths(now);
        }
        return true;
    }

    /** The remote address of {@code path} went over its rate: all its pairs go, on every local address. */
    private void penalize(RemotePath path, long now) {
        if (penalizedUntil.size() >= MAX_PENALIZED) {
            penalizedUntil.values().removeIf(until -> now - until >= 0);
        }
        if (penalizedUntil.size() < MAX_PENALIZED) {
            penalizedUntil.put(path.remote, now + PENALTY.toNanos());
        }
        List<RemotePath> dropped = new ArrayList<>();
        for (LocalSide side : sides) {
            RemotePath pair = side.paths.remove(path.remote);
            if (pair != null) {
                dropped.add(pair);
            }
        }
        if (dropped.contains(selected)) {
            selected = mostRecentlyChecked();
        }
        // At once, so that nothing more from it reaches the STUN stack (this request included).
        for (RemotePath pair : dropped) {
            closeNow(pair);
        }
    }

    /** Drops pairs that stopped checking (never the selected one: its silence is lost consent). */
    private void expireStalePaths(long now) {
        for (LocalSide side : sides) {
            for (Iterator<RemotePath> it = side.paths.values().iterator(); it.hasNext(); ) {
                RemotePath path = it.next();
                if (path == selected) {
                    continue;
                }
                boolean stale = path.verified
                        ? now - path.lastCheckNanos > consentTimeoutNanos
                        : now - path.openedNanos > UNVERIFIED_TIMEOUT.toNanos();
                if (stale) {
                    it.remove();
                    closeLater(path);
                }
            }
        }
    }

    private RemotePath mostRecentlyChecked() {
        RemotePath best = null;
        for (LocalSide side : sides) {
            for (RemotePath path : side.paths.values()) {
                if (path.verified && (best == null || path.lastCheckNanos - best.lastCheckNanos > 0)) {
                    best = path;
                }
            }
        }
        return best;
    }

    /** The local side a datagram or check arrived on, by the local address ice4j recorded (no allocation). */
    private LocalSide side(SocketAddress local) {
        if (local == null) {
            return null;
        }
        for (LocalSide side : sides) {
            if (side.address.equals(local)) {
                return side;
            }
        }
        return null;
    }

    private LocalSide side(SharedUdpPort port) {
        for (LocalSide side : sides) {
            if (side.port == port) {
                return side;
            }
        }
        return null;
    }

    /** Caller holds the lock. */
    private boolean holdsRemote(InetSocketAddress remote) {
        for (LocalSide side : sides) {
            if (side.paths.containsKey(remote)) {
                return true;
            }
        }
        return false;
    }

    /** Distinct remote addresses held; caller holds the lock. */
    private int remoteCount() {
        int count = 0;
        for (int i = 0; i < sides.length; i++) {
            for (InetSocketAddress remote : sides[i].paths.keySet()) {
                boolean seenBefore = false;
                for (int j = 0; j < i && !seenBefore; j++) {
                    seenBefore = sides[j].paths.containsKey(remote);
                }
                if (!seenBefore) {
                    count++;
                }
            }
        }
        return count;
    }

    /** The check rate of a remote address, shared by its pairs; caller holds the lock. */
    private TokenBucket checksOf(InetSocketAddress remote) {
        for (LocalSide side : sides) {
            RemotePath pair = side.paths.get(remote);
            if (pair != null) {
                return pair.checks;
            }
        }
        return new TokenBucket(CHECKS_PER_SECOND, CHECK_BURST);
    }

    /**
     * Closes the port's socket for an address (later, so that a request being answered on it still gets its
     * answer); the port then treats the address as new again.
     */
    private void closeLater(RemotePath path) {
        LATER.execute(() -> closeNow(path));
    }

    private void closeNow(RemotePath path) {
        if (!closed) {
            // After close(), the agent has let go of every socket itself.
            agent.getStunStack().removeSocket(path.side.transportAddress,
                    new TransportAddress(path.remote.getAddress(), path.remote.getPort(), Transport.UDP));
        }
        path.socket.close();
    }

    private static InetSocketAddress plain(InetSocketAddress address) {
        return address.getClass() == InetSocketAddress.class
                ? address : new InetSocketAddress(address.getAddress(), address.getPort());
    }

    /** A candidate pair as seen from outside: the server's local address and the remote address. */
    public record Pair(InetSocketAddress local, InetSocketAddress remote) {
    }

    /** One local address: its port and the pairs on it, by remote address. */
    private static final class LocalSide {
        final SharedUdpPort port;
        /** As ice4j records it in each buffer the port reads. */
        final InetSocketAddress address;
        final TransportAddress transportAddress;
        final Map<InetSocketAddress, RemotePath> paths = new ConcurrentHashMap<>();

        LocalSide(SharedUdpPort port) {
            this.port = port;
            this.address = port.boundAddress();
            this.transportAddress = port.getLocalAddress();
        }
    }

    /**
     * One candidate pair: a remote address the session heard from on one local address, with that port's socket that
     * sends to it (from that local address).
     */
    private static final class RemotePath {
        final LocalSide side;
        final InetSocketAddress remote;
        final DatagramSocket socket;
        final long openedNanos;
        /** Shared by all pairs of the remote address. */
        final TokenBucket checks;
        volatile boolean verified;
        volatile long lastCheckNanos;
        volatile long lastCheckMillis;
        /** Any datagram, check or media; written by the port's reader and the STUN stack. */
        volatile long lastReceiveNanos;

        RemotePath(LocalSide side, InetSocketAddress remote, DatagramSocket socket, TokenBucket checks,
                   long openedNanos) {
            this.side = side;
            this.remote = remote;
            this.socket = socket;
            this.checks = checks;
            this.openedNanos = openedNanos;
        }
    }

    /** A rate with a burst; callers hold the session's lock. */
    private static final class TokenBucket {
        private final double perNano;
        private final double burst;
        private double tokens;
        private long last = System.nanoTime();

        TokenBucket(int perSecond, int burst) {
            this.perNano = perSecond / 1e9;
            this.burst = burst;
            this.tokens = burst;
        }

        boolean take(long now) {
            tokens = Math.min(burst, tokens + (now - last) * perNano);
            last = now;
            if (tokens < 1) {
                return false;
            }
            tokens--;
            return true;
        }
    }

    /**
     * Answers checks that carry the credentials an ICE restart replaced, while they are still valid: ice4j's own
     * check server knows only the agent's current ones. As a credentials authority it lets the STUN stack verify
     * such requests (USERNAME, MESSAGE-INTEGRITY) and sign their answers.
     */
    private final class PreviousCredentials implements CredentialsAuthority, RequestListener {
        private Credentials valid(String username) {
            Credentials old = previous;
            if (old == null || username == null) {
                return null;
            }
            if (System.nanoTime() - previousUntilNanos > 0) {
                previous = null;
                return null;
            }
            int colon = username.indexOf(':');
            return (colon < 0 ? username : username.substring(0, colon)).equals(old.ufrag()) ? old : null;
        }

        @Override
        public boolean checkLocalUserName(String username) {
            return valid(username) != null;
        }

        @Override
        public byte[] getLocalKey(String username) {
            Credentials old = valid(username);
            return old == null ? null : old.password().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] getRemoteKey(String username, String media) {
            return null;
        }

        @Override
        public void processRequest(StunMessageEvent event) {
            if (!(event.getMessage() instanceof Request request)
                    || !(request.getAttribute(Attribute.USERNAME) instanceof UsernameAttribute username)) {
                return;
            }
            String name = new String(username.getUsername(), StandardCharsets.UTF_8);
            if (valid(name) == null) {
                return;
            }
            // Keeps consent on the path, never nominates: the restart's own checks decide where media goes.
            onValidCheck(event.getRemoteAddress(), event.getLocalAddress(), false);
            Response response = MessageFactory.createBindingResponse(request, event.getRemoteAddress());
            response.putAttribute(AttributeFactory.createUsernameAttribute(username.getUsername()));
            response.putAttribute(AttributeFactory.createMessageIntegrityAttribute(name));
            try {
                agent.getStunStack().sendResponse(event.getTransactionID().getBytes(), response,
                        event.getLocalAddress(), event.getRemoteAddress());
            } catch (Exception e) {
                LOG.debug("{}: cannot answer a check with the previous credentials", local.ufrag(), e);
            }
        }
    }

    /**
     * ice4j's agent with its answer to checks replaced: no check lists, no pairs, no 403 after it "terminates"; and
     * with the session's current credentials, which its STUN stack checks requests against (ice4j's own are fixed
     * at creation).
     */
    private final class LiteAgent extends Agent {
        String originalUfrag() {
            return super.getLocalUfrag();
        }

        String originalPassword() {
            return super.getLocalPassword();
        }

        @Override
        public String getLocalUfrag() {
            Credentials current = local;
            return current == null ? super.getLocalUfrag() : current.ufrag();
        }

        @Override
        public String getLocalPassword() {
            Credentials current = local;
            return current == null ? super.getLocalPassword() : current.password();
        }

        @Override
        protected boolean incomingCheckReceived(TransportAddress remoteAddress, TransportAddress localAddress,
                                                long priority, String remoteUfrag, String localUfrag,
                                                boolean useCandidate) {
            // ice4j's check server passes only checks with the current credentials: a restart has completed.
            previous = null;
            return onValidCheck(remoteAddress, localAddress, useCandidate);
        }
    }
}
