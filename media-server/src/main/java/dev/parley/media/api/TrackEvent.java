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
     * The video tracks the endpoint does not get, and whether its own link limits what it gets; sent when any of
     * it changes (empty lists and false once it gets every video as its tiles ask again). Its tiles of withheld
     * tracks show the person without video.
     *
     * @param trackIds             withheld by last-N: more publishers send video than last-N allows, and theirs are
     *                             neither among its last-N most recent speakers nor pinned
     * @param lowBandwidthTrackIds paused because the endpoint's downlink (the server's estimate of it) does not carry
     *                             even their lowest layer after the more important videos; none of {@code trackIds}
     * @param linkLimited          the endpoint's downlink limits it: some video it shows comes in a lower layer than
     *                             its tile asks for, or is paused, because the estimate does not carry more
     */
    record VideosWithheld(long sequence, String conferenceId, String endpointId, java.util.List<String> trackIds,
                          java.util.List<String> lowBandwidthTrackIds, boolean linkLimited)
            implements TrackEvent {
        public VideosWithheld {
            trackIds = java.util.List.copyOf(trackIds);
            lowBandwidthTrackIds = java.util.List.copyOf(lowBandwidthTrackIds);
        }

        /** Withheld by last-N only; the link does not limit. */
        public VideosWithheld(long sequence, String conferenceId, String endpointId, java.util.List<String> trackIds) {
            this(sequence, conferenceId, endpointId, trackIds, java.util.List.of(), false);
        }
    }

    /** The endpoint is gone: closed through the API, or expired (ICE consent lost, never connected). */
    record EndpointClosed(long sequence, String conferenceId, String endpointId, String reason)
            implements TrackEvent {
    }
}
