package dev.parley.media.api;

/**
 * A WHIP or WHEP session: its resource id (the last segment of its {@code Location}), the endpoint it created and
 * the SDP answer. The resource id is random and unguessable, unlike endpoint ids, which every call member sees: only
 * whoever created the session learns it, and only it ends the session.
 */
public record WhipResource(String conferenceId, String resourceId, String endpointId, String answer) {
    /** Which protocol created a resource: a WHIP resource is ended only through WHIP, a WHEP one through WHEP. */
    public enum Kind { WHIP, WHEP }

    /**
     * The publisher a WHEP request resolved to, by all the names a player may know it by: its endpoint id, and for a
     * WHIP publisher its resource id and its stream name (null when unnamed).
     */
    public record Publisher(String endpointId, String resourceId, String streamName) {
        /** Whether {@code name} is one of the publisher's names. */
        public boolean isNamed(String name) {
            return name != null && (name.equals(endpointId) || name.equals(resourceId) || name.equals(streamName));
        }
    }
}
