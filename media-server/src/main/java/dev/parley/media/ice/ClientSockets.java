package dev.parley.media.ice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.ice4j.util.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The load generator's sockets, read the way the server reads its shared port: a few reader threads (one per core by
 * default), each watching many clients' sockets through one selector and handing every datagram to its client on
 * the spot (push), instead of a thread or two per client. One more thread paces every client's checks. Each
 * {@link IceLoadClient} keeps its own UDP socket, so the server sees a distinct address per client, as it would
 * from distinct browsers.
 */
public final class ClientSockets implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClientSockets.class);
    /** Datagrams one socket may deliver per turn of its reader, so that no client starves the others. */
    private static final int BATCH = 32;

    private final Reader[] readers;
    private final AtomicInteger next = new AtomicInteger();
    private final ScheduledExecutorService checks;
    private final Duration consentInterval;

    /**
     * @param readers reader threads (at least 1)
     * @param consentInterval how often a connected client refreshes consent (RFC 7675)
     */
    public ClientSockets(String name, int readers, Duration consentInterval) throws IOException {
        this.consentInterval = consentInterval;
        this.readers = new Reader[Math.max(1, readers)];
        for (int i = 0; i < this.readers.length; i++) {
            this.readers[i] = new Reader(name + "-reader-" + i);
        }
        this.checks = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, name + "-checks");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** A client with a UDP socket of its own on {@code bind} (an ephemeral port), read by one of the readers. */
    public IceLoadClient open(InetAddress bind, AllowedNetworks allowed) throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        try {
            channel.bind(new InetSocketAddress(bind, 0));
            channel.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        IceLoadClient client = new IceLoadClient(channel, allowed, checks, consentInterval);
        readers[Math.floorMod(next.getAndIncrement(), readers.length)].add(client);
        return client;
    }

    @Override
    public void close() {
        for (Reader reader : readers) {
            reader.close();
        }
        checks.shutdownNow();
    }

    /** One reader thread and its selector. */
    private static final class Reader {
        private final Selector selector;
        private final Queue<IceLoadClient> joining = new ConcurrentLinkedQueue<>();
        private final Thread thread;
        private volatile boolean closed;

        Reader(String name) throws IOException {
            this.selector = Selector.open();
            this.thread = new Thread(this::run, name);
            thread.setDaemon(true);
            thread.start();
        }

        void add(IceLoadClient client) {
            joining.add(client);
            selector.wakeup();
        }

        private void run() {
            ByteBuffer datagram = ByteBuffer.allocateDirect(ReceiveBuffers.SIZE);
            try {
                while (!closed) {
                    selector.select(100);
                    for (IceLoadClient client; (client = joining.poll()) != null; ) {
                        try {
                            client.channel().register(selector, SelectionKey.OP_READ, client);
                        } catch (IOException | RuntimeException e) {
                            LOG.debug("a client closed before its socket was watched", e);
                        }
                    }
                    Iterator<SelectionKey> ready = selector.selectedKeys().iterator();
                    while (ready.hasNext()) {
                        SelectionKey key = ready.next();
                        ready.remove();
                        if (key.isValid()) {
                            drain((IceLoadClient) key.attachment(), datagram);
                        }
                    }
                }
            } catch (ClosedSelectorException e) {
                // closed
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Hands the client what its socket holds, up to {@link #BATCH} datagrams. */
        private static void drain(IceLoadClient client, ByteBuffer datagram) {
            for (int i = 0; i < BATCH; i++) {
                datagram.clear();
                SocketAddress from;
                try {
                    from = client.channel().receive(datagram);
                } catch (IOException e) {
                    return;
                }
                if (from == null) {
                    return;
                }
                datagram.flip();
                int length = datagram.remaining();
                Buffer buffer = ReceiveBuffers.take(length);
                datagram.get(buffer.getBuffer(), 0, length);
                buffer.setOffset(0);
                buffer.setLength(length);
                buffer.setRemoteAddress(from);
                client.received(buffer, System.nanoTime());
            }
        }

        void close() {
            closed = true;
            try {
                selector.close();
            } catch (IOException e) {
                // nothing left to release
            }
        }
    }
}
