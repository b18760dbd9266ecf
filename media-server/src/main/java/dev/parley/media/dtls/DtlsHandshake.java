package dev.parley.media.dtls;

import dev.parley.media.srtp.SrtpKeys;
import dev.parley.media.srtp.SrtpProfile;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.Hashtable;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.Certificate;
import org.bouncycastle.tls.CertificateRequest;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.ClientCertificateType;
import org.bouncycastle.tls.DTLSClientProtocol;
import org.bouncycastle.tls.DTLSServerProtocol;
import org.bouncycastle.tls.DTLSTransport;
import org.bouncycastle.tls.DatagramTransport;
import org.bouncycastle.tls.DefaultTlsClient;
import org.bouncycastle.tls.DefaultTlsServer;
import org.bouncycastle.tls.ExporterLabel;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureAndHashAlgorithm;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsContext;
import org.bouncycastle.tls.TlsCredentialedSigner;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsSRTPUtils;
import org.bouncycastle.tls.TlsServerCertificate;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.UseSRTPData;
import org.bouncycastle.tls.crypto.TlsCertificate;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.impl.bc.BcDefaultTlsCredentialedSigner;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/**
 * DTLS 1.2 handshakes (BouncyCastle) that end in SRTP keys. The peer's certificate must match the fingerprint
 * from its SDP, or the handshake fails with bad_certificate.
 */
public final class DtlsHandshake {
    private static final int[] CIPHER_SUITES = {
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    };
    private static final SignatureAndHashAlgorithm ECDSA_SHA256 =
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa);

    private DtlsHandshake() {
    }

    /** A finished handshake: the SRTP keys, and the DTLS association to keep serving retransmissions and alerts. */
    public record Result(SrtpKeys keys, DTLSTransport association) {
    }

    /** Runs the server side; blocks until the handshake ends. */
    public static Result accept(DtlsIdentity identity, List<Fingerprint> peerFingerprints, List<SrtpProfile> profiles,
                                  DatagramTransport transport) throws IOException {
        Server server = new Server(new BcTlsCrypto(new SecureRandom()), identity, peerFingerprints, profiles);
        DTLSTransport dtls = new DTLSServerProtocol().accept(server, transport);
        return keysOrFail(server.keys, dtls);
    }

    /** Runs the client side; blocks until the handshake ends. */
    public static Result connect(DtlsIdentity identity, List<Fingerprint> peerFingerprints, List<SrtpProfile> profiles,
                                   DatagramTransport transport) throws IOException {
        Client client = new Client(new BcTlsCrypto(new SecureRandom()), identity, peerFingerprints, profiles);
        DTLSTransport dtls = new DTLSClientProtocol().connect(client, transport);
        return keysOrFail(client.keys, dtls);
    }

    private static Result keysOrFail(SrtpKeys keys, DTLSTransport dtls) throws IOException {
        if (keys == null) {
            dtls.close();
            throw new IOException("DTLS finished without SRTP keys");
        }
        return new Result(keys, dtls);
    }

    /** The peer's certificate must hash, under the function its SDP named, to one of its SDP fingerprints. */
    private static void checkFingerprint(Certificate certificate, List<Fingerprint> expected) throws IOException {
        if (certificate == null || certificate.isEmpty()) {
            throw new TlsFatalAlert(AlertDescription.handshake_failure, "peer sent no certificate");
        }
        byte[] der = certificate.getCertificateAt(0).getEncoded();
        for (Fingerprint fingerprint : expected) {
            if (fingerprint.matches(der)) {
                return;
            }
        }
        throw new TlsFatalAlert(AlertDescription.bad_certificate, "certificate does not match the SDP fingerprint ("
                + expected.get(0).hash() + ")");
    }

    private static TlsCredentialedSigner signer(BcTlsCrypto crypto, TlsContext context, DtlsIdentity identity)
            throws IOException {
        TlsCertificate tlsCertificate = crypto.createCertificate(identity.certificateDer());
        Certificate chain = new Certificate(new TlsCertificate[] {tlsCertificate});
        return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), crypto, identity.privateKey(),
                chain, ECDSA_SHA256);
    }

    private static byte[] exportKeyingMaterial(TlsContext context, SrtpProfile profile) {
        return context.exportKeyingMaterial(ExporterLabel.dtls_srtp, null,
                2 * (profile.keyLength() + profile.saltLength()));
    }

    private static UseSRTPData offer(List<SrtpProfile> profiles) {
        int[] ids = profiles.stream().mapToInt(SrtpProfile::id).toArray();
        return new UseSRTPData(ids, TlsUtils.EMPTY_BYTES);
    }

    private static final class Server extends DefaultTlsServer {
        private final BcTlsCrypto crypto;
        private final DtlsIdentity identity;
        private final List<Fingerprint> peerFingerprints;
        private final List<SrtpProfile> profiles;
        private SrtpProfile chosen;
        private SrtpKeys keys;

        Server(BcTlsCrypto crypto, DtlsIdentity identity, List<Fingerprint> peerFingerprints, List<SrtpProfile> profiles) {
            super(crypto);
            this.crypto = crypto;
            this.identity = identity;
            this.peerFingerprints = peerFingerprints;
            this.profiles = profiles;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.DTLSv12.only();
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return CIPHER_SUITES.clone();
        }

        @Override
        protected TlsCredentialedSigner getECDSASignerCredentials() throws IOException {
            return signer(crypto, context, identity);
        }

        @Override
        public CertificateRequest getCertificateRequest() {
            Vector<SignatureAndHashAlgorithm> algorithms = new Vector<>();
            algorithms.add(ECDSA_SHA256);
            return new CertificateRequest(new short[] {ClientCertificateType.ecdsa_sign}, algorithms, null);
        }

        @Override
        public void notifyClientCertificate(Certificate clientCertificate) throws IOException {
            checkFingerprint(clientCertificate, peerFingerprints);
        }

        @Override
        @SuppressWarnings({"rawtypes", "unchecked"})
        public void processClientExtensions(Hashtable clientExtensions) throws IOException {
            super.processClientExtensions(clientExtensions);
            UseSRTPData offered = TlsSRTPUtils.getUseSRTPExtension(clientExtensions);
            if (offered == null) {
                throw new TlsFatalAlert(AlertDescription.handshake_failure, "client offered no use_srtp");
            }
            for (SrtpProfile profile : profiles) {
                for (int id : offered.getProtectionProfiles()) {
                    if (id == profile.id()) {
                        chosen = profile;
                        return;
                    }
                }
            }
            throw new TlsFatalAlert(AlertDescription.handshake_failure, "no common SRTP profile");
        }

        @Override
        @SuppressWarnings({"rawtypes", "unchecked"})
        public Hashtable getServerExtensions() throws IOException {
            Hashtable extensions = super.getServerExtensions();
            if (extensions == null) {
                extensions = new Hashtable();
            }
            TlsSRTPUtils.addUseSRTPExtension(extensions,
                    new UseSRTPData(new int[] {chosen.id()}, TlsUtils.EMPTY_BYTES));
            return extensions;
        }

        @Override
        public void notifyHandshakeComplete() throws IOException {
            super.notifyHandshakeComplete();
            keys = SrtpKeys.fromKeyingMaterial(chosen, exportKeyingMaterial(context, chosen), false);
        }
    }

    private static final class Client extends DefaultTlsClient {
        private final BcTlsCrypto crypto;
        private final DtlsIdentity identity;
        private final List<Fingerprint> peerFingerprints;
        private final List<SrtpProfile> profiles;
        private SrtpProfile chosen;
        private SrtpKeys keys;

        Client(BcTlsCrypto crypto, DtlsIdentity identity, List<Fingerprint> peerFingerprints, List<SrtpProfile> profiles) {
            super(crypto);
            this.crypto = crypto;
            this.identity = identity;
            this.peerFingerprints = peerFingerprints;
            this.profiles = profiles;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.DTLSv12.only();
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return CIPHER_SUITES.clone();
        }

        @Override
        @SuppressWarnings({"rawtypes", "unchecked"})
        public Hashtable getClientExtensions() throws IOException {
            Hashtable extensions = super.getClientExtensions();
            if (extensions == null) {
                extensions = new Hashtable();
            }
            TlsSRTPUtils.addUseSRTPExtension(extensions, offer(profiles));
            return extensions;
        }

        @Override
        @SuppressWarnings("rawtypes")
        public void processServerExtensions(Hashtable serverExtensions) throws IOException {
            super.processServerExtensions(serverExtensions);
            UseSRTPData selected = TlsSRTPUtils.getUseSRTPExtension(serverExtensions);
            if (selected == null || selected.getProtectionProfiles().length != 1) {
                throw new TlsFatalAlert(AlertDescription.illegal_parameter, "server selected no SRTP profile");
            }
            chosen = SrtpProfile.byId(selected.getProtectionProfiles()[0]);
            if (chosen == null || !profiles.contains(chosen)) {
                throw new TlsFatalAlert(AlertDescription.illegal_parameter, "server selected an unoffered profile");
            }
        }

        @Override
        public TlsAuthentication getAuthentication() {
            return new TlsAuthentication() {
                @Override
                public void notifyServerCertificate(TlsServerCertificate serverCertificate) throws IOException {
                    checkFingerprint(serverCertificate.getCertificate(), peerFingerprints);
                }

                @Override
                public TlsCredentials getClientCredentials(CertificateRequest request) throws IOException {
                    return signer(crypto, context, identity);
                }
            };
        }

        @Override
        public void notifyHandshakeComplete() throws IOException {
            super.notifyHandshakeComplete();
            keys = SrtpKeys.fromKeyingMaterial(chosen, exportKeyingMaterial(context, chosen), true);
        }
    }
}
