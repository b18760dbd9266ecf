package dev.parley.media.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.MediaWorkers;
import dev.parley.media.transport.SecureTransport;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server's ICE-lite behaviour against a controlling agent: the media server's own client (a full ice4j agent)
 * connects on address A, then checks arrive from new addresses the way a browser's TURN relay or new NAT mapping
 * sends them.
 */
class IceLiteTest {
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private static final long SSRC = 0x1234_5678L;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private InetAddress loopback;
    private MediaCounters counters;
    private MediaWorkers workers;

    @BeforeEach
    void setUp() throws Exception {
        loopback = InetAddress.getByName("127.0.0.1");
        counters = new MediaCounters();
        workers = close(new MediaWorkers("test", 2, Duration.ofMillis(50), counters));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** The media server's own client connected to a server transport on address A. */
    private record Call(SharedUdpPort port, IceLiteSession serverIce, IceClientSession clientIce,
                        SecureTransport server, SecureTransport client, BlockingQueue<byte[]> atClient,
                        InetSocketAddress addressA, Collect atServer) {
    }

    private Call connect() throws Exception {
        SharedUdpPort port = port(LOOPBACK);
        IceLiteSession serverIce = IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(30));
        IceClientSession clientIce = IceClientSession.open(loopback, LOOPBACK);
        DtlsIdentity serverId = DtlsIdentity.generate();
        DtlsIdentity clientId = DtlsIdentity.generate();
        SecureTransport server = close(new SecureTransport("s", serverIce, serverId,
                List.of(SrtpProfile.AEAD_AES_128_GCM), counters, workers.assign()));
        SecureTransport client = close(new SecureTransport("c", clientIce, clientId,
                List.of(SrtpProfile.AEAD_AES_128_GCM), new MediaCounters(), workers.assign()));
        BlockingQueue<byte[]> atClient = new ArrayBlockingQueue<>(100);
        Collect atServer = new Collect(new ArrayBlockingQueue<>(100));
        server.start(SecureTransport.DtlsRole.SERVER, clientId.fingerprint(), clientIce.localUfrag(),
                clientIce.localPassword(), List.of(), atServer);
        client.start(SecureTransport.DtlsRole.CLIENT, serverId.fingerprint(), serverIce.localUfrag(),
                serverIce.localPassword(), serverIce.localCandidates(), new Collect(atClient));
        waitUntil("DTLS on both sides", () -> client.isSecure() && server.isSecure());
        InetSocketAddress addressA = (InetSocketAddress) clientIce.hostSocket().getLocalSocketAddress();
        assertEquals(addressA, serverIce.remoteAddress());
        assertNotNull(roundTrip(server, atClient, 1), "the client decrypts what the server sends on A");
        return new Call(port, serverIce, clientIce, server, client, atClient, addressA, atServer);
    }

    @Test
    void mediaMovesToTheAddressNominatedLastAndBackWithoutANewHandshake() throws Exception {
        Call call = connect();
        SharedUdpPort port = call.port();
        IceLiteSession serverIce = call.serverIce();
        IceClientSession clientIce = call.clientIce();
        SecureTransport server = call.server();
        BlockingQueue<byte[]> atClient = call.atClient();
        InetSocketAddress addressA = call.addressA();

        // Pair B: a new address nominates. The server answers with success and sends media there.
        DatagramSocket socketB = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        InetSocketAddress addressB = (InetSocketAddress) socketB.getLocalSocketAddress();
        InetSocketAddress serverAddress = port.boundAddress();
        ControllingCheck.Answer answer = ControllingCheck.send(socketB, serverAddress, ControllingCheck.request(
                serverIce.localUfrag(), clientIce.localUfrag(), serverIce.localPassword(), true), 2_000);
        assertNotNull(answer, "the check from B is answered");
        assertTrue(answer.success(), "the check from B is answered with success, not " + answer.errorCode());
        assertEquals(addressB, answer.mapped(), "XOR-MAPPED-ADDRESS is B as the server saw it");
        assertEquals(addressB, serverIce.remoteAddress(), "B is now the path media is sent on");
        sendRtp(server, 2);
        byte[] atB = receive(socketB, 2_000);
        assertNotNull(atB, "media from the server arrives at B");
        assertEquals(SSRC, readSsrc(atB), "it is the server's SRTP packet for the same stream");

        // A check from a third address without USE-CANDIDATE is answered but moves nothing.
        DatagramSocket socketC = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        ControllingCheck.Answer fromC = ControllingCheck.send(socketC, serverAddress, ControllingCheck.request(
                serverIce.localUfrag(), clientIce.localUfrag(), serverIce.localPassword(), false), 2_000);
        assertTrue(fromC != null && fromC.success(), "a check without USE-CANDIDATE is answered with success");
        assertEquals(addressB, serverIce.remoteAddress(), "only a nomination moves the media");

        // Back to A (the client's own socket): media follows, and the client still decrypts it with the keys of the
        // first and only handshake.
        SrtpProfile before = server.profile();
        byte[] nominateA = ControllingCheck.request(serverIce.localUfrag(), clientIce.localUfrag(),
                serverIce.localPassword(), true);
        clientIce.hostSocket().send(new DatagramPacket(nominateA, nominateA.length, serverAddress));
        waitUntil("media to move back to A", () -> addressA.equals(serverIce.remoteAddress()));
        atClient.clear();
        assertNotNull(roundTrip(server, atClient, 3), "the client decrypts media on A again, no new handshake");
        assertSame(before, server.profile());
        assertNull(server.failure());
        assertTrue(counters.icePathSwitches() >= 3, "A, B, A: " + counters.icePathSwitches());
    }

    @Test
    void mediaFollowsTheBrowsersMediaToAnotherVerifiedAddressOnceTheSelectedOneFallsSilent() throws Exception {
        Call call = connect();
        IceLiteSession serverIce = call.serverIce();
        InetSocketAddress serverAddress = call.port().boundAddress();
        DatagramSocket socketB = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        ControllingCheck.Answer checked = ControllingCheck.send(socketB, serverAddress, ControllingCheck.request(
                serverIce.localUfrag(), call.clientIce().localUfrag(), serverIce.localPassword(), false), 2_000);
        assertTrue(checked != null && checked.success(), "B is a verified address, not nominated");
        byte[] media = {(byte) 0x80, 96, 0, 9, 0, 0, 0, 1, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 0};

        // While A keeps sending, media from B moves nothing.
        for (int i = 0; i < 10; i++) {
            sendRtp(call.client(), i);
            socketB.send(new DatagramPacket(media, media.length, serverAddress));
            Thread.sleep(50);
        }
        assertEquals(call.addressA(), serverIce.remoteAddress(), "A is alive: it stays selected");
        assertEquals(0, call.atServer().pathsRecovered().get());

        // A falls silent (a network that stopped passing it: here its agent stops); the media now comes from B.
        call.client().close();
        Thread.sleep(IceLiteSession.SILENCE.toMillis() + 300);
        assertEquals(call.addressA(), serverIce.remoteAddress(), "silence alone moves nothing");
        socketB.send(new DatagramPacket(media, media.length, serverAddress));
        waitUntil("media to follow to B", () -> addressB(socketB).equals(serverIce.remoteAddress()));
        waitUntil("the transport to hear of the recovered path (it asks for keyframes)",
                () -> call.atServer().pathsRecovered().get() == 1);
        sendRtp(call.server(), 5);
        assertNotNull(receive(socketB, 2_000), "the server's media goes to B");
    }

    /**
     * One remote address (a browser's host candidate) checks both of the server's local addresses on the same port,
     * and keeps checking both, as every full agent does: each is its own pair, neither replaces nor closes the other,
     * so media keeps flowing on the nominated pair well past the time a replacement would take; then the nomination
     * moves to the other pair and media (leaving from that local address) follows.
     */
    @Test
    void oneRemoteAddressCheckingTwoLocalAddressesHoldsTwoPairsAndMediaStaysOnTheNominatedOne() throws Exception {
        SharedUdpPort portA = port(LOOPBACK);
        InetAddress addressTwo = InetAddress.getByName("127.0.0.2");
        SharedUdpPort portB = new SharedUdpPort(new InetSocketAddress(addressTwo, portA.boundAddress().getPort()),
                LOOPBACK, counters);
        toClose.add(portB::close);
        InetSocketAddress localA = portA.boundAddress();
        InetSocketAddress localB = portB.boundAddress();
        IceLiteSession serverIce = IceLiteSession.open(List.of(portA, portB), null, counters, Duration.ofSeconds(30));
        assertEquals(2, serverIce.localCandidates().size(), "a host candidate per local address");
        DatagramSocket socket = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        InetSocketAddress remote = (InetSocketAddress) socket.getLocalSocketAddress();
        PairCheckingClient clientIce = close(new PairCheckingClient(socket, List.of(localA, localB), localA, 100));
        DtlsIdentity serverId = DtlsIdentity.generate();
        DtlsIdentity clientId = DtlsIdentity.generate();
        SecureTransport server = close(new SecureTransport("s", serverIce, serverId,
                List.of(SrtpProfile.AEAD_AES_128_GCM), counters, workers.assign()));
        SecureTransport client = close(new SecureTransport("c", clientIce, clientId,
                List.of(SrtpProfile.AEAD_AES_128_GCM), new MediaCounters(), workers.assign()));
        BlockingQueue<byte[]> atClient = new ArrayBlockingQueue<>(1000);
        BlockingQueue<byte[]> atServer = new ArrayBlockingQueue<>(1000);
        server.start(SecureTransport.DtlsRole.SERVER, clientId.fingerprint(), clientIce.localUfrag(),
                clientIce.localPassword(), List.of(), new Collect(atServer));
        client.start(SecureTransport.DtlsRole.CLIENT, serverId.fingerprint(), serverIce.localUfrag(),
                serverIce.localPassword(), serverIce.localCandidates(), new Collect(atClient));
        waitUntil("DTLS on both sides", () -> client.isSecure() && server.isSecure());
        waitUntil("both local addresses to answer the client's one address",
                () -> clientIce.answersFrom(localA) > 0 && clientIce.answersFrom(localB) > 0);
        // The first packet each way sets up its SRTP context (slow the first time in a JVM).
        assertNotNull(roundTrip(server, atClient, 1), "the client decrypts what the server sends");
        assertNotNull(roundTrip(client, atServer, 1), "the server decrypts what the client sends");
        assertEquals(localA, serverIce.localAddress(), "the nominated pair is selected");
        assertEquals(remote, serverIce.remoteAddress());
        long switches = counters.icePathSwitches();

        // Media both ways for longer than several rounds of checks to both pairs (ten a second): every second of it
        // arrives, the pairs stay as they are, and the server's media leaves from A only.
        int sequence = 1;
        for (int second = 0; second < 6; second++) {
            atClient.clear();
            atServer.clear();
            long end = System.currentTimeMillis() + 1_000;
            while (System.currentTimeMillis() < end) {
                sendRtp(server, ++sequence);
                sendRtp(client, sequence);
                Thread.sleep(20);
            }
            Thread.sleep(50);
            int sent = 1_000 / 20;
            assertTrue(atClient.size() >= sent / 2, "second " + second + ": the client decrypted only "
                    + atClient.size() + " of ~" + sent + " packets from the server (datagrams from A "
                    + clientIce.mediaFrom(localA) + ", from B " + clientIce.mediaFrom(localB) + ", send failures "
                    + counters.drops(DropReason.SEND_FAILED) + ", path switches " + counters.icePathSwitches()
                    + ", pairs " + serverIce.pairs() + ", drops " + drops() + ")");
            assertTrue(atServer.size() >= sent / 2, "second " + second + ": the server decrypted only "
                    + atServer.size() + " of ~" + sent + " packets from the client");
            assertEquals(List.of(new IceLiteSession.Pair(localA, remote), new IceLiteSession.Pair(localB, remote)),
                    sortedPairs(serverIce), "both pairs held, second " + second);
            assertEquals(localA, serverIce.localAddress(), "second " + second);
        }
        assertEquals(0, clientIce.mediaFrom(localB), "no media from the local address the client did not choose");
        assertEquals(switches, counters.icePathSwitches(), "no path changed under the media");
        assertEquals(0, counters.drops(DropReason.SEND_FAILED), "no send failed");
        assertEquals(0, counters.drops(DropReason.ICE_UNVERIFIED_ADDRESS), "every datagram found its pair");

        // The client moves its nomination (and its media) to B: the server's media follows, from B.
        clientIce.nominate(localB);
        waitUntil("media to move to the pair on B", () -> localB.equals(serverIce.localAddress()));
        int fromABefore = clientIce.mediaFrom(localA);
        atClient.clear();
        atServer.clear();
        for (int i = 0; i < 50; i++) {
            sendRtp(server, ++sequence);
            sendRtp(client, sequence);
            Thread.sleep(20);
        }
        Thread.sleep(50);
        assertTrue(atClient.size() >= 25, "the client decrypts media from B: " + atClient.size() + " (datagrams from B "
                + clientIce.mediaFrom(localB) + ", from A " + clientIce.mediaFrom(localA) + "; at the server "
                + atServer.size() + ", send failures " + counters.drops(DropReason.SEND_FAILED) + ")");
        assertTrue(atServer.size() >= 25, "the server decrypts media the client sends to B: " + atServer.size());
        assertTrue(clientIce.mediaFrom(localB) >= 25, "media leaves from B: " + clientIce.mediaFrom(localB));
        assertEquals(fromABefore, clientIce.mediaFrom(localA), "nothing more leaves from A");
        assertEquals(2, serverIce.pairs().size(), "A's pair stays, unselected: " + serverIce.pairs());
        assertNull(server.failure());
    }

    private String drops() {
        StringBuilder out = new StringBuilder();
        for (DropReason reason : DropReason.values()) {
            if (counters.drops(reason) > 0) {
                out.append(reason).append('=').append(counters.drops(reason)).append(' ');
            }
        }
        return out.toString();
    }

    private static List<IceLiteSession.Pair> sortedPairs(IceLiteSession session) {
        List<IceLiteSession.Pair> pairs = new ArrayList<>(session.pairs());
        pairs.sort(Comparator.comparing(pair -> pair.local().getAddress().getHostAddress()));
        return pairs;
    }

    private static InetSocketAddress addressB(DatagramSocket socket) {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    @Test
    void aCheckWithTheWrongPasswordIsRefusedWith401AndMovesNothing() throws Exception {
        SharedUdpPort port = port(LOOPBACK);
        IceLiteSession serverIce = close(IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(30)));
        serverIce.start("client", "client-password-0123456789", List.of());
        DatagramSocket socket = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        ControllingCheck.Answer answer = ControllingCheck.send(socket, port.boundAddress(), ControllingCheck.request(
                serverIce.localUfrag(), "client", "not-the-password-0123456", true), 700);
        // RFC 5389 §10.1.2: a request whose MESSAGE-INTEGRITY is wrong gets 401 Unauthorized.
        assertNotNull(answer);
        assertEquals(401, answer.errorCode(), "a check that fails MESSAGE-INTEGRITY is refused");
        assertNull(serverIce.remoteAddress());
        assertTrue(!serverIce.isConnected());
    }

    @Test
    void holdsAtMostSixteenRemoteAddressesAtOnce() throws Exception {
        SharedUdpPort port = port(LOOPBACK);
        IceLiteSession serverIce = close(IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(30)));
        int answered = 0;
        for (int i = 0; i < IceLiteSession.MAX_REMOTE_ADDRESSES + 4; i++) {
            DatagramSocket socket = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
            ControllingCheck.Answer answer = ControllingCheck.send(socket, port.boundAddress(),
                    ControllingCheck.request(serverIce.localUfrag(), "client", serverIce.localPassword(), false), 500);
            if (answer != null) {
                assertTrue(answer.success(), "never an error for valid credentials: " + answer.errorCode());
                answered++;
            }
        }
        assertEquals(IceLiteSession.MAX_REMOTE_ADDRESSES, answered);
        assertEquals(IceLiteSession.MAX_REMOTE_ADDRESSES, serverIce.remoteAddresses().size());
        assertEquals(4, counters.drops(DropReason.ICE_TOO_MANY_ADDRESSES));
    }

    /** The limit counts remote addresses: each holds a pair on every local address, a seventeenth gets none. */
    @Test
    void sixteenRemoteAddressesHoldAPairOnEachLocalAddress() throws Exception {
        SharedUdpPort portA = port(LOOPBACK);
        SharedUdpPort portB = new SharedUdpPort(new InetSocketAddress(InetAddress.getByName("127.0.0.2"),
                portA.boundAddress().getPort()), LOOPBACK, counters);
        toClose.add(portB::close);
        IceLiteSession serverIce = close(IceLiteSession.open(List.of(portA, portB), null, counters,
                Duration.ofSeconds(30)));
        int answered = 0;
        for (int i = 0; i < IceLiteSession.MAX_REMOTE_ADDRESSES + 1; i++) {
            DatagramSocket socket = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
            for (SharedUdpPort port : List.of(portA, portB)) {
                ControllingCheck.Answer answer = ControllingCheck.send(socket, port.boundAddress(),
                        ControllingCheck.request(serverIce.localUfrag(), "client", serverIce.localPassword(), false),
                        500);
                if (answer != null) {
                    assertTrue(answer.success(), "never an error for valid credentials: " + answer.errorCode());
                    answered++;
                }
            }
        }
        assertEquals(2 * IceLiteSession.MAX_REMOTE_ADDRESSES, answered, "sixteen addresses, each on both");
        assertEquals(IceLiteSession.MAX_REMOTE_ADDRESSES, serverIce.remoteAddresses().size());
        assertEquals(2 * IceLiteSession.MAX_REMOTE_ADDRESSES, serverIce.pairs().size());
        assertEquals(2, counters.drops(DropReason.ICE_TOO_MANY_ADDRESSES), "the seventeenth, on each local address");
    }

    @Test
    void anAddressThatFloodsChecksIsIgnoredForAWhile() throws Exception {
        SharedUdpPort port = port(LOOPBACK);
        IceLiteSession serverIce = close(IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(30)));
        DatagramSocket socket = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        int sent = 400;
        long started = System.nanoTime();
        for (int i = 0; i < sent; i++) {
            byte[] request = ControllingCheck.request(serverIce.localUfrag(), "client", serverIce.localPassword(),
                    true);
            socket.send(new DatagramPacket(request, request.length, port.boundAddress()));
        }
        int answers = 0;
        long lastAnswer = started;
        while (receive(socket, 1_000) != null) {
            answers++;
            lastAnswer = System.nanoTime();
        }
        // The burst, plus what the rate refills while the server works through the flood (slower on a busy machine),
        // plus the checks already inside ice4j's STUN stack when the penalty fell (16 seen on an idle machine): the
        // penalty closes the path's socket at once, but what the stack has taken in is still answered.
        double seconds = (lastAnswer - started) / 1e9;
        assertTrue(answers <= IceLiteSession.CHECK_BURST + IceLiteSession.CHECKS_PER_SECOND * seconds + 32,
                answers + " of " + sent + " checks answered in " + seconds + " s");
        assertTrue(answers > 0);
        assertTrue(counters.drops(DropReason.ICE_RATE_LIMITED) > 0);
        ControllingCheck.Answer during = ControllingCheck.send(socket, port.boundAddress(), ControllingCheck.request(
                serverIce.localUfrag(), "client", serverIce.localPassword(), true), 300);
        assertNull(during, "nothing from the address is answered during its penalty");
        Thread.sleep(IceLiteSession.PENALTY.toMillis());
        ControllingCheck.Answer after = ControllingCheck.send(socket, port.boundAddress(), ControllingCheck.request(
                serverIce.localUfrag(), "client", serverIce.localPassword(), true), 2_000);
        assertTrue(after != null && after.success(), "answered again after the penalty");
    }

    @Test
    void checksFromOutsideTheAllowedNetworksAreNeverAnswered() throws Exception {
        SharedUdpPort port = port(new AllowedNetworks(List.of(Cidr.parse("127.0.0.1/32"))));
        IceLiteSession serverIce = close(IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(30)));
        DatagramSocket outside = close(new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.2"),
                0)));
        ControllingCheck.Answer answer = ControllingCheck.send(outside, port.boundAddress(), ControllingCheck.request(
                serverIce.localUfrag(), "client", serverIce.localPassword(), true), 700);
        assertNull(answer);
        assertEquals(1, counters.drops(DropReason.REMOTE_NOT_ALLOWED));
        assertNull(serverIce.remoteAddress());
    }

    private SharedUdpPort port(AllowedNetworks allowed) throws Exception {
        SharedUdpPort port = new SharedUdpPort(new InetSocketAddress(loopback, 0), allowed, counters);
        toClose.add(port::close);
        return port;
    }

    private <T extends AutoCloseable> T close(T resource) {
        toClose.add(resource);
        return resource;
    }

    /** Sends RTP from the server until the client's listener has it. */
    private static byte[] roundTrip(SecureTransport server, BlockingQueue<byte[]> atClient, int sequence)
            throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            sendRtp(server, sequence);
            byte[] got = atClient.poll(100, TimeUnit.MILLISECONDS);
            if (got != null) {
                return got;
            }
        }
        return null;
    }

    private static boolean sendRtp(SecureTransport transport, int sequence) {
        byte[] rtp = {(byte) 0x80, 96, (byte) (sequence >>> 8), (byte) sequence, 0, 0, 0, 1, 0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4, 5};
        PacketBuffer packet = new PacketBuffer();
        packet.copyFrom(rtp, 0, rtp.length);
        return transport.sendRtp(packet);
    }

    private static long readSsrc(byte[] packet) {
        return ((packet[8] & 0xffL) << 24) | ((packet[9] & 0xff) << 16) | ((packet[10] & 0xff) << 8)
                | (packet[11] & 0xff);
    }

    private static byte[] receive(DatagramSocket socket, int timeoutMillis) throws Exception {
        socket.setSoTimeout(timeoutMillis);
        byte[] buffer = new byte[1500];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        try {
            socket.receive(packet);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return Arrays.copyOf(buffer, packet.getLength());
    }

    private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private record Collect(BlockingQueue<byte[]> queue, AtomicInteger pathsRecovered)
            implements SecureTransport.Listener {
        Collect(BlockingQueue<byte[]> queue) {
            this(queue, new AtomicInteger());
        }

        @Override
        public boolean acceptsRtpSsrc(long ssrc) {
            return true;
        }

        @Override
        public void onPathRecovered() {
            pathsRecovered.incrementAndGet();
        }

        @Override
        public void onRtp(PacketBuffer packet) {
            queue.offer(Arrays.copyOfRange(packet.getBuffer(), packet.getOffset(),
                    packet.getOffset() + packet.getLength()));
        }

        @Override
        public void onRtcp(PacketBuffer packet) {
        }
    }
}
