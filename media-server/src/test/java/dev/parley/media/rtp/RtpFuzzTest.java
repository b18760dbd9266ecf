package dev.parley.media.rtp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.media.cc.TransportFeedback;
import java.util.Arrays;

/**
 * RTP and RTCP as they arrive from a publisher or subscriber (after SRTP, which authenticates but does not validate
 * structure: a peer with keys can send anything). Each input sits at the very end of its array, so reading one byte
 * past the packet throws. Corpus: {@code src/test/resources/dev/parley/media/rtp/RtpFuzzTestInputs}.
 */
class RtpFuzzTest {
    private static final int OFFSET = 3;
    /** A subscriber's extension map: some ids moved, some removed (0), as Forward uses it. */
    private static final byte[] ID_MAP = new byte[256];
    private static final TransportFeedback TRANSPORT_FEEDBACK = new TransportFeedback(4096);
    private static final long[] ARRIVALS = new long[4096];

    static {
        for (int id = 1; id < 15; id++) {
            ID_MAP[id] = (byte) (id % 3 == 0 ? 0 : 15 - id);
        }
    }

    private static byte[] atEnd(byte[] input) {
        byte[] buf = new byte[OFFSET + input.length];
        System.arraycopy(input, 0, buf, OFFSET, input.length);
        return buf;
    }

    @FuzzTest(maxDuration = "30s")
    void rtpHeaderReadingAndRewriting(byte[] input) {
        byte[] buf = atEnd(input);
        int len = input.length;
        if (!Rtp.isRtpOrRtcp(buf, OFFSET, len) || Rtp.isRtcp(buf, OFFSET, len) || !Rtp.isValid(buf, OFFSET, len)) {
            return;
        }
        int header = Rtp.headerLength(buf, OFFSET, len);
        if (header < Rtp.FIXED_HEADER || header > len) {
            throw new AssertionError("header length " + header + " outside a valid packet of " + len);
        }
        Rtp.payloadLength(buf, OFFSET, len);
        Rtp.ssrc(buf, OFFSET);
        Rtp.sequenceNumber(buf, OFFSET);
        for (int id = 0; id < 16; id++) {
            int at = Rtp.findExtension(buf, OFFSET, len, id);
            if (at > OFFSET + len) {
                throw new AssertionError("extension " + id + " found outside the packet");
            }
        }
        Rtp.isVp8Keyframe(buf, OFFSET, len);
        Rtp.rewriteExtensions(buf, OFFSET, len, ID_MAP);
        if (Rtp.headerLength(buf, OFFSET, len) != header) {
            throw new AssertionError("rewriting extensions changed the header length");
        }
        // The transport-wide number a subscriber gets: added with exactly the spare room the forwarding path has.
        byte[] grown = new byte[OFFSET + len + Rtp.EXTENSION16_GROWTH];
        System.arraycopy(buf, 0, grown, 0, OFFSET + len);
        int added = Rtp.addExtension16(grown, OFFSET, len, 5);
        if (added < 0) {
            return;
        }
        if (added > len + Rtp.EXTENSION16_GROWTH || !Rtp.isValid(grown, OFFSET, added)) {
            throw new AssertionError("adding the element made an invalid packet of " + added);
        }
        int at = Rtp.findExtension(grown, OFFSET, added, 5);
        if (at < 0 || Rtp.extensionLength(grown, OFFSET, at) != 2) {
            throw new AssertionError("the added element is not found with two bytes");
        }
        int grownHeader = Rtp.headerLength(grown, OFFSET, added);
        if (!Arrays.equals(buf, OFFSET + header, OFFSET + len, grown, OFFSET + grownHeader, OFFSET + added)) {
            throw new AssertionError("adding the element changed the payload");
        }
    }

    @FuzzTest(maxDuration = "30s")
    void rtcpCompoundParsing(byte[] input) {
        byte[] buf = atEnd(input);
        int len = input.length;
        if (len < 2 || !Rtcp.isValidCompound(buf, OFFSET, len)) {
            return;
        }
        Rtcp.senderSsrc(buf, OFFSET);
        Rtcp.parse(buf, OFFSET, len, new RtcpVisitor() {
            @Override
            public void transportFeedback(long senderSsrc, long mediaSsrc, byte[] data, int packetOffset,
                                          int packetLength) {
                if (packetOffset < OFFSET || packetOffset + packetLength > OFFSET + len) {
                    throw new AssertionError("transport feedback outside the packet");
                }
                if (TRANSPORT_FEEDBACK.parse(data, packetOffset, packetLength)) {
                    if (TRANSPORT_FEEDBACK.statusCount() < 1 || TRANSPORT_FEEDBACK.statusCount() > 4096) {
                        throw new AssertionError("status count " + TRANSPORT_FEEDBACK.statusCount());
                    }
                    TRANSPORT_FEEDBACK.arrivalMicros(ARRIVALS);
                }
            }

            @Override
            public void remb(long senderSsrc, long bitrate, byte[] data, int ssrcsOffset, int ssrcCount) {
                if (bitrate < 0) {
                    throw new AssertionError("REMB bitrate read as negative: " + bitrate);
                }
                if (ssrcCount < 0 || ssrcsOffset < OFFSET || ssrcsOffset + 4L * ssrcCount > OFFSET + len) {
                    throw new AssertionError("REMB SSRC list outside the packet");
                }
                for (int i = 0; i < ssrcCount; i++) {
                    Rtp.readUint32(data, ssrcsOffset + 4 * i);
                }
            }
        });
    }
}
