package dev.parley.media.ice;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.ice4j.util.Buffer;

/**
 * A controlling agent with one host candidate on one UDP socket, as a browser's: it checks every server candidate
 * from that socket, again and again for as long as it runs (a full agent keeps checking the pairs it did not select),
 * with USE-CANDIDATE on the pair it nominated, and sends media to that pair only. What it receives is counted by
 * the server address it came from, so a test sees which of the server's local addresses media leaves from.
 */
final class PairCheckingClient implements IceTransport {
    private final DatagramSocket socket;
    private final List<InetSocketAddress> serverCandidates;
    private final int checkIntervalMillis;
    private final String localUfrag = UUID.randomUUID().toString().substring(0, 8);
    private final String localPassword = UUID.randomUUID().toString();
    private final Map<InetSocketAddress, AtomicInteger> answers = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, AtomicInteger> media = new ConcurrentHashMap<>();
    private volatile InetSocketAddress nominated;
    private volatile String serverUfrag;
    private volatile String serverPassword;
    private volatile boolean closed;
    private Thread checker;

    PairCheckingClient(DatagramSocket socket, List<InetSocketAddress> serverCandidates, InetSocketAddress nominated,
                       int checkIntervalMillis) {
        this.socket = socket;
        this.serverCandidates = List.copyOf(serverCandidates);
        this.nominated = nominated;
        this.checkIntervalMillis = checkIntervalMillis;
    }

    /** Moves the nomination (and the media it sends) to another server candidate. */
    void nominate(InetSocketAddress serverCandidate) {
        nominated = serverCandidate;
    }

    /** Successful check answers from {@code server}. */
    int answersFrom(InetSocketAddress server) {
        AtomicInteger count = answers.get(server);
        return count == null ? 0 : count.get();
    }

    /** Non-STUN datagrams received from {@code server}. */
    int mediaFrom(InetSocketAddress server) {
        AtomicInteger count = media.get(server);
        return count == null ? 0 : count.get();
    }

    @Override
    public String localUfrag() {
        return localUfrag;
    }

    @Override
    public String localPassword() {
        return localPassword;
    }

    @Override
    public List<IceCandidate> localCandidates() {
        return List.of();
    }

    @Override
    public void start(String remoteUfrag, String remotePassword, List<IceCandidate> remoteCandidates) {
        serverUfrag = remoteUfrag;
        serverPassword = remotePassword;
        checker = new Thread(this::checkAll, "pair-checks");
        checker.setDaemon(true);
        checker.start();
    }

    private void checkAll() {
        while (!closed) {
            try {
                for (InetSocketAddress server : serverCandidates) {
                    byte[] check = ControllingCheck.request(serverUfrag, localUfrag, serverPassword,
                            server.equals(nominated));
                    socket.send(new DatagramPacket(check, check.length, server));
                }
                Thread.sleep(checkIntervalMillis);
            } catch (IOException | InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public boolean isConnected() {
        return answersFrom(nominated) > 0;
    }

    @Override
    public boolean isFailed() {
        return false;
    }

    @Override
    public long lastConsent() {
        return 0;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return nominated;
    }

    @Override
    public void receiveWith(DatagramReceiver receiver) {
        Thread reader = new Thread(() -> read(receiver), "pair-checking-rx");
        reader.setDaemon(true);
        reader.start();
    }

    /** Counts STUN answers and media by source address and hands the media on, until closed. */
    private void read(DatagramReceiver receiver) {
        byte[] buffer = new byte[1500];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        try {
            socket.setSoTimeout(250);
        } catch (SocketException e) {
            return;
        }
        while (!closed) {
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                continue;
            } catch (IOException e) {
                return;
            }
            InetSocketAddress from = (InetSocketAddress) packet.getSocketAddress();
            // RFC 7983: a first byte of 0 or 1 is STUN.
            if (packet.getLength() >= 20 && (buffer[0] & 0xff) < 2) {
                byte[] stun = Arrays.copyOf(buffer, packet.getLength());
                try {
                    if (ControllingCheck.parse(stun).success()) {
                        answers.computeIfAbsent(from, k -> new AtomicInteger()).incrementAndGet();
                    }
                } catch (IOException e) {
                    // not an answer of ours
                }
                continue;
            }
            media.computeIfAbsent(from, k -> new AtomicInteger()).incrementAndGet();
            Buffer datagram = ReceiveBuffers.take(packet.getLength());
            System.arraycopy(buffer, 0, datagram.getBuffer(), 0, packet.getLength());
            datagram.setRemoteAddress(from);
            receiver.received(datagram, System.nanoTime());
        }
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        socket.send(new DatagramPacket(packet.getData(), packet.getOffset(), packet.getLength(), nominated));
    }

    @Override
    public void close() {
        closed = true;
        if (checker != null) {
            checker.interrupt();
        }
    }
}
