package dev.parley.media.sdp;

import dev.parley.media.ice.IceCandidate;
import java.util.List;

/** The BUNDLE transport's ICE credentials and candidates, DTLS fingerprint (SHA-256) and setup role. */
public record TransportParameters(String ufrag, String password, String fingerprint, String setup,
                                  List<IceCandidate> candidates) {

    public TransportParameters {
        candidates = List.copyOf(candidates);
    }
}
