package dev.parley.media.sfu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.rtp.Vp8Descriptor;
import dev.parley.media.rtp.Vp8Packet;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A simulcast VP8 publisher's three layers (L1T3 pictures, real RFC 7741 packets) go through the rewriter; what comes
 * out must look to the receiver's decoder like one stream without a seam: sequence numbers +1 per packet, and per
 * picture PictureID +1, TL0PICIDX +1 at each TID 0 picture, the timestamp moving forward.
 */
class LayerRewriterTest {
    private static final long OUT_SSRC = 0xCAFEBABEL;
    private static final int CLOCK = 90_000;
    private static final long FRAME_NANOS = 33_333_333L;
    /** Where the packet sits in the buffer handed to the rewriter (not at 0, with room behind). */
    private static final int OFF = 3;
    private static final int[] L1T3_TIDS = {0, 2, 1, 2};
    private static final boolean[] L1T3_SYNC = {false, true, true, false};

    /** One simulcast layer: a PictureID / TL0PICIDX / sequence / timestamp counter set, sending L1T3 pictures. */
    private static final class Layer {
        final int index;
        final long ssrc;
        final int pictureIdBits;
        int sequence;
        long timestamp;
        int pictureId;
        int tl0;
        int position;
        int packetsPerFrame = 2;
        boolean first = true;

        Layer(int index, int sequence, long timestamp, int pictureId, int pictureIdBits, int tl0) {
            this.index = index;
            this.ssrc = 0x1000 + index;
            this.sequence = sequence;
            this.timestamp = timestamp;
            this.pictureId = pictureId;
            this.pictureIdBits = pictureIdBits;
            this.tl0 = tl0;
        }

        /** The next picture of the L1T3 pattern (a keyframe restarts it at TID 0). */
        List<Vp8Packet> picture(boolean keyframe) {
            if (keyframe) {
                position = 0;
            }
            int at = position++ % L1T3_TIDS.length;
            return picture(keyframe, L1T3_TIDS[at], L1T3_SYNC[at]);
        }

        List<Vp8Packet> picture(boolean keyframe, int tid, boolean sync) {
            if (!first) {
                pictureId = (pictureId + 1) & ((1 << pictureIdBits) - 1);
                timestamp = (timestamp + 3000) & 0xffffffffL;
                if (tid == 0) {
                    tl0 = (tl0 + 1) & 0xff;
                }
            }
            first = false;
            List<Vp8Packet> packets = new ArrayList<>();
            for (int i = 0; i < packetsPerFrame; i++) {
                packets.add(new Vp8Packet(sequence, timestamp, ssrc, pictureId, pictureIdBits, tl0, tid, sync,
                        i == 0, keyframe, i == packetsPerFrame - 1, 30));
                sequence = (sequence + 1) & 0xffff;
            }
            return packets;
        }
    }

    /** A packet as the receiver got it, with the source packet it was made from. */
    private record Out(int layer, byte[] source, byte[] bytes, int sequence, long timestamp, long ssrc, int pictureId,
            int pictureIdLength, int tl0, int tid, boolean start, long nanos) {
        int sourceSequence() {
            return Rtp.sequenceNumber(source, 0);
        }
    }

    private final LayerRewriter rewriter = new LayerRewriter(OUT_SSRC, true, CLOCK);
    private final Layer[] layers = {
        new Layer(0, 1000, 5000, 100, 15, 7),
        new Layer(1, 40000, 900_000, 20000, 15, 100),
        new Layer(2, 65500, 0xfffe0000L, 32760, 15, 250),
    };
    private final List<Out> received = new ArrayList<>();
    private long now = 1_000_000_000L;

    private Out send(Vp8Packet packet, int layer) {
        return send(packet.bytes(), layer);
    }

    private Out send(byte[] packet, int layer) {
        byte[] buf = new byte[OFF + packet.length + 7];
        System.arraycopy(packet, 0, buf, OFF, packet.length);
        if (!rewriter.rewrite(buf, OFF, packet.length, layer, now)) {
            return null;
        }
        byte[] bytes = Arrays.copyOfRange(buf, OFF, OFF + packet.length);
        Vp8Descriptor d = new Vp8Descriptor();
        int payload = Rtp.headerLength(bytes, 0, bytes.length);
        assertTrue(d.read(bytes, payload, bytes.length), "rewritten descriptor unreadable");
        Out out = new Out(layer, packet, bytes, Rtp.sequenceNumber(bytes, 0), Rtp.timestamp(bytes, 0),
                Rtp.ssrc(bytes, 0), d.pictureId, d.pictureIdLength, d.tl0PicIdx, d.temporalId, d.startOfPartition,
                now);
        received.add(out);
        return out;
    }

    /** One frame time: each layer sends its next picture (a keyframe where asked), lowest layer first. */
    private void frame(int... keyframeLayers) {
        for (Layer layer : layers) {
            boolean keyframe = Arrays.stream(keyframeLayers).anyMatch(k -> k == layer.index);
            for (Vp8Packet packet : layer.picture(keyframe)) {
                send(packet, layer.index);
            }
        }
        now += FRAME_NANOS;
    }

    private void frames(int count) {
        for (int i = 0; i < count; i++) {
            frame();
        }
    }

    private static long expectedTimestampStep(long elapsedNanos) {
        return Math.max(1, elapsedNanos / 1000 * CLOCK / 1_000_000);
    }

    /** What the receiver's depacketizer and decoder check, packet after packet. */
    private static void assertContinuous(List<Out> outs) {
        for (int i = 1; i < outs.size(); i++) {
            Out prev = outs.get(i - 1);
            Out cur = outs.get(i);
            String where = "packet " + i + " (layer " + prev.layer + " -> " + cur.layer + ")";
            assertEquals(OUT_SSRC, cur.ssrc, where);
            assertEquals((prev.sequence + 1) & 0xffff, cur.sequence, "sequence at " + where);
            int mask = Math.min(prev.pictureIdLength, cur.pictureIdLength) == 1 ? 0x7f : 0x7fff;
            if (cur.start) {
                assertEquals((prev.pictureId + 1) & mask, cur.pictureId & mask, "PictureID at " + where);
                assertTrue((int) (cur.timestamp - prev.timestamp) > 0, "timestamp moves forward at " + where);
                assertEquals((prev.tl0 + (cur.tid == 0 ? 1 : 0)) & 0xff, cur.tl0, "TL0PICIDX at " + where);
            } else {
                assertEquals(prev.pictureId, cur.pictureId, "PictureID within a picture at " + where);
                assertEquals(prev.timestamp, cur.timestamp, "timestamp within a picture at " + where);
                assertEquals(prev.tl0, cur.tl0, "TL0PICIDX within a picture at " + where);
            }
        }
    }

    private List<Integer> layerRuns() {
        List<Integer> runs = new ArrayList<>();
        for (Out out : received) {
            if (runs.isEmpty() || runs.get(runs.size() - 1) != out.layer) {
                runs.add(out.layer);
            }
        }
        return runs;
    }

    private Out firstOf(int layer, int fromIndex) {
        for (int i = fromIndex; i < received.size(); i++) {
            if (received.get(i).layer == layer) {
                return received.get(i);
            }
        }
        throw new AssertionError("nothing of layer " + layer + " received");
    }

    @Test
    void theFirstLayerGoesOutUnderTheOutgoingSsrcWithItsOwnNumbersAndPayload() {
        rewriter.target(1, 2);
        frame(0, 1, 2);
        frames(3);
        assertEquals(List.of(1), layerRuns());
        Out first = received.get(0);
        assertEquals(40000, first.sequence);
        assertEquals(900_000, first.timestamp);
        assertEquals(20000, first.pictureId);
        assertEquals(100, first.tl0);
        for (Out out : received) {
            byte[] expected = out.source.clone();
            Rtp.setSsrc(expected, 0, OUT_SSRC);
            assertArrayEquals(expected, out.bytes, "only the SSRC changes while the first layer flows");
        }
        assertContinuous(received);
    }

    @Test
    void switchesUpAndDownKeepEveryNumberContinuous() {
        rewriter.target(0, 2);
        frame(0, 1, 2);
        frames(7);
        rewriter.target(2, 2);
        frames(3);
        frame(2);
        frames(40);
        rewriter.target(1, 2);
        frame(1);
        frames(6);
        rewriter.target(0, 2);
        frame(0);
        frames(6);
        assertEquals(List.of(0, 2, 1, 0), layerRuns());
        assertEquals(4, rewriter.switches());
        assertContinuous(received);
        // Layer 2 started just below every wrap-around (sequence, PictureID, TL0PICIDX, timestamp) and crossed it.
        assertTrue(received.stream().anyMatch(o -> o.layer == 2 && Rtp.sequenceNumber(o.source, 0) < 100));
        assertTrue(received.stream().anyMatch(o -> o.layer == 2 && Rtp.timestamp(o.source, 0) < 0x10000));
        for (int i = 1; i < received.size(); i++) {
            Out prev = received.get(i - 1);
            Out cur = received.get(i);
            if (prev.layer != cur.layer) {
                assertEquals((prev.timestamp + expectedTimestampStep(cur.nanos - prev.nanos)) & 0xffffffffL,
                        cur.timestamp, "timestamp at the switch to layer " + cur.layer + " bridges the wall time");
            }
        }
    }

    @Test
    void aSwitchWaitsForAKeyframeOfTheTargetLayerWhileTheCurrentOneKeepsFlowing() {
        rewriter.target(0, 2);
        frame(0, 1, 2);
        frames(3);
        rewriter.target(2, 2);
        assertEquals(2, rewriter.awaitedKeyframeLayer());
        int before = received.size();
        frame(1);
        frames(4);
        assertEquals(0, rewriter.currentSpatial());
        assertEquals(2, rewriter.awaitedKeyframeLayer());
        assertEquals(10, received.size() - before, "layer 0 keeps flowing: 5 pictures of 2 packets");
        assertEquals(10, rewriter.droppedWaitingForKeyframe(), "layer 2's packets while waiting");
        frame(2);
        assertEquals(2, rewriter.currentSpatial());
        assertEquals(-1, rewriter.awaitedKeyframeLayer());
        assertEquals(List.of(0, 2), layerRuns());
        assertTrue(received.get(received.size() - 2).start, "the new layer starts at its keyframe's first packet");
        assertContinuous(received);
    }

    @Test
    void temporalLayersAboveTheTargetAreDroppedWithoutLeavingGaps() {
        rewriter.target(0, 0);
        frame(0);
        frames(11);
        assertEquals(6, received.size(), "TID 0 pictures only: 3 of 12, 2 packets each");
        assertTrue(received.stream().allMatch(o -> o.tid == 0));
        assertEquals(18, rewriter.droppedTemporal());
        rewriter.target(0, 1);
        frames(8);
        assertTrue(received.stream().noneMatch(o -> o.tid == 2));
        assertTrue(received.stream().anyMatch(o -> o.tid == 1));
        assertEquals(1, rewriter.currentTemporal());
        assertContinuous(received);
    }

    @Test
    void theTemporalLayerRisesOnlyAtASyncPictureAndFallsAtOnce() {
        Layer layer = layers[0];
        rewriter.target(0, 0);
        layer.picture(true, 0, false).forEach(p -> send(p, 0));
        rewriter.target(0, 2);
        layer.picture(false, 2, false).forEach(p -> send(p, 0));
        assertEquals(0, rewriter.currentTemporal(), "a TID 2 picture without the sync bit cannot be decoded");
        assertEquals(2, received.size());
        layer.picture(false, 1, true).forEach(p -> send(p, 0));
        assertEquals(2, rewriter.currentTemporal());
        layer.picture(false, 2, false).forEach(p -> send(p, 0));
        assertEquals(6, received.size());
        rewriter.target(0, 1);
        layer.picture(false, 2, false).forEach(p -> send(p, 0));
        assertEquals(1, rewriter.currentTemporal());
        assertEquals(6, received.size(), "lowered at the next picture start");
        layer.picture(false, 0, false).forEach(p -> send(p, 0));
        assertEquals(8, received.size());
        assertContinuous(received);
    }

    @Test
    void lossUpstreamStaysAGapOfTheSameSize() {
        Layer layer = layers[0];
        layer.packetsPerFrame = 4;
        rewriter.target(0, 1);
        for (int i = 0; i < 7; i++) {
            layer.picture(i == 0).forEach(p -> send(p, 0));
        }
        List<Vp8Packet> lossy = layer.picture(false);
        assertEquals(2, lossy.get(0).tid(), "a dropped picture before the lossy one");
        lossy.forEach(p -> send(p, 0));
        lossy = layer.picture(false);
        assertEquals(0, lossy.get(0).tid());
        int before = received.size();
        send(lossy.get(0), 0);
        send(lossy.get(3), 0);
        for (int i = 0; i < 4; i++) {
            layer.picture(false).forEach(p -> send(p, 0));
        }
        Out last = received.get(before - 1);
        Out afterGap = received.get(before + 1);
        assertEquals((received.get(before).sequence + 3) & 0xffff, afterGap.sequence, "two lost packets, gap of two");
        List<Out> beforeLoss = received.subList(0, before + 1);
        List<Out> afterLoss = received.subList(before + 1, received.size());
        assertContinuous(beforeLoss);
        assertContinuous(afterLoss);
        assertEquals((last.pictureId + 1) & 0x7fff, received.get(before).pictureId);
    }

    @Test
    void reorderedPacketsGetTheNumbersTheyWouldHaveHadInOrder() {
        Layer layer = layers[1];
        layer.packetsPerFrame = 3;
        List<Vp8Packet> inOrder = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            inOrder.addAll(layer.picture(i == 0));
        }
        rewriter.target(1, 1);
        inOrder.forEach(p -> send(p, 1));
        Map<Integer, Out> expected = new HashMap<>();
        received.forEach(o -> expected.put(o.sourceSequence(), o));
        assertContinuous(received);

        LayerRewriter second = new LayerRewriter(OUT_SSRC, true, CLOCK);
        second.target(1, 1);
        // Pictures of 3 packets, TIDs 0 2 1 2 0 2 1 2 ...; TID 2 is dropped. Sequence numbers from 40000.
        List<Vp8Packet> shuffled = new ArrayList<>(inOrder);
        // The end of a TID 0 picture comes after the dropped TID 2 picture and the whole TID 1 picture after it.
        moveAfter(shuffled, 40002, 40008);
        // The middle of a dropped TID 2 picture comes after the next (TID 0) picture began.
        moveAfter(shuffled, 40010, 40012);
        // The end of a dropped TID 2 picture comes after the next picture's first packet.
        moveAfter(shuffled, 40017, 40018);
        // The middle of a TID 1 picture comes after the next (dropped) picture's first packet.
        moveAfter(shuffled, 40019, 40021);
        // A repeat of a sent packet.
        shuffled.add(shuffled.indexOf(byNumber(inOrder, 40025)) + 1, byNumber(inOrder, 40006));
        Set<Integer> sentNumbers = new HashSet<>();
        int duplicates = 0;
        for (Vp8Packet packet : shuffled) {
            byte[] buf = packet.bytes();
            boolean sent = second.rewrite(buf, 0, buf.length, 1, now);
            Out want = expected.get(packet.sequence());
            if (want == null) {
                assertFalse(sent, "packet " + packet.sequence() + " is of a dropped temporal layer");
                continue;
            }
            if (!sentNumbers.add(packet.sequence())) {
                assertFalse(sent, "a repeated packet is not numbered twice");
                duplicates++;
                continue;
            }
            assertTrue(sent, "packet " + packet.sequence());
            assertArrayEquals(want.bytes, buf, "packet " + packet.sequence() + " rewritten as in order");
        }
        assertEquals(1, duplicates);
        assertEquals(1, second.droppedStale());
        assertEquals(expected.size(), sentNumbers.size());
    }

    private static Vp8Packet byNumber(List<Vp8Packet> packets, int sequence) {
        return packets.stream().filter(p -> p.sequence() == sequence).findFirst().orElseThrow();
    }

    private static void moveAfter(List<Vp8Packet> packets, int sequence, int afterSequence) {
        Vp8Packet moved = byNumber(packets, sequence);
        packets.remove(moved);
        packets.add(packets.indexOf(byNumber(packets, afterSequence)) + 1, moved);
    }

    @Test
    void aPacketTooLateToBeToldApartIsDroppedNotRenumbered() {
        Layer layer = layers[0];
        rewriter.target(0, 0);
        List<Vp8Packet> early = layer.picture(true);
        early.forEach(p -> send(p, 0));
        for (int i = 0; i < 400; i++) {
            layer.picture(false).forEach(p -> send(p, 0));
        }
        int count = received.size();
        assertEquals(null, send(early.get(1), 0), "800 packets later");
        assertEquals(null, send(received.get(count - 1).source, 0), "a repeat of the last packet");
        assertEquals(count, received.size());
        assertEquals(2, rewriter.droppedStale());
        assertContinuous(received);
    }

    @Test
    void pausingStopsAtOnceAndResumingWaitsForAKeyframe() {
        rewriter.target(1, 2);
        frame(0, 1, 2);
        frames(5);
        rewriter.target(-1, 2);
        assertEquals(-1, rewriter.currentSpatial());
        assertEquals(-1, rewriter.awaitedKeyframeLayer());
        int before = received.size();
        frame(0, 1, 2);
        now += 2_000_000_000L;
        frames(3);
        assertEquals(before, received.size(), "nothing while paused");
        rewriter.target(1, 2);
        assertEquals(1, rewriter.awaitedKeyframeLayer());
        frames(2);
        assertEquals(before, received.size(), "resuming waits for a keyframe");
        frame(1);
        frames(3);
        assertEquals(List.of(1), layerRuns());
        Out last = received.get(before - 1);
        Out resumed = received.get(before);
        assertEquals((last.timestamp + expectedTimestampStep(resumed.nanos - last.nanos)) & 0xffffffffL,
                resumed.timestamp);
        assertTrue(resumed.nanos - last.nanos > 2_000_000_000L);
        assertEquals(2, rewriter.switches());
        assertContinuous(received);
    }

    @Test
    void retransmissionsGetExactlyTheRewriteTheyFirstHadAcrossSwitches() throws Exception {
        rewriter.target(0, 1);
        frame(0, 1, 2);
        frames(5);
        rewriter.target(2, 1);
        frame(2);
        frames(5);
        rewriter.target(1, 0);
        frame(1);
        frames(5);
        assertEquals(List.of(0, 2, 1), layerRuns());
        List<String> failures = new ArrayList<>();
        // The receiver's thread asks while the publisher's keeps sending.
        Thread receiverThread = new Thread(() -> {
            for (Out out : received) {
                long source = rewriter.sourceOf(out.sequence);
                if (source != (((long) out.layer << 16) | out.sourceSequence())) {
                    failures.add("sourceOf(" + out.sequence + ") = " + source);
                }
                byte[] copy = out.source.clone();
                if (!rewriter.rewriteRetransmission(copy, 0, copy.length, out.sequence)
                        || !Arrays.equals(copy, out.bytes)) {
                    failures.add("retransmission of " + out.sequence + " differs");
                }
            }
        });
        receiverThread.start();
        receiverThread.join();
        assertEquals(List.of(), failures);
        Out some = received.get(3);
        byte[] other = received.get(4).source.clone();
        assertFalse(rewriter.rewriteRetransmission(other, 0, other.length, some.sequence), "another source packet");
        assertEquals(-1, rewriter.sourceOf((received.get(received.size() - 1).sequence + 1) & 0xffff));
        int sizeBefore = received.size();
        frames(3 * LayerRewriter.RETRANSMISSION_RING);
        assertTrue(received.size() - sizeBefore > LayerRewriter.RETRANSMISSION_RING);
        assertEquals(-1, rewriter.sourceOf(some.sequence), "forgotten after 512 newer packets");
        byte[] copy = some.source.clone();
        assertFalse(rewriter.rewriteRetransmission(copy, 0, copy.length, some.sequence));
    }

    @Test
    void sevenBitPictureIdsStaySevenBitsAndWrapAcrossSwitches() {
        layers[0] = new Layer(0, 65530, 0xffffff00L, 120, 7, 255);
        rewriter.target(0, 2);
        frame(0, 1, 2);
        frames(140);
        rewriter.target(1, 2);
        frame(1);
        frames(20);
        rewriter.target(0, 2);
        frame(0);
        frames(20);
        assertEquals(List.of(0, 1, 0), layerRuns());
        for (Out out : received) {
            assertEquals(out.layer == 0 ? 1 : 2, out.pictureIdLength, "PictureID width of layer " + out.layer);
        }
        assertTrue(received.stream().anyMatch(o -> o.layer == 0 && o.pictureId < 10), "7-bit PictureID wrapped");
        assertContinuous(received);
    }

    @Test
    void truncatedAndGarbledPacketsAreRefusedAndCountedWithoutDisturbingTheStream() {
        rewriter.target(0, 2);
        frame(0, 1, 2);
        frames(2);
        byte[] keyframe = layers[2].picture(true).get(0).bytes();
        byte[] delta = received.get(received.size() - 1).source;
        int shortest = Rtp.FIXED_HEADER + 8 + 6 + 1;
        int refused = 0;
        rewriter.target(2, 2);
        for (byte[] packet : List.of(keyframe, delta)) {
            for (int len = 0; len < shortest; len++) {
                byte[] cut = Arrays.copyOf(packet, len);
                int layer = packet == keyframe ? 2 : 0;
                assertFalse(rewriter.rewrite(cut, 0, len, layer, now), "packet cut to " + len + " bytes");
                refused++;
            }
        }
        assertEquals(refused, rewriter.droppedMalformed() + rewriter.droppedPadding());
        assertEquals(2, rewriter.droppedPadding(), "cut right after the header: no payload at all");
        assertEquals(0, rewriter.currentSpatial(), "a cut keyframe does not switch");
        rewriter.target(0, 2);
        frames(4);
        assertEquals(14, received.size());
        assertContinuous(received);

        LayerRewriter other = new LayerRewriter(OUT_SSRC, true, CLOCK);
        Random random = new Random(7);
        byte[] garbage = new byte[80];
        for (int i = 0; i < 50_000; i++) {
            if (i % 1000 == 0) {
                other.target(random.nextInt(4) - 1, random.nextInt(3));
            }
            random.nextBytes(garbage);
            garbage[0] = (byte) (0x80 | (garbage[0] & 0x3f));
            other.rewrite(garbage, 0, random.nextInt(garbage.length + 1), random.nextInt(5) - 1, now);
        }
        assertTrue(other.droppedMalformed() > 0);
    }

    @Test
    void paddingOnlyPacketsAreDroppedWithoutLeavingAGap() {
        Layer layer = layers[0];
        rewriter.target(0, 2);
        layer.picture(true).forEach(p -> send(p, 0));
        for (int i = 0; i < 3; i++) {
            byte[] padding = new byte[Rtp.FIXED_HEADER + 200];
            padding[0] = (byte) 0xa0;
            padding[1] = (byte) Vp8Packet.PAYLOAD_TYPE;
            Rtp.setSequenceNumber(padding, 0, layer.sequence++);
            Rtp.writeUint32(padding, 4, layer.timestamp);
            Rtp.setSsrc(padding, 0, layer.ssrc);
            padding[padding.length - 1] = (byte) 200;
            assertEquals(null, send(padding, 0));
        }
        layer.picture(false).forEach(p -> send(p, 0));
        assertEquals(4, received.size());
        assertEquals(3, rewriter.droppedPadding());
        assertEquals(0, rewriter.droppedMalformed());
        assertContinuous(received);
    }

    @Test
    void rewritingAllocatesNothingPerPacket() {
        // Built beforehand: 4000 frame times of three layers, a switch every 500, temporal target changing too.
        int frameTimes = 4000;
        List<byte[]> packets = new ArrayList<>();
        List<Integer> packetLayers = new ArrayList<>();
        for (int f = 0; f < frameTimes; f++) {
            for (Layer layer : layers) {
                for (Vp8Packet packet : layer.picture(f % 250 == 0)) {
                    packets.add(packet.bytes());
                    packetLayers.add(layer.index);
                }
            }
        }
        byte[][] all = packets.toArray(new byte[0][]);
        int[] layerOf = packetLayers.stream().mapToInt(Integer::intValue).toArray();
        byte[] buf = new byte[1500];
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        long allocatedBefore = threads.getThreadAllocatedBytes(thread);
        int sent = 0;
        for (int i = 0; i < all.length; i++) {
            if (i % 3000 == 0) {
                rewriter.target((i / 3000) % 3, (i / 1000) % 3);
            }
            System.arraycopy(all[i], 0, buf, OFF, all[i].length);
            if (rewriter.rewrite(buf, OFF, all[i].length, layerOf[i], now + i * 5_000_000L)) {
                sent++;
            }
        }
        long allocated = threads.getThreadAllocatedBytes(thread) - allocatedBefore;
        assertTrue(sent > all.length / 20, "packets were sent: " + sent);
        assertTrue(rewriter.switches() >= 5, "layers switched: " + rewriter.switches());
        assertTrue(allocated < 4096, all.length + " packets allocated " + allocated + " bytes");
    }

    @Test
    void h264LayersSwitchAtTheStartOfAnIdrPicture() {
        LayerRewriter h264 = new LayerRewriter(OUT_SSRC, false, CLOCK);
        h264.target(0, 0);
        int[] sequences = {100, 30000};
        long[] timestamps = {1000, 777_000};
        List<int[]> sent = new ArrayList<>();
        // Per frame: layer 0 and 1 each send an FU-A picture of two fragments; IDR where asked.
        for (int frame = 0; frame < 12; frame++) {
            if (frame == 4) {
                h264.target(1, 0);
            }
            for (int layer = 0; layer < 2; layer++) {
                boolean idr = frame == 0 || (layer == 1 && frame == 8);
                for (int fragment = 0; fragment < 2; fragment++) {
                    byte[] buf = new byte[Rtp.FIXED_HEADER + 10];
                    buf[0] = (byte) 0x80;
                    buf[1] = (byte) (fragment == 1 ? 0x80 | 102 : 102);
                    Rtp.setSequenceNumber(buf, 0, sequences[layer]++);
                    Rtp.writeUint32(buf, 4, timestamps[layer]);
                    Rtp.setSsrc(buf, 0, 0x2000 + layer);
                    buf[12] = 0x7c;
                    buf[13] = (byte) ((fragment == 0 ? 0x80 : 0x40) | (idr ? 5 : 1));
                    if (h264.rewrite(buf, 0, buf.length, layer, now)) {
                        sent.add(new int[] {layer, Rtp.sequenceNumber(buf, 0), (int) Rtp.timestamp(buf, 0)});
                        assertEquals(OUT_SSRC, Rtp.ssrc(buf, 0));
                    }
                }
                timestamps[layer] += 3000;
            }
            now += FRAME_NANOS;
        }
        assertEquals(26, sent.size(), "layer 0 up to frame 8 (it sends first), layer 1 from its IDR at frame 8");
        assertEquals(8, h264.droppedWaitingForKeyframe());
        assertEquals(1, h264.currentSpatial());
        for (int i = 1; i < sent.size(); i++) {
            assertEquals((sent.get(i - 1)[1] + 1) & 0xffff, sent.get(i)[1]);
            assertTrue(sent.get(i)[2] - sent.get(i - 1)[2] >= 0);
        }
        assertEquals(0, sent.get(17)[0]);
        assertEquals(1, sent.get(18)[0]);
        assertEquals(sent.get(17)[2] + expectedTimestampStep(0), sent.get(18)[2], "at least one tick on");
    }
}
