package dev.parley.signaling.call;

import dev.parley.signaling.protocol.ClientMessage;
import dev.parley.signaling.protocol.ServerMessage;
import dev.parley.signaling.ws.Capability;
import dev.parley.signaling.ws.Connection;
import dev.parley.signaling.ws.ConnectionListener;
import dev.parley.signaling.ws.MessageDispatcher;

/**
 * The call capability on the WebSocket. Call operations answer through the participant's peer themselves, in order
 * with the call's other messages; only a refusal is answered here.
 */
public final class CallHandler implements Capability, ConnectionListener {

    private final Calls calls;
    private final TurnRenewal turn;

    public CallHandler(Calls calls, TurnRenewal turn) {
        this.calls = calls;
        this.turn = turn;
    }

    /** A connection as calls see it; two peers are the same when their user and session ids match. */
    private record ConnectionPeer(Connection connection) implements CallPeer {
        @Override
        public String userId() {
            return connection.userId();
        }

        @Override
        public String sessionId() {
            return connection.sessionId();
        }

        @Override
        public void push(ServerMessage message) {
            connection.push(message);
        }

        @Override
        public void answer(String requestId, ServerMessage message) {
            connection.answer(requestId, message);
        }
    }

    @Override
    public void register(MessageDispatcher dispatcher) {
        dispatcher.on(ClientMessage.CallJoin.class, (c, join, re) -> c.answerFailureOf(re,
                        () -> calls.join(new ConnectionPeer(c), c.account(), join.meetingId(), re)))
                .on(ClientMessage.CallPublish.class, (c, publish, re) -> c.answerFailureOf(re,
                        () -> calls.publish(new ConnectionPeer(c), publish.meetingId(), publish.sdp(), re)))
                .on(ClientMessage.CallSubscribeAnswer.class, (c, sub, re) -> c.answerFailureOf(re,
                        () -> calls.subscribeAnswer(new ConnectionPeer(c), sub.meetingId(), sub.sdp(), sub.version(),
                                re)))
                .on(ClientMessage.CallMedia.class, (c, media, re) -> c.answerFailureOf(re,
                        () -> calls.updateMedia(new ConnectionPeer(c), media.meetingId(), media.audioMuted(),
                                media.videoMuted(), media.screenSharing(), re)))
                .on(ClientMessage.CallReceive.class, (c, receive, re) -> c.answerFailureOf(re,
                        () -> calls.receiveVideo(new ConnectionPeer(c), receive.meetingId(), receive.videos(), re)))
                .on(ClientMessage.CallLeave.class, (c, leave, re) -> c.answerFailureOf(re,
                        () -> calls.leave(new ConnectionPeer(c), leave.meetingId(), re)))
                .on(ClientMessage.CallTurn.class, (c, request, re) -> c.answerWith(re,
                        () -> turn.renew(c.userId(), request.meetingId())))
                // The media server learns each client's addresses from its connectivity checks (peer-reflexive).
                .on(ClientMessage.CallIce.class, (c, ice, re) -> c.answer(re, new ServerMessage.Ok()))
                .listen(this);
    }

    @Override
    public void closed(Connection connection) {
        calls.peerClosed(new ConnectionPeer(connection));
    }
}
