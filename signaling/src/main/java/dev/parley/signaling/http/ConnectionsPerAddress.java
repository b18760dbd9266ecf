package dev.parley.signaling.http;

import dev.parley.signaling.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Caps the connections one client address holds open at once; one over the cap is closed as it is accepted, before
 * a byte is read. An IPv6 client is counted by its /64 (one subscriber usually owns a whole /64 and can pick any
 * address in it). Trusted reverse proxies are not capped: every client behind them shares their address, and the
 * proxy is where those clients are told apart and limited. Shared by every connection of a gateway.
 */
@ChannelHandler.Sharable
final class ConnectionsPerAddress extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionsPerAddress.class);
    private static final AttributeKey<String> COUNTED_AS = AttributeKey.valueOf("parley.connection-address");

    private final int max;
    private final Set<String> trustedProxies;
    private final GatewayMetrics metrics;
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();
    private final AtomicBoolean proxyWarned = new AtomicBoolean();

    ConnectionsPerAddress(int max, Set<String> trustedProxies, GatewayMetrics metrics) {
        this.max = max;
        this.trustedProxies = trustedProxies;
        this.metrics = metrics;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (!(ctx.channel().remoteAddress() instanceof InetSocketAddress remote) || remote.getAddress() == null
                || trustedProxies.contains(remote.getAddress().getHostAddress())) {
            super.channelActive(ctx);
            return;
        }
        String key = key(remote.getAddress());
        if (open.merge(key, 1, Integer::sum) > max) {
            release(key);
            metrics.connectionRefused();
            InetAddress address = remote.getAddress();
            if ((address.isLoopbackAddress() || address.isSiteLocalAddress()) && !proxyWarned.getAndSet(true)) {
                log.warn("connections from {} went over parley.http.max-connections-per-address ({}); if a reverse"
                        + " proxy runs there, list it in parley.http.trusted-proxies (PARLEY_HTTP_TRUSTED_PROXIES)",
                        address.getHostAddress(), max);
            }
            ctx.close();
            return;
        }
        ctx.channel().attr(COUNTED_AS).set(key);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        String key = ctx.channel().attr(COUNTED_AS).getAndSet(null);
        if (key != null) {
            release(key);
        }
        super.channelInactive(ctx);
    }

    private void release(String key) {
        open.computeIfPresent(key, (k, count) -> count == 1 ? null : count - 1);
    }

    /** Addresses counted together: an IPv4 address alone, an IPv6 address with the rest of its /64. */
    static String key(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address.getHostAddress();
        }
        byte[] network = Arrays.copyOf(Arrays.copyOf(address.getAddress(), 8), 16);
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/64";
        } catch (UnknownHostException e) {
            throw new IllegalStateException("16 bytes are always an IPv6 address", e);
        }
    }
}
