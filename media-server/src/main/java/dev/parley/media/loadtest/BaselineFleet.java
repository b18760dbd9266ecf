package dev.parley.media.loadtest;

import dev.parley.media.sdp.MediaKind;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * The same endpoints and traffic as {@link ParleyFleet}, over {@link UdpBaselineRelay}: plain RTP (same sizes and
 * header extensions) on plain UDP sockets. Receivers share two selector threads.
 */
final class BaselineFleet implements Fleet {
    private static final int RECEIVE_THREADS = 2;

    private final LoadOptions options;
    private final List<Stream> streams;
    private final Supplier<ReceiverStats> newReceiver;
    private final List<ReceiverStats> receivers;
    private final UdpBaselineRelay relay;
    private final InetSocketAddress relayAddress;
    private final List<DatagramChannel> channels = new CopyOnWriteArrayList<>();
    private final List<Selector> selectors = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    private int nextSelector;

    BaselineFleet(LoadOptions options, List<Stream> streams, Supplier<ReceiverStats> newReceiver,
                  List<ReceiverStats> receivers) throws IOException {
        this.options = options;
        this.streams = streams;
        this.newReceiver = newReceiver;
        this.receivers = receivers;
        this.relay = new UdpBaselineRelay(1);
        this.relayAddress = relay.address();
        for (int i = 0; i < RECEIVE_THREADS; i++) {
            Selector selector = Selector.open();
            selectors.add(selector);
            Thread thread = new Thread(() -> receive(selector), "lg-baseline-rx-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    @Override
    public String name() {
        return "baseline";
    }

    @Override
    public String target() {
        return "plain UDP relay (no ICE, DTLS or SRTP) on " + relayAddress;
    }

    @Override
    public void connectConference(int c) throws Exception {
        for (int p = 0; p < options.publishers(); p++) {
            DatagramChannel channel = open();
            ByteBuffer registration = ByteBuffer.allocate(64);
            registration.put(UdpBaselineRelay.REGISTER_PUBLISHER).putInt(c).putInt(p);
            List<Stream> mine = new ArrayList<>();
            for (Stream s : streams) {
                if (s.conference == c && s.publisher == p) {
                    mine.add(s);
                }
            }
            long[] ssrcs = new long[mine.size()];
            for (int i = 0; i < ssrcs.length; i++) {
                ssrcs[i] = ThreadLocalRandom.current().nextLong(1, 0xffffffffL);
                registration.putInt((int) ssrcs[i]).put((byte) mine.get(i).layer);
            }
            register(channel, registration);
            byte[] packet = new byte[2048];
            ByteBuffer out = ByteBuffer.wrap(packet);
            for (int i = 0; i < mine.size(); i++) {
                Stream s = mine.get(i);
                long ssrc = ssrcs[i];
                int payloadType = s.kind == MediaKind.AUDIO ? ClientEndpoint.OPUS_PT : ClientEndpoint.VP8_PT;
                // The packets Parley's publishers send, unencrypted: a simulcast layer's with mid and rid.
                String mid = Integer.toString(s.kind == MediaKind.AUDIO ? 0 : mine.indexOf(s) - s.layer);
                String rid = s.layer >= 0 ? SimulcastLayers.RIDS[s.layer] : null;
                s.sink = (stream, sequence, rtpTimestamp) -> {
                    int length = rid != null
                            ? ClientEndpoint.writeSimulcastRtp(packet, ssrc, payloadType, (int) sequence,
                                    rtpTimestamp, true, stream.payload, mid, rid, false)
                            : ClientEndpoint.writeRtp(packet, ssrc, payloadType, (int) sequence, rtpTimestamp,
                                    false, stream.payload, true);
                    out.clear().limit(length);
                    try {
                        return channel.write(out) == length;
                    } catch (IOException e) {
                        return false;
                    }
                };
                s.active = true;
            }
        }
        int receiversPerConference = options.receiversPerConference();
        for (int r = 0; r < receiversPerConference; r++) {
            boolean isPublisher = r >= options.subscribers();
            int endpoint = isPublisher ? r - options.subscribers() : 100_000 + r;
            // The layer this receiver asks Parley for, in the same run: the relay sends it only that layer.
            int layer = options.simulcast() ? SimulcastLayers.wantedBy(r) : -1;
            DatagramChannel channel = open();
            ByteBuffer registration = ByteBuffer.allocate(16);
            registration.put(UdpBaselineRelay.REGISTER_SUBSCRIBER).putInt(c).putInt(endpoint).put((byte) layer);
            register(channel, registration);
            ReceiverStats stats = newReceiver.get();
            stats.wantedLayer = layer;
            receivers.add(stats);
            Selector selector;
            synchronized (this) {
                selector = selectors.get(nextSelector++ % selectors.size());
            }
            selector.wakeup();
            channel.register(selector, SelectionKey.OP_READ, stats);
            selector.wakeup();
        }
    }

    private DatagramChannel open() throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        channel.bind(new InetSocketAddress("127.0.0.1", 0));
        channel.connect(relayAddress);
        channel.configureBlocking(false);
        channels.add(channel);
        return channel;
    }

    /** Sends the registration until the relay confirms it (loopback UDP may drop). */
    private static void register(DatagramChannel channel, ByteBuffer registration) throws IOException,
            InterruptedException {
        registration.flip();
        ByteBuffer reply = ByteBuffer.allocate(16);
        for (int attempt = 0; attempt < 100; attempt++) {
            channel.write(registration.rewind());
            Thread.sleep(10);
            reply.clear();
            if (channel.read(reply) > 0 && reply.get(0) == UdpBaselineRelay.REGISTERED) {
                return;
            }
        }
        throw new IOException("the baseline relay did not answer a registration");
    }

    private void receive(Selector selector) {
        byte[] array = new byte[2048];
        ByteBuffer buffer = ByteBuffer.wrap(array);
        while (running) {
            try {
                selector.select(100);
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    DatagramChannel channel = (DatagramChannel) key.channel();
                    ReceiverStats stats = (ReceiverStats) key.attachment();
                    for (int i = 0; i < 64; i++) {
                        buffer.clear();
                        int n = channel.read(buffer);
                        if (n <= 0) {
                            break;
                        }
                        if ((array[0] & 0xc0) == 0x80) {
                            stats.onPacket(array, 0, n, ReceiverStats.headerLength(array, 0, n), System.nanoTime());
                        }
                    }
                }
            } catch (IOException | java.nio.channels.ClosedSelectorException e) {
                if (!running) {
                    return;
                }
            }
        }
    }

    @Override
    public ServerSnapshot serverSnapshot() {
        return relay.snapshot();
    }

    @Override
    public double clientCpuSeconds() {
        return CpuClock.processSeconds() - relay.snapshot().cpuSeconds();
    }

    @Override
    public void close() {
        for (Stream s : streams) {
            s.active = false;
        }
        running = false;
        for (Selector selector : selectors) {
            selector.wakeup();
        }
        for (Thread thread : threads) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Selector selector : selectors) {
            try {
                selector.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        for (DatagramChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        relay.close();
    }
}
