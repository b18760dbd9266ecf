package dev.parley.media.srtp;

import org.jitsi.srtp.crypto.Aes;
import org.jitsi.srtp.crypto.JitsiOpenSslProvider;

/**
 * Chooses jitsi-srtp's AES implementation once per process: native OpenSSL when its JNI library loads (fast and
 * allocation-free per packet), otherwise jitsi-srtp's own pick among the Java providers.
 */
public final class SrtpCiphers {
    private SrtpCiphers() {
    }

    /** Returns whether the native OpenSSL ciphers are in use. */
    public static boolean preferNative() {
        if (JitsiOpenSslProvider.isLoaded()) {
            Aes.setFactoryClassName(Aes.OpenSSLCipherFactory.class.getName());
            return true;
        }
        return false;
    }
}
