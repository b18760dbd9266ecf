package dev.parley.media.ice;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import org.ice4j.StunException;
import org.ice4j.ice.harvest.AbstractUdpListener;
import org.ice4j.message.Message;

/**
 * What the shared UDP port does with a datagram from an address it does not know yet, before any ICE session sees
 * it: ice4j reads the USERNAME's ufrag to pick the session ({@code AbstractUdpListener.getUfrag}), then decodes the
 * STUN message. Also the candidate lines of SDP. Corpus: {@code src/test/resources/dev/parley/media/ice/StunFuzzTestInputs}.
 */
class StunFuzzTest {
    private static final MethodHandle GET_UFRAG;

    static {
        try {
            Method method = AbstractUdpListener.class.getDeclaredMethod("getUfrag", byte[].class, int.class,
                    int.class);
            method.setAccessible(true);
            GET_UFRAG = MethodHandles.lookup().unreflect(method)
                    .asType(MethodType.methodType(String.class, byte[].class, int.class, int.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void stunBeforeIce(byte[] input) throws Throwable {
        String ufrag = (String) GET_UFRAG.invokeExact(input, 0, input.length);
        if (ufrag != null && ufrag.length() > input.length) {
            throw new AssertionError("a ufrag longer than the datagram");
        }
        try {
            Message.decode(input, 0, input.length);
        } catch (StunException expected) {
            // not STUN, or malformed: ice4j drops it
        } catch (RuntimeException containedByIce4j) {
            // Found by this target: an attribute longer than the message (e.g. MESSAGE-INTEGRITY) throws
            // ArrayIndexOutOfBoundsException from ice4j's decoder. ice4j decodes on its own pool, inside
            // MessageProcessingTask, which catches Throwable and logs at FINE: the datagram is dropped, nothing else
            // is affected (ice4j 3.2-15). Known and contained; docs/security.md records it.
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
