package dev.parley.media.sfu;

import dev.parley.media.api.VideoReceive;

/** A participant (or a WHIP/WHEP session) in a conference, with up to one publish and one subscribe transport. */
final class Endpoint {
    /** How the endpoint came to be, which decides what it subscribes to. */
    enum Role { PARTICIPANT, WHIP, WHEP }

    final String id;
    final Conference conference;
    final Role role;
    /** The random id of the WHIP or WHEP resource that created the endpoint; null for participants. */
    final String resourceId;
    /** The name a WHIP publisher gave its stream, or null (set once, under the conference lock). */
    String streamName;
    /** The media type and mid of the first m-line of a WHIP or WHEP offer: its bundle's ICE belongs to it. */
    String iceKind;
    String iceMid;
    /** When the WHIP/WHEP session last restarted ICE (System.nanoTime()), or 0. */
    long lastIceRestartNanos;
    PublishTransport publish;
    SubscribeTransport subscribe;
    /** Since when the endpoint has had reason to start a transport and has not (under the conference lock). */
    private long idleSinceNanos;

    Endpoint(String id, Conference conference, Role role, String resourceId) {
        this.id = id;
        this.conference = conference;
        this.role = role;
        this.resourceId = resourceId;
        this.idleSinceNanos = System.nanoTime();
    }

    /**
     * Why the endpoint should be expired now, or null while it is healthy. An endpoint that never starts a transport
     * holds a place (and counts against {@code max-endpoints}) for nothing, so it goes {@code connect-timeout} after
     * its creation. The one exception is a participant with nothing to publish and nothing yet to receive (a
     * receive-only participant alone in the call, as the web client allows): its time runs from the moment there
     * is something for it to receive. Call under the conference lock.
     */
    String expiryReason(long nowNanos, long nowMillis, long connectTimeoutNanos, long consentTimeoutMillis,
                        boolean somethingToReceive) {
        boolean anyStarted = publish != null && publish.started() || subscribe != null && subscribe.started();
        if (!anyStarted) {
            if (role == Role.PARTICIPANT && !somethingToReceive) {
                idleSinceNanos = nowNanos;
                return null;
            }
            return nowNanos - idleSinceNanos > connectTimeoutNanos ? "never connected (no transport started)" : null;
        }
        if (publish != null && publish.started()) {
            String reason = transportProblem(publish.transport, publish.startedAtNanos, nowNanos, nowMillis,
                    connectTimeoutNanos, consentTimeoutMillis);
            if (reason != null) {
                return "publish " + reason;
            }
        }
        if (subscribe != null && subscribe.started()) {
            String reason = transportProblem(subscribe.transport, subscribe.startedAtNanos, nowNanos, nowMillis,
                    connectTimeoutNanos, consentTimeoutMillis);
            if (reason != null) {
                return "subscribe " + reason;
            }
        }
        return null;
    }

    private static String transportProblem(dev.parley.media.transport.SecureTransport transport, long startedAt,
                                           long nowNanos, long nowMillis, long connectTimeoutNanos,
                                           long consentTimeoutMillis) {
        if (transport.failure() != null) {
            return "DTLS failed: " + transport.failure();
        }
        if (transport.ice().isFailed()) {
            return "ICE failed";
        }
        if (!transport.isSecure()) {
            return nowNanos - startedAt > connectTimeoutNanos ? "never connected" : null;
        }
        long lastConsent = transport.ice().lastConsent();
        if (lastConsent > 0 && nowMillis - lastConsent > consentTimeoutMillis) {
            return "ICE consent lost";
        }
        return null;
    }

    /** What this endpoint's tiles show, by track id (under the conference lock); absent: visible, any size. */
    final java.util.Map<String, VideoReceive> videoReceives = new java.util.HashMap<>();

    /** Records what the receiver shows (under the conference lock); ids of tracks that are gone are dropped. */
    void receiveVideo(java.util.List<VideoReceive> videos) {
        for (VideoReceive video : videos) {
            if (conference.tracks.containsKey(video.trackId())) {
                videoReceives.put(video.trackId(), video);
            }
        }
        videoReceives.keySet().retainAll(conference.tracks.keySet());
    }

    void close() {
        if (publish != null) {
            publish.close();
        }
        if (subscribe != null) {
            subscribe.close();
        }
    }
}
