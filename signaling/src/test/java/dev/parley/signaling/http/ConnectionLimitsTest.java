package dev.parley.signaling.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What one client address may hold of the gateway's port: how many connections, and for how long doing nothing. */
class ConnectionLimitsTest {

    private static RedisServer redis;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        redis.close();
    }

    private static TestGateway gateway(Map<String, Object> overrides) throws Exception {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.putAll(overrides);
        return TestGateway.start(settings);
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
        try (TestGateway gateway = gateway(Map.of("parley.http.idle-timeout", "1s"));
             Socket silent = connect(gateway.port())) {
            assertTrue(closedByServerWithin(silent, 5_000), "a connection that never sends a request is closed");
            assertTrue(gateway.metric("parley_http_idle_closed_total") >= 1);
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (TestGateway gateway = gateway(Map.of("parley.http.idle-timeout", "1s"));
             Socket client = connect(gateway.port())) {
            client.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String head = readHead(client.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertTrue(head.toLowerCase().contains("connection: keep-alive"), head);
            assertTrue(closedByServerWithin(client, 5_000), "the idle keep-alive connection is closed");
        }
    }

    @Test
    void aLiveWebSocketOutlastsTheIdleTimeout() throws Exception {
        try (TestGateway gateway = gateway(Map.of("parley.http.idle-timeout", "1s",
                "parley.session.heartbeat", "2s", "parley.session.lock-ttl", "5s"))) {
            JsonNode user = gateway.register("quiet-but-alive");
            try (WsClient ws = gateway.ws()) {
                ws.hello(user.get("token").asText(), null);
                Thread.sleep(3_500);
                assertTrue(ws.isOpen(), "a signed-in socket that answers pings stays open");
            }
        }
    }

    @Test
    void connectionsBeyondTheCapForOneAddressAreClosedOnAccept() throws Exception {
        try (TestGateway gateway = gateway(Map.of("parley.http.max-connections-per-address", 3))) {
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    held.add(connect(gateway.port()));
                }
                for (Socket socket : held) {
                    assertEquals(200, statusOf(socket, "/healthz"), "within the cap");
                }
                try (Socket fourth = connect(gateway.port())) {
                    assertTrue(closedByServerWithin(fourth, 5_000), "the fourth connection is closed at once");
                }
                assertEquals(1.0, gateway.metric("parley_http_connections_refused_total"));

                held.remove(0).close();
                long deadline = System.currentTimeMillis() + 5_000;
                boolean accepted = false;
                while (!accepted && System.currentTimeMillis() < deadline) {
                    try (Socket again = connect(gateway.port())) {
                        accepted = statusOf(again, "/healthz") == 200;
                    } catch (IOException refusedStill) {
                        Thread.sleep(50);
                    }
                }
                assertTrue(accepted, "a place freed by a closed connection is taken again");
            } finally {
                for (Socket socket : held) {
                    socket.close();
                }
            }
        }
    }

    @Test
    void ipv6ClientsAreCountedPerSlash64() throws Exception {
        String one = ConnectionsPerAddress.key(InetAddress.getByName("2001:db8:1:2:aaaa::1"));
        String sameNetwork = ConnectionsPerAddress.key(InetAddress.getByName("2001:db8:1:2:ffff:1:2:3"));
        String otherNetwork = ConnectionsPerAddress.key(InetAddress.getByName("2001:db8:1:3::1"));
        assertEquals(one, sameNetwork);
        assertNotEquals(one, otherNetwork);
        assertEquals("203.0.113.7", ConnectionsPerAddress.key(InetAddress.getByName("203.0.113.7")));
        assertNotEquals(ConnectionsPerAddress.key(InetAddress.getByName("203.0.113.7")),
                ConnectionsPerAddress.key(InetAddress.getByName("203.0.113.8")));
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(5_000);
        return socket;
    }

    /** Whether the server ends the connection (end of stream or reset) before the wait is over. */
    private static boolean closedByServerWithin(Socket socket, int millis) throws IOException {
        socket.setSoTimeout(millis);
        try {
            InputStream in = socket.getInputStream();
            while (in.read() != -1) {
                // whatever the server still sends before it closes
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static int statusOf(Socket socket, String path) throws IOException {
        socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        String head = readHead(socket.getInputStream());
        Matcher m = Pattern.compile("^HTTP/1\\.1 (\\d{3})").matcher(head);
        if (!m.find()) {
            throw new IOException("no HTTP answer: " + head);
        }
        int length = 0;
        Matcher contentLength = Pattern.compile("(?im)^content-length: *(\\d+)").matcher(head);
        if (contentLength.find()) {
            length = Integer.parseInt(contentLength.group(1));
        }
        socket.getInputStream().readNBytes(length);
        return Integer.parseInt(m.group(1));
    }

    /** Reads a response's status line and headers (up to the blank line). */
    static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int b;
        while ((b = in.read()) != -1) {
            head.append((char) b);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        return head.toString();
    }
}
