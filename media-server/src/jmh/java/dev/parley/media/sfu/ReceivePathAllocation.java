package dev.parley.media.sfu;

import com.sun.management.ThreadMXBean;
import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.srtp.SrtpProfile;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Allocation on a real server's media workers, loopback only: a Java publisher sends VP8-sized SRTP packets to a
 * media server with N subscribers; the worker that receives (from the shared port's reader), decrypts and forwards
 * them is measured with the JVM's per-thread allocation counter, as is its CPU time. This includes the hand-off from
 * the shared port's reader and the UDP sends, which JMH's benchmark leaves out (the reader itself is not counted).
 * Bounded: a fixed number of packets, and a time limit.
 *
 * <p>Run: {@code media-server/scripts/benchmark.sh} builds it; then
 * {@code java -cp "media-server/target/bench/classes:media-server/target/bench/lib/*"
 * dev.parley.media.sfu.ReceivePathAllocation [subscribers] [packets]}.
 */
public final class ReceivePathAllocation {
    private ReceivePathAllocation() {
    }

    private static long publisherPackets(MediaServer server) {
        return server.stats().endpointStats().stream().filter(s -> s.endpointId().equals("pub"))
                .mapToLong(s -> s.packetsReceived()).sum();
    }

    public static void main(String[] args) throws Exception {
        int subscribers = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int packets = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        AllowedNetworks loopback = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
        InetAddress address = InetAddress.getLoopbackAddress();
        List<ClientEndpoint> clients = new ArrayList<>();
        try (MediaServer server = MediaServer.start(MediaConfig.loopback())) {
            server.createConference("bench");
            server.createEndpoint("bench", "pub");
            ClientEndpoint publisher = ClientEndpoint.create(address, loopback, List.of(SrtpProfile.values()));
            clients.add(publisher);
            ClientTrack video = ClientTrack.video("bench");
            publisher.acceptAnswer(server.publish("bench", "pub", publisher.publishOffer(List.of(video), false)));
            if (!publisher.awaitSecure(Duration.ofSeconds(20))) {
                throw new IllegalStateException("publisher did not connect");
            }
            List<ClientEndpoint> receivers = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) {
                server.createEndpoint("bench", "sub" + i);
                ClientEndpoint subscriber = ClientEndpoint.create(address, loopback, List.of(SrtpProfile.values()));
                clients.add(subscriber);
                receivers.add(subscriber);
                server.subscribeAnswer("bench", "sub" + i,
                        subscriber.answer(server.subscribeOffer("bench", "sub" + i).orElseThrow().sdp()));
                if (!subscriber.awaitSecure(Duration.ofSeconds(20))) {
                    throw new IllegalStateException("subscriber did not connect");
                }
            }
            Thread.sleep(500);
            // The conference's worker receives, decrypts and forwards; the server's other workers stay idle.
            long[] workerIds = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("media-worker-")).mapToLong(Thread::getId).toArray();
            ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            byte[] payload = new byte[1100];
            int sequence = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            for (int round = 0; round < 2; round++) {
                long receivedBefore = publisherPackets(server);
                long forwardedBefore = server.stats().packetsOut();
                long allocatedBefore = sum(threads.getThreadAllocatedBytes(workerIds));
                long cpuBefore = sum(threads.getThreadCpuTime(workerIds));
                long start = System.nanoTime();
                for (int i = 0; i < packets && System.nanoTime() < deadline; i++) {
                    publisher.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, sequence++, sequence * 3000L, false,
                            payload, true);
                    if ((i & 3) == 3) {
                        Thread.sleep(1); // about 2000 packets per second, a few HD video streams' worth
                    }
                }
                Thread.sleep(1000);
                long received = publisherPackets(server) - receivedBefore;
                long forwarded = server.stats().packetsOut() - forwardedBefore;
                long allocated = sum(threads.getThreadAllocatedBytes(workerIds)) - allocatedBefore;
                long cpu = sum(threads.getThreadCpuTime(workerIds)) - cpuBefore;
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("%s: %d subscribers, %d packets sent, %d received, %d UDP packets out in %.1f s;"
                                + " the media workers allocated %.1f bytes and used %.0f ns CPU per received packet%n",
                        round == 0 ? "warm-up" : "measured", subscribers, packets, received, forwarded, seconds,
                        (double) allocated / received, (double) cpu / received);
            }
        } finally {
            clients.forEach(ClientEndpoint::close);
        }
    }

    private static long sum(long[] values) {
        long total = 0;
        for (long value : values) {
            total += Math.max(0, value);
        }
        return total;
    }
}
