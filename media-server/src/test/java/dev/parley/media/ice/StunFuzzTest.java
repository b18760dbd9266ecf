package dev.parley.media.ice;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What the shared UDP port does with a datagram that looks like STUN, before any ICE session sees it: parse it where
 * it lies ({@link BindingRequest}), read the USERNAME's ufrag to pick the session, check MESSAGE-INTEGRITY, write an
 * answer. None of it may throw or leave the datagram changed. Also the candidate lines of SDP. Corpus:
 * {@code src/test/resources/dev/parley/media/ice/StunFuzzTestInputs}.
 */
class StunFuzzTest {
    private static final byte[] KEY = "server-password-0123456789".getBytes(StandardCharsets.UTF_8);
    private static final BindingRequest CHECK = new BindingRequest();

    @FuzzTest(maxDuration = "30s")
    void stunBeforeIce(byte[] input) throws Exception {
        byte[] before = input.clone();
        if (!BindingRequest.isStun(input, 0, input.length)) {
            return;
        }
        BindingRequest.Kind kind = CHECK.parse(input, 0, input.length);
        if (kind == BindingRequest.Kind.REQUEST) {
            String ufrag = CHECK.localUfrag();
            if (ufrag != null && ufrag.length() > input.length) {
                throw new AssertionError("a ufrag longer than the datagram");
            }
            CHECK.integrityValid(KEY);
            byte[] out = new byte[BindingRequest.MAX_ANSWER];
            CHECK.writeSuccess(out, new InetSocketAddress(InetAddress.getByName("::1"), 5000), KEY);
            CHECK.writeError(out, 401, "Unauthorized");
        }
        if (!Arrays.equals(before, input)) {
            throw new AssertionError("reading a check changed it");
        }
    }

    @FuzzTest(maxDuration = "30s")
    void candidateLines(FuzzedDataProvider data) {
        IceCandidate candidate = IceCandidate.parse(data.consumeRemainingAsString());
        if (candidate != null) {
            if (candidate.literalAddress() == null) {
                throw new AssertionError("kept a candidate whose address is not an IP literal: " + candidate);
            }
            if (candidate.port() < 0 || candidate.port() > 65535) {
                throw new AssertionError("port out of range: " + candidate);
            }
            candidate.toSdpValue();
        }
    }
}
