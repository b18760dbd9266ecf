package dev.parley.media.ice;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * What batching saves the media workers: the sending thread's CPU per 1200-byte datagram on loopback, sent round
 * robin to three receivers (a subscriber fan-out), one system call each — the JDK's {@code DatagramChannel.send}, as
 * the workers sent before batching, and {@code sendto(2)} through JNA — against {@code sendmmsg(2)} in batches of 3, 8
 * and 32, laid out as a worker's {@link SendBatch} lays them out ({@link MessageSlots}). IPv4 loopback only; bounded by the packet count.
 *
 * <p>Run: {@code mvn -B -q -Pbench -pl media-server package -DskipTests}, then
 * {@code java -cp "media-server/target/bench/classes:media-server/target/bench/lib/*"
 * dev.parley.media.ice.SendBatchProbe [packets]}.
 */
public final class SendBatchProbe {
    private static final int SOCK_DGRAM = 2;
    private static final int SIZE = 1200;
    private static final int RECEIVERS = 3;

    static {
        Native.register("c");
    }

    private SendBatchProbe() {
    }

    private static native int socket(int domain, int type, int protocol);

    private static native int sendto(int fd, Pointer buffer, long length, int flags, Pointer address, int addressLength);

    private static native int close(int fd);

    public static void main(String[] args) throws Exception {
        int packets = args.length > 0 ? Math.min(Integer.parseInt(args[0]), 2_000_000) : 200_000;
        InetSocketAddress[] to = new InetSocketAddress[RECEIVERS];
        DatagramChannel[] receivers = new DatagramChannel[RECEIVERS];
        for (int i = 0; i < RECEIVERS; i++) {
            receivers[i] = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            receivers[i].setOption(StandardSocketOptions.SO_RCVBUF, SharedUdpPort.SOCKET_BUFFER_BYTES);
            to[i] = (InetSocketAddress) receivers[i].getLocalAddress();
            drain(receivers[i]);
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int round = 1; round <= 2; round++) {
            System.out.printf("round %d, %,d datagrams each:%n", round, packets);
            try (DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
                ByteBuffer data = ByteBuffer.wrap(new byte[SIZE]);
                long start = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < packets; i++) {
                    data.clear();
                    channel.send(data, to[i % RECEIVERS]);
                    pace(i, 1);
                }
                report("JDK DatagramChannel.send, one call each", threads.getCurrentThreadCpuTime() - start, packets);
            }
            int fd = socket(NativeUdp.AF_INET, SOCK_DGRAM, 0);
            try {
                Memory buffer = new Memory(SIZE);
                buffer.clear();
                Memory[] addresses = new Memory[RECEIVERS];
                for (int i = 0; i < RECEIVERS; i++) {
                    addresses[i] = sockaddrIn(to[i]);
                }
                long start = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < packets; i++) {
                    sendto(fd, buffer, SIZE, 0, addresses[i % RECEIVERS], 16);
                    pace(i, 1);
                }
                report("sendto(2) through JNA, one call each", threads.getCurrentThreadCpuTime() - start, packets);
                for (int batch : new int[] {3, 8, 32}) {
                    MessageSlots messages = batch(to, batch);
                    int sent = 0;
                    start = threads.getCurrentThreadCpuTime();
                    for (int i = 0; i < packets; i += batch) {
                        sent += Math.max(0, NativeUdp.sendmmsg(fd, messages.message(0), batch, 0));
                        pace(i, batch);
                    }
                    report("sendmmsg(2) through JNA, " + batch + " a call", threads.getCurrentThreadCpuTime() - start,
                            sent);
                }
            } finally {
                close(fd);
            }
        }
        for (DatagramChannel receiver : receivers) {
            receiver.close();
        }
    }

    /** A pause of 1 ms every 1024 datagrams, so the receivers keep up and nothing is lost to full buffers. */
    private static void pace(int sent, int step) throws InterruptedException {
        if ((sent & 1023) < step) {
            Thread.sleep(1);
        }
    }

    private static void report(String what, long cpuNanos, int datagrams) {
        System.out.printf("  %-42s %5.2f µs of the sender's CPU per datagram%n", what, cpuNanos / 1e3 / datagrams);
    }

    private static Memory sockaddrIn(InetSocketAddress address) {
        byte[] bytes = NativeUdp.sockaddr(address, false);
        Memory sockaddr = new Memory(bytes.length);
        sockaddr.write(0, bytes, 0, bytes.length);
        return sockaddr;
    }

    /** {@code count} messages of {@link #SIZE} bytes each, as a worker's batch lays them out, addressed round robin. */
    private static MessageSlots batch(InetSocketAddress[] to, int count) {
        MessageSlots messages = new MessageSlots(count);
        ByteBuffer payload = ByteBuffer.allocate(SIZE);
        for (int i = 0; i < count; i++) {
            messages.fill(i, NativeUdp.sockaddr(to[i % to.length], false), payload, 0, SIZE);
        }
        return messages;
    }

    private static void drain(DatagramChannel receiver) {
        Thread thread = new Thread(() -> {
            ByteBuffer datagram = ByteBuffer.allocateDirect(2048);
            try {
                while (receiver.isOpen()) {
                    datagram.clear();
                    receiver.receive(datagram);
                }
            } catch (IOException closed) {
                // done
            }
        }, "probe-receiver");
        thread.setDaemon(true);
        thread.start();
    }
}
