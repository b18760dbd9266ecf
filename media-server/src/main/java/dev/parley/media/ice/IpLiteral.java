package dev.parley.media.ice;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IPv4 and IPv6 literals read without ever touching the resolver. {@code InetAddress.getByName} looks up anything
 * that is not a literal, so a peer could make a shared thread wait on DNS (or probe a resolver) with a hostname in
 * an SDP candidate; this class never does.
 */
public final class IpLiteral {
    private IpLiteral() {
    }

    /** The address if {@code text} is an IPv4 or IPv6 literal (no zone id, no brackets), else null. */
    public static InetAddress parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 45 || text.indexOf('%') >= 0
                || text.indexOf('[') >= 0) {
            return null;
        }
        byte[] raw = NetUtil.createByteArrayFromIpAddressString(text);
        if (raw == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
