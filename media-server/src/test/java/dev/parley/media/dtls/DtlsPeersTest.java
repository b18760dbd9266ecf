package dev.parley.media.dtls;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.WhipResource;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.srtp.SrtpProfile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.tls.CipherSuite;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * DTLS with the certificates, signatures, suites and fingerprint hashes independent stacks use, each over the real
 * path: a WHIP publish from a Java peer running ICE, BouncyCastle's DTLS client and SRTP against the server's UDP
 * port, then media the server receives.
 */
class DtlsPeersTest {
    private static final int[] ECDHE_ECDSA_AES_128_GCM = {CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    private static final int[] ECDHE_ECDSA_AES_256_GCM = {CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384};
    private static final int[] ECDHE_RSA_AES_128_GCM = {CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256};
    private static final int[] ECDHE_RSA_AES_256_GCM = {CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384};
    private static final DtlsIdentity RSA_PKCS1 = DtlsIdentity.generate(DtlsIdentity.Kind.RSA_PKCS1, 2048);
    private static final DtlsIdentity RSA_PSS = DtlsIdentity.generate(DtlsIdentity.Kind.RSA_PSS, 2048);

    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();
    private int conferences;
    private String lastConference;

    @AfterEach
    void stop() {
        clients.forEach(ClientEndpoint::close);
        if (server != null) {
            server.close();
        }
    }

    private ClientEndpoint client(DtlsIdentity identity, String hash, int[] suites) throws Exception {
        ClientEndpoint client = ClientEndpoint.create(TestMedia.loopback(), TestMedia.LOOPBACK,
                List.of(SrtpProfile.values()), identity, hash, suites);
        clients.add(client);
        return client;
    }

    /** Publishes audio over WHIP; returns the DTLS failure, or null once the server has received its media. */
    private String publish(ClientEndpoint client) throws Exception {
        String conference = "dtls-" + conferences++;
        lastConference = conference;
        ClientTrack audio = ClientTrack.audio("a");
        WhipResource resource = server.whipPublish(conference, client.publishOffer(List.of(audio), false));
        client.acceptAnswer(resource.answer());
        if (!client.awaitSecure(Duration.ofSeconds(10))) {
            return client.dtlsFailure() == null ? "not secure in time" : client.dtlsFailure();
        }
        TestMedia.awaitServerSide(server, resource.endpointId(), true, false);
        assertTrue(eventually(WAIT, () -> {
            client.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, 1, 0, false, new byte[60], false);
            return server.stats().endpointStats().stream().anyMatch(s -> s.endpointId().equals(resource.endpointId())
                    && s.packetsReceived() > 0);
        }), "the server received the peer's SRTP");
        return null;
    }

    private void assertConnects(ClientEndpoint client) throws Exception {
        String failure = publish(client);
        assertEquals(null, failure, "DTLS failed: " + failure);
    }

    private long drops(DropReason reason) {
        return server.stats().drops().get(reason.metricName());
    }

    @Test
    void rsaAndEcdsaClientCertificatesWithEitherRsaSignatureAreAccepted() throws Exception {
        server = MediaServer.start(TestMedia.config());
        assertConnects(client(RSA_PKCS1, "sha-256", null));
        assertConnects(client(RSA_PSS, "sha-256", null));
        assertConnects(client(DtlsIdentity.generate(DtlsIdentity.Kind.ECDSA_P256), "sha-256", null));
        assertConnects(client(DtlsIdentity.generate(DtlsIdentity.Kind.ECDSA_P384), "sha-256", null));
        assertEquals(0, drops(DropReason.DTLS_FAILED));
    }

    @Test
    void clientsOfferingOnlyOneEcdheEcdsaGcmSuiteComplete() throws Exception {
        server = MediaServer.start(TestMedia.config());
        assertConnects(client(DtlsIdentity.generate(), "sha-256", ECDHE_ECDSA_AES_128_GCM));
        assertConnects(client(RSA_PKCS1, "sha-256", ECDHE_ECDSA_AES_256_GCM));
    }

    @Test
    void clientsOfferingOnlyEcdheRsaSuitesCompleteWithTheRsaCertificateAndAreToldWhyWithout() throws Exception {
        server = MediaServer.start(TestMedia.config().withDtlsCertificate(DtlsIdentity.Kind.RSA_PKCS1));
        assertConnects(client(RSA_PKCS1, "sha-256", ECDHE_RSA_AES_128_GCM));
        assertConnects(client(RSA_PSS, "sha-256", ECDHE_RSA_AES_256_GCM));
        assertConnects(client(DtlsIdentity.generate(), "sha-256", ECDHE_RSA_AES_128_GCM));
        assertConnects(client(RSA_PSS, "sha-256", null));
        server.close();

        server = MediaServer.start(TestMedia.config());
        String failure = publish(client(RSA_PKCS1, "sha-256", ECDHE_RSA_AES_128_GCM));
        assertTrue(failure != null && failure.contains("handshake_failure"), String.valueOf(failure));
        assertTrue(eventually(WAIT, () -> server.events(lastConference, 0).stream().anyMatch(e ->
                e instanceof TrackEvent.EndpointClosed closed && closed.reason().contains("ECDHE-ECDSA"))),
                "the server says which suites its certificate serves");
    }

    @Test
    void rsaKeysUnder2048BitsAreRefusedAndCounted() throws Exception {
        server = MediaServer.start(TestMedia.config());
        String failure = publish(client(DtlsIdentity.generate(DtlsIdentity.Kind.RSA_PKCS1, 1024), "sha-256", null));
        assertTrue(failure != null && failure.contains("insufficient_security"), String.valueOf(failure));
        assertTrue(eventually(WAIT, () -> drops(DropReason.DTLS_CERTIFICATE_REFUSED) == 1));
        assertTrue(eventually(WAIT, () -> server.events(lastConference, 0).stream().anyMatch(e ->
                e instanceof TrackEvent.EndpointClosed closed && closed.reason().contains("1024 bits"))));
        assertEquals(0, drops(DropReason.DTLS_FAILED));
    }

    @Test
    void fingerprintsOfEveryHashAreCheckedAndAWrongOneIsRefused() throws Exception {
        server = MediaServer.start(TestMedia.config());
        for (String hash : List.of("sha-1", "sha-384", "sha-512")) {
            assertConnects(client(RSA_PKCS1, hash, null));
            assertConnects(client(DtlsIdentity.generate(), hash, null));
        }
        ClientEndpoint liar = ClientEndpoint.withWrongFingerprint(TestMedia.loopback(), TestMedia.LOOPBACK);
        clients.add(liar);
        assertFalse(publish(liar) == null);
        assertTrue(eventually(WAIT, () -> drops(DropReason.DTLS_FAILED) == 1));

        // A certificate whose sha-384 digest is announced under another certificate's: refused the same way.
        DtlsIdentity other = DtlsIdentity.generate();
        ClientEndpoint wrong384 = client(RSA_PSS, "sha-384", null);
        String offer = wrong384.publishOffer(List.of(ClientTrack.audio("a")), false)
                .replace(RSA_PSS.fingerprint("sha-384").value(), other.fingerprint("sha-384").value());
        WhipResource resource = server.whipPublish("dtls-wrong384", offer);
        wrong384.acceptAnswer(resource.answer());
        assertFalse(wrong384.awaitSecure(Duration.ofSeconds(10)));
        assertTrue(eventually(WAIT, () -> drops(DropReason.DTLS_FAILED) == 2));
    }
}
