package dev.parley.media.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaConfig;
import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The TURN credentials in WHIP and WHEP {@code Link} headers work with a real coturn ({@code turnserver}, Debian's
 * {@code coturn} package) configured as docs/operations.md says: {@code use-auth-secret} with the same secret.
 * {@code turnutils_uclient} from the same package allocates a relay with them and sends through it.
 */
class TurnLinkCoturnTest {
    private static final String SECRET = "coturn-static-auth-secret-for-this-test";
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<ClientEndpoint> clients = new ArrayList<>();
    private MediaServer server;
    private Process coturn;
    private Path dir;

    @AfterEach
    void stop() throws Exception {
        clients.forEach(ClientEndpoint::close);
        if (server != null) {
            server.close();
        }
        if (coturn != null && coturn.isAlive()) {
            coturn.destroy();
            if (!coturn.waitFor(5, TimeUnit.SECONDS)) {
                coturn.destroyForcibly().waitFor();
            }
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
            }
        }
    }

    @Test
    void theTurnCredentialsOfTheLinkHeadersAllocateOnCoturnAndATamperedOneDoesNot() throws Exception {
        int port = startCoturn();
        server = MediaServer.start(TestMedia.config().withIceServers(new MediaConfig.IceServers(
                List.of("turn:127.0.0.1:" + port + "?transport=udp"), SECRET, Duration.ofMinutes(5))));
        ClientEndpoint publisher = TestMedia.client();
        clients.add(publisher);
        HttpResponse<String> whip = post("/whip/room", publisher.publishOffer(List.of(ClientTrack.audio("a")), false));
        assertEquals(201, whip.statusCode(), whip.body());
        TurnLink fromWhip = TurnLink.parse(whip.headers().firstValue("Link").orElseThrow());
        assertEquals("turn:127.0.0.1:" + port + "?transport=udp", fromWhip.uri());
        publisher.acceptAnswer(whip.body());
        assertTrue(publisher.awaitSecure(TestMedia.WAIT));
        ClientEndpoint viewer = TestMedia.client();
        clients.add(viewer);
        HttpResponse<String> whep = post("/whep/room", viewer.receiveOffer());
        assertEquals(201, whep.statusCode(), whep.body());
        TurnLink fromWhep = TurnLink.parse(whep.headers().firstValue("Link").orElseThrow());
        assertNotEquals(fromWhip.username(), fromWhep.username(), "each session's client gets its own username");

        assertEquals(0, allocate(port, fromWhip.username(), fromWhip.credential()), "the WHIP client's credential");
        assertEquals(0, allocate(port, fromWhep.username(), fromWhep.credential()), "the WHEP client's credential");
        assertNotEquals(0, allocate(port, fromWhip.username(), fromWhep.credential()),
                "coturn checks the credential against the username");
    }

    private HttpResponse<String> post(String path, String sdp) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.httpUri() + path))
                .header("Content-Type", "application/sdp").POST(HttpRequest.BodyPublishers.ofString(sdp)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** turnutils_uclient's exit status: 0 when it allocated relays with these credentials and echoed data over them. */
    private int allocate(int port, String username, String password) throws Exception {
        Path log = dir.resolve("uclient-" + System.nanoTime() + ".log");
        Process client = new ProcessBuilder(program("turnutils_uclient"), "-y", "-n", "1", "-m", "1", "-l", "100",
                "-u", username, "-w", password, "-p", Integer.toString(port), "127.0.0.1")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!client.waitFor(30, TimeUnit.SECONDS)) {
            client.destroyForcibly().waitFor();
            throw new AssertionError("turnutils_uclient did not finish: " + Files.readString(log));
        }
        return client.exitValue();
    }

    /** coturn on loopback only, relaying between loopback addresses, with the TURN REST API's shared secret. */
    private int startCoturn() throws Exception {
        String turnserver = program("turnserver");
        dir = Files.createTempDirectory("parley-media-coturn-");
        int port;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(TestMedia.loopback(), 0))) {
            port = probe.getLocalPort();
        }
        int relays = 30_000 + (int) (System.nanoTime() % 20_000);
        Path conf = dir.resolve("turnserver.conf");
        Files.write(conf, List.of("listening-ip=127.0.0.1", "relay-ip=127.0.0.1", "listening-port=" + port,
                "min-port=" + relays, "max-port=" + (relays + 100), "use-auth-secret",
                "static-auth-secret=" + SECRET, "realm=parley.test", "no-tls", "no-dtls", "no-cli",
                "allow-loopback-peers", "no-multicast-peers", "pidfile=" + dir.resolve("pid"),
                "userdb=" + dir.resolve("db"), "log-file=" + dir.resolve("turn.log"), "simple-log"));
        coturn = new ProcessBuilder(turnserver, "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (!coturn.isAlive()) {
                throw new AssertionError("turnserver exited at start: " + Files.readString(dir.resolve("out.log")));
            }
            try (Socket listening = new Socket(TestMedia.loopback(), port)) {
                return port;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("turnserver did not listen on " + port);
    }

    private static String program(String name) {
        for (String directory : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(directory, name))) {
                return Path.of(directory, name).toString();
            }
        }
        throw new AssertionError(name + " is missing: install Debian's coturn package "
                + "(apt-get install --no-install-recommends coturn)");
    }
}
