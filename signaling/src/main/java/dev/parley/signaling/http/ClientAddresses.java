package dev.parley.signaling.http;

import dev.parley.signaling.metrics.GatewayMetrics;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who a request comes from, for rate limits: the TCP peer, or behind a trusted reverse proxy the last X-Forwarded-For
 * hop that is not a trusted proxy. X-Forwarded-For from any other peer is ignored (anyone can send it) and warned
 * about once per peer: behind a proxy that is not listed, every client would share the proxy's address.
 */
public final class ClientAddresses {

    private static final Logger log = LoggerFactory.getLogger(ClientAddresses.class);
    private static final String FORWARDED_FOR = "X-Forwarded-For";
    /** Peers warned about; beyond this many, further ones are only counted. */
    static final int MAX_WARNED_PEERS = 1_000;
    private static final int MAX_ADDRESS_LENGTH = 64;

    private final Set<InetAddress> trusted;
    private final GatewayMetrics metrics;
    private final Set<InetAddress> warned = ConcurrentHashMap.newKeySet();

    /** @param trustedProxies IP literals (GatewayConfig checked them) */
    public ClientAddresses(Set<String> trustedProxies, GatewayMetrics metrics) {
        Set<InetAddress> parsed = new HashSet<>();
        for (String proxy : trustedProxies) {
            InetAddress address = literal(proxy);
            if (address != null) {
                parsed.add(address);
            }
        }
        this.trusted = Set.copyOf(parsed);
        this.metrics = metrics;
        if (trusted.isEmpty()) {
            log.info("No trusted proxies: rate limits and sign-in throttling count each TCP peer as the client. Behind"
                    + " a reverse proxy, set parley.http.trusted-proxies (PARLEY_HTTP_TRUSTED_PROXIES) to its address.");
        }
    }

    public String of(SocketAddress remote, HttpHeaders headers) {
        if (!(remote instanceof InetSocketAddress socket) || socket.getAddress() == null) {
            return "unknown";
        }
        InetAddress peer = socket.getAddress();
        String forwarded = headers.get(FORWARDED_FOR);
        if (!trusted.contains(peer)) {
            if (forwarded != null) {
                untrustedForwarding(peer);
            }
            return peer.getHostAddress();
        }
        if (forwarded == null) {
            return peer.getHostAddress();
        }
        String[] hops = forwarded.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (hop.isEmpty()) {
                continue;
            }
            InetAddress address = literal(hop);
            if (address == null || !trusted.contains(address)) {
                return hop.length() > MAX_ADDRESS_LENGTH ? hop.substring(0, MAX_ADDRESS_LENGTH) : hop;
            }
        }
        return peer.getHostAddress();
    }

    private void untrustedForwarding(InetAddress peer) {
        metrics.forwardedFromUntrustedPeer();
        if (warned.size() < MAX_WARNED_PEERS && warned.add(peer)) {
            log.warn("Requests from {} carry X-Forwarded-For, but {} is not a trusted proxy: rate limits and sign-in"
                    + " throttling count {} itself as the client. If it is your reverse proxy, add it to"
                    + " parley.http.trusted-proxies (PARLEY_HTTP_TRUSTED_PROXIES); otherwise ignore this. Counted in"
                    + " parley_http_forwarded_untrusted_total; logged once per peer.",
                    peer.getHostAddress(), peer.getHostAddress(), peer.getHostAddress());
        }
    }

    /** The address of an IP literal, never looking up a name; null for anything else. */
    private static InetAddress literal(String text) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(text);
        if (bytes == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
