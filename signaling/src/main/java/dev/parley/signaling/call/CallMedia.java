package dev.parley.signaling.call;

import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoReceive;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The media server one call's conference lives on, as {@link CallService} drives it: the gateway's embedded server
 * ({@link LocalCallMedia}) or a media node on another machine. Operations block for at most the node's request
 * timeout; refusals are {@link dev.parley.media.api.MediaException}s with their codes, and a node that cannot be
 * reached throws {@link Unreachable}.
 */
public interface CallMedia {

    /** The server cannot be reached or failed: the call must go elsewhere. */
    final class Unreachable extends RuntimeException {
        public Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Its node id in the registry (the gateway's own id for the embedded server). */
    String nodeId();

    /** Its HTTP API as WHIP/WHEP tools reach it, or null when it offers none. */
    URI httpUri();

    String createConference();

    /** Hears the conference's events until closed; {@code onLost} runs once if the server goes away. */
    AutoCloseable onEvent(String conferenceId, Consumer<TrackEvent> listener, Runnable onLost);

    String createEndpoint(String conferenceId);

    String publish(String conferenceId, String endpointId, String sdpOffer);

    Optional<SubscribeOffer> subscribeOffer(String conferenceId, String endpointId);

    void subscribeAnswer(String conferenceId, String endpointId, String sdpAnswer);

    void receiveVideo(String conferenceId, String endpointId, List<VideoReceive> videos);

    List<TrackInfo> tracks(String conferenceId);

    void closeEndpoint(String conferenceId, String endpointId);

    void closeConference(String conferenceId);
}
