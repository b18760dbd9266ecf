package dev.parley.signaling.call;

import dev.parley.signaling.testing.Coturn;
import dev.parley.signaling.testing.TurnClient;
import org.ice4j.message.Message;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * config/turnserver.conf as shipped, run by the real coturn on loopback (its site lines filled in, as the browser NAT
 * tests do), spoken to in TURN over UDP. The media server's stand-in is 127.0.0.1, the sample's allowed-peer-ip.
 */
class TurnServerConfigTest {

    private static final Path SAMPLE = Path.of("..", "config", "turnserver.conf");
    private static final String SECRET = "coturn-test-secret";
    private static final InetSocketAddress ANOTHER_LOCAL_SERVICE = new InetSocketAddress("127.0.0.2", 22);
    /** A public address: only ever named in CreatePermission, which sends it nothing. */
    private static final InetSocketAddress PUBLIC_HOST = new InetSocketAddress("93.184.216.34", 80);

    private static Coturn start(Map<String, String> extra) throws Exception {
        Map<String, String> site = new HashMap<>(Map.of("static-auth-secret", SECRET, "realm", "parley.test",
                "allowed-peer-ip", "127.0.0.1",
                // coturn refuses loopback peers before it reads allowed-peer-ip; the stand-in media server is on lo.
                "allow-loopback-peers", ""));
        site.putAll(extra);
        return Coturn.start(SAMPLE, site);
    }

    private static String[] credential(long expiresInSeconds, String userId) throws Exception {
        String username = (System.currentTimeMillis() / 1000 + expiresInSeconds) + ":" + userId;
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        return new String[]{username,
                Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)))};
    }

    @Test
    void relaysOnlyToTheMediaServer() throws Exception {
        String[] credential = credential(600, "u1");
        try (Coturn coturn = start(Map.of());
             DatagramSocket mediaServer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
             TurnClient client = new TurnClient(coturn.address(), credential[0], credential[1])) {
            Message allocated = client.allocate();
            assertTrue(TurnClient.isSuccess(allocated), TurnClient.describe(allocated));
            InetSocketAddress media = new InetSocketAddress("127.0.0.1", mediaServer.getLocalPort());
            Message permitted = client.createPermission(media);
            assertTrue(TurnClient.isSuccess(permitted), TurnClient.describe(permitted));
            client.send(media, TurnClient.utf8("stun-or-dtls"));
            mediaServer.setSoTimeout(3000);
            DatagramPacket relayed = new DatagramPacket(new byte[100], 100);
            mediaServer.receive(relayed);
            assertEquals("stun-or-dtls", new String(relayed.getData(), 0, relayed.getLength(), StandardCharsets.UTF_8));
            assertEquals(client.relayedAddress().getPort(), relayed.getPort(), "it came through the relay");

            assertEquals(403, TurnClient.errorCode(client.createPermission(ANOTHER_LOCAL_SERVICE)),
                    "another service on the TURN host is refused");
            assertEquals(403, TurnClient.errorCode(client.createPermission(PUBLIC_HOST)),
                    "so is any public address: no open relay");
            String log = coturn.log();
            assertTrue(log.contains("Black listing: 0.0.0.0-255.255.255.255"), "IPv4 denied");
            assertTrue(log.contains("Black listing: ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "IPv6 denied");
        }
    }

    @Test
    void userQuotaCountsEveryAllocationOfOneUsername() throws Exception {
        int quota = Files.readAllLines(SAMPLE).stream().filter(l -> l.startsWith("user-quota="))
                .map(l -> Integer.parseInt(l.substring("user-quota=".length()).trim())).findFirst().orElseThrow();
        String[] credential = credential(600, "u2");
        List<TurnClient> clients = new ArrayList<>();
        try (Coturn coturn = start(Map.of())) {
            for (int i = 0; i < quota; i++) {
                TurnClient client = new TurnClient(coturn.address(), credential[0], credential[1]);
                clients.add(client);
                assertTrue(TurnClient.isSuccess(client.allocate()), "allocation " + (i + 1));
            }
            TurnClient oneMore = new TurnClient(coturn.address(), credential[0], credential[1]);
            clients.add(oneMore);
            assertEquals(486, TurnClient.errorCode(oneMore.allocate()), "Allocation Quota Reached");
        } finally {
            clients.forEach(TurnClient::close);
        }
    }

    /**
     * What a credential's expiry means to coturn (4.6): it is checked when an allocation is created, not when an
     * existing one is refreshed or given permissions, so a call keeps its relay past the expiry while a leaked
     * credential creates nothing new after it.
     */
    @Test
    void anExpiredCredentialKeepsItsAllocationButCreatesNoNewOne() throws Exception {
        String[] credential = credential(2, "u3");
        InetSocketAddress media = new InetSocketAddress("127.0.0.1", 9);
        // Nonces go stale after 1 s, so the refresh below also goes through coturn's 438 Stale Nonce challenge.
        try (Coturn coturn = start(Map.of("stale-nonce", "1"));
             TurnClient call = new TurnClient(coturn.address(), credential[0], credential[1])) {
            assertTrue(TurnClient.isSuccess(call.allocate()));
            assertTrue(TurnClient.isSuccess(call.createPermission(media)));
            Thread.sleep(4_000);
            Message refreshed = call.refresh(600);
            assertTrue(TurnClient.isSuccess(refreshed), "refresh after expiry: " + TurnClient.describe(refreshed));
            Message permitted = call.createPermission(media);
            assertTrue(TurnClient.isSuccess(permitted), "permission after expiry: " + TurnClient.describe(permitted));
            assertTrue(call.staleNonces() > 0, "the nonce went stale meanwhile and was renewed");
            try (TurnClient late = new TurnClient(coturn.address(), credential[0], credential[1])) {
                assertEquals(401, TurnClient.errorCode(late.allocate()), "a new allocation needs a valid credential");
            }
        }
    }
}
