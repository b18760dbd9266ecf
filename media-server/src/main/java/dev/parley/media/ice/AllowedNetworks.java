package dev.parley.media.ice;

import java.net.InetAddress;
import java.util.List;

/**
 * The remote networks the media server may accept ICE from and send to. Empty means any unicast address; the
 * unspecified, multicast and broadcast addresses are never allowed.
 */
public record AllowedNetworks(List<Cidr> networks) {

    public AllowedNetworks {
        networks = List.copyOf(networks);
    }

    public boolean allows(InetAddress address) {
        if (address == null || address.isAnyLocalAddress() || address.isMulticastAddress()) {
            return false;
        }
        byte[] raw = address.getAddress();
        if (raw.length == 4 && (raw[0] & 0xff) == 255 && (raw[3] & 0xff) == 255) {
            return false;
        }
        if (networks.isEmpty()) {
            return true;
        }
        for (Cidr network : networks) {
            if (network.contains(address)) {
                return true;
            }
        }
        return false;
    }
}
