package dev.parley.media.api;

/** Changes in a conference, numbered in order per conference. */
public sealed interface TrackEvent {
    long sequence();

    String conferenceId();

    /** A publisher's track became available. */
    record TrackAdded(long sequence, String conferenceId, TrackInfo track) implements TrackEvent {
    }

    /** A track went away (unpublished, or its endpoint closed or expired). */
    record TrackRemoved(long sequence, String conferenceId, String trackId, String publisherEndpointId)
            implements TrackEvent {
    }

    /** The endpoint's set of remote tracks changed: fetch a new subscribe offer. */
    record SubscriptionChanged(long sequence, String conferenceId, String endpointId) implements TrackEvent {
    }

    /**
     * Which simulcast layers (by rid) of a publisher's track some receiver currently takes: the publisher may stop
     * encoding the others until they are wanted again. {@code mid} is the track's section in the publisher's offer.
     */
    record LayersWanted(long sequence, String conferenceId, String endpointId, String trackId, String mid,
                        java.util.List<String> rids) implements TrackEvent {
        public LayersWanted {
            rids = java.util.List.copyOf(rids);
        }
    }

    /**
     * Who speaks now ({@code speaking}, endpoint ids, most active first) and who is the dominant speaker (null until
     * someone has spoken); sent when either changes, at most every 200 ms.
     */
    record SpeakersChanged(long sequence, String conferenceId, String dominantEndpointId,
                           java.util.List<String> speaking) implements TrackEvent {
        public SpeakersChanged {
            speaking = java.util.List.copyOf(speaking);
        }
    }

    /**
     * The video tracks the endpoint does not get because more publishers send video than last-N allows (their
     * publishers are neither among its last-N most recent speakers nor pinned); sent when the list changes, empty
     * when it gets every video again. Its tiles of these tracks show the person without video.
     */
    record VideosWithheld(long sequence, String conferenceId, String endpointId, java.util.List<String> trackIds)
            implements TrackEvent {
        public VideosWithheld {
            trackIds = java.util.List.copyOf(trackIds);
        }
    }

    /** The endpoint is gone: closed through the API, or expired (ICE consent lost, never connected). */
    record EndpointClosed(long sequence, String conferenceId, String endpointId, String reason)
            implements TrackEvent {
    }
}
