package dev.parley.media.ice;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.ice4j.util.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's side of ICE, as an ICE-lite agent (RFC 8445 §2.5) on the shared UDP ports. The server never sends
 * checks: it answers every binding request with its ufrag and a valid MESSAGE-INTEGRITY with success, from any
 * admitted remote address, for as long as the session lives — peer-reflexive addresses such as a TURN relay or a new
 * NAT mapping included — and sends media to the address the controlling agent nominated last (USE-CANDIDATE), or to
 * the first address that checked until one is nominated; and when the selected address has gone silent for
 * {@link #SILENCE} while the browser's media arrives from another verified address, to that one (the browser has
 * moved; its nominating check follows at its own pace). DTLS and SRTP live above, in the transport, so a move
 * between addresses keeps them.
 *
 * <p>A path is a candidate pair: one of the server's local addresses (one shared port each) and one remote address,
 * made by the first valid check from that address to that port. A full agent checks every server candidate from
 * each of its own, so one remote address usually holds a pair on every local address; each pair has its own
 * consent and can be selected on its own, and media leaves from the local address of the selected pair. A datagram
 * belongs to the pair of the port that read it and the address it came from.
 *
 * <p>Bounded: at most {@link #MAX_REMOTE_ADDRESSES} remote addresses at once (each with at most one pair per local
 * address), each inside the allowed networks (the port checks); checks from new addresses are rate-limited per
 * session and checks per remote address, whatever local address they go to; a remote address over its rate is
 * ignored on every local address for {@link #PENALTY}. Answers go only to the address a check came from. A pair that
 * stops checking for the consent timeout (RFC 7675) is dropped; when the selected one does, consent is lost and the
 * endpoint expires.
 */
public final class IceLiteSession implements IceTransport {
    private static final Logger LOG = LoggerFactory.getLogger(IceLiteSession.class);

    /**
     * Remote addresses one session holds at once (host, server-reflexive, relays, new mappings). Each may hold one pair
     * per local address, so the pairs are at most this many times the number of local addresses.
     */
    public static final int MAX_REMOTE_ADDRESSES = 16;
    /**
     * Checks from addresses without a pair one session takes over its lifetime, per local address (a remote address
     * checks each of them); far above what network changes produce.
     */
    public static final int MAX_ADMISSIONS = 256;
    /**
     * Checks per second one remote address may send on average, to all local addresses together (a browser paces all
     * its checks together, a few a second once connected), and the burst above it.
     */
    public static final int CHECKS_PER_SECOND = 50;
    public static final int CHECK_BURST = 100;
    /** Checks from addresses without a pair one session takes per second, per local address, and the burst. */
    public static final int NEW_ADDRESSES_PER_SECOND = 8;
    public static final int NEW_ADDRESS_BURST = 16;
    /**
     * How long a remote address that went over its rate is ignored, on every local address (nothing from it is read
     * or answered).
     */
    public static final Duration PENALTY = Duration.ofSeconds(2);
    /**
     * How long the selected address must have sent nothing before media from another verified address moves the
     * media there; a browser in a call sends RTP or RTCP several times a second.
     */
    public static final Duration SILENCE = Duration.ofSeconds(1);
    private static final long SILENCE_NANOS = SILENCE.toNanos();
    private static final int MAX_PENALIZED = 64;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Thrown, not made, per datagram the port's send buffer had no room for (the transport counts it). */
    private static final IOException SEND_BUFFER_FULL = new IOException("the UDP port's send buffer is full");

    private final List<SharedUdpPort> ports;
    /** One per port, in the order of {@link #ports}. */
    private final LocalSide[] sides;
    private final MediaCounters counters;
    private final long consentTimeoutNanos;
    private final List<IceCandidate> advertised;
    /** The credentials checks must carry now; an ICE restart replaces them. */
    private volatile Credentials local;
    /**
     * The credentials an ICE restart replaced, still answered on pairs the session holds until the peer's first
     * check with the new ones, at most the consent timeout: the peer goes on checking with them until it has the
     * server's answer. Null when none.
     */
    private volatile Credentials previous;
    private volatile long previousUntilNanos;
    private volatile String remoteUfrag;
    private volatile String remotePassword;
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
        this.local = freshCredentials();
        this.advertised = advertise(this.ports, publicAddress);
        for (SharedUdpPort port : this.ports) {
            port.register(local.ufrag(), this);
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

    /** Host candidates (type preference 126, the first local address preferred), then server-reflexive ones. */
    private static List<IceCandidate> advertise(List<SharedUdpPort> ports, InetAddress publicAddress) {
        List<IceCandidate> candidates = new ArrayList<>();
        int index = 1;
        for (SharedUdpPort port : ports) {
            InetSocketAddress local = port.boundAddress();
            long priority = (126L << 24) | ((65535L - index + 1) << 8) | 255;
            candidates.add(new IceCandidate(Integer.toString(index++), 1, "udp", priority,
                    local.getAddress().getHostAddress(), local.getPort(), "host", null, 0));
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
        byte[] key() {
            return password.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** New credentials whose ufrag no other session on these ports checks with. */
    private Credentials freshCredentials() {
        while (true) {
            Credentials candidate = new Credentials(randomIceChars(8), randomIceChars(24));
            if (ports.stream().allMatch(port -> port.isFree(candidate.ufrag()))) {
                return candidate;
            }
        }
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
        return remoteUfrag;
    }

    public String remotePassword() {
        return remotePassword;
    }

    /**
     * ICE restart (RFC 8445 §9): new local credentials, and the peer's new ones. Checks with the new credentials are
     * answered from the addresses the session holds and from new ones; the old credentials are answered only on
     * pairs the session holds, and only until the first check with the new ones (the restart has completed) or for
     * the consent timeout at most. The selected path keeps carrying media meanwhile, so DTLS and SRTP go on.
     */
    public synchronized Credentials restart(String remoteUfrag, String remotePassword) {
        if (closed) {
            throw new IllegalStateException("ICE session closed");
        }
        Credentials replaced = local;
        Credentials next = freshCredentials();
        Credentials older = previous;
        previous = replaced;
        previousUntilNanos = System.nanoTime() + consentTimeoutNanos;
        local = next;
        this.remoteUfrag = remoteUfrag;
        this.remotePassword = remotePassword;
        for (SharedUdpPort port : ports) {
            port.register(next.ufrag(), this);
            if (older != null) {
                port.unregister(older.ufrag(), this);
            }
        }
        LOG.debug("{}: ICE restarted as {}", replaced.ufrag(), next.ufrag());
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
        this.remoteUfrag = remoteUfrag;
        this.remotePassword = remotePassword;
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
    public void send(ByteBuffer datagram) throws IOException {
        RemotePath path = selected;
        if (path == null || closed) {
            throw new IOException("no ICE path to send on yet");
        }
        if (!path.side.port.send(datagram, path.remote, path.nativeRemote)) {
            throw SEND_BUFFER_FULL;
        }
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        send(ByteBuffer.wrap(packet.getData(), packet.getOffset(), packet.getLength()));
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
                for (RemotePath path : side.paths.values()) {
                    remove(path);
                }
            }
            selected = null;
        }
        for (SharedUdpPort port : ports) {
            port.unregister(local.ufrag(), this);
            Credentials older = previous;
            if (older != null) {
                port.unregister(older.ufrag(), this);
            }
        }
    }

    // ---- called by the shared ports' readers

    /**
     * Answers a binding request whose USERNAME names one of this session's ufrags, read by {@code port} from
     * {@code remote}: writes the answer into {@code out} and returns its length, or 0 when it goes unanswered (every
     * such case is counted). A valid check opens the pair of the port's address and {@code remote} if the session's
     * limits allow, keeps consent on it, and selects it if it is the first or carries USE-CANDIDATE.
     */
    synchronized int answer(SharedUdpPort port, InetSocketAddress remote, String ufrag, BindingRequest check,
                            byte[] out) {
        LocalSide side = side(port);
        if (closed || side == null) {
            counters.drop(DropReason.STUN_UNKNOWN_UFRAG);
            return 0;
        }
        long now = System.nanoTime();
        RemotePath path = side.paths.get(remote);
        Credentials current = local;
        Credentials credentials = ufrag.equals(current.ufrag()) ? current : replacedStillValid(ufrag, now);
        if (credentials == null || credentials != current && path == null) {
            // The replaced credentials keep only pairs the session already holds.
            counters.drop(DropReason.STUN_UNKNOWN_UFRAG);
            return 0;
        }
        if (path == null && !admit(remote, now)) {
            return 0;
        }
        if (!check.hasIntegrity()) {
            counters.drop(DropReason.STUN_UNAUTHENTICATED);
            return check.writeError(out, 400, "Bad Request: no MESSAGE-INTEGRITY");
        }
        byte[] key = credentials.key();
        if (!check.integrityValid(key)) {
            counters.drop(DropReason.STUN_UNAUTHENTICATED);
            return check.writeError(out, 401, "Unauthorized");
        }
        if (!check.hasPriority()) {
            counters.drop(DropReason.STUN_MALFORMED);
            return check.writeError(out, 400, "Bad Request: no PRIORITY");
        }
        if (path == null) {
            path = new RemotePath(this, side, remote, checksOf(remote));
            side.paths.put(remote, path);
            port.route(remote, path);
        }
        if (!path.checks.take(now)) {
            counters.drop(DropReason.ICE_RATE_LIMITED);
            penalize(path, now);
            return 0;
        }
        if (credentials == current && previous != null) {
            restartCompleted();
        }
        path.lastCheckNanos = now;
        path.lastReceiveNanos = now;
        path.lastCheckMillis = System.currentTimeMillis();
        counters.iceCheckAnswered();
        // A check with the replaced credentials keeps consent on its pair but never nominates: the restart's own
        // checks decide where media goes.
        boolean nominated = check.useCandidate() && credentials == current;
        if (selected == null || nominated && selected != path) {
            LOG.debug("{}: media now goes to {}{}", current.ufrag(), remote, nominated ? " (nominated)" : "");
            select(path, now);
        }
        expireStalePaths(now);
        return check.writeSuccess(out, remote, key);
    }

    /** The replaced credentials, if {@code ufrag} is theirs and they are still answered; caller holds the lock. */
    private Credentials replacedStillValid(String ufrag, long now) {
        Credentials old = previous;
        if (old == null || !ufrag.equals(old.ufrag())) {
            return null;
        }
        if (now - previousUntilNanos > 0) {
            restartCompleted();
            return null;
        }
        return old;
    }

    /** The peer checks with the new credentials (or took too long to): the replaced ones are no longer answered. */
    private void restartCompleted() {
        Credentials old = previous;
        previous = null;
        if (old != null) {
            for (SharedUdpPort port : ports) {
                port.unregister(old.ufrag(), this);
            }
        }
    }

    /** Whether a remote address without a pair on some local address may open one; caller holds the lock. */
    private boolean admit(InetSocketAddress remote, long now) {
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
     * Push receive: a non-STUN datagram on one of this session's pairs, on the port's reader thread, goes to the
     * receiver (no allocation: it runs per packet).
     */
    private void received(RemotePath path, Buffer buffer, long arrivalNanos) {
        if (path.removed) {
            counters.drop(DropReason.ICE_UNVERIFIED_ADDRESS);
            ReceiveBuffers.release(buffer);
            return;
        }
        path.lastReceiveNanos = arrivalNanos;
        RemotePath current = selected;
        if (current != path && current != null && arrivalNanos - current.lastReceiveNanos > SILENCE_NANOS) {
            followMedia(path, arrivalNanos);
        }
        DatagramReceiver target = receiver;
        if (target == null || closed) {
            counters.drop(DropReason.TRANSPORT_NOT_STARTED);
            ReceiveBuffers.release(buffer);
            return;
        }
        target.received(buffer, arrivalNanos);
    }

    /**
     * The browser's media now comes on another of its verified pairs while the selected one has gone silent: it has
     * moved (its nominating check may be seconds away, browsers check a new path at their own pace), so media follows
     * at once. A browser sends media only on the pair it selected, and takes it on any of its pairs.
     */
    private synchronized void followMedia(RemotePath path, long now) {
        RemotePath current = selected;
        if (closed || current == path || path.removed
                || current != null && now - current.lastReceiveNanos <= SILENCE_NANOS) {
            return;
        }
        LOG.debug("{}: media now goes to {} (its media arrives there)", local.ufrag(), path.remote);
        select(path, now);
    }

    /** Caller holds the lock. */
    private void select(RemotePath path, long now) {
        RemotePath previousPath = selected;
        selected = path;
        counters.icePathSelected();
        if (previousPath != null && now - previousPath.lastReceiveNanos > SILENCE_NANOS) {
            CompletableFuture.runAsync(pathRecovered);
        }
    }

    /** The remote address of {@code path} went over its rate: all its pairs go, on every local address. */
    private void penalize(RemotePath path, long now) {
        if (penalizedUntil.size() >= MAX_PENALIZED) {
            penalizedUntil.values().removeIf(until -> now - until >= 0);
        }
        if (penalizedUntil.size() < MAX_PENALIZED) {
            penalizedUntil.put(path.remote, now + PENALTY.toNanos());
        }
        boolean lostSelected = false;
        for (LocalSide side : sides) {
            RemotePath pair = side.paths.get(path.remote);
            if (pair != null) {
                lostSelected |= pair == selected;
                remove(pair);
            }
        }
        if (lostSelected) {
            selected = mostRecentlyChecked();
        }
    }

    /** Drops pairs that stopped checking (never the selected one: its silence is lost consent). */
    private void expireStalePaths(long now) {
        for (LocalSide side : sides) {
            // The map is concurrent: removing while iterating is safe.
            for (RemotePath path : side.paths.values()) {
                if (path != selected && now - path.lastCheckNanos > consentTimeoutNanos) {
                    remove(path);
                }
            }
        }
    }

    /** Caller holds the lock. */
    private void remove(RemotePath path) {
        path.side.paths.remove(path.remote, path);
        path.removed = true;
        path.side.port.unroute(path.remote, path);
    }

    private RemotePath mostRecentlyChecked() {
        RemotePath best = null;
        for (LocalSide side : sides) {
            for (RemotePath path : side.paths.values()) {
                if (best == null || path.lastCheckNanos - best.lastCheckNanos > 0) {
                    best = path;
                }
            }
        }
        return best;
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

    /** A candidate pair as seen from outside: the server's local address and the remote address. */
    public record Pair(InetSocketAddress local, InetSocketAddress remote) {
    }

    /** One local address: its port and the pairs on it, by remote address. */
    private static final class LocalSide {
        final SharedUdpPort port;
        final InetSocketAddress address;
        final Map<InetSocketAddress, RemotePath> paths = new ConcurrentHashMap<>();

        LocalSide(SharedUdpPort port) {
            this.port = port;
            this.address = port.boundAddress();
        }
    }

    /**
     * One candidate pair: a remote address that sent a valid check to one local address. Its port routes the
     * address's datagrams to it.
     */
    static final class RemotePath {
        private final IceLiteSession session;
        final LocalSide side;
        final InetSocketAddress remote;
        /** {@link #remote} as the port's socket takes it in a batched send (null when the port does not batch). */
        final byte[] nativeRemote;
        /** Shared by all pairs of the remote address. */
        final TokenBucket checks;
        volatile long lastCheckNanos;
        volatile long lastCheckMillis;
        /** Any datagram, check or media; written by the port's reader. */
        volatile long lastReceiveNanos;
        /** Set once the session has let go of it (a datagram the port routed just before is dropped). */
        volatile boolean removed;

        private RemotePath(IceLiteSession session, LocalSide side, InetSocketAddress remote, TokenBucket checks) {
            this.session = session;
            this.side = side;
            this.remote = remote;
            this.nativeRemote = side.port.nativeAddress(remote);
            this.checks = checks;
        }

        /** A non-STUN datagram from {@link #remote} on this pair's port; whoever takes it gives the buffer back. */
        void received(Buffer buffer, long arrivalNanos) {
            session.received(this, buffer, arrivalNanos);
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
}
