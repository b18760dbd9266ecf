package dev.parley.media.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.TestMedia;
import dev.parley.media.dtls.DtlsIdentity;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.ice.IceClientSession;
import dev.parley.media.ice.IceLiteSession;
import dev.parley.media.ice.SharedUdpPort;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.srtp.SrtpProfile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The media workers with real ICE, DTLS and SRTP on loopback: bounded in time, and no thread per transport. */
class WorkerTest {
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private static final Duration MAX_QUEUE_DELAY = Duration.ofMillis(20);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final MediaCounters counters = new MediaCounters();
    private InetAddress loopback;
    private SharedUdpPort port;
    private MediaWorkers workers;

    @BeforeEach
    void setUp() throws Exception {
        loopback = InetAddress.getByName("127.0.0.1");
        port = new SharedUdpPort(new InetSocketAddress(loopback, 0), LOOPBACK, counters);
        toClose.add(port::close);
        workers = new MediaWorkers("wt", 2, MAX_QUEUE_DELAY, counters);
        toClose.add(workers);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void packetsThatWaitedPastTheQueueDelayAreDroppedAsLateAndLaterOnesStillArrive() throws Exception {
        CountDownLatch stalled = new CountDownLatch(1);
        BlockingQueue<Integer> delivered = new ArrayBlockingQueue<>(100);
        Pair pair = connect("late", new Listen(sequence -> {
            delivered.offer(sequence);
            if (sequence == 1) {
                // The worker is busy (a stalled machine): what arrives meanwhile waits in its queue.
                stalled.countDown();
                sleep(200);
            }
        }));
        send(pair.client, 1);
        assertTrue(stalled.await(5, TimeUnit.SECONDS), "the first packet reached the worker");
        for (int sequence = 2; sequence <= 6; sequence++) {
            send(pair.client, sequence);
        }
        assertTrue(TestMedia.eventually(TestMedia.WAIT, () -> counters.drops(DropReason.RECEIVE_LATE) == 5),
                "the five packets that waited 200 ms were dropped as late, not delivered: "
                        + counters.drops(DropReason.RECEIVE_LATE));
        send(pair.client, 7);
        assertEquals(Integer.valueOf(1), delivered.poll(5, TimeUnit.SECONDS));
        assertEquals(Integer.valueOf(7), delivered.poll(5, TimeUnit.SECONDS), "the next packet arrives as usual");
        assertTrue(workers.queueDelays().worstMicros() >= 131_072,
                "the histogram holds the long wait: " + workers.queueDelays().worstMicros() + " µs");
        assertTrue(workers.queueDelays().maxNanos() >= 150_000_000L);
    }

    @Test
    void secureTransportsKeepNoThreadOfTheirOwn() throws Exception {
        List<Pair> pairs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            pairs.add(connect("srv" + i, new Listen(sequence -> { })));
        }
        assertTrue(TestMedia.eventually(TestMedia.WAIT, () -> serverThreads().isEmpty()),
                "once secure, no server transport has a thread left: " + serverThreads());
        // And all of them still receive, on the two workers.
        for (Pair pair : pairs) {
            BlockingQueue<Integer> got = new ArrayBlockingQueue<>(10);
            pair.listener.onSequence = got::offer;
            send(pair.client, 42);
            assertEquals(Integer.valueOf(42), got.poll(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void eachGroupGoesToTheLeastBusyWorker() {
        Worker first = workers.assign();
        Worker second = workers.assign();
        assertTrue(first != second, "two groups on two workers");
        workers.release(first);
        assertSame(first, workers.assign(), "the freed worker is the least busy");
        assertNotNull(workers.assign());
    }

    private static List<String> serverThreads() {
        List<String> names = new ArrayList<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.isAlive() && thread.getName().startsWith("dtls-srv")) {
                names.add(thread.getName());
            }
        }
        return names;
    }

    private record Pair(SecureTransport server, SecureTransport client, Listen listener) {
    }

    private Pair connect(String name, Listen listener) throws Exception {
        IceLiteSession serverIce = IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(30));
        IceClientSession clientIce = IceClientSession.open(loopback, LOOPBACK);
        DtlsIdentity serverId = DtlsIdentity.generate();
        DtlsIdentity clientId = DtlsIdentity.generate();
        SecureTransport server = new SecureTransport(name, serverIce, serverId, List.of(SrtpProfile.AEAD_AES_128_GCM),
                counters, workers.assign());
        SecureTransport client = new SecureTransport(name + "-client", clientIce, clientId,
                List.of(SrtpProfile.AEAD_AES_128_GCM), new MediaCounters(), workers.assign());
        toClose.add(server);
        toClose.add(client);
        server.start(SecureTransport.DtlsRole.SERVER, clientId.fingerprint(), clientIce.localUfrag(),
                clientIce.localPassword(), List.of(), listener);
        client.start(SecureTransport.DtlsRole.CLIENT, serverId.fingerprint(), serverIce.localUfrag(),
                serverIce.localPassword(), serverIce.localCandidates(), new Listen(sequence -> { }));
        assertTrue(TestMedia.eventually(TestMedia.WAIT, () -> client.isSecure() && server.isSecure()),
                name + " became secure");
        return new Pair(server, client, listener);
    }

    private static void send(SecureTransport client, int sequence) {
        byte[] rtp = {(byte) 0x80, 96, 0, (byte) sequence, 0, 0, 0, 1, 0, 0, 0, 42, 1, 2, 3, 4};
        PacketBuffer packet = new PacketBuffer();
        packet.copyFrom(rtp, 0, rtp.length);
        assertTrue(client.sendRtp(packet));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Hands each RTP packet's sequence number to a callback, on the worker's thread. */
    private static final class Listen implements SecureTransport.Listener {
        volatile java.util.function.IntConsumer onSequence;

        Listen(java.util.function.IntConsumer onSequence) {
            this.onSequence = onSequence;
        }

        @Override
        public boolean acceptsRtpSsrc(long ssrc) {
            return true;
        }

        @Override
        public void onRtp(PacketBuffer packet) {
            onSequence.accept(((packet.getBuffer()[packet.getOffset() + 2] & 0xff) << 8)
                    | (packet.getBuffer()[packet.getOffset() + 3] & 0xff));
        }

        @Override
        public void onRtcp(PacketBuffer packet) {
        }
    }
}
