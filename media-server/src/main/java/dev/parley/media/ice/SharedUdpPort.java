package dev.parley.media.ice;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.ice.harvest.SinglePortUdpHarvester;
import org.ice4j.util.Buffer;

/**
 * The one UDP port all endpoints share on one local address. A session starts only with a STUN binding request
 * whose username names a live endpoint, from a remote address inside the allowed networks.
 */
public final class SharedUdpPort extends SinglePortUdpHarvester {
    private final AllowedNetworks allowed;
    private final MediaCounters counters;

    public SharedUdpPort(InetSocketAddress bind, AllowedNetworks allowed, MediaCounters counters) throws IOException {
        super(new TransportAddress(bind.getAddress(), bind.getPort(), Transport.UDP));
        this.allowed = allowed;
        this.counters = counters;
    }

    @Override
    protected MySocket maybeAcceptNewSession(Buffer buf, InetSocketAddress remoteAddress, String ufrag) {
        if (!allowed.allows(remoteAddress.getAddress())) {
            counters.drop(DropReason.REMOTE_NOT_ALLOWED);
            return null;
        }
        MySocket socket = super.maybeAcceptNewSession(buf, remoteAddress, ufrag);
        if (socket == null) {
            counters.drop(DropReason.STUN_UNKNOWN_UFRAG);
        }
        return socket;
    }

    public InetSocketAddress boundAddress() {
        TransportAddress local = getLocalAddress();
        return new InetSocketAddress(local.getAddress(), local.getPort());
    }
}
