package dev.parley.media.sfu;

import static dev.parley.media.TestMedia.WAIT;
import static dev.parley.media.TestMedia.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.MediaServer;
import dev.parley.media.TestMedia;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.api.VideoReceive;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two participants send Opus with the audio-level header extension at 50 packets a second, as browsers do; the
 * server reads the levels and says who speaks and who is dominant as they take turns.
 */
class SpeakerTest {
    /** A quiet room's microphone noise, -dBov. */
    private static final int QUIET = 65;
    /** Talking: syllables around -25 dBov with short gaps at the room's level (see {@link #publishAudio}). */
    private static final int TALKING = -1;

    private MediaServer server;
    private final List<ClientEndpoint> clients = new ArrayList<>();
    private volatile boolean sending = true;
    private final List<Thread> senders = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        sending = false;
        for (Thread sender : senders) {
            sender.join(5000);
        }
        clients.forEach(ClientEndpoint::close);
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theDominantSpeakerFollowsWhoTalksAndACoughDoesNotTakeOver() throws Exception {
        server = MediaServer.start(TestMedia.config());
        server.createConference("room");
        List<TrackEvent.SpeakersChanged> events = new CopyOnWriteArrayList<>();
        server.onEvent("room", e -> {
            if (e instanceof TrackEvent.SpeakersChanged changed) {
                events.add(changed);
            }
        });
        AtomicInteger aliceLevel = new AtomicInteger(QUIET);
        AtomicInteger bobLevel = new AtomicInteger(QUIET);
        publishAudio("alice", aliceLevel);
        publishAudio("bob", bobLevel);
        Thread.sleep(500);

        aliceLevel.set(TALKING);
        assertTrue(eventually(WAIT, () -> "alice".equals(dominant(events))), "Alice speaks: " + last(events));
        assertTrue(last(events).speaking().contains("alice"));
        assertTrue(!last(events).speaking().contains("bob"));

        // Bob coughs once (100 ms) while Alice talks on: she stays dominant.
        bobLevel.set(10);
        Thread.sleep(100);
        bobLevel.set(QUIET);
        Thread.sleep(1500);
        assertEquals("alice", dominant(events));

        // Alice stops, Bob talks: he takes over; silence afterwards keeps him.
        aliceLevel.set(QUIET);
        bobLevel.set(TALKING);
        assertTrue(eventually(WAIT, () -> "bob".equals(dominant(events))), "Bob speaks: " + last(events));
        bobLevel.set(QUIET);
        assertTrue(eventually(WAIT, () -> last(events).speaking().isEmpty()), "nobody speaks: " + last(events));
        assertEquals("bob", dominant(events));
        assertTrue(server.metricsText().contains("parley_media_dominant_speaker_changes_total 2.0"),
                "two changes counted");
    }

    @Test
    void withMoreVideoPublishersThanLastNAReceiverGetsTheMostRecentDominantSpeakersVideo() throws Exception {
        server = MediaServer.start(TestMedia.config().withLastN(1));
        server.createConference("room");
        AtomicInteger aliceLevel = new AtomicInteger(QUIET);
        AtomicInteger bobLevel = new AtomicInteger(QUIET);
        ClientTrack aliceVideo = publishAudio("alice", aliceLevel, true);
        ClientTrack bobVideo = publishAudio("bob", bobLevel, true);
        server.createEndpoint("room", "carol");
        ClientEndpoint carol = TestMedia.client();
        clients.add(carol);
        server.subscribeAnswer("room", "carol", carol.answer(server.subscribeOffer("room", "carol").orElseThrow().sdp()));
        assertTrue(carol.awaitSecure(WAIT), "subscriber connects");

        // Nobody has spoken: the first to join is shown.
        assertTrue(eventually(WAIT, () -> receives(carol, aliceVideo) && !receives(carol, bobVideo)),
                "Alice's video only");
        bobLevel.set(TALKING);
        assertTrue(eventually(WAIT, () -> receives(carol, bobVideo) && !receives(carol, aliceVideo)),
                "Bob speaks: his video only");
        assertTrue(server.stats().endpointStats().stream().filter(e -> e.endpointId().equals("carol")).findFirst()
                .orElseThrow().videos().stream().anyMatch(v -> v.publisherEndpointId().equals("alice") && v.paused()));
        bobLevel.set(QUIET);
        aliceLevel.set(TALKING);
        assertTrue(eventually(WAIT, () -> receives(carol, aliceVideo) && !receives(carol, bobVideo)),
                "Alice speaks again: her video is back");
    }

    @Test
    void aPinnedTileGetsVideoBesideTheLastNAndTheReceiverIsToldWhatIsWithheld() throws Exception {
        server = MediaServer.start(TestMedia.config().withLastN(1));
        server.createConference("room");
        List<TrackEvent.VideosWithheld> withheld = new CopyOnWriteArrayList<>();
        server.onEvent("room", e -> {
            if (e instanceof TrackEvent.VideosWithheld event && event.endpointId().equals("carol")) {
                withheld.add(event);
            }
        });
        ClientTrack aliceVideo = publishAudio("alice", new AtomicInteger(QUIET), true);
        ClientTrack bobVideo = publishAudio("bob", new AtomicInteger(QUIET), true);
        server.createEndpoint("room", "carol");
        ClientEndpoint carol = TestMedia.client();
        clients.add(carol);
        server.subscribeAnswer("room", "carol", carol.answer(server.subscribeOffer("room", "carol").orElseThrow().sdp()));
        assertTrue(carol.awaitSecure(WAIT), "subscriber connects");
        String bobTrack = server.tracks("room").stream()
                .filter(t -> t.publisherEndpointId().equals("bob") && t.kind().equals("video"))
                .findFirst().orElseThrow().trackId();

        // Nobody has spoken: Alice (first to join) is the one shown; Carol is told Bob's video is withheld.
        assertTrue(eventually(WAIT, () -> receives(carol, aliceVideo) && !receives(carol, bobVideo)),
                "Alice's video only");
        assertTrue(eventually(WAIT, () -> !withheld.isEmpty()
                && withheld.get(withheld.size() - 1).trackIds().equals(List.of(bobTrack))), "withheld: " + withheld);

        // Carol pins Bob's tile: his video comes beside the last-N's, and nothing is withheld any more.
        server.receiveVideo("room", "carol", List.of(new VideoReceive(bobTrack, true, 640, 360, true)));
        assertTrue(eventually(WAIT, () -> receives(carol, bobVideo) && receives(carol, aliceVideo)),
                "Bob pinned, Alice last-N");
        assertTrue(eventually(WAIT, () -> withheld.get(withheld.size() - 1).trackIds().isEmpty()),
                "nothing withheld: " + withheld);
        int announcements = withheld.size();

        // Unpinned: Bob's video is withheld again, and said so once.
        server.receiveVideo("room", "carol", List.of(new VideoReceive(bobTrack, true, 640, 360, false)));
        assertTrue(eventually(WAIT, () -> !receives(carol, bobVideo)), "Bob withheld again");
        Thread.sleep(1500);
        assertEquals(announcements + 1, withheld.size(), "one announcement per change: " + withheld);
        assertEquals(List.of(bobTrack), withheld.get(withheld.size() - 1).trackIds());
    }

    /** Whether {@code receiver} got packets of {@code video} in the last 600 ms. */
    private static boolean receives(ClientEndpoint receiver, ClientTrack video) throws InterruptedException {
        long before = receiver.packetsReceived(video.ssrc());
        Thread.sleep(600);
        return receiver.packetsReceived(video.ssrc()) > before;
    }

    private static TrackEvent.SpeakersChanged last(List<TrackEvent.SpeakersChanged> events) {
        return events.isEmpty() ? null : events.get(events.size() - 1);
    }

    private static String dominant(List<TrackEvent.SpeakersChanged> events) {
        TrackEvent.SpeakersChanged last = last(events);
        return last == null ? null : last.dominantEndpointId();
    }

    /**
     * Joins as a participant publishing audio, and sends a packet every 20 ms at the level {@code level} holds, or
     * for {@link #TALKING} as speech: 120 ms syllables at -25 dBov and 60 ms gaps at the room's level.
     */
    private void publishAudio(String endpoint, AtomicInteger level) throws Exception {
        publishAudio(endpoint, level, false);
    }

    /** With {@code video}, also sends VP8 (every packet starting a keyframe) every 20 ms; returns its track. */
    private ClientTrack publishAudio(String endpoint, AtomicInteger level, boolean withVideo) throws Exception {
        server.createEndpoint("room", endpoint);
        ClientEndpoint client = TestMedia.client();
        clients.add(client);
        ClientTrack audio = ClientTrack.audio(endpoint);
        ClientTrack video = ClientTrack.video(endpoint);
        client.acceptAnswer(server.publish("room", endpoint,
                client.publishOffer(withVideo ? List.of(audio, video) : List.of(audio), false)));
        assertTrue(client.awaitSecure(WAIT), "publisher connects");
        Thread sender = new Thread(() -> {
            int sequence = 0;
            long next = System.nanoTime();
            while (sending) {
                int now = level.get();
                if (now == TALKING) {
                    now = sequence % 9 < 6 ? 25 : QUIET;
                }
                client.sendAudio(audio.ssrc(), sequence, sequence * 960L, now, now < QUIET, new byte[40]);
                if (withVideo) {
                    byte[] keyframe = new byte[100];
                    keyframe[0] = 0x10;
                    client.sendRtp(video.ssrc(), ClientEndpoint.VP8_PT, sequence, sequence * 1800L, true, keyframe,
                            false);
                }
                sequence++;
                next += 20_000_000L;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    try {
                        Thread.sleep(sleep / 1_000_000L, (int) (sleep % 1_000_000L));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }, "audio-" + endpoint);
        sender.setDaemon(true);
        sender.start();
        senders.add(sender);
        return video;
    }
}
