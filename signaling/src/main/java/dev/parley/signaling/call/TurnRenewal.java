package dev.parley.signaling.call;

import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.protocol.ServerMessage;

import java.util.concurrent.CompletionStage;

/**
 * Fresh TURN credentials for someone already in a call ({@code call.turn}), so a peer connection opened after the
 * credentials of {@code call.joined} expired still gets a relay. Answered by the gateway holding the socket: the
 * caller's place in the call is read from Redis, whichever gateway hosts the call, and every credential counts
 * against the same per-user allowance as joining.
 */
public final class TurnRenewal {

    private final CallPlaces places;
    private final TurnCredentials turn;

    public TurnRenewal(CallPlaces places, TurnCredentials turn) {
        this.places = places;
        this.turn = turn;
    }

    public CompletionStage<ServerMessage> renew(String userId, String meetingId) {
        return places.holds(userId, meetingId).thenCompose(held -> {
            if (!held) {
                throw new ApiException(ErrorCode.CALL_NOT_JOINED,
                        "Only a participant of the meeting's call gets TURN credentials; join the call first");
            }
            return turn.admit(userId, "You have asked for TURN credentials too often");
        }).thenApply(admitted -> new ServerMessage.CallTurn(meetingId, turn.iceServersFor(userId)));
    }
}
