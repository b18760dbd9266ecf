package dev.parley.media.ice;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.ice.harvest.SinglePortUdpHarvester;
import org.ice4j.util.Buffer;

/**
 * The one UDP port all endpoints share on one local address, read by one ice4j thread in push mode. A datagram from
 * a remote address the port does not know yet is admitted only if it is a STUN binding request whose username names
 * a live session, from an address inside the allowed networks, and the session takes it (its limit on addresses and
 * their rate); every refusal is counted. The port's socket for a remote address is one candidate pair of the session
 * (this port's local address and that remote address); the same remote address may hold a pair on each of the
 * session's other ports too.
 */
public final class SharedUdpPort extends SinglePortUdpHarvester {
    static {
        ReceiveBuffers.install();
    }

    private final AllowedNetworks allowed;
    private final MediaCounters counters;
    private final Map<String, IceLiteSession> sessions = new ConcurrentHashMap<>();

    public SharedUdpPort(InetSocketAddress bind, AllowedNetworks allowed, MediaCounters counters) throws IOException {
        super(new TransportAddress(bind.getAddress(), bind.getPort(), Transport.UDP));
        this.allowed = allowed;
        this.counters = counters;
    }

    void register(String localUfrag, IceLiteSession session) {
        sessions.put(localUfrag, session);
    }

    void unregister(String localUfrag, IceLiteSession session) {
        sessions.remove(localUfrag, session);
    }

    @Override
    protected MySocket maybeAcceptNewSession(Buffer buf, InetSocketAddress remoteAddress, String ufrag) {
        if (!allowed.allows(remoteAddress.getAddress())) {
            counters.drop(DropReason.REMOTE_NOT_ALLOWED);
            return null;
        }
        IceLiteSession session = sessions.get(ufrag);
        if (session == null) {
            counters.drop(DropReason.STUN_UNKNOWN_UFRAG);
            return null;
        }
        if (!session.admit(remoteAddress)) {
            return null;
        }
        // ice4j knows the session's candidate by its first ufrag; after an ICE restart checks carry a newer one.
        MySocket socket = super.maybeAcceptNewSession(buf, remoteAddress, session.harvestedUfrag());
        if (socket == null) {
            counters.drop(DropReason.STUN_UNKNOWN_UFRAG);
            return null;
        }
        session.pathOpened(this, remoteAddress, socket);
        return socket;
    }

    public InetSocketAddress boundAddress() {
        TransportAddress local = getLocalAddress();
        return new InetSocketAddress(local.getAddress(), local.getPort());
    }
}
