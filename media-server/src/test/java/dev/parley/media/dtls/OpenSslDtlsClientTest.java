package dev.parley.media.dtls;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.WhipResource;
import dev.parley.media.ice.IceCandidate;
import dev.parley.media.ice.IceClientSession;
import dev.parley.media.ice.IceTransport;
import dev.parley.media.sdp.PeerDescription;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An independent DTLS client: OpenSSL's {@code s_client -dtls1_2} with its own RSA or ECDSA certificate and a
 * single cipher suite, reaching the server's DTLS through a relay that first runs ICE with the server (which accepts
 * nothing from an address that has not passed a check).
 */
class OpenSslDtlsClientTest {
    private MediaServer server;
    private Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private int conferences;

    @BeforeEach
    void tools() throws Exception {
        dir = Files.createTempDirectory("openssl-dtls");
        try {
            Process version = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            if (!version.waitFor(10, TimeUnit.SECONDS) || version.exitValue() != 0) {
                fail("openssl does not run: install it (apt-get install openssl)");
            }
        } catch (IOException e) {
            fail("openssl is required for this test: apt-get install openssl (" + e.getMessage() + ")");
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable closeable : open) {
            closeable.close();
        }
        if (server != null) {
            server.close();
        }
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    /** A self-signed certificate made by OpenSSL ({@code rsa:2048} or {@code ec}); returns its PEM path. */
    private Path certificate(String name, String... keyOptions) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "req", "-x509", "-nodes", "-days", "1",
                "-subj", "/CN=openssl-peer", "-keyout", dir.resolve(name + ".key").toString(),
                "-out", dir.resolve(name + ".pem").toString()));
        command.addAll(List.of(keyOptions));
        run(command);
        return dir.resolve(name + ".pem");
    }

    private static String run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("timed out: " + command);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            fail(command + " failed: " + output);
        }
        return output;
    }

    /**
     * Publishes an audio offer carrying the certificate's fingerprint, runs ICE, then lets s_client handshake
     * through the relay; returns s_client's output once the server's side is secure (or fails the test).
     */
    private String handshake(Path pem, String cipher, String... options) throws Exception {
        IceClientSession ice = IceClientSession.open(TestMedia.loopback(), TestMedia.LOOPBACK);
        open.add(ice);
        byte[] der = CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(pem))).getEncoded();
        StringBuilder sdp = new StringBuilder("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                + "a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
                + "a=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=ssrc:4242 cname:openssl\r\n"
                + "a=setup:actpass\r\na=fingerprint:" + Fingerprint.of("sha-256", der).sdpValue() + "\r\n"
                + "a=ice-ufrag:" + ice.localUfrag() + "\r\na=ice-pwd:" + ice.localPassword() + "\r\n");
        for (IceCandidate candidate : ice.localCandidates()) {
            sdp.append("a=").append(candidate.toSdpValue()).append("\r\n");
        }
        WhipResource resource = server.whipPublish("openssl-" + conferences++, sdp.toString());
        PeerDescription answer = PeerDescription.parse(resource.answer());
        ice.start(answer.transport().ufrag(), answer.transport().password(), answer.transport().candidates());
        assertTrue(eventually(WAIT, ice::isConnected), "ICE with the server");

        DatagramSocket relay = new DatagramSocket(new InetSocketAddress(TestMedia.loopback(), 0));
        open.add(relay);
        SocketAddress[] peer = new SocketAddress[1];
        Thread up = daemon(() -> pump(relay, ice, peer));
        // The server's DTLS records go back to openssl through the relay, on the ICE client's reader thread.
        ice.receiveWith((datagram, arrivalNanos) -> {
            try {
                byte[] data = datagram.getBuffer();
                int first = datagram.getLength() > 0 ? data[datagram.getOffset()] & 0xff : 0;
                if (peer[0] != null && first >= 20 && first <= 63 && !relay.isClosed()) {
                    relay.send(new DatagramPacket(data, datagram.getOffset(), datagram.getLength(), peer[0]));
                }
            } catch (IOException e) {
                // openssl is gone; the test fails on its own
            } finally {
                IceTransport.release(datagram);
            }
        });
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-dtls1_2", "-connect",
                "127.0.0.1:" + relay.getLocalPort(), "-cert", pem.toString(), "-key",
                pem.toString().replace(".pem", ".key"), "-cipher", cipher, "-use_srtp",
                "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", "-mtu", "1200", "-no_ign_eof"));
        command.addAll(List.of(options));
        Process client = new ProcessBuilder(command).redirectErrorStream(true).start();
        OutputStream stdin = client.getOutputStream();
        open.add(() -> client.destroyForcibly());
        // Read its output as it comes: a client killed for being slow (a loaded machine) closes its stream.
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        Thread reader = daemon(() -> {
            try {
                client.getInputStream().transferTo(captured);
            } catch (IOException e) {
                // the process was killed: keep what it wrote
            }
        });
        boolean secure = eventually(WAIT, () -> server.stats().endpointStats().stream()
                .anyMatch(s -> s.endpointId().equals(resource.endpointId()) && s.publishConnected()));
        stdin.close();
        if (!client.waitFor(30, TimeUnit.SECONDS)) {
            client.destroyForcibly();
        }
        reader.join(5000);
        String output;
        synchronized (captured) {
            output = captured.toString(StandardCharsets.UTF_8);
        }
        relay.close();
        up.join(2000);
        assertTrue(secure, "the server completed DTLS with s_client:\n" + output);
        return output;
    }

    private static Thread daemon(Runnable task) {
        Thread thread = new Thread(task, "openssl-relay");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void pump(DatagramSocket relay, IceClientSession ice, SocketAddress[] peer) {
        byte[] buffer = new byte[2048];
        try {
            relay.setSoTimeout(200);
        } catch (IOException e) {
            return;
        }
        while (!relay.isClosed()) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                relay.receive(packet);
                peer[0] = packet.getSocketAddress();
                ice.send(new DatagramPacket(buffer, packet.getLength()));
            } catch (SocketTimeoutException e) {
                // check whether the relay closed
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void assertNegotiated(String output, String cipher) {
        assertTrue(output.contains("Cipher is " + cipher), output);
        assertTrue(output.contains("SRTP Extension negotiated"), output);
    }

    @Test
    void anRsaCertificateSigningWithPssOrPkcs1AgainstTheEcdsaServer() throws Exception {
        server = MediaServer.start(TestMedia.config());
        Path rsa = certificate("rsa", "-newkey", "rsa:2048");
        assertNegotiated(handshake(rsa, "ECDHE-ECDSA-AES128-GCM-SHA256", "-client_sigalgs", "rsa_pss_rsae_sha256"),
                "ECDHE-ECDSA-AES128-GCM-SHA256");
        assertNegotiated(handshake(rsa, "ECDHE-ECDSA-AES256-GCM-SHA384", "-client_sigalgs", "rsa_pkcs1_sha256"),
                "ECDHE-ECDSA-AES256-GCM-SHA384");
        Path ec = certificate("ec", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256");
        assertNegotiated(handshake(ec, "ECDHE-ECDSA-AES128-GCM-SHA256"), "ECDHE-ECDSA-AES128-GCM-SHA256");
    }

    @Test
    void onlyEcdheRsaSuitesAgainstTheRsaServer() throws Exception {
        server = MediaServer.start(TestMedia.config().withDtlsCertificate(DtlsIdentity.Kind.RSA_PKCS1));
        Path rsa = certificate("rsa", "-newkey", "rsa:2048");
        assertNegotiated(handshake(rsa, "ECDHE-RSA-AES128-GCM-SHA256"), "ECDHE-RSA-AES128-GCM-SHA256");
        assertNegotiated(handshake(rsa, "ECDHE-RSA-AES256-GCM-SHA384", "-sigalgs", "rsa_pss_rsae_sha256"),
                "ECDHE-RSA-AES256-GCM-SHA384");
    }
}
