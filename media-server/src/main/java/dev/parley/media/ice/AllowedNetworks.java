package dev.parley.media.ice;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;

/**
 * The remote networks the media server may accept ICE from and send to. By default ({@link #publicOnly}) that is
 * public unicast only: never loopback, link-local, private (RFC 1918, RFC 6598 shared, IPv6 unique-local) or the
 * host's own addresses, so a peer cannot make the server probe the networks it sits in. Configured networks are
 * allowed as they are, also when they name such a range: that is how local mode and tests allow 127.0.0.0/8. The
 * unspecified, multicast and broadcast addresses are never allowed.
 *
 * @param publicUnicast whether public unicast addresses (other than {@code ownAddresses}) are allowed
 * @param networks further networks allowed as configured
 * @param ownAddresses the host's own addresses, refused unless a configured network names them
 */
public record AllowedNetworks(boolean publicUnicast, List<Cidr> networks, Set<InetAddress> ownAddresses) {
    private static final List<Cidr> NOT_PUBLIC = List.of(
            Cidr.parse("0.0.0.0/8"), Cidr.parse("10.0.0.0/8"), Cidr.parse("100.64.0.0/10"),
            Cidr.parse("127.0.0.0/8"), Cidr.parse("169.254.0.0/16"), Cidr.parse("172.16.0.0/12"),
            Cidr.parse("192.168.0.0/16"), Cidr.parse("240.0.0.0/4"), Cidr.parse("::/128"), Cidr.parse("::1/128"), Cidr.parse("fc00::/7"),
            Cidr.parse("fe80::/10"), Cidr.parse("fec0::/10"));

    public AllowedNetworks {
        networks = List.copyOf(networks);
        ownAddresses = Set.copyOf(ownAddresses);
    }

    /** Exactly these networks (nothing else, public addresses included). */
    public AllowedNetworks(List<Cidr> networks) {
        this(false, networks, Set.of());
    }

    /** The default: public unicast addresses, and these networks besides. */
    public static AllowedNetworks publicOnly(List<Cidr> also) {
        return new AllowedNetworks(true, also, Set.of());
    }

    /** Any unicast address: for Parley's own clients, which connect only where their operator points them. */
    public static AllowedNetworks anyUnicast() {
        return new AllowedNetworks(List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0")));
    }

    /** The same rule, refusing these addresses of the host itself (unless a configured network names them). */
    public AllowedNetworks excludingOwn(Set<InetAddress> own) {
        return new AllowedNetworks(publicUnicast, networks, own);
    }

    public boolean allows(InetAddress address) {
        if (address == null || address.isAnyLocalAddress() || address.isMulticastAddress()) {
            return false;
        }
        byte[] raw = address.getAddress();
        if (raw.length == 4 && (raw[0] & 0xff) == 255 && (raw[3] & 0xff) == 255) {
            return false;
        }
        for (Cidr network : networks) {
            if (network.contains(address)) {
                return true;
            }
        }
        return publicUnicast && isPublic(address) && !ownAddresses.contains(address);
    }

    /** Whether the address is a public unicast one (not loopback, link-local, private, shared or unique-local). */
    public static boolean isPublic(InetAddress address) {
        if (address.isLoopbackAddress() || address.isLinkLocalAddress() || address.isSiteLocalAddress()
                || address.isAnyLocalAddress() || address.isMulticastAddress()) {
            return false;
        }
        for (Cidr range : NOT_PUBLIC) {
            if (range.contains(address)) {
                return false;
            }
        }
        return address instanceof Inet4Address || (address.getAddress()[0] & 0xe0) == 0x20;
    }
}
