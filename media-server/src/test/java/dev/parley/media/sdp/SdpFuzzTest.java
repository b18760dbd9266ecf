package dev.parley.media.sdp;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.media.ice.IceCandidate;

/**
 * SDP offers and answers as the API receives them (from the gateway, WHIP and WHEP clients): a refusal is an
 * {@link SdpException} (400 sdp.invalid); anything else thrown is a bug. Corpus:
 * {@code src/test/resources/dev/parley/media/sdp/SdpFuzzTestInputs}.
 */
class SdpFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void peerDescriptionParsing(FuzzedDataProvider data) {
        String sdp = data.consumeRemainingAsString();
        try {
            PeerDescription description = PeerDescription.parse(sdp);
            if (description.transport().candidates().size() > PeerDescription.MAX_CANDIDATES) {
                throw new AssertionError("more candidates than the cap");
            }
            for (IceCandidate candidate : description.transport().candidates()) {
                if (candidate.literalAddress() == null) {
                    throw new AssertionError("a candidate without an IP literal was kept: " + candidate);
                }
            }
        } catch (SdpException expected) {
            // refused with a message: what the API answers as 400 sdp.invalid
        }
    }
}
