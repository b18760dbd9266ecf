package dev.parley.media.loadtest;

import dev.parley.media.ice.SharedUdpPort;
import dev.parley.media.srtp.SsrcTable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The least a relay can do, as a yardstick for Parley's cost: one plain UDP socket on loopback, no ICE, no DTLS, no
 * SRTP, no header rewriting. Endpoints register (publishers with their SSRCs); each RTP packet goes unchanged to
 * every subscriber of its conference except its own publisher. A simulcast layer's SSRC is registered with its
 * layer, a subscriber with the layer it takes: such an SSRC goes only to the subscribers of its layer. The fleet
 * uses one relay thread (more threads reorder packets), as Parley uses one thread per publisher.
 */
final class UdpBaselineRelay implements AutoCloseable {
    static final byte REGISTER_PUBLISHER = 1;
    static final byte REGISTER_SUBSCRIBER = 2;
    static final byte REGISTERED = 3;

    /** Where one SSRC's packets go. Replaced, never changed, when a subscriber joins. */
    private record Route(int publisherEndpoint, SocketAddress[] subscribers) {
    }

    /** {@code layer}: the simulcast layer it takes, or -1 for every stream. */
    private record Subscriber(int endpoint, SocketAddress address, int layer) {
    }

    private final DatagramChannel channel;
    private final SsrcTable<Route> routes = new SsrcTable<>();
    private final Map<Integer, List<Subscriber>> subscribersByConference = new ConcurrentHashMap<>();
    private final Map<Long, Integer> conferenceBySsrc = new ConcurrentHashMap<>();
    private final Map<Long, Integer> layerBySsrc = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private final LongAdder packetsIn = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder packetsOut = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder sendFailed = new LongAdder();
    private final LongAdder unknown = new LongAdder();
    private final CpuClock cpu = new CpuClock();
    private volatile boolean running = true;

    UdpBaselineRelay(int threadCount) throws IOException {
        channel = DatagramChannel.open();
        channel.bind(new InetSocketAddress("127.0.0.1", 0));
        // The buffers Parley gives its shared port: the comparison is of the relays, not of buffer sizes.
        channel.setOption(java.net.StandardSocketOptions.SO_RCVBUF, SharedUdpPort.SOCKET_BUFFER_BYTES);
        channel.setOption(java.net.StandardSocketOptions.SO_SNDBUF, SharedUdpPort.SOCKET_BUFFER_BYTES);
        for (int i = 0; i < threadCount; i++) {
            Thread thread = new Thread(this::relay, "baseline-relay-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    private void relay() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(2048);
        while (running) {
            buffer.clear();
            SocketAddress from;
            try {
                from = channel.receive(buffer);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                continue;
            }
            if (from == null) {
                continue;
            }
            buffer.flip();
            int length = buffer.remaining();
            packetsIn.increment();
            bytesIn.add(length);
            int first = length > 0 ? buffer.get(0) & 0xff : 0;
            if (first >= 0x80 && first <= 0xbf && length >= 12) {
                Route route = routes.get(buffer.getInt(8) & 0xffffffffL);
                if (route == null) {
                    unknown.increment();
                    continue;
                }
                for (SocketAddress to : route.subscribers()) {
                    buffer.rewind();
                    try {
                        channel.send(buffer, to);
                        packetsOut.increment();
                        bytesOut.add(length);
                    } catch (IOException e) {
                        sendFailed.increment();
                    }
                }
            } else if (first == REGISTER_PUBLISHER || first == REGISTER_SUBSCRIBER) {
                register(buffer, from);
            } else {
                unknown.increment();
            }
        }
    }

    /**
     * Publisher: [type][conference int][endpoint int]([ssrc int][layer byte, -1 for none])*; subscriber:
     * [type][conference int][endpoint int][layer byte, -1 for every stream]. Answered with REGISTERED so the client
     * knows.
     */
    private synchronized void register(ByteBuffer buffer, SocketAddress from) {
        byte type = buffer.get(0);
        if (buffer.limit() < 9) {
            unknown.increment();
            return;
        }
        int conference = buffer.getInt(1);
        int endpoint = buffer.getInt(5);
        if (type == REGISTER_PUBLISHER) {
            for (int at = 9; at + 5 <= buffer.limit(); at += 5) {
                long ssrc = buffer.getInt(at) & 0xffffffffL;
                conferenceBySsrc.put(ssrc, conference);
                layerBySsrc.put(ssrc, (int) buffer.get(at + 4));
                routes.put(ssrc, route(conference, endpoint, buffer.get(at + 4)));
            }
        } else {
            int layer = buffer.limit() >= 10 ? buffer.get(9) : -1;
            List<Subscriber> list = subscribersByConference.computeIfAbsent(conference, k -> new ArrayList<>());
            boolean known = list.stream().anyMatch(s -> s.address().equals(from));
            if (!known) {
                list.add(new Subscriber(endpoint, from, layer));
                for (Map.Entry<Long, Integer> entry : conferenceBySsrc.entrySet()) {
                    if (entry.getValue() == conference) {
                        Route old = routes.get(entry.getKey());
                        routes.put(entry.getKey(), route(conference, old.publisherEndpoint(),
                                layerBySsrc.get(entry.getKey())));
                    }
                }
            }
        }
        try {
            channel.send(ByteBuffer.wrap(new byte[] {REGISTERED}), from);
        } catch (IOException ignored) {
            // the client registers again
        }
    }

    private Route route(int conference, int publisherEndpoint, int layer) {
        List<SocketAddress> to = new ArrayList<>();
        for (Subscriber s : subscribersByConference.getOrDefault(conference, List.of())) {
            if (s.endpoint() != publisherEndpoint && (layer < 0 || s.layer() < 0 || s.layer() == layer)) {
                to.add(s.address());
            }
        }
        return new Route(publisherEndpoint, to.toArray(new SocketAddress[0]));
    }

    ServerSnapshot snapshot() {
        return new ServerSnapshot(System.nanoTime(), packetsIn.sum(), bytesIn.sum(), packetsOut.sum(), bytesOut.sum(),
                Map.of("send_failed", (double) sendFailed.sum(), "unknown", (double) unknown.sum()), Double.NaN,
                Double.NaN, cpu.threadSeconds(name -> name.startsWith("baseline-relay-")), Double.NaN, Double.NaN,
                Double.NaN, null);
    }

    @Override
    public void close() {
        running = false;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Thread thread : threads) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
