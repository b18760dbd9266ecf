package dev.parley.media.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.metrics.MediaCounters;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * ICE restart of the server's lite agent, with checks written from the RFCs ({@link ControllingCheck}): new
 * credentials work at once, on known and new addresses; the replaced ones keep working on known addresses only until
 * the restart completes or for the consent timeout.
 */
class IceRestartTest {
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final MediaCounters counters = new MediaCounters();
    private final InetAddress loopback = InetAddress.getLoopbackAddress();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T close(T resource) {
        toClose.add(resource);
        return resource;
    }

    private SharedUdpPort port() throws Exception {
        SharedUdpPort port = new SharedUdpPort(new InetSocketAddress(loopback, 0), LOOPBACK, counters);
        toClose.add(port::close);
        return port;
    }

    private ControllingCheck.Answer check(DatagramSocket from, SharedUdpPort port, String ufrag, String password)
            throws Exception {
        return ControllingCheck.send(from, port.boundAddress(), ControllingCheck.request(ufrag, "client", password,
                false), 700);
    }

    private static boolean succeeded(ControllingCheck.Answer answer) {
        return answer != null && answer.success();
    }

    @Test
    void theReplacedCredentialsWorkOnKnownAddressesUntilTheFirstCheckWithTheNewOnes() throws Exception {
        SharedUdpPort port = port();
        IceLiteSession session = close(IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(30)));
        session.start("client", "client-password-0123456789", List.of());
        String oldUfrag = session.localUfrag();
        String oldPassword = session.localPassword();
        DatagramSocket known = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        assertTrue(succeeded(ControllingCheck.send(known, port.boundAddress(), ControllingCheck.request(oldUfrag,
                "client", oldPassword, true), 700)));
        assertEquals(known.getLocalSocketAddress(), session.remoteAddress());

        IceLiteSession.Credentials fresh = session.restart("client2", "client2-password-0123456789");
        assertNotEquals(oldUfrag, fresh.ufrag());
        assertNotEquals(oldPassword, fresh.password());
        assertEquals(fresh.ufrag(), session.localUfrag());
        assertEquals("client2", session.remoteUfrag());

        assertTrue(succeeded(check(known, port, oldUfrag, oldPassword)),
                "the peer's checks with the old credentials go on being answered until it has the new ones");
        DatagramSocket elsewhere = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        assertNull(check(elsewhere, port, oldUfrag, oldPassword), "a new address must use the new credentials");
        assertFalse(succeeded(check(known, port, oldUfrag, fresh.password())), "the old ufrag with the new password");

        assertTrue(succeeded(check(elsewhere, port, fresh.ufrag(), fresh.password())),
                "the new credentials work from a new address: the port routes the new ufrag to the session");
        assertTrue(succeeded(check(known, port, fresh.ufrag(), fresh.password())));
        ControllingCheck.Answer retired = check(known, port, oldUfrag, oldPassword);
        assertNotNull(retired);
        assertEquals(401, retired.errorCode(), "the restart has completed: the old credentials are refused");
        assertEquals(known.getLocalSocketAddress(), session.remoteAddress(), "no nomination moved the media");
    }

    @Test
    void theReplacedCredentialsExpireAfterTheConsentTimeoutWhenTheRestartNeverCompletes() throws Exception {
        SharedUdpPort port = port();
        IceLiteSession session = close(IceLiteSession.open(List.of(port), null, counters, Duration.ofSeconds(1)));
        session.start("client", "client-password-0123456789", List.of());
        String oldUfrag = session.localUfrag();
        String oldPassword = session.localPassword();
        DatagramSocket known = close(new DatagramSocket(new InetSocketAddress(loopback, 0)));
        assertTrue(succeeded(check(known, port, oldUfrag, oldPassword)));
        session.restart("client2", "client2-password-0123456789");
        assertTrue(succeeded(check(known, port, oldUfrag, oldPassword)));
        Thread.sleep(1_300);
        assertFalse(succeeded(check(known, port, oldUfrag, oldPassword)), "retired after the consent timeout");
    }
}
