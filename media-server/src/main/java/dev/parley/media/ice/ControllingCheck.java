package dev.parley.media.ice;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A connectivity check as a controlling agent (a browser) sends it, written from RFC 8445 §7.1.1 and RFC 5389 with
 * nothing from ice4j, so the server is tested against the wire format rather than against its own library:
 * USERNAME, PRIORITY, ICE-CONTROLLING, optionally USE-CANDIDATE, MESSAGE-INTEGRITY and FINGERPRINT. The load
 * generator's clients ({@link IceLoadClient}) check with it too, and verify the answers' integrity
 * ({@link #isVerifiedSuccess}).
 */
public final class ControllingCheck {
    private static final int MAGIC_COOKIE = 0x2112A442;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What came back: a success with its XOR-MAPPED-ADDRESS, or an error with its code. */
    public record Answer(boolean success, int errorCode, InetSocketAddress mapped) {
    }

    private ControllingCheck() {
    }

    public static byte[] request(String serverUfrag, String clientUfrag, String serverPassword, boolean useCandidate) {
        byte[] transactionId = new byte[12];
        RANDOM.nextBytes(transactionId);
        ByteArrayOutputStream attributes = new ByteArrayOutputStream();
        attribute(attributes, 0x0006, (serverUfrag + ":" + clientUfrag).getBytes(StandardCharsets.UTF_8));
        attribute(attributes, 0x0024, ByteBuffer.allocate(4).putInt(0x6e7f00ff).array());
        attribute(attributes, 0x802A, ByteBuffer.allocate(8).putLong(RANDOM.nextLong()).array());
        if (useCandidate) {
            attribute(attributes, 0x0025, new byte[0]);
        }
        byte[] body = attributes.toByteArray();
        // MESSAGE-INTEGRITY covers the header (with the length counting it) and every attribute before it.
        byte[] withIntegrity = message(transactionId, body, 24);
        byte[] hmac = hmacSha1(serverPassword, withIntegrity);
        ByteArrayOutputStream signed = new ByteArrayOutputStream();
        signed.writeBytes(body);
        attribute(signed, 0x0008, hmac);
        body = signed.toByteArray();
        byte[] withFingerprint = message(transactionId, body, 8);
        CRC32 crc = new CRC32();
        crc.update(withFingerprint);
        ByteArrayOutputStream complete = new ByteArrayOutputStream();
        complete.writeBytes(body);
        attribute(complete, 0x8028, ByteBuffer.allocate(4).putInt((int) crc.getValue() ^ 0x5354554e).array());
        return message(transactionId, complete.toByteArray(), 0);
    }

    /** Sends a check from {@code socket} to {@code server} and waits up to {@code waitMillis} for its answer. */
    public static Answer send(DatagramSocket socket, InetSocketAddress server, byte[] request, int waitMillis)
            throws IOException {
        socket.send(new DatagramPacket(request, request.length, server));
        byte[] buffer = new byte[1500];
        long deadline = System.currentTimeMillis() + waitMillis;
        while (true) {
            int left = (int) (deadline - System.currentTimeMillis());
            if (left <= 0) {
                return null;
            }
            socket.setSoTimeout(left);
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                return null;
            }
            if (packet.getLength() >= 20 && Arrays.equals(request, 8, 20, buffer, 8, 20)) {
                return parse(Arrays.copyOf(buffer, packet.getLength()));
            }
        }
    }

    /**
     * Whether {@code response} is a success answer to {@code request} (same transaction) whose MESSAGE-INTEGRITY is
     * valid under {@code password} (the answering agent's, which is the one the request was signed with).
     */
    public static boolean isVerifiedSuccess(byte[] response, int length, byte[] request, String password) {
        if (length < 20 || request.length < 20 || (response[0] & 0xff) != 0x01 || (response[1] & 0xff) != 0x01
                || !Arrays.equals(response, 8, 20, request, 8, 20)) {
            return false;
        }
        int end = Math.min(length, 20 + ((response[2] & 0xff) << 8 | (response[3] & 0xff)));
        int at = 20;
        while (at + 4 <= end) {
            int type = (response[at] & 0xff) << 8 | (response[at + 1] & 0xff);
            int valueLength = (response[at + 2] & 0xff) << 8 | (response[at + 3] & 0xff);
            if (type == 0x0008) {
                if (valueLength != 20 || at + 24 > end) {
                    return false;
                }
                // The integrity covers everything before it, with the header's length counting up to its end.
                byte[] covered = Arrays.copyOf(response, at);
                int coveredLength = at + 24 - 20;
                covered[2] = (byte) (coveredLength >>> 8);
                covered[3] = (byte) coveredLength;
                return java.security.MessageDigest.isEqual(hmacSha1(password, covered),
                        Arrays.copyOfRange(response, at + 4, at + 24));
            }
            at += 4 + valueLength + (4 - valueLength % 4) % 4;
        }
        return false;
    }

    static Answer parse(byte[] response) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(response);
        int type = in.getShort() & 0xffff;
        int length = in.getShort() & 0xffff;
        in.position(20);
        InetSocketAddress mapped = null;
        int errorCode = 0;
        while (in.position() + 4 <= 20 + length) {
            int attributeType = in.getShort() & 0xffff;
            int attributeLength = in.getShort() & 0xffff;
            byte[] value = new byte[attributeLength];
            in.get(value);
            in.position(in.position() + (4 - attributeLength % 4) % 4);
            if (attributeType == 0x0020 && value[1] == 0x01) {
                int port = (ByteBuffer.wrap(value, 2, 2).getShort() & 0xffff) ^ (MAGIC_COOKIE >>> 16);
                int address = ByteBuffer.wrap(value, 4, 4).getInt() ^ MAGIC_COOKIE;
                mapped = new InetSocketAddress(InetAddress.getByAddress(ByteBuffer.allocate(4).putInt(address)
                        .array()), port);
            } else if (attributeType == 0x0009) {
                errorCode = (value[2] & 0x7) * 100 + (value[3] & 0xff);
            }
        }
        return new Answer(type == 0x0101, errorCode, mapped);
    }

    private static void attribute(ByteArrayOutputStream out, int type, byte[] value) {
        out.write(type >>> 8);
        out.write(type);
        out.write(value.length >>> 8);
        out.write(value.length);
        out.writeBytes(value);
        out.writeBytes(new byte[(4 - value.length % 4) % 4]);
    }

    /** A binding request header and {@code body}, its length field counting {@code extra} more bytes. */
    private static byte[] message(byte[] transactionId, byte[] body, int extra) {
        return ByteBuffer.allocate(20 + body.length).putShort((short) 0x0001).putShort((short) (body.length + extra))
                .putInt(MAGIC_COOKIE).put(transactionId).put(body).array();
    }

    private static byte[] hmacSha1(String password, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(password.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
