package dev.parley.media.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Candidates and networks are read from IP literals only: nothing a peer or an operator writes is ever resolved. */
class IceCandidateTest {

    private static IceCandidate host(String address) {
        return IceCandidate.parse("candidate:1 1 udp 2122260223 " + address + " 50000 typ host generation 0");
    }

    @Test
    void hostnameAndMdnsCandidatesAreIgnoredNotResolved() {
        // Each of these is a name a resolver would be asked about (the hex-looking ones passed the old check).
        for (String name : new String[] {"cafe.face", "dead.beef", "a.b", "abcd-1234-ef.local", "localhost",
                "example.org", "1.2.3.4.example", "1.2.3", "1.2.3.256", "0x7f.1", "[::1]", "fe80::1%eth0", ""}) {
            assertNull(host(name), name + " must not be read as an address");
        }
    }

    @Test
    void ipv4AndIpv6LiteralsAreRead() throws Exception {
        assertEquals(InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1}), host("192.0.2.1").literalAddress());
        assertEquals(InetAddress.getByAddress(new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 1}), host("2001:db8::1").literalAddress());
        assertNotNull(host("::ffff:192.0.2.1").literalAddress());
    }

    @Test
    void outOfRangeNumbersMakeTheCandidateUnusable() {
        assertNull(IceCandidate.parse("candidate:1 1 udp 2122260223 192.0.2.1 70000 typ host"));
        assertNull(IceCandidate.parse("candidate:1 0 udp 2122260223 192.0.2.1 5000 typ host"));
        assertNull(IceCandidate.parse("candidate:1 1 udp 99999999999 192.0.2.1 5000 typ host"));
    }

    @Test
    void aHostnameAsRelatedAddressIsDroppedButTheCandidateKept() {
        IceCandidate candidate = IceCandidate.parse(
                "candidate:1 1 udp 1686052607 198.51.100.7 40000 typ srflx raddr some.host rport 50000");
        assertEquals("198.51.100.7", candidate.address());
        assertNull(candidate.relatedAddress());
    }

    @Test
    void networksAreIpLiteralsOnly() {
        assertEquals("10.0.0.0/8", Cidr.parse("10.0.0.0/8").toString());
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("cafe.face/16"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("localhost/8"));
    }
}
