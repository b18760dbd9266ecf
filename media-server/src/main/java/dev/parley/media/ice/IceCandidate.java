package dev.parley.media.ice;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** One ICE candidate as SDP carries it ({@code a=candidate:...}, RFC 8839). Only UDP candidates are used. */
public record IceCandidate(String foundation, int component, String transport, long priority, String address,
                           int port, String type, String relatedAddress, int relatedPort) {

    /** Parses the value after {@code a=}, with or without the {@code candidate:} prefix; null if unusable. */
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
            return new IceCandidate(f[0], Integer.parseInt(f[1]), f[2].toLowerCase(), Long.parseLong(f[3]), f[4],
                    Integer.parseInt(f[5]), f[7], relatedAddress, relatedPort);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The address when it is a literal IP (not an mDNS name), else null. */
    public InetAddress literalAddress() {
        if (!address.matches("[0-9a-fA-F:.]+") || !address.contains(".") && !address.contains(":")) {
            return null;
        }
        try {
            return InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            return null;
        }
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
