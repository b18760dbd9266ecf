package dev.parley.media.ice;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.TestMedia;
import dev.parley.media.metrics.MediaCounters;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The load generator's ICE client against the real ICE-lite server, on loopback. */
class IceLoadClientTest {
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private InetAddress loopback;
    private SharedUdpPort port;
    private IceLiteSession server;

    @BeforeEach
    void setUp() throws Exception {
        loopback = InetAddress.getByName("127.0.0.1");
        port = new SharedUdpPort(new InetSocketAddress(loopback, 0), LOOPBACK, new MediaCounters());
        toClose.add(port::close);
        server = IceLiteSession.open(List.of(port), null, new MediaCounters(), Duration.ofSeconds(30));
        toClose.add(server);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void clientsOnOneSharedReaderConnectAndCarryMediaBothWays() throws Exception {
        ClientSockets sockets = new ClientSockets("test-clients", 1, Duration.ofSeconds(5));
        toClose.add(sockets);
        IceLoadClient client = sockets.open(loopback, LOOPBACK);
        toClose.add(client);
        BlockingQueue<byte[]> atClient = new ArrayBlockingQueue<>(10);
        BlockingQueue<byte[]> atServer = new ArrayBlockingQueue<>(10);
        client.receiveWith((buffer, nanos) -> {
            atClient.offer(Arrays.copyOfRange(buffer.getBuffer(), buffer.getOffset(),
                    buffer.getOffset() + buffer.getLength()));
            IceTransport.release(buffer);
        });
        server.receiveWith((buffer, nanos) -> {
            atServer.offer(Arrays.copyOfRange(buffer.getBuffer(), buffer.getOffset(),
                    buffer.getOffset() + buffer.getLength()));
            IceTransport.release(buffer);
        });
        server.start(client.localUfrag(), client.localPassword(), client.localCandidates());
        client.start(server.localUfrag(), server.localPassword(), server.localCandidates());
        assertTrue(TestMedia.eventually(TestMedia.WAIT, () -> client.isConnected() && server.isConnected()),
                "both sides connected");
        assertTrue(client.lastConsent() > 0, "the nominating check's answer counts as consent");

        byte[] media = {(byte) 0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 42};
        server.send(new DatagramPacket(media, media.length));
        assertArrayEquals(media, atClient.poll(5, TimeUnit.SECONDS), "server to client, through the shared reader");
        client.send(new DatagramPacket(media, media.length));
        assertArrayEquals(media, atServer.poll(5, TimeUnit.SECONDS), "client to server");
        assertTrue(atClient.isEmpty(), "STUN answers never reach the media receiver");
    }

    @Test
    void onlyAnAnswerToTheSameCheckSignedWithTheServersPasswordCounts() throws Exception {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(loopback, 0));
        toClose.add(socket);
        server.start("clientufrag", "clientpasswordclientpassword", List.of());
        byte[] request = ControllingCheck.request(server.localUfrag(), "clientufrag", server.localPassword(), true);
        socket.send(new DatagramPacket(request, request.length, port.boundAddress()));
        byte[] response = new byte[1500];
        DatagramPacket packet = new DatagramPacket(response, response.length);
        socket.setSoTimeout(5000);
        socket.receive(packet);
        assertNotNull(packet.getData());
        assertTrue(ControllingCheck.isVerifiedSuccess(response, packet.getLength(), request, server.localPassword()));
        assertFalse(ControllingCheck.isVerifiedSuccess(response, packet.getLength(), request, "another-password-here"),
                "signed with another password");
        byte[] other = ControllingCheck.request(server.localUfrag(), "clientufrag", server.localPassword(), true);
        assertFalse(ControllingCheck.isVerifiedSuccess(response, packet.getLength(), other, server.localPassword()),
                "an answer to another check");
        response[26] ^= 1;
        assertFalse(ControllingCheck.isVerifiedSuccess(response, packet.getLength(), request, server.localPassword()),
                "a tampered answer");
    }
}
