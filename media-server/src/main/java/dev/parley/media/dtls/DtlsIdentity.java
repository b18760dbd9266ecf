package dev.parley.media.dtls;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Locale;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureAndHashAlgorithm;

/**
 * A self-signed certificate and its key for DTLS, and how it signs the handshake. The server holds one for every
 * handshake of the process: ECDSA P-256 by default, RSA 2048 when configured ({@code dtls-certificate}). Other
 * kinds (P-384, RSA PKCS#1 v1.5 or PSS signatures, short RSA keys) exist for test peers.
 */
public final class DtlsIdentity {
    /** The key and the signature scheme the handshake uses. */
    public enum Kind {
        ECDSA_P256("EC", "secp256r1", 256, SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha256,
                SignatureAlgorithm.ecdsa)),
        ECDSA_P384("EC", "secp384r1", 384, SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha384,
                SignatureAlgorithm.ecdsa)),
        /** RSA with PKCS#1 v1.5 signatures (rsa_pkcs1_sha256), what most TLS 1.2 stacks use. */
        RSA_PKCS1("RSA", null, 2048, SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha256,
                SignatureAlgorithm.rsa)),
        /** RSA with RSASSA-PSS signatures (rsa_pss_rsae_sha256), what OpenSSL 3 prefers. */
        RSA_PSS("RSA", null, 2048, SignatureAndHashAlgorithm.rsa_pss_rsae_sha256);

        final String algorithm;
        final String curve;
        final int defaultBits;
        final SignatureAndHashAlgorithm signature;

        Kind(String algorithm, String curve, int defaultBits, SignatureAndHashAlgorithm signature) {
            this.algorithm = algorithm;
            this.curve = curve;
            this.defaultBits = defaultBits;
            this.signature = signature;
        }

        public boolean isRsa() {
            return algorithm.equals("RSA");
        }
    }

    private final Kind kind;
    private final int bits;
    private final byte[] certificateDer;
    private final AsymmetricKeyParameter privateKey;
    private final String fingerprint;

    private DtlsIdentity(Kind kind, int bits, byte[] certificateDer, AsymmetricKeyParameter privateKey) {
        this.kind = kind;
        this.bits = bits;
        this.certificateDer = certificateDer;
        this.privateKey = privateKey;
        this.fingerprint = Fingerprint.of("sha-256", certificateDer).value();
    }

    /** ECDSA P-256, what browsers use and every DTLS-SRTP stack accepts. */
    public static DtlsIdentity generate() {
        return generate(Kind.ECDSA_P256);
    }

    public static DtlsIdentity generate(Kind kind) {
        return generate(kind, kind.defaultBits);
    }

    /** An identity of the given kind; {@code bits} is the RSA modulus length (ignored for ECDSA). */
    public static DtlsIdentity generate(Kind kind, int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(kind.algorithm);
            if (kind.isRsa()) {
                generator.initialize(bits);
            } else {
                generator.initialize(new ECGenParameterSpec(kind.curve));
                bits = kind.defaultBits;
            }
            KeyPair keyPair = generator.generateKeyPair();
            X500Name name = new X500Name("CN=parley-media");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(Duration.ofDays(30))), name, keyPair.getPublic());
            String signer = kind.isRsa() ? "SHA256withRSA" : kind == Kind.ECDSA_P384 ? "SHA384withECDSA"
                    : "SHA256withECDSA";
            byte[] der = builder.build(new JcaContentSignerBuilder(signer).build(keyPair.getPrivate())).getEncoded();
            return new DtlsIdentity(kind, bits, der, PrivateKeyFactory.createKey(keyPair.getPrivate().getEncoded()));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot create the DTLS certificate", e);
        }
    }

    /** The SHA-256 fingerprint as SDP writes it: upper-case hex pairs joined by colons. */
    public String fingerprint() {
        return fingerprint;
    }

    /** The certificate's fingerprint under another hash function (sha-1, sha-256, sha-384, sha-512). */
    public Fingerprint fingerprint(String hash) {
        return Fingerprint.of(hash.toLowerCase(Locale.ROOT), certificateDer);
    }

    public Kind kind() {
        return kind;
    }

    /** "ECDSA P-256", "RSA 2048 (PSS)": for logs. */
    public String describe() {
        return switch (kind) {
            case ECDSA_P256 -> "ECDSA P-256";
            case ECDSA_P384 -> "ECDSA P-384";
            case RSA_PKCS1 -> "RSA " + bits + " (PKCS#1 v1.5)";
            case RSA_PSS -> "RSA " + bits + " (PSS)";
        };
    }

    byte[] certificateDer() {
        return certificateDer;
    }

    AsymmetricKeyParameter privateKey() {
        return privateKey;
    }

    public static String sha256Fingerprint(byte[] der) {
        return Fingerprint.of("sha-256", der).value();
    }
}
