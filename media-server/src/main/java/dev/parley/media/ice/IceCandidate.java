package dev.parley.media.ice;

import java.net.InetAddress;
import java.util.Locale;

/**
 * One ICE candidate as SDP carries it ({@code a=candidate:...}, RFC 8839). Only candidates whose address is an IP
 * literal are read: hostname and mDNS ({@code .local}) candidates are ignored, never resolved.
 */
public record IceCandidate(String foundation, int component, String transport, long priority, String address,
                           int port, String type, String relatedAddress, int relatedPort) {

    /**
     * Parses the value after {@code a=}, with or without the {@code candidate:} prefix; null if unusable, including
     * a hostname or mDNS address (the server learns addresses from checks, and must never wait on a resolver).
     */
    public static IceCandidate parse(String line) {
        String value = line.startsWith("a=") ? line.substring(2) : line;
        if (value.startsWith("candidate:")) {
            value = value.substring("candidate:".length());
        }
        String[] f = value.trim().split("\\s+");
        if (f.length < 8 || !"typ".equals(f[6])) {
            return null;
        }
        try {
            String relatedAddress = null;
            int relatedPort = 0;
            for (int i = 8; i + 1 < f.length; i += 2) {
                if ("raddr".equals(f[i])) {
                    relatedAddress = f[i + 1];
                } else if ("rport".equals(f[i])) {
                    relatedPort = Integer.parseInt(f[i + 1]);
                }
            }
            int component = Integer.parseInt(f[1]);
            long priority = Long.parseLong(f[3]);
            int port = Integer.parseInt(f[5]);
            if (IpLiteral.parse(f[4]) == null || component < 1 || component > 256 || priority < 0
                    || priority > 0xffffffffL || port < 0 || port > 65535 || relatedPort < 0 || relatedPort > 65535) {
                return null;
            }
            if (relatedAddress != null && IpLiteral.parse(relatedAddress) == null) {
                relatedAddress = null;
                relatedPort = 0;
            }
            return new IceCandidate(f[0], component, f[2].toLowerCase(Locale.ROOT), priority, f[4], port, f[7],
                    relatedAddress, relatedPort);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The address when it is an IP literal (not a hostname or an mDNS name), else null; never resolves. */
    public InetAddress literalAddress() {
        return IpLiteral.parse(address);
    }

    public String toSdpValue() {
        StringBuilder out = new StringBuilder("candidate:").append(foundation).append(' ').append(component)
                .append(' ').append(transport).append(' ').append(priority).append(' ').append(address).append(' ')
                .append(port).append(" typ ").append(type);
        if (relatedAddress != null) {
            out.append(" raddr ").append(relatedAddress).append(" rport ").append(relatedPort);
        }
        return out.append(" generation 0").toString();
    }
}
