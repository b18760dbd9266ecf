package dev.parley.media.ice;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.ice.Agent;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.CandidateType;
import org.ice4j.ice.Component;
import org.ice4j.ice.HostCandidate;
import org.ice4j.ice.IceMediaStream;
import org.ice4j.ice.IceProcessingState;
import org.ice4j.ice.KeepAliveStrategy;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.ice.RemoteCandidate;
import org.ice4j.ice.harvest.CandidateHarvester;
import org.ice4j.ice.harvest.HarvestStatistics;
import org.ice4j.socket.IceUdpSocketWrapper;
import org.ice4j.socket.MultiplexingDatagramSocket;
import org.ice4j.util.Buffer;

/**
 * Parley's own client side of ICE (the load generator's endpoints, tests): a full, controlling ice4j agent with one
 * host candidate on a socket of its own. It checks the server's candidates, nominates the first pair that works and
 * keeps consent fresh on it (RFC 7675).
 */
public final class IceClientSession implements IceTransport {
    private final Agent agent;
    private final IceMediaStream stream;
    private final Component component;
    private final AllowedNetworks allowed;
    private final List<IceCandidate> advertised;
    private final MultiplexingDatagramSocket hostSocket;
    private Thread reader;
    private volatile boolean closed;

    private IceClientSession(InetAddress bindAddress, AllowedNetworks allowed) throws IOException {
        this.allowed = allowed;
        this.hostSocket = new MultiplexingDatagramSocket(0, bindAddress);
        this.agent = new Agent();
        agent.setUseDynamicPorts(false);
        agent.setControlling(true);
        agent.setPerformConsentFreshness(true);
        agent.setTrickling(false);
        agent.addCandidateHarvester(new OwnSocketHarvester(hostSocket));
        this.stream = agent.createMediaStream("media");
        this.component = agent.createComponent(stream, KeepAliveStrategy.SELECTED_ONLY, true);
        LocalCandidate local = component.getLocalCandidates().get(0);
        TransportAddress address = local.getTransportAddress();
        this.advertised = List.of(new IceCandidate("1", 1, "udp", local.getPriority(), address.getHostAddress(),
                address.getPort(), "host", null, 0));
    }

    /** A client with its own UDP socket on {@code bindAddress} (an ephemeral port). */
    public static IceClientSession open(InetAddress bindAddress, AllowedNetworks allowed) throws IOException {
        return new IceClientSession(bindAddress, allowed);
    }

    @Override
    public String localUfrag() {
        return agent.getLocalUfrag();
    }

    @Override
    public String localPassword() {
        return agent.getLocalPassword();
    }

    @Override
    public List<IceCandidate> localCandidates() {
        return advertised;
    }

    /** Sets the server's credentials and its candidates (those outside the allowed networks are ignored), and starts. */
    @Override
    public void start(String remoteUfrag, String remotePassword, List<IceCandidate> remoteCandidates) {
        stream.setRemoteUfrag(remoteUfrag);
        stream.setRemotePassword(remotePassword);
        for (IceCandidate candidate : remoteCandidates) {
            InetAddress address = candidate.literalAddress();
            if (candidate.component() != 1 || !"udp".equals(candidate.transport()) || address == null
                    || !allowed.allows(address)) {
                continue;
            }
            component.addRemoteCandidate(new RemoteCandidate(
                    new TransportAddress(address, candidate.port(), Transport.UDP), component,
                    CandidateType.parse(candidate.type()), candidate.foundation(), candidate.priority(), null));
        }
        agent.startConnectivityEstablishment();
    }

    /**
     * Takes the server's new credentials after an ICE restart: consent checks on the selected pair carry them from
     * now on. (ice4j's agent keeps its own credentials for life; a lite server never checks back, so it does not
     * notice.)
     */
    public void useRemoteCredentials(String remoteUfrag, String remotePassword) {
        stream.setRemoteUfrag(remoteUfrag);
        stream.setRemotePassword(remotePassword);
    }

    @Override
    public boolean isConnected() {
        IceProcessingState state = agent.getState();
        return state == IceProcessingState.COMPLETED
                || state == IceProcessingState.TERMINATED && component.getSelectedPair() != null;
    }

    @Override
    public boolean isFailed() {
        return agent.getState() == IceProcessingState.FAILED;
    }

    @Override
    public long lastConsent() {
        CandidatePair pair = component.getSelectedPair();
        return pair == null ? 0 : pair.getConsentFreshness();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        CandidatePair pair = component.getSelectedPair();
        return pair == null ? null : pair.getRemoteCandidate().getTransportAddress();
    }

    /**
     * Starts the client's reader: a thread of its own that takes each non-STUN datagram from the component's socket
     * (pull, as ice4j offers a full agent) and hands it to the receiver.
     */
    @Override
    public synchronized void receiveWith(DatagramReceiver receiver) {
        if (reader != null) {
            throw new IllegalStateException("the receiver is already set");
        }
        reader = new Thread(() -> read(receiver), "ice-client-rx-" + localUfrag());
        reader.setDaemon(true);
        reader.start();
    }

    private void read(DatagramReceiver receiver) {
        DatagramPacket packet = new DatagramPacket(new byte[0], 0);
        while (!closed) {
            Buffer buffer = ReceiveBuffers.take(ReceiveBuffers.SIZE);
            packet.setData(buffer.getBuffer(), 0, buffer.getBuffer().length);
            try {
                component.getSocket().receive(packet);
            } catch (IOException e) {
                ReceiveBuffers.release(buffer);
                if (closed || component.getSocket().isClosed()) {
                    return;
                }
                continue;
            }
            buffer.setOffset(packet.getOffset());
            buffer.setLength(packet.getLength());
            buffer.setRemoteAddress(packet.getSocketAddress());
            receiver.received(buffer, System.nanoTime());
        }
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        component.getSocket().send(packet);
    }

    /** The host candidate's own socket, for tests that play a peer sending from the same address. */
    DatagramSocket hostSocket() {
        return hostSocket;
    }

    @Override
    public void close() {
        closed = true;
        agent.free();
        component.getSocket().close();
        hostSocket.close();
    }

    /** A host candidate on a socket of our own, because ice4j's host harvester skips loopback. */
    private static final class OwnSocketHarvester implements CandidateHarvester {
        private final MultiplexingDatagramSocket socket;
        private final HarvestStatistics statistics = new HarvestStatistics();

        OwnSocketHarvester(MultiplexingDatagramSocket socket) {
            this.socket = socket;
        }

        @Override
        public Collection<LocalCandidate> harvest(Component component) {
            IceUdpSocketWrapper wrapper = new IceUdpSocketWrapper(socket);
            HostCandidate candidate = new HostCandidate(wrapper, component, Transport.UDP);
            component.addLocalCandidate(candidate);
            candidate.getStunStack().addSocket(candidate.getStunSocket(null));
            component.getComponentSocket().add(wrapper);
            return List.of(candidate);
        }

        @Override
        public boolean isHostHarvester() {
            return true;
        }

        @Override
        public HarvestStatistics getHarvestStatistics() {
            return statistics;
        }
    }
}
