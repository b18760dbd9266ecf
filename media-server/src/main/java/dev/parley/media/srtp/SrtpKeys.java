package dev.parley.media.srtp;

/** Keys exported from a DTLS handshake, already split into what this side sends with and receives with. */
public record SrtpKeys(SrtpProfile profile, byte[] localKey, byte[] localSalt, byte[] remoteKey, byte[] remoteSalt) {

    /**
     * Splits RFC 5764 keying material (client key | server key | client salt | server salt).
     *
     * @param isClient whether this side was the DTLS client
     */
    public static SrtpKeys fromKeyingMaterial(SrtpProfile profile, byte[] material, boolean isClient) {
        int k = profile.keyLength();
        int s = profile.saltLength();
        byte[] clientKey = slice(material, 0, k);
        byte[] serverKey = slice(material, k, k);
        byte[] clientSalt = slice(material, 2 * k, s);
        byte[] serverSalt = slice(material, 2 * k + s, s);
        return isClient
                ? new SrtpKeys(profile, clientKey, clientSalt, serverKey, serverSalt)
                : new SrtpKeys(profile, serverKey, serverSalt, clientKey, clientSalt);
    }

    private static byte[] slice(byte[] source, int from, int length) {
        byte[] out = new byte[length];
        System.arraycopy(source, from, out, 0, length);
        return out;
    }
}
