package dev.parley.signaling.auth;

import io.netty.util.NetUtil;

import java.util.Arrays;

/**
 * The unit a client address is counted in by rate limits: an IPv4 address as it is, an IPv6 address by its /64 (one
 * home or phone gets a whole /64 and can pick any address in it), an IPv4-mapped IPv6 address as IPv4. Never resolves
 * names: anything that is not an IP literal (with an optional port or brackets, as some proxies send) falls into one
 * shared bucket.
 */
public final class AddressBucket {

    /** The bucket of every address that is not an IP literal. */
    static final String UNPARSED = "unparsed";

    private AddressBucket() {
    }

    public static String of(String address) {
        if (address == null) {
            return UNPARSED;
        }
        String literal = withoutPortOrBrackets(address.strip());
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(literal);
        if (bytes == null) {
            return UNPARSED;
        }
        if (bytes.length == 4) {
            return NetUtil.bytesToIpAddress(bytes);
        }
        if (isIpv4Mapped(bytes)) {
            return NetUtil.bytesToIpAddress(Arrays.copyOfRange(bytes, 12, 16));
        }
        Arrays.fill(bytes, 8, 16, (byte) 0);
        return NetUtil.bytesToIpAddress(bytes) + "/64";
    }

    private static String withoutPortOrBrackets(String address) {
        if (address.startsWith("[")) {
            int end = address.indexOf(']');
            return end < 0 ? address : address.substring(1, end);
        }
        int colon = address.indexOf(':');
        if (colon > 0 && colon == address.lastIndexOf(':') && address.indexOf('.') > 0) {
            return address.substring(0, colon); // IPv4:port
        }
        return address;
    }

    private static boolean isIpv4Mapped(byte[] bytes) {
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
    }
}
