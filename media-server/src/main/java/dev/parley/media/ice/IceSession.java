package dev.parley.media.ice;

import java.beans.PropertyChangeListener;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
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
import org.ice4j.socket.IceSocketWrapper;
import org.ice4j.socket.IceUdpSocketWrapper;
import org.ice4j.socket.MultiplexingDatagramSocket;

/**
 * One ICE agent with one stream and one component (BUNDLE and rtcp-mux), for either side: the server (controlled,
 * candidates on the shared UDP ports) or a client (controlling, one socket of its own).
 */
public final class IceSession implements AutoCloseable {
    private final Agent agent;
    private final IceMediaStream stream;
    private final Component component;
    private final AllowedNetworks allowed;
    private final List<IceCandidate> advertised;

    private IceSession(Agent agent, AllowedNetworks allowed, List<IceCandidate> extra) throws IOException {
        this.agent = agent;
        this.allowed = allowed;
        this.stream = agent.createMediaStream("media");
        this.component = agent.createComponent(stream, KeepAliveStrategy.SELECTED_ONLY, true);
        List<IceCandidate> candidates = new ArrayList<>();
        int index = 1;
        for (LocalCandidate local : component.getLocalCandidates()) {
            TransportAddress address = local.getTransportAddress();
            candidates.add(new IceCandidate(Integer.toString(index++), 1, "udp", local.getPriority(),
                    address.getHostAddress(), address.getPort(), "host", null, 0));
        }
        candidates.addAll(extra);
        this.advertised = List.copyOf(candidates);
    }

    /**
     * A server-side (controlled) session on the shared ports.
     *
     * @param publicAddress advertised as a server-reflexive candidate beside each host candidate, or null
     */
    public static IceSession server(List<SharedUdpPort> ports, InetAddress publicAddress, AllowedNetworks allowed)
            throws IOException {
        Agent agent = new Agent();
        agent.setUseDynamicPorts(false);
        agent.setControlling(false);
        agent.setPerformConsentFreshness(true);
        agent.setTrickling(false);
        for (SharedUdpPort port : ports) {
            agent.addCandidateHarvester(port);
        }
        List<IceCandidate> extra = new ArrayList<>();
        if (publicAddress != null) {
            int index = 100;
            for (SharedUdpPort port : ports) {
                InetSocketAddress local = port.boundAddress();
                long priority = (100L << 24) | (65535L << 8) | 255;
                extra.add(new IceCandidate(Integer.toString(index++), 1, "udp", priority,
                        publicAddress.getHostAddress(), local.getPort(), "srflx",
                        local.getAddress().getHostAddress(), local.getPort()));
            }
        }
        return new IceSession(agent, allowed, extra);
    }

    /** A client-side (controlling) session with its own socket on {@code bindAddress}. */
    public static IceSession client(InetAddress bindAddress, AllowedNetworks allowed) throws IOException {
        Agent agent = new Agent();
        agent.setUseDynamicPorts(false);
        agent.setControlling(true);
        agent.setPerformConsentFreshness(true);
        agent.setTrickling(false);
        agent.addCandidateHarvester(new OwnSocketHarvester(bindAddress));
        return new IceSession(agent, allowed, List.of());
    }

    public String localUfrag() {
        return agent.getLocalUfrag();
    }

    public String localPassword() {
        return agent.getLocalPassword();
    }

    public List<IceCandidate> localCandidates() {
        return advertised;
    }

    /** Sets the peer's credentials and candidates (those outside the allowed networks are ignored) and starts. */
    public int start(String remoteUfrag, String remotePassword, List<IceCandidate> remoteCandidates) {
        stream.setRemoteUfrag(remoteUfrag);
        stream.setRemotePassword(remotePassword);
        int accepted = 0;
        for (IceCandidate candidate : remoteCandidates) {
            InetAddress address = candidate.literalAddress();
            if (candidate.component() != 1 || !"udp".equals(candidate.transport()) || address == null
                    || !allowed.allows(address)) {
                continue;
            }
            CandidateType type = CandidateType.parse(candidate.type());
            component.addRemoteCandidate(new RemoteCandidate(
                    new TransportAddress(address, candidate.port(), Transport.UDP), component, type,
                    candidate.foundation(), candidate.priority(), null));
            accepted++;
        }
        agent.startConnectivityEstablishment();
        return accepted;
    }

    public void onStateChange(PropertyChangeListener listener) {
        agent.addStateChangeListener(listener);
    }

    public IceProcessingState state() {
        return agent.getState();
    }

    public boolean isConnected() {
        IceProcessingState state = agent.getState();
        return state == IceProcessingState.COMPLETED || state == IceProcessingState.TERMINATED
                && component.getSelectedPair() != null;
    }

    public boolean isFailed() {
        return agent.getState() == IceProcessingState.FAILED;
    }

    /** Milliseconds since the epoch of the last consent confirmation on the selected pair, or 0. */
    public long lastConsent() {
        CandidatePair pair = component.getSelectedPair();
        return pair == null ? 0 : pair.getConsentFreshness();
    }

    public InetSocketAddress remoteAddress() {
        CandidatePair pair = component.getSelectedPair();
        return pair == null ? null : pair.getRemoteCandidate().getTransportAddress();
    }

    /** The socket for application data (STUN is filtered out by ice4j). */
    public DatagramSocket socket() {
        return component.getSocket();
    }

    @Override
    public void close() {
        agent.free();
    }

    /** A host candidate on a socket of our own, because ice4j's host harvester skips loopback. */
    private static final class OwnSocketHarvester implements CandidateHarvester {
        private final InetAddress bindAddress;
        private final HarvestStatistics statistics = new HarvestStatistics();

        OwnSocketHarvester(InetAddress bindAddress) {
            this.bindAddress = bindAddress;
        }

        @Override
        public java.util.Collection<LocalCandidate> harvest(Component component) {
            try {
                IceSocketWrapper socket = new IceUdpSocketWrapper(new MultiplexingDatagramSocket(0, bindAddress));
                HostCandidate candidate = new HostCandidate(socket, component, Transport.UDP);
                component.addLocalCandidate(candidate);
                candidate.getStunStack().addSocket(candidate.getStunSocket(null));
                component.getComponentSocket().add(socket);
                return List.of(candidate);
            } catch (IOException e) {
                throw new IllegalStateException("cannot bind a client socket on " + bindAddress, e);
            }
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
