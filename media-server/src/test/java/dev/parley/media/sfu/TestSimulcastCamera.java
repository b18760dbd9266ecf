package dev.parley.media.sfu;

import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.loadtest.ClientEndpoint.ReceivedRtp;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A publisher's simulcast camera for the tests, as browsers send one: three VP8 layers (q 320x180, h 640x360,
 * f 1280x720) at 30 frames a second in three temporal layers, each layer numbering its packets and pictures on its
 * own from different starting points, a keyframe (with its size) every {@code keyframeInterval} frames, and 50 audio
 * packets a second. Each payload's last byte says its layer ({@link #layerOf}).
 */
final class TestSimulcastCamera {
    static final String[] RIDS = {"q", "h", "f"};
    static final int[][] SIZES = {{320, 180}, {640, 360}, {1280, 720}};

    private TestSimulcastCamera() {
    }

    /**
     * Starts sending on a daemon thread until {@code running} turns false.
     *
     * @param mid              the video section's mid in the publisher's offer
     * @param packetsPerFrame  per layer
     * @param payloadBytes     per layer, each packet
     */
    static Thread start(ClientEndpoint publisher, ClientTrack video, String mid, int[] packetsPerFrame,
                        int[] payloadBytes, int keyframeInterval, AtomicBoolean running) {
        return start(publisher, video, mid, packetsPerFrame, payloadBytes, keyframeInterval, running,
                new AtomicInteger(RIDS.length));
    }

    /**
     * As above, sending only the lowest {@code layersSent} layers at each frame (0: nothing, not even audio: a
     * publisher whose browser stalls), which the test may change while it runs.
     */
    static Thread start(ClientEndpoint publisher, ClientTrack video, String mid, int[] packetsPerFrame,
                        int[] payloadBytes, int keyframeInterval, AtomicBoolean running, AtomicInteger layersSent) {
        return start(publisher, video, mid, packetsPerFrame, payloadBytes, keyframeInterval, running, layersSent,
                new AtomicInteger(), new java.util.concurrent.ConcurrentLinkedQueue<>());
    }

    /** A packet of the top layer the camera did not send (its uplink lost it), to be sent again as RTX. */
    record LostPacket(int sequence, long timestamp, boolean marker, byte[] payload) {
    }

    /**
     * As above, also losing the next {@code loseTopPackets} packets of the top layer (the test may set it while the
     * camera runs): each is put in {@code lost} instead of being sent.
     */
    static Thread start(ClientEndpoint publisher, ClientTrack video, String mid, int[] packetsPerFrame,
                        int[] payloadBytes, int keyframeInterval, AtomicBoolean running, AtomicInteger layersSent,
                        AtomicInteger loseTopPackets, java.util.Queue<LostPacket> lost) {
        Thread thread = new Thread(() -> {
            int[] sequence = {100, 30_000, 65_500};
            int[] picture = {7, 20_000, 32_700};
            int[] tl0 = {3, 100, 250};
            long[] timestamp = {1_000, 4_000_000_000L, 90_000};
            long audioSsrc = publisher.published().get(0).ssrc();
            int frame = 0;
            while (running.get()) {
                int sent = layersSent.get();
                boolean keyframe = frame % keyframeInterval == 0;
                int temporal = frame % 4 == 0 ? 0 : frame % 2 == 0 ? 1 : 2;
                for (int layer = 0; layer < RIDS.length; layer++) {
                    if (temporal == 0) {
                        tl0[layer] = (tl0[layer] + 1) & 0xff;
                    }
                    for (int part = 0; layer < sent && part < packetsPerFrame[layer]; part++) {
                        byte[] payload = vp8(part == 0, keyframe, picture[layer], tl0[layer], temporal, layer,
                                payloadBytes[layer]);
                        boolean marker = part == packetsPerFrame[layer] - 1;
                        int number = sequence[layer];
                        sequence[layer] = (number + 1) & 0xffff;
                        if (layer == RIDS.length - 1 && loseTopPackets.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                            lost.add(new LostPacket(number, timestamp[layer], marker, payload));
                            continue;
                        }
                        publisher.sendSimulcastRtp(video.layerSsrcs().get(layer), ClientEndpoint.VP8_PT, number,
                                timestamp[layer], marker, payload, mid, RIDS[layer], false);
                    }
                    picture[layer] = (picture[layer] + 1) & 0x7fff;
                    timestamp[layer] = (timestamp[layer] + 3000) & 0xffffffffL;
                }
                if (sent > 0) {
                    publisher.sendRtp(audioSsrc, ClientEndpoint.OPUS_PT, 500 + frame, frame * 960L, false,
                            new byte[60], true);
                }
                frame++;
                try {
                    Thread.sleep(33);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "simulcast-publisher");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** A VP8 packet: descriptor with 15-bit PictureID, TL0PICIDX and TID; a keyframe's first packet has its size. */
    static byte[] vp8(boolean start, boolean keyframe, int picture, int tl0, int temporal, int layer, int size) {
        byte[] payload = new byte[size];
        payload[0] = (byte) (0x80 | (start ? 0x10 : 0));
        payload[1] = (byte) 0xe0;
        payload[2] = (byte) (0x80 | (picture >> 8));
        payload[3] = (byte) picture;
        payload[4] = (byte) tl0;
        payload[5] = (byte) ((temporal << 6) | (temporal > 0 ? 0x20 : 0));
        payload[6] = (byte) (keyframe ? 0x00 : 0x01);
        if (start && keyframe) {
            payload[9] = (byte) 0x9d;
            payload[10] = 0x01;
            payload[11] = 0x2a;
            payload[12] = (byte) SIZES[layer][0];
            payload[13] = (byte) (SIZES[layer][0] >> 8);
            payload[14] = (byte) SIZES[layer][1];
            payload[15] = (byte) (SIZES[layer][1] >> 8);
        }
        payload[payload.length - 1] = (byte) layer;
        return payload;
    }

    /** The layer a packet came from (its payload's last byte). */
    static int layerOf(ReceivedRtp packet) {
        return packet.packet()[packet.packet().length - 1];
    }
}
