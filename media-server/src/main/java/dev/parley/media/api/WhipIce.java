package dev.parley.media.api;

import java.util.List;

/**
 * The ICE side of a live WHIP or WHEP session, as its {@code PATCH} route needs it: the server's current credentials
 * (the ICE session's entity tag derives from them; an ICE restart replaces them) and candidates, the bundle's first
 * m-line they belong to, and the peer's current credentials.
 *
 * @param candidates the server's candidates as SDP attribute values ({@code candidate:...})
 * @param kind the first bundled m-line's media type ({@code audio} or {@code video})
 * @param mid the first bundled m-line's mid
 */
public record WhipIce(String localUfrag, String localPassword, List<String> candidates, String kind, String mid,
                      String remoteUfrag, String remotePassword) {
    public WhipIce {
        candidates = List.copyOf(candidates);
    }
}
