package dev.parley.media.dtls;

import dev.parley.media.srtp.SrtpKeys;
import dev.parley.media.srtp.SrtpProfile;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
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
 * from its SDP, or the handshake fails with bad_certificate. Peers may hold ECDSA (P-256, P-384) or RSA (2048 bits
 * or more, PKCS#1 v1.5 or PSS signatures) certificates; this side serves the ECDHE suites its own identity signs.
 */
public final class DtlsHandshake {
    /** The suites an ECDSA identity serves, in order of preference. */
    public static final int[] ECDSA_SUITES = {
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    };
    /** The suites an RSA identity serves, in order of preference. */
    public static final int[] RSA_SUITES = {
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    };
    /** Shortest RSA modulus accepted from a peer (NIST SP 800-131A; browsers and OpenSSL generate 2048 or more). */
    public static final int MIN_RSA_BITS = 2048;
    /** Signatures accepted from a peer: ECDSA on P-256 and P-384, RSA with PSS or PKCS#1 v1.5, SHA-2 only. */
    private static final List<SignatureAndHashAlgorithm> PEER_SIGNATURES = List.of(
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa),
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha384, SignatureAlgorithm.ecdsa),
            SignatureAndHashAlgorithm.rsa_pss_rsae_sha256,
            SignatureAndHashAlgorithm.rsa_pss_rsae_sha384,
            SignatureAndHashAlgorithm.rsa_pss_rsae_sha512,
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha256, SignatureAlgorithm.rsa),
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha384, SignatureAlgorithm.rsa),
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha512, SignatureAlgorithm.rsa));

    /** A peer certificate whose key the server does not accept (too short, or an unsupported kind or curve). */
    public static final class CertificateRefused extends TlsFatalAlert {
        CertificateRefused(short alert, String message) {
            super(alert, message);
        }
    }

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
        return connect(identity, peerFingerprints, profiles, null, transport);
    }

    /**
     * Runs the client side offering only {@code cipherSuites} (null: every suite of both kinds); blocks until the
     * handshake ends.
     */
    public static Result connect(DtlsIdentity identity, List<Fingerprint> peerFingerprints, List<SrtpProfile> profiles,
                                 int[] cipherSuites, DatagramTransport transport) throws IOException {
        Client client = new Client(new BcTlsCrypto(new SecureRandom()), identity, peerFingerprints, profiles,
                cipherSuites == null ? allSuites() : cipherSuites.clone());
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

    private static int[] allSuites() {
        int[] all = Arrays.copyOf(ECDSA_SUITES, ECDSA_SUITES.length + RSA_SUITES.length);
        System.arraycopy(RSA_SUITES, 0, all, ECDSA_SUITES.length, RSA_SUITES.length);
        return all;
    }

    /**
     * Refuses a peer key the server does not trust to authenticate the session: RSA under {@link #MIN_RSA_BITS},
     * an EC key on a curve other than P-256 or P-384, any other kind of key.
     */
    private static void checkPeerKey(byte[] der) throws IOException {
        SubjectPublicKeyInfo key;
        try {
            key = org.bouncycastle.asn1.x509.Certificate.getInstance(der).getSubjectPublicKeyInfo();
        } catch (RuntimeException e) {
            throw new TlsFatalAlert(AlertDescription.bad_certificate, "unreadable peer certificate");
        }
        ASN1ObjectIdentifier algorithm = key.getAlgorithm().getAlgorithm();
        if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption) || algorithm.equals(PKCSObjectIdentifiers.id_RSASSA_PSS)) {
            int bits;
            try {
                bits = RSAPublicKey.getInstance(key.parsePublicKey()).getModulus().bitLength();
            } catch (IOException | RuntimeException e) {
                throw new TlsFatalAlert(AlertDescription.bad_certificate, "unreadable RSA key in the peer certificate");
            }
            if (bits < MIN_RSA_BITS) {
                throw new CertificateRefused(AlertDescription.insufficient_security, "peer certificate has an RSA key of "
                        + bits + " bits; at least " + MIN_RSA_BITS + " are required");
            }
            return;
        }
        if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            Object curve = key.getAlgorithm().getParameters();
            if (X9ObjectIdentifiers.prime256v1.equals(curve) || SECObjectIdentifiers.secp384r1.equals(curve)) {
                return;
            }
            throw new CertificateRefused(AlertDescription.unsupported_certificate,
                    "peer certificate has an EC key on curve " + curve + "; P-256 or P-384 is required");
        }
        throw new CertificateRefused(AlertDescription.unsupported_certificate, "peer certificate has a key of type "
                + algorithm + "; RSA or ECDSA (P-256, P-384) is required");
    }

    /** The peer's certificate must hash, under the function its SDP named, to one of its SDP fingerprints. */
    private static void checkFingerprint(Certificate certificate, List<Fingerprint> expected) throws IOException {
        if (certificate == null || certificate.isEmpty()) {
            throw new TlsFatalAlert(AlertDescription.handshake_failure, "peer sent no certificate");
        }
        byte[] der = certificate.getCertificateAt(0).getEncoded();
        for (Fingerprint fingerprint : expected) {
            if (fingerprint.matches(der)) {
                checkPeerKey(der);
                return;
            }
        }
        throw new TlsFatalAlert(AlertDescription.bad_certificate, "certificate does not match the SDP fingerprint ("
                + expected.get(0).hash() + ")");
    }

    /**
     * Signs with the identity's own scheme; an RSA key switches between PSS and PKCS#1 v1.5 when the peer accepts
     * only the other ({@code accepted} null: the peer said nothing, TLS 1.2 then means SHA-256 is fine).
     */
    private static TlsCredentialedSigner signer(BcTlsCrypto crypto, TlsContext context, DtlsIdentity identity,
                                                List<?> accepted) throws IOException {
        TlsCertificate tlsCertificate = crypto.createCertificate(identity.certificateDer());
        Certificate chain = new Certificate(new TlsCertificate[] {tlsCertificate});
        SignatureAndHashAlgorithm algorithm = identity.kind().signature;
        if (identity.kind().isRsa() && accepted != null && !accepted.contains(algorithm)) {
            SignatureAndHashAlgorithm other = identity.kind() == DtlsIdentity.Kind.RSA_PSS
                    ? DtlsIdentity.Kind.RSA_PKCS1.signature : DtlsIdentity.Kind.RSA_PSS.signature;
            if (accepted.contains(other)) {
                algorithm = other;
            }
        }
        return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), crypto, identity.privateKey(),
                chain, algorithm);
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
            return (identity.kind().isRsa() ? RSA_SUITES : ECDSA_SUITES).clone();
        }

        @Override
        protected String getDetailMessageNoCipherSuite() {
            return "the client offered none of the suites the server's " + identity.describe() + " certificate serves ("
                    + (identity.kind().isRsa() ? "ECDHE-RSA" : "ECDHE-ECDSA") + " with AES-GCM, ChaCha20 or AES-CBC)";
        }

        @Override
        protected TlsCredentialedSigner getECDSASignerCredentials() throws IOException {
            return identity.kind().isRsa() ? null : signer(crypto, context, identity, null);
        }

        @Override
        protected TlsCredentialedSigner getRSASignerCredentials() throws IOException {
            return identity.kind().isRsa() ? signer(crypto, context, identity,
                    context.getSecurityParametersHandshake().getClientSigAlgs()) : null;
        }

        /** Asks for an RSA or an ECDSA certificate, with the signatures of either that the server verifies. */
        @Override
        public CertificateRequest getCertificateRequest() {
            Vector<SignatureAndHashAlgorithm> algorithms = new Vector<>(PEER_SIGNATURES);
            return new CertificateRequest(new short[] {ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign},
                    algorithms, null);
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
        private final int[] cipherSuites;
        private SrtpProfile chosen;
        private SrtpKeys keys;

        Client(BcTlsCrypto crypto, DtlsIdentity identity, List<Fingerprint> peerFingerprints, List<SrtpProfile> profiles,
               int[] cipherSuites) {
            super(crypto);
            this.crypto = crypto;
            this.identity = identity;
            this.peerFingerprints = peerFingerprints;
            this.profiles = profiles;
            this.cipherSuites = cipherSuites;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.DTLSv12.only();
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return cipherSuites.clone();
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
                    return signer(crypto, context, identity, request.getSupportedSignatureAlgorithms());
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
