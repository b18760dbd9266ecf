package dev.parley.media.dtls;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;

/**
 * A certificate fingerprint as SDP carries it ({@code a=fingerprint:<hash> <hex:pairs>}, RFC 8122): the hash
 * function's name and the digest as upper-case hex pairs joined by colons.
 */
public record Fingerprint(String hash, String value) {
    /** The hash functions accepted, strongest first: the order in which one is chosen when a peer offers several. */
    public static final List<String> HASHES = List.of("sha-512", "sha-384", "sha-256", "sha-1");

    public Fingerprint {
        hash = hash.toLowerCase(Locale.ROOT);
        value = value.toUpperCase(Locale.ROOT);
    }

    /**
     * Reads the value of an {@code a=fingerprint} line; null when its hash function is not one of {@link #HASHES}
     * or the digest is not the length that function gives.
     */
    public static Fingerprint parse(String attributeValue) {
        String[] parts = attributeValue.trim().split("\\s+");
        if (parts.length != 2) {
            return null;
        }
        String hash = parts[0].toLowerCase(Locale.ROOT);
        int length = digestLength(hash);
        if (length == 0 || !parts[1].matches("(?i)([0-9a-f]{2}:){" + (length - 1) + "}[0-9a-f]{2}")) {
            return null;
        }
        return new Fingerprint(hash, parts[1]);
    }

    /** The fingerprint of a DER certificate under the named hash function. */
    public static Fingerprint of(String hash, byte[] der) {
        try {
            byte[] digest = MessageDigest.getInstance(javaName(hash)).digest(der);
            StringBuilder out = new StringBuilder(digest.length * 3);
            for (byte b : digest) {
                if (out.length() > 0) {
                    out.append(':');
                }
                out.append(String.format("%02X", b & 0xff));
            }
            return new Fingerprint(hash, out.toString());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether a DER certificate hashes to this fingerprint under its own hash function. */
    public boolean matches(byte[] der) {
        return of(hash, der).value.equals(value);
    }

    /** How the line reads after {@code a=fingerprint:}. */
    public String sdpValue() {
        return hash + " " + value;
    }

    private static int digestLength(String hash) {
        return switch (hash) {
            case "sha-1" -> 20;
            case "sha-256" -> 32;
            case "sha-384" -> 48;
            case "sha-512" -> 64;
            default -> 0;
        };
    }

    private static String javaName(String hash) {
        if (digestLength(hash) == 0) {
            throw new IllegalArgumentException("unsupported fingerprint hash " + hash);
        }
        return hash.toUpperCase(Locale.ROOT);
    }
}
