package dev.parley.signaling.call;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What a gateway hosting calls tells the others (implemented by {@code routing.CallPlacement}): its load, its
 * claims on the calls it runs, and who is in each, so members asking any gateway see the call.
 */
public interface CallHosting {

    /** Reports this node as a live media host carrying {@code endpoints} endpoints. */
    CompletionStage<Void> register(int endpoints);

    /**
     * Keeps this node's claim on a running call alive (taking it again if it lapsed with no one else holding it);
     * completes with false when another node holds it now.
     */
    CompletionStage<Boolean> refresh(String meetingId);

    CompletionStage<Boolean> release(String meetingId);

    CompletionStage<Void> saveView(String meetingId, String viewJson);

    CompletionStage<Optional<String>> view(String meetingId);

    CompletionStage<Void> clearView(String meetingId);
}
