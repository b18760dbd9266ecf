package dev.parley.media.ice;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * The server reads checks as a browser writes them ({@link ControllingCheck} is written from the RFCs, not from the
 * server's code) and answers so that the browser's side verifies them.
 */
class BindingRequestTest {
    private static final String PASSWORD = "server-password-0123456789";
    private static final byte[] KEY = PASSWORD.getBytes(StandardCharsets.UTF_8);

    private final BindingRequest check = new BindingRequest();

    @Test
    void aControllingAgentsCheckIsReadWithItsUfragNominationAndIntegrity() {
        byte[] request = ControllingCheck.request("srvufrag", "cliufrag", PASSWORD, true);
        byte[] before = request.clone();

        assertTrue(BindingRequest.isStun(request, 0, request.length));
        assertEquals(BindingRequest.Kind.REQUEST, check.parse(request, 0, request.length));
        assertEquals("srvufrag", check.localUfrag());
        assertTrue(check.useCandidate());
        assertTrue(check.hasPriority());
        assertTrue(check.integrityValid(KEY));
        assertFalse(check.integrityValid("another-password-0123456789".getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals(before, request, "reading a check leaves it as it was");

        byte[] plain = ControllingCheck.request("srvufrag", "cliufrag", PASSWORD, false);
        check.parse(plain, 0, plain.length);
        assertFalse(check.useCandidate());
    }

    @Test
    void theSuccessAnswerMapsTheAddressAndVerifiesUnderThePassword() throws Exception {
        byte[] request = ControllingCheck.request("srvufrag", "cliufrag", PASSWORD, false);
        check.parse(request, 0, request.length);
        InetSocketAddress from = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 40_123);
        byte[] out = new byte[BindingRequest.MAX_ANSWER];

        int length = check.writeSuccess(out, from, KEY);

        assertTrue(ControllingCheck.isVerifiedSuccess(out, length, request, PASSWORD));
        ControllingCheck.Answer answer = ControllingCheck.parse(Arrays.copyOf(out, length));
        assertTrue(answer.success());
        assertEquals(from, answer.mapped());
        assertFingerprinted(out, length);
    }

    @Test
    void anIpv6AddressIsMappedWithTheTransactionId() throws Exception {
        byte[] request = ControllingCheck.request("srvufrag", "cliufrag", PASSWORD, false);
        check.parse(request, 0, request.length);
        InetSocketAddress from = new InetSocketAddress(InetAddress.getByName("fd00::1234"), 50_000);
        byte[] out = new byte[BindingRequest.MAX_ANSWER];

        int length = check.writeSuccess(out, from, KEY);

        assertTrue(ControllingCheck.isVerifiedSuccess(out, length, request, PASSWORD));
        // XOR-MAPPED-ADDRESS first: family 2, port ^ 0x2112, address ^ (cookie, transaction ID) (RFC 8489 §14.2).
        ByteBuffer attribute = ByteBuffer.wrap(out, 20, 24);
        assertEquals(0x0020, attribute.getShort() & 0xffff);
        assertEquals(20, attribute.getShort());
        assertEquals(0x02, attribute.getShort());
        assertEquals(50_000, (attribute.getShort() & 0xffff) ^ 0x2112);
        byte[] address = new byte[16];
        for (int i = 0; i < 16; i++) {
            address[i] = (byte) (attribute.get() ^ request[4 + i]);
        }
        assertEquals(from.getAddress(), InetAddress.getByAddress(address));
        assertFingerprinted(out, length);
    }

    @Test
    void aWrongPasswordIsAnsweredWithUnauthorized() throws Exception {
        byte[] request = ControllingCheck.request("srvufrag", "cliufrag", "not-the-password-0123456789", false);
        check.parse(request, 0, request.length);
        assertFalse(check.integrityValid(KEY));
        byte[] out = new byte[BindingRequest.MAX_ANSWER];

        int length = check.writeError(out, 401, "Unauthorized");

        ControllingCheck.Answer answer = ControllingCheck.parse(Arrays.copyOf(out, length));
        assertFalse(answer.success());
        assertEquals(401, answer.errorCode());
        assertArrayEquals(Arrays.copyOfRange(request, 4, 20), Arrays.copyOfRange(out, 4, 20), "same transaction");
        assertFingerprinted(out, length);
    }

    @Test
    void aDamagedCheckIsMalformedAndMediaIsNotStun() {
        byte[] request = ControllingCheck.request("srvufrag", "cliufrag", PASSWORD, false);
        byte[] damaged = request.clone();
        damaged[26] ^= 1;
        assertEquals(BindingRequest.Kind.MALFORMED, check.parse(damaged, 0, damaged.length), "FINGERPRINT fails");
        byte[] truncated = Arrays.copyOf(request, request.length - 4);
        assertEquals(BindingRequest.Kind.MALFORMED, check.parse(truncated, 0, truncated.length));
        byte[] overlong = request.clone();
        overlong[23] = (byte) 0xff;
        assertEquals(BindingRequest.Kind.MALFORMED, check.parse(overlong, 0, overlong.length), "attribute too long");

        byte[] rtp = new byte[40];
        rtp[0] = (byte) 0x80;
        assertFalse(BindingRequest.isStun(rtp, 0, rtp.length));
        byte[] dtls = new byte[40];
        dtls[0] = 22;
        assertFalse(BindingRequest.isStun(dtls, 0, dtls.length));
    }

    @Test
    void aCheckWithoutUsernameNamesNoSession() {
        byte[] request = ControllingCheck.request("srvufrag", "cliufrag", PASSWORD, false);
        // Turn USERNAME (the first attribute) into an unknown comprehension-optional one; FINGERPRINT still matches
        // after it is recomputed.
        request[20] = (byte) 0x80;
        request[21] = (byte) 0x99;
        refingerprint(request);
        assertEquals(BindingRequest.Kind.REQUEST, check.parse(request, 0, request.length));
        assertNull(check.localUfrag());
    }

    private static void assertFingerprinted(byte[] message, int length) {
        assertEquals(0x8028, ((message[length - 8] & 0xff) << 8) | (message[length - 7] & 0xff), "FINGERPRINT last");
        CRC32 crc = new CRC32();
        crc.update(message, 0, length - 8);
        assertEquals((int) crc.getValue() ^ 0x5354554e, ByteBuffer.wrap(message, length - 4, 4).getInt());
        assertEquals(length - 20, ((message[2] & 0xff) << 8) | (message[3] & 0xff), "the header counts it all");
    }

    private static void refingerprint(byte[] message) {
        CRC32 crc = new CRC32();
        crc.update(message, 0, message.length - 8);
        ByteBuffer.wrap(message, message.length - 4, 4).putInt((int) crc.getValue() ^ 0x5354554e);
    }
}
