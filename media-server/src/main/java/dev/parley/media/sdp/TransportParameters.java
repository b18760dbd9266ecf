package dev.parley.media.sdp;

import dev.parley.media.dtls.Fingerprint;
import dev.parley.media.ice.IceCandidate;
import java.util.List;

/**
 * The BUNDLE transport's ICE credentials and candidates, DTLS setup role, and the fingerprints the peer's certificate
 * is checked against: those of the strongest hash function it offered (one per certificate it may present).
 */
public record TransportParameters(String ufrag, String password, List<Fingerprint> fingerprints, String setup,
                                  List<IceCandidate> candidates) {

    public TransportParameters {
        fingerprints = List.copyOf(fingerprints);
        candidates = List.copyOf(candidates);
    }

    /** The first fingerprint's digest (what most peers send: one fingerprint). */
    public String fingerprint() {
        return fingerprints.get(0).value();
    }
}
