package dev.parley.media.ice;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An ICE connectivity check as the server reads it: a STUN binding request (RFC 8489) with ICE's attributes
 * (RFC 8445 §7.1.2), parsed where it lies, and the answers a lite agent gives — success with XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY and FINGERPRINT, or an error. One instance per port reader, reused for every check it reads.
 */
final class BindingRequest {
    static final int HEADER = 20;
    static final int MAGIC_COOKIE = 0x2112A442;
    private static final int FINGERPRINT_XOR = 0x5354554e;
    private static final int BINDING_REQUEST = 0x0001;
    private static final int BINDING_SUCCESS = 0x0101;
    private static final int BINDING_ERROR = 0x0111;
    private static final int USERNAME = 0x0006;
    private static final int MESSAGE_INTEGRITY = 0x0008;
    private static final int ERROR_CODE = 0x0009;
    private static final int XOR_MAPPED_ADDRESS = 0x0020;
    private static final int PRIORITY = 0x0024;
    private static final int USE_CANDIDATE = 0x0025;
    private static final int FINGERPRINT = 0x8028;
    /** Longer usernames are refused (RFC 8489 §14.3 allows 513 bytes; ICE's are two short ufrags and a colon). */
    static final int MAX_USERNAME = 513;
    /** The longest answer written: header, XOR-MAPPED-ADDRESS (IPv6), MESSAGE-INTEGRITY, FINGERPRINT. */
    static final int MAX_ANSWER = HEADER + 24 + 24 + 8 + 64;

    /** What {@link #parse} found. */
    enum Kind {
        /** A binding request, its attributes in order. */
        REQUEST,
        /** Well-formed STUN that a lite agent has nothing to answer (an indication, a response, another method). */
        IGNORED,
        /** Not valid STUN: bad lengths, attributes past the end, a wrong FINGERPRINT. */
        MALFORMED
    }

    private final CRC32 crc = new CRC32();
    private final Mac hmac;
    private byte[] data;
    private int offset;
    private int usernameAt;
    private int usernameLength;
    private int integrityAt;
    private boolean hasPriority;
    private boolean useCandidate;

    BindingRequest() {
        try {
            hmac = Mac.getInstance("HmacSHA1");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA1", e);
        }
    }

    /** Whether a datagram is STUN at all (RFC 7983: first byte 0–3, and the magic cookie), not DTLS or SRTP. */
    static boolean isStun(byte[] data, int offset, int length) {
        return length >= HEADER && (data[offset] & 0xc0) == 0 && readInt(data, offset + 4) == MAGIC_COOKIE;
    }

    /** Reads a STUN message; its attributes stay where they are. Only {@link Kind#REQUEST} fills the accessors. */
    Kind parse(byte[] data, int offset, int length) {
        this.data = data;
        this.offset = offset;
        usernameAt = -1;
        usernameLength = 0;
        integrityAt = -1;
        hasPriority = false;
        useCandidate = false;
        int declared = readShort(data, offset + 2);
        if (!isStun(data, offset, length) || declared % 4 != 0 || HEADER + declared != length) {
            return Kind.MALFORMED;
        }
        int at = offset + HEADER;
        int end = offset + length;
        boolean fingerprinted = false;
        while (at < end) {
            if (fingerprinted || at + 4 > end) {
                return Kind.MALFORMED;
            }
            int type = readShort(data, at);
            int valueLength = readShort(data, at + 2);
            int next = at + 4 + ((valueLength + 3) & ~3);
            if (next > end) {
                return Kind.MALFORMED;
            }
            if (type == FINGERPRINT) {
                if (valueLength != 4 || !fingerprintMatches(at)) {
                    return Kind.MALFORMED;
                }
                fingerprinted = true;
            } else if (integrityAt < 0) {
                // Nothing after MESSAGE-INTEGRITY counts but FINGERPRINT (RFC 8489 §14.5).
                switch (type) {
                    case USERNAME -> {
                        usernameAt = at + 4;
                        usernameLength = valueLength;
                    }
                    case MESSAGE_INTEGRITY -> {
                        if (valueLength != 20) {
                            return Kind.MALFORMED;
                        }
                        integrityAt = at;
                    }
                    case PRIORITY -> hasPriority = valueLength == 4;
                    case USE_CANDIDATE -> useCandidate = true;
                    default -> {
                        // Other attributes (ICE-CONTROLLING, GOOG-NETWORK-INFO, ...) change nothing for a lite agent.
                    }
                }
            }
            at = next;
        }
        return readShort(data, offset) == BINDING_REQUEST ? Kind.REQUEST : Kind.IGNORED;
    }

    /** The server's ufrag: USERNAME up to its colon, or null when there is no usable USERNAME. */
    String localUfrag() {
        if (usernameAt < 0 || usernameLength == 0 || usernameLength > MAX_USERNAME) {
            return null;
        }
        int colon = usernameAt;
        int end = usernameAt + usernameLength;
        while (colon < end && data[colon] != ':') {
            colon++;
        }
        return colon == end ? null : new String(data, usernameAt, colon - usernameAt, StandardCharsets.UTF_8);
    }

    boolean hasIntegrity() {
        return integrityAt >= 0;
    }

    boolean hasPriority() {
        return hasPriority;
    }

    boolean useCandidate() {
        return useCandidate;
    }

    /** Whether MESSAGE-INTEGRITY is the HMAC-SHA1 under {@code key} (the server's ICE password). */
    boolean integrityValid(byte[] key) {
        if (integrityAt < 0) {
            return false;
        }
        // The HMAC covers everything before the attribute, with the header's length counting up to its end.
        int covered = integrityAt - offset;
        int saved = readShort(data, offset + 2);
        writeShort(data, offset + 2, covered + 24 - HEADER);
        byte[] expected;
        try {
            expected = hmac(key, data, offset, covered);
        } finally {
            writeShort(data, offset + 2, saved);
        }
        return MessageDigest.isEqual(expected, Arrays.copyOfRange(data, integrityAt + 4, integrityAt + 24));
    }

    /**
     * Writes the success answer to the request last parsed into {@code out}: XOR-MAPPED-ADDRESS (where the request
     * came from), MESSAGE-INTEGRITY under {@code key}, FINGERPRINT. Returns its length.
     */
    int writeSuccess(byte[] out, InetSocketAddress mapped, byte[] key) {
        int at = header(out, BINDING_SUCCESS);
        byte[] address = mapped.getAddress().getAddress();
        writeShort(out, at, XOR_MAPPED_ADDRESS);
        writeShort(out, at + 2, 4 + address.length);
        out[at + 4] = 0;
        out[at + 5] = (byte) (mapped.getAddress() instanceof Inet6Address ? 0x02 : 0x01);
        writeShort(out, at + 6, mapped.getPort() ^ (MAGIC_COOKIE >>> 16));
        for (int i = 0; i < address.length; i++) {
            // The cookie, then (IPv6) the transaction ID: bytes 4–19 of the header.
            out[at + 8 + i] = (byte) (address[i] ^ out[4 + i]);
        }
        at += 8 + address.length;
        writeShort(out, 2, at - HEADER + 24);
        byte[] mac = hmac(key, out, 0, at);
        writeShort(out, at, MESSAGE_INTEGRITY);
        writeShort(out, at + 2, 20);
        System.arraycopy(mac, 0, out, at + 4, 20);
        at += 24;
        return fingerprint(out, at);
    }

    /** Writes an error answer (RFC 8489 §14.8: 400 Bad Request, 401 Unauthorized) into {@code out}. */
    int writeError(byte[] out, int code, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int at = header(out, BINDING_ERROR);
        writeShort(out, at, ERROR_CODE);
        writeShort(out, at + 2, 4 + text.length);
        out[at + 4] = 0;
        out[at + 5] = 0;
        out[at + 6] = (byte) (code / 100);
        out[at + 7] = (byte) (code % 100);
        System.arraycopy(text, 0, out, at + 8, text.length);
        at += 8 + text.length;
        while ((at & 3) != 0) {
            out[at++] = 0;
        }
        return fingerprint(out, at);
    }

    /** The answer's header: same transaction ID as the request; its length is set as attributes are added. */
    private int header(byte[] out, int type) {
        writeShort(out, 0, type);
        writeShort(out, 2, 0);
        System.arraycopy(data, offset + 4, out, 4, 16);
        return HEADER;
    }

    /** Appends FINGERPRINT at {@code at}, with the header's length counting it. Returns the message's length. */
    private int fingerprint(byte[] out, int at) {
        writeShort(out, 2, at + 8 - HEADER);
        crc.reset();
        crc.update(out, 0, at);
        writeShort(out, at, FINGERPRINT);
        writeShort(out, at + 2, 4);
        writeInt(out, at + 4, (int) crc.getValue() ^ FINGERPRINT_XOR);
        return at + 8;
    }

    private boolean fingerprintMatches(int at) {
        int saved = readShort(data, offset + 2);
        writeShort(data, offset + 2, at + 8 - offset - HEADER);
        crc.reset();
        crc.update(data, offset, at - offset);
        writeShort(data, offset + 2, saved);
        return ((int) crc.getValue() ^ FINGERPRINT_XOR) == readInt(data, at + 4);
    }

    private byte[] hmac(byte[] key, byte[] bytes, int from, int count) {
        try {
            hmac.init(new SecretKeySpec(key, "HmacSHA1"));
        } catch (InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
        hmac.update(bytes, from, count);
        return hmac.doFinal();
    }

    private static int readShort(byte[] data, int at) {
        return (data[at] & 0xff) << 8 | (data[at + 1] & 0xff);
    }

    private static int readInt(byte[] data, int at) {
        return readShort(data, at) << 16 | readShort(data, at + 2);
    }

    private static void writeShort(byte[] data, int at, int value) {
        data[at] = (byte) (value >>> 8);
        data[at + 1] = (byte) value;
    }

    private static void writeInt(byte[] data, int at, int value) {
        writeShort(data, at, value >>> 16);
        writeShort(data, at + 2, value);
    }
}
