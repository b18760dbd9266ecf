package dev.parley.media.api;

/**
 * A WHIP or WHEP session: its resource id (the last segment of its {@code Location}), the endpoint it created and
 * the SDP answer. The resource id is random and unguessable, unlike endpoint ids, which every call member sees: only
 * whoever created the session learns it, and only it ends the session.
 */
public record WhipResource(String conferenceId, String resourceId, String endpointId, String answer) {
    /** Which protocol created a resource: a WHIP resource is ended only through WHIP, a WHEP one through WHEP. */
    public enum Kind { WHIP, WHEP }
}
