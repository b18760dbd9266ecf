package dev.parley.signaling.medianode;

import dev.parley.media.api.ConferenceInfo;
import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.SubscribeOffer;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.ice.AllowedNetworks;
import dev.parley.media.ice.Cidr;
import dev.parley.media.loadtest.ClientEndpoint;
import dev.parley.media.loadtest.ClientEndpoint.ClientTrack;
import dev.parley.media.srtp.SrtpProfile;
import dev.parley.signaling.call.CallMedia;
import dev.parley.signaling.testing.MediaNodeProcess;
import dev.parley.signaling.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A gateway's view of a media node on another machine: a real node process with an auth secret, driven over its
 * HTTP API with tokens the gateway signs. Conferences and endpoints, a publisher whose media reaches a subscriber,
 * the conference's events as a stream, refusals with their codes, and a node killed with kill -9 reported as lost.
 */
class RemoteMediaApiTest {

    private static final String SECRET = "a-media-secret-of-at-least-thirty-two-bytes";
    private static final AllowedNetworks LOOPBACK = new AllowedNetworks(List.of(Cidr.parse("127.0.0.0/8")));
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static RedisServer redis;
    private static ScheduledExecutorService timers;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        timers = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stop() throws Exception {
        timers.shutdownNow();
        redis.close();
    }

    private static MediaNodeProcess node() throws Exception {
        return MediaNodeProcess.start(redis.uri(), Map.of("PARLEY_MEDIA_AUTH_SECRET", SECRET));
    }

    private static RemoteMediaApi api(MediaNodeProcess node, String secret) {
        return new RemoteMediaApi(node.id(), URI.create(node.apiUrl()), secret, HTTP, Duration.ofSeconds(5), timers);
    }

    @Test
    void aConferenceOnANodeCarriesMediaAndStreamsItsEventsInOrder() throws Exception {
        try (MediaNodeProcess node = node();
             ClientEndpoint ann = ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK,
                     List.of(SrtpProfile.values()));
             ClientEndpoint bob = ClientEndpoint.create(InetAddress.getLoopbackAddress(), LOOPBACK,
                     List.of(SrtpProfile.values()))) {
            RemoteMediaApi api = api(node, SECRET);
            ConferenceInfo conference = api.createConference(null);
            String c = conference.conferenceId();
            BlockingQueue<TrackEvent> events = new LinkedBlockingQueue<>();
            CountDownLatch lost = new CountDownLatch(1);
            AutoCloseable listening = api.onEvent(c, events::add, lost::countDown);

            String annId = api.createEndpoint(c, "ann").endpointId();
            String bobId = api.createEndpoint(c, null).endpointId();
            ClientTrack audio = ClientTrack.audio("ann-stream");
            ann.acceptAnswer(api.publish(c, annId, ann.publishOffer(List.of(audio), false)));
            assertTrue(ann.awaitSecure(Duration.ofSeconds(20)), "the publisher reaches the node");

            TrackEvent.TrackAdded added = (TrackEvent.TrackAdded) next(events, TrackEvent.TrackAdded.class);
            assertEquals(annId, added.track().publisherEndpointId());
            assertEquals(List.of(added.track().trackId()), api.tracks(c).stream().map(t -> t.trackId()).toList());
            TrackEvent.SubscriptionChanged changed =
                    (TrackEvent.SubscriptionChanged) next(events, TrackEvent.SubscriptionChanged.class);
            assertEquals(bobId, changed.endpointId());

            SubscribeOffer offer = api.subscribeOffer(c, bobId).orElseThrow();
            api.subscribeAnswer(c, bobId, bob.answer(offer.sdp()));
            assertTrue(bob.awaitSecure(Duration.ofSeconds(20)), "the subscriber reaches the node");
            for (int i = 1; i < 500 && bob.packetsReceived(audio.ssrc()) < 5; i++) {
                ann.sendRtp(audio.ssrc(), ClientEndpoint.OPUS_PT, i, i * 960L, false, new byte[]{1, 2, 3}, false);
                Thread.sleep(10);
            }
            assertTrue(bob.packetsReceived(audio.ssrc()) > 0, "media flows through the node");
            assertEquals(2, api.stats().endpoints());

            api.closeEndpoint(c, annId);
            TrackEvent.EndpointClosed closed = (TrackEvent.EndpointClosed) next(events,
                    TrackEvent.EndpointClosed.class);
            assertEquals(annId, closed.endpointId());
            long previous = 0;
            for (TrackEvent event : api.events(c, 0)) {
                assertTrue(event.sequence() > previous, "the node keeps them in order");
                previous = event.sequence();
            }

            api.closeConference(c);
            MediaException gone = assertThrows(MediaException.class, () -> api.tracks(c));
            assertEquals(ErrorCode.NOT_FOUND, gone.code());
            Thread.sleep(3_000);
            assertEquals(1, lost.getCount(), "a conference that closed is not a lost node");
            listening.close();
        }
    }

    @Test
    void refusalsKeepTheirCodesAndAKilledNodeIsReportedLost() throws Exception {
        try (MediaNodeProcess node = node()) {
            RemoteMediaApi api = api(node, SECRET);
            MediaException unknown = assertThrows(MediaException.class, () -> api.createEndpoint("nowhere", null));
            assertEquals(ErrorCode.NOT_FOUND, unknown.code());
            api.createConference("room");
            MediaException twice = assertThrows(MediaException.class, () -> api.createConference("room"));
            assertEquals(ErrorCode.CONFERENCE_EXISTS, twice.code());
            MediaException forged = assertThrows(MediaException.class,
                    () -> api(node, "another-secret-that-is-at-least-thirty-two-bytes").tracks("room"));
            assertEquals(ErrorCode.UNAUTHORIZED, forged.code());

            CountDownLatch lost = new CountDownLatch(1);
            api.onEvent("room", event -> { }, lost::countDown);
            long killed = System.nanoTime();
            node.kill();
            assertTrue(lost.await(10, TimeUnit.SECONDS), "a killed node is reported lost");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            assertTrue(millis <= 5_500, "within 5 s, took " + millis + " ms");
            CallMedia.Unreachable down = assertThrows(CallMedia.Unreachable.class, () -> api.tracks("room"));
            assertNotNull(down.getMessage());
        }
    }

    @Test
    void aNodeThatFreezesWithoutClosingItsConnectionsIsReportedLostWhenItsStreamFallsSilent() throws Exception {
        try (MediaNodeProcess node = node()) {
            RemoteMediaApi api = api(node, SECRET);
            api.createConference("room");
            CountDownLatch lost = new CountDownLatch(1);
            api.onEvent("room", event -> { }, lost::countDown);
            Thread.sleep(3_000);
            assertEquals(1, lost.getCount(), "keepalives keep a live node's stream open");
            long frozen = System.nanoTime();
            node.signal("STOP");
            try {
                assertTrue(lost.await(10, TimeUnit.SECONDS), "a frozen node is reported lost");
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozen);
                assertTrue(millis >= 3_000 && millis <= 7_500,
                        "after its keepalives stop for " + RemoteMediaApi.SILENCE + ", took " + millis + " ms");
            } finally {
                node.signal("CONT");
            }
        }
    }

    private static TrackEvent next(BlockingQueue<TrackEvent> events, Class<? extends TrackEvent> type)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            TrackEvent event = events.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(event)) {
                return assertInstanceOf(type, event);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " within 10 s");
    }
}
