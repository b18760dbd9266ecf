package dev.parley.media.ice;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The few Linux socket calls the JDK does not offer, through JNA (which the product already carries): {@code
 * sendmmsg(2)} and {@code recvmmsg(2)}, which send and receive a batch of datagrams in one system call, and what it takes to find the descriptor of a
 * shared port's {@code DatagramChannel}, which JDK 17 does not expose.
 *
 * <p>Only on 64-bit Linux, where {@code struct mmsghdr} has one layout; elsewhere, or if JNA cannot load,
 * {@link #AVAILABLE} is false and the ports send one datagram per call through the JDK.
 */
final class NativeUdp {
    private static final Logger LOG = LoggerFactory.getLogger(NativeUdp.class);
    /** Whether the calls below can be made. */
    static final boolean AVAILABLE = load();

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    /** errno for a non-blocking socket whose send buffer is full. */
    static final int EAGAIN = 11;
    /** errno for a call a signal interrupted. */
    static final int EINTR = 4;
    /** Bytes of {@code struct sockaddr_in6}, the larger of the two address layouts. */
    static final int SOCKADDR_MAX = 28;
    /** {@code MSG_DONTWAIT}: never block, whatever the socket's mode. */
    static final int MSG_DONTWAIT = 0x40;
    private static final int SOCKADDR_IN = 16;
    private static final int SOL_SOCKET = 1;
    private static final int SO_TYPE = 3;
    private static final int SOCK_DGRAM = 2;

    private NativeUdp() {
    }

    private static boolean load() {
        if (!Platform.isLinux() || Native.POINTER_SIZE != 8) {
            return false;
        }
        try {
            Native.register(NativeUdp.class, Platform.C_LIBRARY_NAME);
            return true;
        } catch (LinkageError | RuntimeException e) {
            LOG.warn("batched UDP sends are off: JNA could not bind libc ({}); each datagram is one system call", e
                    .toString());
            return false;
        }
    }

    /** Sends {@code count} messages of the {@code struct mmsghdr} array at native address {@code messages}. */
    static native int sendmmsg(int fd, long messages, int count, int flags);

    /** Receives up to {@code count} messages into the array at {@code messages}; {@code timeout} 0 is none. */
    static native int recvmmsg(int fd, long messages, int count, int flags, long timeout);

    /** The calling thread's errno after its last call here. */
    static int lastError() {
        return Native.getLastError();
    }

    private static native int getsockname(int fd, byte[] address, int[] length);

    private static native int getsockopt(int fd, int level, int name, int[] value, int[] length);

    /**
     * The descriptor of the datagram socket bound to {@code bound} in this process, or -1 when none or more than one
     * is: found by asking every open descriptor for its address, as {@code /proc/self/fd} lists them.
     */
    static int descriptorOf(InetSocketAddress bound, boolean ipv6Socket) {
        if (!AVAILABLE) {
            return -1;
        }
        byte[] wanted = sockaddr(bound, ipv6Socket);
        byte[] found = new byte[SOCKADDR_MAX];
        int[] length = new int[1];
        int[] type = new int[1];
        int match = -1;
        try (DirectoryStream<Path> open = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : open) {
                int fd;
                try {
                    fd = Integer.parseInt(entry.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                Arrays.fill(found, (byte) 0);
                length[0] = found.length;
                if (getsockname(fd, found, length) != 0 || length[0] != wanted.length
                        || !Arrays.equals(found, 0, wanted.length, wanted, 0, wanted.length)) {
                    continue;
                }
                length[0] = 4;
                if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, length) != 0 || type[0] != SOCK_DGRAM) {
                    continue;
                }
                if (match >= 0) {
                    return -1;
                }
                match = fd;
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("listing /proc/self/fd", e);
            return -1;
        }
        return match;
    }

    /**
     * {@code address} as the kernel takes it on a socket of the given family: {@code sockaddr_in}, or {@code
     * sockaddr_in6} (an IPv4 address then as {@code ::ffff:a.b.c.d}, as on the JDK's dual-stack sockets).
     */
    static byte[] sockaddr(InetSocketAddress address, boolean ipv6Socket) {
        InetAddress ip = address.getAddress();
        ByteBuffer out = ByteBuffer.allocate(ipv6Socket ? SOCKADDR_MAX : SOCKADDR_IN);
        if (!ipv6Socket) {
            if (!(ip instanceof Inet4Address)) {
                throw new IllegalArgumentException("an IPv6 address on an IPv4 socket: " + address);
            }
            out.order(ByteOrder.nativeOrder()).putShort((short) AF_INET);
            out.order(ByteOrder.BIG_ENDIAN).putShort((short) address.getPort()).put(ip.getAddress());
            return out.array();
        }
        out.order(ByteOrder.nativeOrder()).putShort((short) AF_INET6);
        out.order(ByteOrder.BIG_ENDIAN).putShort((short) address.getPort()).putInt(0);
        if (ip instanceof Inet4Address) {
            out.put(new byte[10]).putShort((short) 0xffff).put(ip.getAddress());
        } else {
            out.put(ip.getAddress());
        }
        int scope = ip instanceof Inet6Address v6 ? v6.getScopeId() : 0;
        out.order(ByteOrder.nativeOrder()).putInt(scope);
        return out.array();
    }
}
