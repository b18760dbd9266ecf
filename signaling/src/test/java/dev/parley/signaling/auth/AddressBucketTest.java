package dev.parley.signaling.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class AddressBucketTest {

    @Test
    void ipv6AddressesAreCountedPerSlash64() {
        assertEquals("2001:db8:1:2::/64", AddressBucket.of("2001:db8:1:2::1"));
        assertEquals(AddressBucket.of("2001:db8:1:2::1"), AddressBucket.of("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"));
        assertNotEquals(AddressBucket.of("2001:db8:1:2::1"), AddressBucket.of("2001:db8:1:3::1"));
    }

    @Test
    void ipv4AddressesAreCountedEachOnTheirOwn() {
        assertEquals("198.51.100.7", AddressBucket.of("198.51.100.7"));
        assertNotEquals(AddressBucket.of("198.51.100.7"), AddressBucket.of("198.51.100.8"));
        assertEquals("198.51.100.7", AddressBucket.of("::ffff:198.51.100.7"), "IPv4-mapped is IPv4");
    }

    @Test
    void portsAndBracketsSomeProxiesAddAreIgnored() {
        assertEquals("198.51.100.7", AddressBucket.of("198.51.100.7:51234"));
        assertEquals("2001:db8:1:2::/64", AddressBucket.of("[2001:db8:1:2::9]:443"));
    }

    @Test
    void anythingButAnIpLiteralSharesOneBucketAndIsNeverResolved() {
        assertEquals(AddressBucket.UNPARSED, AddressBucket.of("localhost"));
        assertEquals(AddressBucket.UNPARSED, AddressBucket.of("unknown"));
        assertEquals(AddressBucket.UNPARSED, AddressBucket.of("example.org"));
        assertEquals(AddressBucket.UNPARSED, AddressBucket.of(null));
    }
}
