package dev.parley.signaling.call;

import dev.parley.media.api.MediaApi;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.TrackInfo;
import dev.parley.media.api.VideoReceive;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** The gateway's embedded media server, in this process: it cannot be lost while the gateway lives. */
public final class LocalCallMedia implements CallMedia {

    private final MediaApi media;
    private final String nodeId;
    private final URI httpUri;

    /** @param httpUri its HTTP API where WHIP/WHEP tools reach it, or null */
    public LocalCallMedia(MediaApi media, String nodeId, URI httpUri) {
        this.media = media;
        this.nodeId = nodeId;
        this.httpUri = httpUri;
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public URI httpUri() {
        return httpUri;
    }

    @Override
    public String createConference() {
        return media.createConference(null).conferenceId();
    }

    @Override
    public AutoCloseable onEvent(String conferenceId, Consumer<TrackEvent> listener, Runnable onLost) {
        return media.onEvent(conferenceId, listener);
    }

    @Override
    public String createEndpoint(String conferenceId) {
        return media.createEndpoint(conferenceId, null).endpointId();
    }

    @Override
    public String publish(String conferenceId, String endpointId, String sdpOffer) {
        return media.publish(conferenceId, endpointId, sdpOffer);
    }

    @Override
    public Optional<SubscribeOffer> subscribeOffer(String conferenceId, String endpointId) {
        return media.subscribeOffer(conferenceId, endpointId);
    }

    @Override
    public void subscribeAnswer(String conferenceId, String endpointId, String sdpAnswer) {
        media.subscribeAnswer(conferenceId, endpointId, sdpAnswer);
    }

    @Override
    public void receiveVideo(String conferenceId, String endpointId, List<VideoReceive> videos) {
        media.receiveVideo(conferenceId, endpointId, videos);
    }

    @Override
    public List<TrackInfo> tracks(String conferenceId) {
        return media.tracks(conferenceId);
    }

    @Override
    public void closeEndpoint(String conferenceId, String endpointId) {
        media.closeEndpoint(conferenceId, endpointId);
    }

    @Override
    public void closeConference(String conferenceId) {
        media.closeConference(conferenceId);
    }
}
