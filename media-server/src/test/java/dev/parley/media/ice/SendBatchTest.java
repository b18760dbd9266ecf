package dev.parley.media.ice;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A worker's sends leave a shared port in batches ({@code sendmmsg}) on this Linux machine, and arrive as sent: every
 * datagram, its bytes, its order per receiver, from the port's own address; refusals are counted, never lost
 * silently, and nothing leaves a closed port. The port's reader takes datagrams in batches too ({@code recvmmsg}),
 * and reads their source addresses as the pairs are keyed. Real sockets on loopback.
 */
class SendBatchTest {
    private final MediaCounters counters = new MediaCounters();

    @Test
    void theSharedPortFindsItsSocketAndSendsInBatchesOnLinux() throws Exception {
        try (SharedUdpPort port = port("127.0.0.1")) {
            assertTrue(port.sendsInBatches(), "batched sends need 64-bit Linux and JNA; the media server targets both");
            assertNotNull(SendBatch.create());
        }
    }

    @Test
    void batchedDatagramsArriveWholeInOrderFromThePortsAddress() throws Exception {
        try (SharedUdpPort port = port("127.0.0.1");
             Receivers receivers = new Receivers("127.0.0.1", 3)) {
            int total = 100;
            onSendingThread(batch -> {
                for (int i = 0; i < total; i++) {
                    InetSocketAddress to = receivers.address(i % 3);
                    ByteBuffer datagram = ByteBuffer.wrap(payload(i, 100 + 13 * i));
                    datagram.position(0);
                    send(port, datagram, to);
                    assertEquals(0, datagram.position(), "the caller's buffer is left as it was");
                    // Full batches leave on their own.
                    assertEquals((i + 1) % SendBatch.CAPACITY, batch.pending());
                }
                batch.flush();
                assertEquals(0, batch.pending());
            });
            for (int r = 0; r < 3; r++) {
                for (int i = r; i < total; i += 3) {
                    Received got = receivers.take(r);
                    assertArrayEquals(payload(i, 100 + 13 * i), got.bytes, "datagram " + i);
                    assertEquals(port.boundAddress(), got.from);
                }
            }
            assertEquals(0, counters.drops(DropReason.SEND_FAILED));
        }
    }

    @Test
    void ipv6PortsBatchToo() throws Exception {
        try (SharedUdpPort port = port("::1");
             Receivers receivers = new Receivers("::1", 2)) {
            assertTrue(port.sendsInBatches());
            onSendingThread(batch -> {
                for (int i = 0; i < 10; i++) {
                    send(port, ByteBuffer.wrap(payload(i, 200)), receivers.address(i % 2));
                }
                batch.flush();
            });
            for (int i = 0; i < 10; i++) {
                Received got = receivers.take(i % 2);
                assertArrayEquals(payload(i, 200), got.bytes);
                assertEquals(port.boundAddress(), got.from);
            }
        }
    }

    @Test
    void aRefusedDatagramIsCountedAndTheRestOfTheBatchStillGoes() throws Exception {
        try (SharedUdpPort port = port("127.0.0.1");
             Receivers receivers = new Receivers("127.0.0.1", 1)) {
            // The kernel refuses port 0 as a destination (EINVAL).
            InetSocketAddress nowhere = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
            onSendingThread(batch -> {
                send(port, ByteBuffer.wrap(payload(0, 50)), receivers.address(0));
                send(port, ByteBuffer.wrap(payload(1, 50)), nowhere);
                send(port, ByteBuffer.wrap(payload(2, 50)), receivers.address(0));
                batch.flush();
            });
            assertArrayEquals(payload(0, 50), receivers.take(0).bytes);
            assertArrayEquals(payload(2, 50), receivers.take(0).bytes);
            assertEquals(1, counters.drops(DropReason.SEND_FAILED));
        }
    }

    @Test
    void aDatagramTooLargeForASlotLeavesAloneAfterTheBatch() throws Exception {
        try (SharedUdpPort port = port("127.0.0.1");
             Receivers receivers = new Receivers("127.0.0.1", 1)) {
            onSendingThread(batch -> {
                send(port, ByteBuffer.wrap(payload(0, 60)), receivers.address(0));
                send(port, ByteBuffer.wrap(payload(1, SendBatch.SLOT_BYTES + 100)), receivers.address(0));
                assertEquals(0, batch.pending(), "what waited went first");
                send(port, ByteBuffer.wrap(payload(2, 60)), receivers.address(0));
                batch.flush();
            });
            assertArrayEquals(payload(0, 60), receivers.take(0).bytes);
            assertArrayEquals(payload(1, SendBatch.SLOT_BYTES + 100), receivers.take(0).bytes);
            assertArrayEquals(payload(2, 60), receivers.take(0).bytes);
        }
    }

    @Test
    void nothingLeavesAClosedPortAndWhatWaitedIsCounted() throws Exception {
        Receivers receivers = new Receivers("127.0.0.1", 1);
        try (receivers) {
            SharedUdpPort port = port("127.0.0.1");
            onSendingThread(batch -> {
                send(port, ByteBuffer.wrap(payload(0, 60)), receivers.address(0));
                send(port, ByteBuffer.wrap(payload(1, 60)), receivers.address(0));
                port.close();
                batch.flush();
            });
            assertNull(receivers.poll(0, 300));
            assertEquals(2, counters.drops(DropReason.SEND_FAILED));
        }
    }

    @Test
    void addressesAreLaidOutAsTheKernelReadsThem() throws Exception {
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 0x1234);
        byte[] in = NativeUdp.sockaddr(v4, false);
        assertEquals(16, in.length);
        assertArrayEquals(new byte[] {2, 0, 0x12, 0x34, (byte) 192, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0, 0}, in);

        byte[] mapped = NativeUdp.sockaddr(v4, true);
        assertEquals(28, mapped.length);
        byte[] expected = new byte[28];
        expected[0] = 10;
        expected[2] = 0x12;
        expected[3] = 0x34;
        expected[18] = (byte) 0xff;
        expected[19] = (byte) 0xff;
        expected[20] = (byte) 192;
        expected[22] = 2;
        expected[23] = 7;
        assertArrayEquals(expected, mapped, "an IPv4 peer of a dual-stack socket is ::ffff:a.b.c.d");
    }

    @Test
    void theReaderTakesEveryDatagramOfABurstInBatchesAndCountsThoseWithoutAPair() throws Exception {
        try (SharedUdpPort port = port("127.0.0.1");
             DatagramChannel stranger = DatagramChannel.open()) {
            stranger.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            int burst = 300;
            for (int i = 0; i < burst; i++) {
                // RTP-shaped, not STUN: from an address that holds no pair.
                byte[] rtp = payload(i, 120);
                rtp[0] = (byte) 0x80;
                stranger.send(ByteBuffer.wrap(rtp), port.boundAddress());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (counters.drops(DropReason.ICE_UNVERIFIED_ADDRESS) < burst && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(burst, counters.drops(DropReason.ICE_UNVERIFIED_ADDRESS));
        }
    }

    @Test
    void sourceAddressesReadFromTheKernelMatchThePairsKeys() throws Exception {
        for (String host : new String[] {"192.0.2.7", "2001:db8::17", "::1"}) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(host), 50_123);
            boolean ipv6Socket = host.contains(":");
            RemoteKey read = readNative(NativeUdp.sockaddr(address, ipv6Socket));
            assertEquals(RemoteKey.of(address), read, host);
            assertEquals(RemoteKey.of(address).hashCode(), read.hashCode());
            assertEquals(address, read.toAddress());
        }
        // An IPv4 peer of a dual-stack socket arrives as ::ffff:a.b.c.d and is the same pair as its IPv4 address.
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 50_123);
        RemoteKey mapped = readNative(NativeUdp.sockaddr(v4, true));
        assertEquals(RemoteKey.of(v4), mapped);
        assertEquals(v4, mapped.toAddress());
        assertNotEquals(RemoteKey.of(new InetSocketAddress(v4.getAddress(), 50_124)), mapped);
    }

    private static RemoteKey readNative(byte[] sockaddr) {
        ByteBuffer memory = ByteBuffer.allocateDirect(32).order(java.nio.ByteOrder.nativeOrder());
        memory.put(0, sockaddr);
        RemoteKey key = new RemoteKey();
        key.setNative(memory, 0);
        return key;
    }

    private SharedUdpPort port(String host) throws Exception {
        return new SharedUdpPort(new InetSocketAddress(InetAddress.getByName(host), 0), AllowedNetworks.anyUnicast(),
                counters);
    }

    private static void send(SharedUdpPort port, ByteBuffer datagram, InetSocketAddress to) {
        try {
            assertTrue(port.send(datagram, to, port.nativeAddress(to)));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs {@code body} on a thread that sends through a batch, as a media worker does. */
    private static void onSendingThread(Consumer<SendBatch> body) throws Exception {
        SendBatch batch = SendBatch.create();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = new SendBatch.SendingThread(batch, () -> {
            try {
                body.accept(batch);
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "test-sender");
        thread.start();
        done.get(10, TimeUnit.SECONDS);
    }

    private static byte[] payload(int index, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (index * 31 + i);
        }
        return bytes;
    }

    private record Received(byte[] bytes, InetSocketAddress from) {
    }

    /** Blocking receivers with a timeout, on loopback. */
    private static final class Receivers implements AutoCloseable {
        private final List<DatagramChannel> channels = new ArrayList<>();

        Receivers(String host, int count) throws Exception {
            for (int i = 0; i < count; i++) {
                DatagramChannel channel = DatagramChannel.open();
                channel.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
                channels.add(channel);
            }
        }

        InetSocketAddress address(int index) {
            try {
                return (InetSocketAddress) channels.get(index).getLocalAddress();
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        }

        Received take(int index) throws Exception {
            Received got = poll(index, 5_000);
            assertNotNull(got, "a datagram for receiver " + index);
            return got;
        }

        Received poll(int index, long millis) throws Exception {
            DatagramChannel channel = channels.get(index);
            channel.configureBlocking(false);
            ByteBuffer into = ByteBuffer.allocate(4096);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (System.nanoTime() < deadline) {
                InetSocketAddress from = (InetSocketAddress) channel.receive(into);
                if (from != null) {
                    into.flip();
                    byte[] bytes = new byte[into.remaining()];
                    into.get(bytes);
                    return new Received(bytes, from);
                }
                Thread.sleep(1);
            }
            return null;
        }

        @Override
        public void close() throws Exception {
            for (DatagramChannel channel : channels) {
                channel.close();
            }
        }
    }
}
