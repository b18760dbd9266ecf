package dev.parley.signaling.testing;

import org.ice4j.StunException;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.attribute.Attribute;
import org.ice4j.attribute.ErrorCodeAttribute;
import org.ice4j.attribute.NonceAttribute;
import org.ice4j.attribute.RealmAttribute;
import org.ice4j.attribute.XorRelayedAddressAttribute;
import org.ice4j.message.Indication;
import org.ice4j.message.Message;
import org.ice4j.message.MessageFactory;
import org.ice4j.message.Request;
import org.ice4j.security.LongTermCredential;
import org.ice4j.security.LongTermCredentialSession;
import org.ice4j.stack.StunStack;
import org.ice4j.stack.TransactionID;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A TURN client over UDP (RFC 8656) for tests, built from ice4j's STUN message classes: Allocate, Refresh,
 * CreatePermission and Send with long-term credentials, answering the server's 401 and 438 challenges as a browser
 * does. One client is one 5-tuple, i.e. at most one allocation.
 */
public final class TurnClient implements AutoCloseable {

    private static final int TIMEOUT_MS = 5_000;
    /**
     * A request unanswered this long is sent again (the same transaction, as STUN over UDP does): a datagram can be
     * lost, e.g. when it reaches a coturn whose UDP listener is not up yet though its TCP one is.
     */
    private static final int RETRANSMIT_MS = 500;

    private final InetSocketAddress server;
    private final String username;
    private final String password;
    private final DatagramSocket socket;
    private final StunStack stack = new StunStack();
    private LongTermCredentialSession session;
    private TransportAddress relayed;
    private int staleNonces;

    public TurnClient(InetSocketAddress server, String username, String password) throws IOException {
        this.server = server;
        this.username = username;
        this.password = password;
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        socket.setSoTimeout(RETRANSMIT_MS);
    }

    /** An Allocate for a UDP relay; the answer is the server's final response (success or error). */
    public Message allocate() throws IOException, StunException {
        Message answer = authenticated(() -> MessageFactory.createAllocateRequest((byte) 17, false));
        if (isSuccess(answer)) {
            XorRelayedAddressAttribute address = (XorRelayedAddressAttribute)
                    answer.getAttribute(Attribute.XOR_RELAYED_ADDRESS);
            relayed = address.getAddress(answer.getTransactionID());
        }
        return answer;
    }

    public Message refresh(int lifetimeSeconds) throws IOException, StunException {
        return authenticated(() -> MessageFactory.createRefreshRequest(lifetimeSeconds));
    }

    public Message createPermission(InetSocketAddress peer) throws IOException, StunException {
        return authenticated(() -> {
            byte[] id = TransactionID.createNewTransactionID().getBytes();
            Request request = MessageFactory.createCreatePermissionRequest(
                    new TransportAddress(peer.getAddress(), peer.getPort(), Transport.UDP), id);
            request.setTransactionID(id);
            return request;
        });
    }

    /** Sends {@code data} to {@code peer} through the relay (a Send indication; needs a permission for the peer). */
    public void send(InetSocketAddress peer, byte[] data) throws IOException, StunException {
        byte[] id = TransactionID.createNewTransactionID().getBytes();
        Indication indication = MessageFactory.createSendIndication(
                new TransportAddress(peer.getAddress(), peer.getPort(), Transport.UDP), data, id);
        indication.setTransactionID(id);
        byte[] bytes = indication.encode(stack);
        socket.send(new DatagramPacket(bytes, bytes.length, server));
    }

    /** The relayed address of the allocation, once {@link #allocate()} succeeded. */
    public TransportAddress relayedAddress() {
        return relayed;
    }

    /** How many 438 Stale Nonce answers were met (and answered with the new nonce). */
    public int staleNonces() {
        return staleNonces;
    }

    public static boolean isSuccess(Message answer) {
        return (answer.getMessageType() & 0x0110) == Message.STUN_SUCCESS_RESP;
    }

    /** The error code of an error response (e.g. 403), or 0 for a success. */
    public static int errorCode(Message answer) {
        ErrorCodeAttribute error = (ErrorCodeAttribute) answer.getAttribute(Attribute.ERROR_CODE);
        return error == null ? 0 : error.getErrorCode();
    }

    public static String describe(Message answer) {
        ErrorCodeAttribute error = (ErrorCodeAttribute) answer.getAttribute(Attribute.ERROR_CODE);
        return error == null ? "success" : (int) error.getErrorCode() + " " + error.getReasonPhrase();
    }

    private interface RequestMaker {
        Request make() throws StunException;
    }

    /** Sends a request with the current credentials; on 401 (first contact) or 438 (stale nonce) retries once. */
    private Message authenticated(RequestMaker maker) throws IOException, StunException {
        Message answer = exchange(sign(maker.make()));
        int code = errorCode(answer);
        if (code == ErrorCodeAttribute.UNAUTHORIZED && session == null || code == ErrorCodeAttribute.STALE_NONCE) {
            RealmAttribute realm = (RealmAttribute) answer.getAttribute(Attribute.REALM);
            NonceAttribute nonce = (NonceAttribute) answer.getAttribute(Attribute.NONCE);
            if (realm == null || nonce == null) {
                return answer;
            }
            if (session == null) {
                session = new LongTermCredentialSession(new LongTermCredential(username, password), realm.getRealm());
                stack.getCredentialsManager().registerAuthority(session);
            }
            staleNonces += code == ErrorCodeAttribute.STALE_NONCE ? 1 : 0;
            session.setNonce(nonce.getNonce());
            answer = exchange(sign(maker.make()));
        }
        return answer;
    }

    private Request sign(Request request) throws StunException {
        if (request.getTransactionID() == null) {
            request.setTransactionID(TransactionID.createNewTransactionID().getBytes());
        }
        if (session != null) {
            session.addAttributes(request);
        }
        return request;
    }

    private Message exchange(Request request) throws IOException, StunException {
        byte[] bytes = request.encode(stack);
        socket.send(new DatagramPacket(bytes, bytes.length, server));
        byte[] buffer = new byte[1500];
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                socket.send(new DatagramPacket(bytes, bytes.length, server));
                continue;
            }
            Message answer = Message.decode(packet.getData(), 0, packet.getLength());
            if (Arrays.equals(answer.getTransactionID(), request.getTransactionID())) {
                return answer;
            }
        }
        throw new IOException("no TURN answer from " + server + " within " + TIMEOUT_MS + " ms");
    }

    public static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        socket.close();
        stack.shutDown();
    }
}
