package dev.parley.media.api;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The media server's operations, the same in-process and over HTTP. Each participant has a publish transport
 * (it offers, the server answers) and a subscribe transport (the server offers whenever the remote tracks change,
 * it answers). Failures throw {@link MediaException} with a stable {@link ErrorCode}.
 *
 * <p>A call, as the gateway drives it: {@link #createEndpoint} when a participant joins; relay its publish offer
 * through {@link #publish}; call {@link #subscribeOffer} once after joining and again on every
 * {@link TrackEvent.SubscriptionChanged} for that endpoint, relaying the offer and passing the client's answer to
 * {@link #subscribeAnswer}; {@link #closeEndpoint} when it leaves. {@link TrackEvent.EndpointClosed} tells of
 * endpoints the server expired. All methods are thread-safe.
 */
public interface MediaApi {

    /** Creates a conference; a null id gets a generated one. */
    ConferenceInfo createConference(String conferenceId);

    /** Closes a conference and all its endpoints. */
    void closeConference(String conferenceId);

    List<ConferenceInfo> conferences();

    /** Creates an endpoint (a participant); a null id gets a generated one. */
    EndpointInfo createEndpoint(String conferenceId, String endpointId);

    void closeEndpoint(String conferenceId, String endpointId);

    /** The participant's publish offer in, the server's answer out. A later offer updates the published tracks. */
    String publish(String conferenceId, String endpointId, String sdpOffer);

    /** The server's offer for the subscribe transport, or empty while there is no remote track to send. */
    Optional<SubscribeOffer> subscribeOffer(String conferenceId, String endpointId);

    /** The participant's answer to the latest subscribe offer. */
    void subscribeAnswer(String conferenceId, String endpointId, String sdpAnswer);

    /**
     * What the endpoint's tiles show, per remote video track ({@link VideoReceive}); the server picks each track's
     * layer from it. Tracks not listed keep what was last said of them (at first: visible, any size). Refuses
     * ({@link ErrorCode#INVALID_REQUEST}) more than {@link VideoReceive#MAX_TRACKS} entries or a dimension outside
     * 0..{@link VideoReceive#MAX_DIMENSION}; unknown track ids are ignored (the track may have just ended).
     */
    void receiveVideo(String conferenceId, String endpointId, List<VideoReceive> videos);

    List<TrackInfo> tracks(String conferenceId);

    /** Events with a sequence greater than {@code afterSequence} still held (the latest 1000 per conference). */
    List<TrackEvent> events(String conferenceId, long afterSequence);

    /**
     * Calls {@code listener} for each later event of the conference, until the returned handle is closed. It runs
     * on the thread that caused the event, holding the conference's lock: hand slow work to another thread, and
     * never wait there for another thread that calls this API.
     */
    AutoCloseable onEvent(String conferenceId, Consumer<TrackEvent> listener);

    /** WHIP: publishes an offer into the conference (created if missing) as a new, unnamed endpoint. */
    default WhipResource whipPublish(String conferenceId, String sdpOffer) {
        return whipPublish(conferenceId, null, sdpOffer);
    }

    /**
     * WHIP: publishes an offer into the conference (created if missing) as a new endpoint. A non-null
     * {@code streamName} (1-64 of {@code A-Z a-z 0-9 _ . -}) lets players ask for it by name; it must be unique among
     * the conference's live WHIP publications ({@link ErrorCode#STREAM_EXISTS}).
     */
    WhipResource whipPublish(String conferenceId, String streamName, String sdpOffer);

    /** WHEP: plays the tracks of one publisher with a client offer, as a new endpoint (see the overload). */
    default WhipResource whepPlay(String conferenceId, String publisherId, String sdpOffer) {
        return whepPlay(conferenceId, publisherId, sdpOffer, publisher -> true);
    }

    /**
     * WHEP: plays the tracks of one publisher with a client offer, as a new endpoint. {@code publisherId} is a WHIP
     * resource id, else a WHIP stream name, else an endpoint id; null plays the conference's stream: its most
     * recently started live WHIP publication ({@link ErrorCode#NO_STREAM} when there is none). {@code allowed}
     * decides, under the conference's lock, whether the caller may play the publisher it resolved to
     * ({@link ErrorCode#FORBIDDEN} if not).
     */
    WhipResource whepPlay(String conferenceId, String publisherId, String sdpOffer,
                          Predicate<WhipResource.Publisher> allowed);

    /**
     * Ends a WHIP or WHEP session: closes the endpoint that the resource of this kind created, and nothing else.
     * Throws {@link ErrorCode#RESOURCE_NOT_FOUND} for any other id (an endpoint id, a resource of the other kind, an
     * ended session, an unknown conference).
     */
    void closeWhipResource(String conferenceId, WhipResource.Kind kind, String resourceId);

    /** Whether a live WHIP or WHEP session of this kind has this resource id in the conference. */
    boolean hasWhipResource(String conferenceId, WhipResource.Kind kind, String resourceId);

    /** The ICE side of a live WHIP or WHEP session of this kind ({@link ErrorCode#RESOURCE_NOT_FOUND} if none). */
    WhipIce whipIce(String conferenceId, WhipResource.Kind kind, String resourceId);

    /**
     * Restarts ICE of a live WHIP or WHEP session with the peer's new credentials: the server takes new local ones
     * too and returns them. Media keeps flowing on the current path meanwhile. With a non-null
     * {@code expectedLocalUfrag}, refuses ({@link ErrorCode#PRECONDITION_FAILED}) unless the session's current local
     * ufrag is that one.
     */
    WhipIce restartWhipIce(String conferenceId, WhipResource.Kind kind, String resourceId, String remoteUfrag,
                           String remotePassword, String expectedLocalUfrag);

    MediaStats stats();
}
