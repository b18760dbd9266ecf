package dev.parley.signaling.call;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.protocol.ClientMessage;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The call operations a participant's connection asks for. {@link CallService} runs them on this gateway's media
 * server; {@code routing.CallRouter} sends them to whichever gateway hosts the call. Each answers the participant
 * through its {@link CallPeer}; a returned stage fails only when the request is refused.
 */
public interface Calls {

    CompletionStage<Void> join(CallPeer peer, Account account, String meetingId, String requestId);

    CompletionStage<Void> publish(CallPeer peer, String meetingId, String sdpOffer, String requestId);

    CompletionStage<Void> subscribeAnswer(CallPeer peer, String meetingId, String sdpAnswer, long version,
                                          String requestId);

    CompletionStage<Void> updateMedia(CallPeer peer, String meetingId, boolean audioMuted, boolean videoMuted,
                                      boolean screenSharing, String requestId);

    /** What the participant's tiles show of each remote video (call.receive), for the media server's layer choice. */
    CompletionStage<Void> receiveVideo(CallPeer peer, String meetingId, List<ClientMessage.CallReceive.Video> videos,
                                       String requestId);

    CompletionStage<Void> leave(CallPeer peer, String meetingId, String requestId);

    /** The participant's socket closed: the host keeps its place for the reconnect grace. */
    void peerClosed(CallPeer peer);

    /** Ends this user's place in the meeting's call (they are no longer a member); {@code reason} goes in call.left. */
    CompletionStage<Void> evict(String meetingId, String userId, String reason);

    /** Ends the meeting's call for everyone in it (the meeting was archived). */
    CompletionStage<Void> end(String meetingId, String reason);
}
