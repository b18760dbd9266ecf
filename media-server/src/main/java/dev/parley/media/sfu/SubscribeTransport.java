package dev.parley.media.sfu;

import dev.parley.media.api.ErrorCode;
import dev.parley.media.api.MediaException;
import dev.parley.media.api.ReceiveEstimate;
import dev.parley.media.api.TrackEvent;
import dev.parley.media.cc.BandwidthEstimate;
import dev.parley.media.cc.PacketResults;
import dev.parley.media.cc.SendSideEstimator;
import dev.parley.media.cc.SentPackets;
import dev.parley.media.cc.TransportFeedback;
import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.Rtcp;
import dev.parley.media.rtp.RtcpVisitor;
import dev.parley.media.rtp.Rtp;
import dev.parley.media.sdp.Codec;
import dev.parley.media.sdp.CodecPolicy;
import dev.parley.media.sdp.Direction;
import dev.parley.media.sdp.HeaderExtension;
import dev.parley.media.sdp.MediaKind;
import dev.parley.media.sdp.OfferedMedia;
import dev.parley.media.sdp.PeerDescription;
import dev.parley.media.sdp.SdpWriter;
import dev.parley.media.srtp.SsrcTable;
import dev.parley.media.transport.PacketBuffer;
import dev.parley.media.transport.RtpSender;
import dev.parley.media.transport.SecureTransport;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A participant's subscribe transport: the server sends the conference's other tracks. Either the server offers
 * (participants, on every change of the remote tracks) or the client does (WHEP). Its receive thread handles the
 * subscriber's RTCP: keyframe requests go to the publisher, NACKs are answered from the cache, receiver reports
 * give RTT and loss. Feedback about SSRCs it was not given is dropped and counted.
 *
 * <p>A subscriber whose answer keeps the transport-wide sequence number extension and {@code transport-cc} feedback
 * gets every packet stamped with the next number of this transport's counter ({@link #stamp}, on whichever thread
 * sends it); its transport feedback, read on the receive thread, feeds this transport's {@link SendSideEstimator}.
 */
final class SubscribeTransport implements SecureTransport.Listener, RtcpVisitor {
    /** The share of forwarded packets a subscriber may have retransmitted, and the burst it may use at once. */
    static final int RETRANSMIT_SHARE_PERCENT = 15;
    static final int RETRANSMIT_BURST = 48;
    /** A sequence number retransmitted to this subscriber is not sent again for this long. */
    static final long NACK_REPEAT_NANOS = 100_000_000L;
    /**
     * With a downlink estimate, retransmissions also fit in the part of it the allocation leaves them ((1 - {@link
     * #BUDGET_SHARE}) of the estimate), counted in bytes, with up to this much of that rate at once (and at least
     * {@link #RETRANSMIT_MIN_BURST_BYTES}). Counted in packets alone, the small audio packets earned room for large
     * video retransmissions: on a lossy 300 kbit/s link the server sent 40 % more than its estimate, and the excess
     * kept the loss going.
     */
    static final long RETRANSMIT_WINDOW_NANOS = 250_000_000L;
    static final int RETRANSMIT_MIN_BURST_BYTES = 2_400;
    private static final long CREDIT_PER_PACKET = 100;
    private static final long CREDIT_INTERVAL_NANOS = 10_000_000L;
    /**
     * Sent packets remembered until the subscriber's feedback reports them (80 KB): feedback comes every 50 to
     * 100 ms, and this holds over 1.5 s of 25 Mbit/s in 1200-byte packets.
     */
    static final int SENT_PACKET_HISTORY = 4096;
    /** The most packets one transport feedback packet may report; a larger one is refused and counted. */
    static final int MAX_FEEDBACK_PACKETS = 2048;
    /**
     * Transport feedback a subscriber may have read per second, in packet statuses (a 20 Mbit/s stream of 1200-byte
     * packets needs about 2100), and at once; feedback beyond it is dropped and counted, so a subscriber flooding
     * feedback costs its own receive thread little and holds the lock its senders share only briefly.
     */
    static final int FEEDBACK_STATUSES_PER_SECOND = 20_000;
    static final int FEEDBACK_STATUS_BURST = 4096;
    private static final long NANOS_PER_FEEDBACK_STATUS = 1_000_000_000L / FEEDBACK_STATUSES_PER_SECOND;
    /** The send-side estimate's bounds and start, bit/s: at least audio and a low video layer; at most 20 Mbit/s. */
    static final long ESTIMATE_MIN_BPS = 30_000;
    static final long ESTIMATE_MAX_BPS = 20_000_000;
    static final long ESTIMATE_START_BPS = 2_500_000;
    /**
     * The share of the downlink estimate the videos may use (the rest covers retransmissions and RTCP), after the
     * audio the receiver gets.
     */
    static final double BUDGET_SHARE = 0.9;
    /** A downlink estimate that moved by more than this share since the last allocation makes the next one due. */
    static final double REALLOCATE_CHANGE = 0.1;
    /**
     * Probing, while the estimate keeps a video below what its tile asks for: a cluster of packets (media, topped up
     * with padding on an RTX stream) paced out for {@link #PROBE_DURATION_NANOS} at up to {@link #PROBE_FACTOR}
     * times the estimate (no more than the videos want), at most every {@link #PROBE_INTERVAL_NANOS}, never while
     * the delay says the link is overused or loss is high. At most 150 ms of twice the estimate every 2 s (and
     * its follow-up, below), less often as probes find nothing: a few % more traffic on a link that cannot carry more,
     * and a link that can is found within a few seconds.
     */
    static final long PROBE_DURATION_NANOS = 150_000_000L;
    static final long PROBE_INTERVAL_NANOS = 2_000_000_000L;
    /**
     * Each probe that finds nothing more doubles the wait before the next, up to this: a link that stays narrow is
     * not queued up every 2 s, and one that opens is still found within about this long. A raise resets it.
     */
    static final long PROBE_MAX_INTERVAL_NANOS = 8_000_000_000L;
    static final double PROBE_FACTOR = 2.0;
    /** A cluster's rate is this much above what the videos need: its verdict comes out a little under its rate. */
    static final double PROBE_OVERSHOOT = 1.1;
    /**
     * A cluster the link carried is followed at once rather than after {@link #PROBE_INTERVAL_NANOS}: to confirm it
     * (the estimator raises the estimate only then, see {@code SendSideEstimator#PROBE_CONFIRM_WINDOW_US}), or, after
     * a raise whose verdict is at least this share of the cluster's rate, to climb further. So a link that opened up
     * is climbed in steps of {@link #PROBE_FACTOR} a few hundred milliseconds apart (libwebrtc's further probing uses
     * the same 0.7).
     */
    static final double PROBE_CARRIED_SHARE = 0.7;
    /**
     * The cluster that confirms a carried one runs at its rate for this long, three times a cluster's length: a burst
     * allowance (a policer's or shaper's token bucket) that let the first through whole is spent by the time this one
     * ends, so its later packets queue and measure the link. Sent above the first cluster's rate, it would queue
     * three times as much on a link that is not there; at the same rate it queues at most about 150 ms on one that
     * carries three quarters of it.
     */
    static final long PROBE_CONFIRM_DURATION_NANOS = 3 * PROBE_DURATION_NANOS;
    /** A probe is worth sending only for at least this much more than the estimate. */
    static final double PROBE_MIN_GAIN = 1.2;
    /** Loss above which no probe is sent. */
    static final double PROBE_MAX_LOSS = 0.1;
    /** Padding bytes per packet: RTP padding counts them in one byte. */
    static final int PADDING_BYTES = 255;
    /** Padding packets one probe tick may send (a tick is 5 ms: up to 4 Mbit/s of padding). */
    static final int MAX_PADDING_PACKETS_PER_TICK = 10;
    /**
     * Packets a probe cluster holds at least, spread over its duration like the rest: fewer give no verdict
     * ({@code ProbeMeasurement.MIN_PACKETS} received, with room for a loss). At a low estimate the cluster's rate
     * then comes out above {@link #PROBE_FACTOR} times it: a few hundred bytes more, once per interval.
     */
    static final int PROBE_MIN_PACKETS = 8;
    /** How often the timer sends the due part of a running probe. */
    static final long PROBE_TICK_NANOS = 5_000_000L;
    /** Send and report times count from here (microseconds), so they stay small and positive. */
    private static final long CLOCK_ORIGIN_NANOS = System.nanoTime();

    final Endpoint endpoint;
    final SecureTransport transport;
    /** Video from at most this many other participants ({@code last-n}). */
    private final int lastN;
    /** The video tracks last announced as withheld by last-N ({@link TrackEvent.VideosWithheld}), in slot order. */
    private List<String> announcedWithheld = List.of();
    /** The video tracks last announced as paused for this receiver's downlink, and whether it limited any video. */
    private List<String> announcedLowBandwidth = List.of();
    private boolean announcedLinkLimited;
    /** Whether the downlink estimate is shared among the videos (the {@code bandwidth-estimation} setting). */
    private final boolean allocating;
    /** Where this transport asks the timer for its 5 ms ticks ({@link #timerTick}): a probe cluster, a pacer to drain. */
    private final java.util.function.Consumer<SubscribeTransport> timerRequests;
    /** Asks the timer to drain the pacer (made once: the send path allocates nothing). */
    private final Runnable wakeTimer;
    /** Paces the video sent to this subscriber to its downlink estimate (transport-cc subscribers only). */
    private final Pacer pacer;
    /** The last allocation, for the stats: budget and bitrate allocated (-1: none), the estimate it used. */
    private volatile long allocationBudgetBps = -1;
    private volatile long allocatedBps = -1;
    private volatile long allocatedForEstimateBps;
    private volatile boolean linkLimited;
    /** Set by the receive thread when the estimate moved enough since the last allocation; taken by the timer. */
    private volatile boolean allocationDue;
    private final MediaCounters counters;
    private final List<Slot> slots = new ArrayList<>();
    private final SsrcTable<Forward> forwardsBySsrc = new SsrcTable<>();
    private final SsrcTable<Forward> forwardsByRtxSsrc = new SsrcTable<>();
    private final PacketBuffer retransmitScratch = new PacketBuffer();
    /** The current forwards, replaced under the conference lock, read by the budget. */
    private volatile Forward[] forwardArray = new Forward[0];
    // The budget, in hundredths of a packet: the receive thread only.
    private long retransmitCredit = RETRANSMIT_BURST * CREDIT_PER_PACKET;
    private long creditSentSeen;
    private long lastCreditNanos;
    /** The estimate's share for retransmissions, in bytes (may go below 0 by one packet): the receive thread only. */
    private long retransmitBytes = RETRANSMIT_MIN_BURST_BYTES;
    private long retransmitBytesAtNanos;
    private final long sessionId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    private long version;
    private boolean started;
    volatile long startedAtNanos;
    private volatile long reportedBitrate;
    private volatile int videoForwards;
    /**
     * The transport-wide sequence number extension's id in the subscriber's answer, or -1 when it did not keep it
     * with {@code transport-cc} feedback: then nothing is stamped and transport feedback is ignored.
     */
    private volatile int transportCcId = -1;
    /** Created when the subscriber first negotiates transport-cc, then kept (a renegotiation keeps the counter). */
    private volatile CongestionControl congestionControl;

    /**
     * What a transport-cc subscriber's congestion control keeps: the numbering and record of what was sent (any
     * sending thread) and the estimator with its reusable report buffers (the receive thread only; {@link #latest}
     * publishes its state for the stats).
     */
    private static final class CongestionControl {
        final SentPackets sent;
        final TransportFeedback feedback = new TransportFeedback(MAX_FEEDBACK_PACKETS);
        final PacketResults results = new PacketResults(MAX_FEEDBACK_PACKETS);
        final SendSideEstimator estimator = new SendSideEstimator(ESTIMATE_MIN_BPS, ESTIMATE_MAX_BPS,
                ESTIMATE_START_BPS);
        volatile BandwidthEstimate latest;
        volatile long reports;
        /** Probe clusters sent so far. */
        volatile long probes;
        /** The last probe cluster's verdict, bit/s (0: none yet). */
        volatile long probeResultBps;
        /** What probes may raise the estimate to for now, bit/s (0: no limit), for the stats. */
        volatile long probeCeilingBps;
        /** The estimator's probe raises and verdicts already seen (the receive thread). */
        long probeRaisesSeen;
        long probeVerdictsSeen;
        /** A carried cluster's verdict awaiting confirmation, bit/s, 0 for none (receive thread to the allocation). */
        volatile long probeCandidateBps;
        /** The wait between probes now (receive thread to the allocation), see {@link #PROBE_MAX_INTERVAL_NANOS}. */
        volatile long probeIntervalNanos = PROBE_INTERVAL_NANOS;
        /** A probe raised the estimate since the last allocation: lift the holds on moving up (receive thread to
         * the allocation, under the conference lock). */
        volatile boolean holdsLifted;
        /** The last cluster was carried: the next may follow at once (receive thread to the allocation). */
        volatile boolean probeAgain;
        /** The rate of the next probe cluster, bit/s, set under the conference lock; 0 for none. */
        volatile long probeWantedBps;
        /** How long the next probe cluster lasts, set with {@link #probeWantedBps} (before it). */
        volatile long probeWantedNanos = PROBE_DURATION_NANOS;
        /** Under the conference lock: no probe is asked for before this. */
        long nextProbeNanos;
        /** The running cluster: the timer thread only. */
        boolean probing;
        /** The running (or last) cluster's rate: written by the timer thread, read with its verdict. */
        volatile long probeRateBps;
        /** The running cluster's length: the timer thread only. */
        long probeDurationNanos;
        long probeStartNanos;
        long probeFirst;
        long probeBytesAtStart;
        final PacketBuffer paddingScratch = new PacketBuffer();
        /** The first packet of a cluster begun and not yet handed to the estimator, -1 for none (timer thread to
         * receive thread, which hands it over before {@link #probeSent}). */
        volatile long probeStarted = -1;
        /** A cluster sent and not yet handed to the estimator (timer thread to receive thread). */
        volatile ProbeSent probeSent;
        long feedbackCredit = FEEDBACK_STATUS_BURST;
        long feedbackCreditNanos = System.nanoTime();

        CongestionControl(MediaCounters counters) {
            sent = new SentPackets(SENT_PACKET_HISTORY, MAX_FEEDBACK_PACKETS, counters);
        }
    }

    /** A probe cluster the timer sent: packets {@code first..last}, ending at {@code endUs}. */
    private record ProbeSent(long first, long last, long endUs) {
    }

    /** One m-section of the subscribe transport and the track it carries, if any. */
    private static final class Slot {
        final String mid;
        final MediaKind kind;
        Track track;
        Forward forward;

        Slot(String mid, MediaKind kind, Track track) {
            this.mid = mid;
            this.kind = kind;
            this.track = track;
        }
    }

    SubscribeTransport(Endpoint endpoint, SecureTransport transport, MediaCounters counters, int lastN) {
        this(endpoint, transport, counters, lastN, true, probing -> { });
    }

    /**
     * {@code estimating}: whether transport-cc is offered and the downlink estimate shared among the videos
     * ({@code bandwidth-estimation}).
     */
    SubscribeTransport(Endpoint endpoint, SecureTransport transport, MediaCounters counters, int lastN,
                       boolean estimating, java.util.function.Consumer<SubscribeTransport> timerRequests) {
        this.allocating = estimating;
        this.timerRequests = timerRequests;
        this.wakeTimer = () -> timerRequests.accept(this);
        this.pacer = new Pacer(counters, this::stamp);
        this.lastN = lastN;
        this.endpoint = endpoint;
        this.transport = transport;
        this.counters = counters;
    }

    /** Builds the next server offer for the wanted tracks (under the conference lock); empty if nothing to send. */
    Optional<String> createOffer(Collection<Track> wanted) {
        for (Slot slot : slots) {
            if (slot.track != null && !wanted.contains(slot.track)) {
                detach(slot);
                slot.track = null;
            }
        }
        for (Track track : wanted) {
            if (slots.stream().anyMatch(s -> s.track == track)) {
                continue;
            }
            Slot free = slots.stream().filter(s -> s.track == null && s.kind == track.kind).findFirst().orElse(null);
            if (free != null) {
                free.track = track;
            } else {
                slots.add(new Slot(Integer.toString(slots.size()), track.kind, track));
            }
        }
        if (slots.isEmpty()) {
            return Optional.empty();
        }
        List<SdpWriter.Section> sections = new ArrayList<>();
        for (Slot slot : slots) {
            if (slot.track == null) {
                Codec placeholder = slot.kind == MediaKind.AUDIO
                        ? new Codec("opus", 48000, 2, 111, "minptime=10;useinbandfec=1", List.of(), -1)
                        : new Codec("VP8", 90000, 1, 96, "", List.of(), 97);
                sections.add(new SdpWriter.Section(slot.mid, slot.kind, false, Direction.INACTIVE,
                        List.of(placeholder), List.of(), 0, 0, null, null));
                continue;
            }
            Track track = slot.track;
            List<Codec> codecs = new ArrayList<>();
            for (Codec codec : track.codecs) {
                Codec offered = CodecPolicy.forSubscriberOffer(codec, allocating);
                if (codecs.stream().noneMatch(c -> c.payloadType() == offered.payloadType())) {
                    codecs.add(offered);
                }
            }
            sections.add(new SdpWriter.Section(slot.mid, slot.kind, false, Direction.SENDONLY, codecs,
                    CodecPolicy.offeredExtensions(slot.kind, allocating), track.ssrc, track.rtxSsrc,
                    "parley-" + track.source.endpoint.id, track.streamId + " " + track.mediaStreamTrackId));
        }
        return Optional.of(SdpWriter.write(sessionId, ++version, local(), "actpass", sections));
    }

    long version() {
        return version;
    }

    /** Applies the client's answer to the latest offer (under the conference lock). */
    void applyAnswer(PeerDescription answer) {
        if (version == 0) {
            throw new MediaException(ErrorCode.INVALID_SDP, "no subscribe offer is outstanding");
        }
        int ccId = allocating ? CodecPolicy.transportCcId(answer.media()) : -1;
        useTransportCc(ccId);
        for (Slot slot : slots) {
            OfferedMedia media = answer.media().stream().filter(m -> m.mid().equals(slot.mid)).findFirst()
                    .orElse(null);
            if (slot.track == null || media == null || media.rejected() || !media.direction().receives()) {
                detach(slot);
                continue;
            }
            attach(slot, media.codecs(), hopExtensions(media.extensions(), ccId));
        }
        start(answer, "passive".equals(answer.transport().setup()));
    }

    /** WHEP: the client offers; each receiving m-section gets a track of its kind. Returns the answer. */
    String answerOffer(PeerDescription offer, List<Track> tracks) {
        if (started) {
            throw new MediaException(ErrorCode.INVALID_SDP, "this WHEP session is already negotiated");
        }
        List<Track> unassigned = new ArrayList<>(tracks);
        List<SdpWriter.Section> sections = new ArrayList<>();
        int ccId = allocating ? CodecPolicy.transportCcId(offer.media()) : -1;
        useTransportCc(ccId);
        for (OfferedMedia media : offer.media()) {
            MediaKind kind = media.kind() == null ? MediaKind.AUDIO : media.kind();
            Track track = media.rejected() || !media.direction().receives() ? null
                    : unassigned.stream().filter(t -> t.kind == kind).findFirst().orElse(null);
            List<Codec> codecs = new ArrayList<>();
            if (track != null) {
                for (Codec published : track.codecs) {
                    media.codecs().stream().filter(published::sameFormat).findFirst()
                            .ifPresent(remote -> codecs.add(remote.withFeedback(whepFeedback(kind, remote, ccId))));
                }
            }
            if (track != null && codecs.isEmpty()) {
                throw new MediaException(ErrorCode.INVALID_SDP, "m-section " + media.mid() + " receives "
                        + kind.sdp() + " in none of the published codecs (a=rtpmap: "
                        + PublishTransport.names(media) + "; published: " + formats(track) + ")");
            }
            if (track == null) {
                sections.add(new SdpWriter.Section(media.mid(), kind, true, Direction.INACTIVE, List.of(), List.of(),
                        0, 0, null, null));
                continue;
            }
            unassigned.remove(track);
            List<HeaderExtension> extensions = CodecPolicy.acceptPublishExtensions(kind, media.extensions(), false,
                    ccId);
            Slot slot = new Slot(media.mid(), kind, track);
            slots.add(slot);
            attach(slot, codecs, extensions);
            sections.add(new SdpWriter.Section(media.mid(), kind, false, Direction.SENDONLY, codecs, extensions,
                    track.ssrc, track.rtxSsrc, "parley-" + track.source.endpoint.id,
                    track.streamId + " " + track.mediaStreamTrackId));
        }
        if (slots.isEmpty()) {
            throw new MediaException(ErrorCode.NO_TRACKS, "the offer receives none of the publisher's tracks");
        }
        boolean weAreClient = "passive".equals(offer.transport().setup());
        String answer = SdpWriter.write(sessionId, ++version, local(), weAreClient ? "active" : "passive", sections);
        start(offer, weAreClient);
        return answer;
    }

    /** WHEP: a codec's feedback in the answer; {@code transport-cc} where the offer asked for it. */
    private static List<String> whepFeedback(MediaKind kind, Codec remote, int ccId) {
        List<String> feedback = new ArrayList<>(kind == MediaKind.VIDEO
                ? List.of("nack", "nack pli", "ccm fir", "goog-remb") : List.of());
        if (ccId > 0 && remote.feedback().contains(CodecPolicy.TRANSPORT_CC_FEEDBACK)) {
            feedback.add(CodecPolicy.TRANSPORT_CC_FEEDBACK);
        }
        return feedback;
    }

    /**
     * Turns transport-wide congestion control on ({@code ccId} 1..14: the extension's id) or off (-1) for what is sent
     * from now on (under the conference lock).
     */
    private void useTransportCc(int ccId) {
        if (ccId > 0 && congestionControl == null) {
            congestionControl = new CongestionControl(counters);
        }
        transportCcId = ccId;
    }

    /**
     * The subscriber's extensions as the forwards map them: the transport-wide sequence number only with the
     * transport's id when transport-cc is on (a publisher's number under it is then overwritten by {@link #stamp}),
     * never otherwise, so a publisher's numbers never reach a subscriber that does not get its own.
     */
    private static List<HeaderExtension> hopExtensions(List<HeaderExtension> remote, int ccId) {
        List<HeaderExtension> kept = new ArrayList<>(remote.size());
        for (HeaderExtension extension : remote) {
            if (!extension.uri().equals(CodecPolicy.TRANSPORT_CC) || extension.id() == ccId) {
                kept.add(extension);
            }
        }
        return kept;
    }

    /**
     * Gives a packet about to be sent to this subscriber (rewritten, not yet protected) the next transport-wide
     * sequence number, adding the header extension element when the packet lacks it, and records its send time and
     * size; nothing when the subscriber did not negotiate transport-cc. Any sending thread; allocates nothing
     * (packets have room: {@link PacketBuffer#CAPACITY} is above any packet the server forwards plus the element).
     */
    void stamp(PacketBuffer packet) {
        int id = transportCcId;
        CongestionControl cc = congestionControl;
        if (id <= 0 || cc == null) {
            return;
        }
        packet.grow(Rtp.EXTENSION16_GROWTH);
        byte[] data = packet.getBuffer();
        int off = packet.getOffset();
        int length = Rtp.addExtension16(data, off, packet.getLength(), id);
        if (length < 0) {
            return;
        }
        packet.setLength(length);
        int at = Rtp.findExtension(data, off, length, id);
        if (at < 0) {
            return;
        }
        Rtp.writeUint16(data, at, cc.sent.next(nowMicros(), length));
    }

    private static long nowMicros() {
        return (System.nanoTime() - CLOCK_ORIGIN_NANOS) / 1000;
    }

    /** Whether the subscriber negotiated transport-wide congestion control. */
    boolean transportCc() {
        return transportCcId > 0;
    }

    /** The send-side estimate of this subscriber's downlink, for the stats; null without transport-cc. */
    ReceiveEstimate receiveEstimate() {
        CongestionControl cc = congestionControl;
        if (cc == null || !transportCc()) {
            return null;
        }
        BandwidthEstimate state = cc.latest;
        if (state == null) {
            return new ReceiveEstimate(0, 0, 0, 0, 0, false, null, 0, 0, -1, -1, false, cc.probes, 0, 0,
                    pacer.rateBps(), pacer.queuedPackets(), pacer.delayedPackets());
        }
        return new ReceiveEstimate(state.estimateBps(), state.delayBasedBps(), state.lossBasedBps(),
                state.ackedBps(), state.sentBps(), state.applicationLimited(),
                state.delayState().name().toLowerCase(java.util.Locale.ROOT), state.lossFraction(),
                cc.reports, allocationBudgetBps, allocatedBps, linkLimited, cc.probes, cc.probeResultBps,
                cc.probeCeilingBps, pacer.rateBps(), pacer.queuedPackets(), pacer.delayedPackets());
    }

    private static String formats(Track track) {
        List<String> names = new ArrayList<>();
        for (Codec codec : track.codecs) {
            names.add(codec.name() + "/" + codec.clockRate());
        }
        return String.join(", ", names);
    }

    /** Stops sending a track that went away (under the conference lock); the next offer marks it inactive. */
    void trackRemoved(Track track) {
        for (Slot slot : slots) {
            if (slot.track == track) {
                detach(slot);
                slot.track = null;
            }
        }
    }

    boolean carries(Track track) {
        return slots.stream().anyMatch(s -> s.track == track);
    }

    boolean started() {
        return started;
    }

    private void start(PeerDescription remote, boolean weAreClient) {
        if (started) {
            return;
        }
        started = true;
        startedAtNanos = System.nanoTime();
        transport.start(weAreClient ? SecureTransport.DtlsRole.CLIENT : SecureTransport.DtlsRole.SERVER,
                remote.transport().fingerprints(), remote.transport().ufrag(), remote.transport().password(),
                remote.transport().candidates(), this);
    }

    private SdpWriter.LocalTransport local() {
        return new SdpWriter.LocalTransport(transport.ice().localUfrag(), transport.ice().localPassword(),
                transport.localFingerprint(), transport.ice().localCandidates());
    }

    private void attach(Slot slot, List<Codec> remoteCodecs, List<HeaderExtension> remoteExtensions) {
        // A renegotiation keeps the stream going where it was: the same numbering, layer and RTX sequence.
        Forward forward = new Forward(this, slot.track, remoteCodecs, remoteExtensions, slot.forward);
        if (!forward.hasCommonFormat()) {
            detach(slot);
            return;
        }
        if (slot.forward == null && slot.kind == MediaKind.VIDEO) {
            videoForwards++;
        }
        slot.forward = forward;
        forwardsBySsrc.put(slot.track.ssrc, forward);
        if (slot.track.rtxSsrc != 0) {
            forwardsByRtxSsrc.put(slot.track.rtxSsrc, forward);
        }
        selectLayers(System.nanoTime());
        slot.track.addForward(forward);
        forwardArray = forwards().toArray(new Forward[0]);
    }

    /**
     * Points each video forward at the layer this receiver should get now (under the conference lock): on every
     * change of what it shows, from the timer as publishers start and stop layers, and soon after its downlink
     * estimate moves. With an estimate (transport-cc), the {@link BandwidthAllocator} shares it among the videos;
     * without one, each gets what its tile asks for. Tells the receiver when what it does not get changes.
     */
    void selectLayers(long nowNanos) {
        java.util.Set<String> shown = endpoint.conference.lastN(endpoint.id, lastN);
        List<Forward> videos = new ArrayList<>();
        List<BandwidthAllocator.Video> allocations = new ArrayList<>();
        for (Slot slot : slots) {
            Forward forward = slot.forward;
            if (forward != null && forward.rewriter != null) {
                describe(forward, shown, nowNanos);
                videos.add(forward);
                allocations.add(forward.allocation);
            }
        }
        long budget = allocationBudget();
        CongestionControl cc = congestionControl;
        if (cc != null && cc.holdsLifted) {
            cc.holdsLifted = false;
            BandwidthAllocator.liftHolds(allocations);
        }
        if (budget < 0) {
            BandwidthAllocator.unlimited(allocations);
            allocatedBps = -1;
        } else {
            allocatedBps = BandwidthAllocator.allocate(allocations, budget, nowNanos);
        }
        allocationBudgetBps = budget;
        if (cc != null && cc.latest != null) {
            allocatedForEstimateBps = cc.latest.estimateBps();
        }
        List<String> withheld = new ArrayList<>();
        List<String> lowBandwidth = new ArrayList<>();
        boolean limited = false;
        for (Forward forward : videos) {
            BandwidthAllocator.Video allocation = forward.allocation;
            forward.rewriter.target(allocation.layer, allocation.temporal);
            int awaited = forward.rewriter.awaitedKeyframeLayer();
            if (awaited >= 0) {
                forward.track.source.requestKeyframe(forward.track.layers[awaited], false);
            }
            switch (allocation.reason) {
                case LAST_N -> withheld.add(forward.track.id);
                case PAUSED_BANDWIDTH -> {
                    lowBandwidth.add(forward.track.id);
                    limited = true;
                }
                case BANDWIDTH -> limited = true;
                default -> {
                }
            }
        }
        if (limited != linkLimited) {
            linkLimited = limited;
            pacer.rate(sharedEstimateBps(), limited, nowNanos);
        }
        if (limited && budget >= 0) {
            askForProbe(videos, nowNanos);
        }
        if (!withheld.equals(announcedWithheld) || !lowBandwidth.equals(announcedLowBandwidth)
                || limited != announcedLinkLimited) {
            announcedWithheld = withheld;
            announcedLowBandwidth = lowBandwidth;
            announcedLinkLimited = limited;
            boolean announced = limited;
            endpoint.conference.emit(seq -> new TrackEvent.VideosWithheld(seq, endpoint.conference.id, endpoint.id,
                    withheld, lowBandwidth, announced));
        }
    }

    /**
     * The estimate keeps some video below what its tile asks for: asks the timer for a probe cluster at what the
     * videos want (at most {@link #PROBE_FACTOR} times the estimate), unless one ran lately, the link shows overuse
     * or loss, or the gain would be small (under the conference lock).
     */
    private void askForProbe(List<Forward> videos, long nowNanos) {
        CongestionControl cc = congestionControl;
        BandwidthEstimate estimate = cc == null ? null : cc.latest;
        if (estimate == null || nowNanos - cc.nextProbeNanos < 0 && !cc.probeAgain || cc.probeWantedBps > 0
                || estimate.delayState() == BandwidthEstimate.DelayState.OVERUSING
                || estimate.lossFraction() > PROBE_MAX_LOSS) {
            return;
        }
        long now = estimate.estimateBps();
        long candidate = cc.probeCandidateBps;
        long rate;
        long duration;
        if (candidate > now) {
            // Confirming a carried cluster: its rate again, for longer (PROBE_CONFIRM_DURATION_NANOS).
            rate = Math.min(candidate, ESTIMATE_MAX_BPS);
            duration = PROBE_CONFIRM_DURATION_NANOS;
        } else {
            rate = Math.min(Math.min(wantedBps(videos), (long) (now * PROBE_FACTOR)), ESTIMATE_MAX_BPS);
            duration = PROBE_DURATION_NANOS;
            if (rate < now * PROBE_MIN_GAIN) {
                return;
            }
        }
        cc.nextProbeNanos = nowNanos + cc.probeIntervalNanos;
        cc.probeAgain = false;
        cc.probeWantedNanos = duration;
        cc.probeWantedBps = rate;
        timerRequests.accept(this);
    }

    /**
     * What moving every video up to its tile's layer takes, bit/s, with the allocator's headroom and a little more (a
     * cluster's verdict comes out just under its rate), beside the audio (under the conference lock).
     */
    private long wantedBps(List<Forward> videos) {
        long wanted = 0;
        for (Forward forward : videos) {
            BandwidthAllocator.Video video = forward.allocation;
            if (video.target >= 0) {
                wanted += forward.track.layers[video.target].bitrateBps();
            }
        }
        wanted += audioBps();
        return (long) (wanted * BandwidthAllocator.UPGRADE_HEADROOM * PROBE_OVERSHOOT / BUDGET_SHARE);
    }

    /**
     * The timer's tick, every {@link #PROBE_TICK_NANOS} while asked for: runs the probe cluster and drains the pacer.
     * False once neither has anything left to do (a later request starts the ticks again).
     */
    boolean timerTick(long nowNanos) {
        boolean probing = probeTick(nowNanos);
        return pacer.drain(nowNanos) || probing;
    }

    /**
     * Sends one video packet (rewritten, not yet stamped) through the pacer: at once, or after what waits. True when
     * it left or waits to leave; false when it was dropped.
     */
    boolean sendVideo(PacketBuffer packet, RtpSender sender, long nowNanos) {
        return pacer.send(packet, sender, nowNanos, wakeTimer);
    }

    /** Stamps and sends a packet that does not wait for the pacer (audio, a retransmission), charging the pacer. */
    boolean sendAround(PacketBuffer packet, RtpSender sender, long nowNanos) {
        stamp(packet);
        pacer.charge(packet.getLength(), nowNanos);
        return sender.sendRtp(packet);
    }

    /**
     * Runs this transport's probe cluster (the timer, every {@link #PROBE_TICK_NANOS}): tops what was sent since
     * the cluster began up to its rate with padding on an RTX stream, and when it is over hands its packets' range
     * to the estimator (through the receive thread). False once there is nothing more to do.
     */
    boolean probeTick(long nowNanos) {
        CongestionControl cc = congestionControl;
        if (cc == null) {
            return false;
        }
        if (!cc.probing) {
            long rate = cc.probeWantedBps;
            if (rate <= 0) {
                return false;
            }
            cc.probing = true;
            cc.probeRateBps = rate;
            cc.probeDurationNanos = cc.probeWantedNanos;
            cc.probeStartNanos = nowNanos;
            cc.probeFirst = cc.sent.nextSequence();
            cc.probeBytesAtStart = cc.sent.bytesSent();
            cc.probeStarted = cc.probeFirst;
        }
        long elapsed = nowNanos - cc.probeStartNanos;
        Forward padder = elapsed < cc.probeDurationNanos ? paddingForward() : null;
        if (padder == null) {
            long last = cc.sent.nextSequence() - 1;
            if (last >= cc.probeFirst) {
                cc.probeSent = new ProbeSent(cc.probeFirst, last, nowMicros());
                cc.probes++;
            }
            cc.probing = false;
            cc.probeWantedBps = 0;
            return false;
        }
        long span = Math.min(elapsed + PROBE_TICK_NANOS, cc.probeDurationNanos);
        long dueBytes = cc.probeRateBps * span / 8_000_000_000L;
        long duePackets = PROBE_MIN_PACKETS * span / PROBE_DURATION_NANOS;
        for (int i = 0; i < MAX_PADDING_PACKETS_PER_TICK
                && (cc.sent.bytesSent() - cc.probeBytesAtStart < dueBytes
                        || cc.sent.nextSequence() - cc.probeFirst < duePackets); i++) {
            if (!padder.sendPadding(cc.paddingScratch, PADDING_BYTES)) {
                break;
            }
        }
        return true;
    }

    /** A video forward that can carry padding (one with RTX), or null. */
    private Forward paddingForward() {
        for (Forward forward : forwardArray) {
            if (forward.rewriter != null && forward.canPad()) {
                return forward;
            }
        }
        return null;
    }

    /** Whether the downlink estimate moved enough since the last allocation to allocate again (and clears it). */
    boolean takeAllocationDue() {
        boolean due = allocationDue;
        allocationDue = false;
        return due;
    }

    /**
     * Fills a video forward's allocation inputs: the layer its tile asks for among those the publisher sends (none
     * when last-N withholds it or the tile is hidden), each layer's bitrate, and what ranks it.
     */
    private void describe(Forward forward, java.util.Set<String> shown, long nowNanos) {
        Track track = forward.track;
        String publisher = track.source.endpoint.id;
        dev.parley.media.api.VideoReceive receive = endpoint.videoReceives.get(track.id);
        boolean withheld = shown != null && !shown.contains(publisher);
        int preferred = withheld ? -1 : LayerChoice.preferred(track.layers, receive);
        forward.preferredLayer = preferred;
        BandwidthAllocator.Video video = forward.allocation;
        video.target = preferred < 0 ? -1 : LayerChoice.available(track.layers, preferred, nowNanos);
        if (preferred < 0) {
            video.reason = withheld ? BandwidthAllocator.Reason.LAST_N : BandwidthAllocator.Reason.HIDDEN;
        }
        if (video.layerBps.length != track.layers.length) {
            video.layerBps = new long[track.layers.length];
            video.reducedBps = new long[track.layers.length][LayerRewriter.MAX_TEMPORAL];
        }
        boolean anySent = false;
        for (Layer layer : track.layers) {
            boolean sent = LayerChoice.sending(track.layers, layer.index, nowNanos);
            video.layerBps[layer.index] = sent ? layer.bitrateBps() : 0;
            for (int temporal = 0; temporal < LayerRewriter.MAX_TEMPORAL; temporal++) {
                video.reducedBps[layer.index][temporal] = sent ? layer.bitrateBps(temporal) : 0;
            }
            anySent |= sent;
        }
        if (!anySent && video.target >= 0) {
            // Nothing arrives yet: count the layer it will get at what such a layer usually needs.
            video.layerBps[video.target] = track.layers[video.target].bitrateBps();
        }
        video.screen = endpoint.conference.isScreen(track);
        video.dominant = publisher.equals(endpoint.conference.announcedDominant);
        video.pinned = receive != null && receive.pinned();
        video.tileArea = receive == null || receive.width() <= 0 || receive.height() <= 0 ? Long.MAX_VALUE
                : (long) receive.width() * receive.height();
        int recency = endpoint.conference.recentDominants.indexOf(publisher);
        video.recency = recency < 0 ? Integer.MAX_VALUE : recency;
    }

    /**
     * What the videos may use of this receiver's downlink: its send-side estimate less a margin (retransmissions,
     * RTCP) and less the audio it gets, bit/s; -1 when there is no estimate (no transport-cc, none yet, or estimation
     * turned off).
     */
    private long allocationBudget() {
        BandwidthEstimate estimate = downlinkEstimate();
        if (!allocating || estimate == null) {
            return -1;
        }
        long audio = audioBps();
        return Math.max(0, (long) (estimate.estimateBps() * BUDGET_SHARE) - audio);
    }

    /** What the audio this receiver gets needs, bit/s (under the conference lock). */
    private long audioBps() {
        long audio = 0;
        for (Slot slot : slots) {
            if (slot.forward != null && slot.kind == MediaKind.AUDIO) {
                audio += slot.forward.track.layers[0].bitrateBps();
            }
        }
        return audio;
    }

    private void detach(Slot slot) {
        if (slot.forward != null) {
            if (slot.kind == MediaKind.VIDEO) {
                videoForwards--;
            }
            slot.forward.track.removeForward(slot.forward);
            forwardsBySsrc.remove(slot.forward.track.ssrc);
            forwardsByRtxSsrc.remove(slot.forward.track.rtxSsrc);
            slot.forward = null;
            forwardArray = forwards().toArray(new Forward[0]);
        }
    }

    List<Forward> forwards() {
        List<Forward> result = new ArrayList<>();
        for (Slot slot : slots) {
            if (slot.forward != null) {
                result.add(slot.forward);
            }
        }
        return result;
    }

    long reportedBitrate() {
        return reportedBitrate;
    }

    /**
     * This subscriber's share of what its downlink carries for one video stream, or 0 when that is not known: the
     * estimate covers every video it gets, so each publisher is asked for an equal part. The estimate is the server's
     * own from the subscriber's transport feedback when it has one (a browser that gets transport-wide numbers sends
     * feedback instead of REMB), else the subscriber's REMB.
     */
    long bitratePerVideo() {
        BandwidthEstimate estimate = downlinkEstimate();
        long bitrate = estimate != null ? estimate.estimateBps() : reportedBitrate;
        int videos = videoForwards;
        return bitrate <= 0 ? 0 : bitrate / Math.max(1, videos);
    }

    @Override
    public void onSecure() {
        for (Forward forward : forwardsSnapshot()) {
            LayerRewriter rewriter = forward.rewriter;
            if (rewriter != null) {
                int layer = rewriter.awaitedKeyframeLayer() >= 0 ? rewriter.awaitedKeyframeLayer()
                        : rewriter.currentSpatial();
                if (layer >= 0) {
                    forward.track.source.requestKeyframe(forward.track.layers[layer], true);
                }
            }
        }
    }

    /** What was forwarded during the outage is lost: each video needs a keyframe to decode again. */
    @Override
    public void onPathRecovered() {
        onSecure();
    }

    private List<Forward> forwardsSnapshot() {
        synchronized (endpoint.conference) {
            return forwards();
        }
    }

    @Override
    public boolean acceptsRtpSsrc(long ssrc) {
        return false;
    }

    @Override
    public void onRtp(PacketBuffer packet) {
        counters.drop(DropReason.UNKNOWN_SSRC);
    }

    @Override
    public void onRtcp(PacketBuffer packet) {
        Rtcp.parse(packet.getBuffer(), packet.getOffset(), packet.getLength(), this);
    }

    @Override
    public void pli(long senderSsrc, long mediaSsrc) {
        keyframeRequest(mediaSsrc);
    }

    @Override
    public void fir(long senderSsrc, long mediaSsrc) {
        keyframeRequest(mediaSsrc);
    }

    private void keyframeRequest(long mediaSsrc) {
        Forward forward = forwardsBySsrc.get(mediaSsrc);
        if (forward == null) {
            counters.drop(DropReason.RTCP_UNKNOWN_SSRC);
            return;
        }
        LayerRewriter rewriter = forward.rewriter;
        int layer = rewriter == null ? -1 : rewriter.awaitedKeyframeLayer() >= 0 ? rewriter.awaitedKeyframeLayer()
                : rewriter.currentSpatial();
        if (layer >= 0) {
            forward.track.source.requestKeyframe(forward.track.layers[layer], false);
        }
    }

    /**
     * One 1.2 KB RTCP packet can NACK thousands of sequence numbers, so each is answered at most once per
     * {@link #NACK_REPEAT_NANOS} and only while the subscriber's retransmission budget lasts.
     */
    @Override
    public void nack(long senderSsrc, long mediaSsrc, int packetId, int lostBitmask) {
        Forward forward = forwardsBySsrc.get(mediaSsrc);
        if (forward == null) {
            counters.drop(DropReason.RTCP_UNKNOWN_SSRC);
            return;
        }
        long now = System.nanoTime();
        earnRetransmitCredit(now);
        retransmit(forward, packetId, now);
        for (int bit = 0; bit < 16; bit++) {
            if ((lostBitmask & (1 << bit)) != 0) {
                retransmit(forward, (packetId + bit + 1) & 0xffff, now);
            }
        }
    }

    private void retransmit(Forward forward, int sequence, long now) {
        if (forward.retransmittedWithin(sequence, now, NACK_REPEAT_NANOS)) {
            counters.drop(DropReason.NACK_DUPLICATE);
            return;
        }
        long estimateBps = sharedEstimateBps();
        if (retransmitCredit < CREDIT_PER_PACKET || estimateBps > 0 && !earnRetransmitBytes(estimateBps, now)) {
            counters.drop(DropReason.NACK_BUDGET_EXCEEDED);
            return;
        }
        if (!forward.retransmit(sequence, retransmitScratch, now)) {
            counters.drop(DropReason.NACK_NOT_IN_CACHE);
            return;
        }
        retransmitCredit -= CREDIT_PER_PACKET;
        if (estimateBps > 0) {
            retransmitBytes -= retransmitScratch.getLength();
        }
        forward.retransmitted(sequence, now);
    }

    /**
     * The downlink estimate the server shares out, which retransmissions are held to and the video is paced by, bit/s;
     * 0 without one (no transport-cc, none yet, or not allocating).
     */
    private long sharedEstimateBps() {
        BandwidthEstimate estimate = allocating ? downlinkEstimate() : null;
        return estimate == null ? 0 : estimate.estimateBps();
    }

    /** The server's latest estimate of this subscriber's downlink; null without transport-cc or before any. */
    private BandwidthEstimate downlinkEstimate() {
        CongestionControl cc = congestionControl;
        return cc == null || !transportCc() ? null : cc.latest;
    }

    /**
     * Adds what the estimate's retransmission share earned since the last look to {@link #retransmitBytes} (up to
     * {@link #RETRANSMIT_WINDOW_NANOS} of it), and says whether there is room for a packet now.
     */
    private boolean earnRetransmitBytes(long estimateBps, long now) {
        long rateBps = (long) (estimateBps * (1 - BUDGET_SHARE));
        long cap = Math.max(RETRANSMIT_MIN_BURST_BYTES, rateBps * RETRANSMIT_WINDOW_NANOS / 8_000_000_000L);
        long elapsed = Math.min(now - retransmitBytesAtNanos, RETRANSMIT_WINDOW_NANOS);
        retransmitBytesAtNanos = now;
        if (elapsed > 0) {
            retransmitBytes = Math.min(cap, retransmitBytes + rateBps * elapsed / 8_000_000_000L);
        }
        return retransmitBytes > 0;
    }

    /**
     * Adds {@link #RETRANSMIT_SHARE_PERCENT} of the packets forwarded since the last look to the budget, which
     * never holds more than {@link #RETRANSMIT_BURST} packets: over any time, retransmissions stay below that share
     * of what was sent plus the burst. Summed over the forwards at most every 10 ms, so forwarding itself pays
     * nothing and a NACK flood pays O(1) per sequence number.
     */
    private void earnRetransmitCredit(long now) {
        if (now - lastCreditNanos < CREDIT_INTERVAL_NANOS) {
            return;
        }
        lastCreditNanos = now;
        long sent = 0;
        for (Forward forward : forwardArray) {
            sent += forward.packetsSent;
        }
        long earned = sent - creditSentSeen;
        creditSentSeen = sent;
        if (earned > 0) {
            retransmitCredit = Math.min(RETRANSMIT_BURST * CREDIT_PER_PACKET,
                    retransmitCredit + earned * RETRANSMIT_SHARE_PERCENT);
        }
    }

    @Override
    public void reportBlock(long reporterSsrc, long sourceSsrc, int fractionLost, int cumulativeLost,
                            long extendedHighestSeq, long jitter, long lastSr, long delaySinceLastSr) {
        Forward forward = forwardsBySsrc.get(sourceSsrc);
        if (forward == null) {
            if (forwardsByRtxSsrc.get(sourceSsrc) == null) {
                counters.drop(DropReason.RTCP_UNKNOWN_SSRC);
            }
            return;
        }
        forward.reportedLoss = fractionLost / 256.0;
        if (lastSr != 0 && lastSr == forward.lastSrNtpMiddle && forward.lastSrSentNanos != 0) {
            double elapsedMs = (System.nanoTime() - forward.lastSrSentNanos) / 1e6;
            double rtt = elapsedMs - delaySinceLastSr * 1000.0 / 65536.0;
            if (rtt >= 0) {
                forward.rttMs = rtt;
                CongestionControl cc = congestionControl;
                if (cc != null) {
                    cc.estimator.onRtt(Math.round(rtt));
                }
            }
        }
    }

    /**
     * The subscriber's transport feedback: matched to what was sent and read by its estimator, here on the receive
     * thread (which also feeds the estimator RTT from receiver reports, so the estimator has one thread).
     */
    @Override
    public void transportFeedback(long senderSsrc, long mediaSsrc, byte[] buf, int packetOffset, int packetLength) {
        CongestionControl cc = congestionControl;
        if (cc == null || !transportCc()) {
            counters.drop(DropReason.TRANSPORT_FEEDBACK_NOT_NEGOTIATED);
            return;
        }
        if (!cc.feedback.parse(buf, packetOffset, packetLength)) {
            counters.drop(DropReason.TRANSPORT_FEEDBACK_MALFORMED);
            return;
        }
        long now = System.nanoTime();
        long earned = (now - cc.feedbackCreditNanos) / NANOS_PER_FEEDBACK_STATUS;
        if (earned > 0) {
            cc.feedbackCredit = Math.min(FEEDBACK_STATUS_BURST, cc.feedbackCredit + earned);
            cc.feedbackCreditNanos += earned * NANOS_PER_FEEDBACK_STATUS;
        }
        int statuses = cc.feedback.statusCount();
        if (cc.feedbackCredit < statuses) {
            counters.drop(DropReason.TRANSPORT_FEEDBACK_RATE_LIMITED);
            return;
        }
        cc.feedbackCredit -= statuses;
        long started = cc.probeStarted;
        if (started >= 0) {
            cc.probeStarted = -1;
            cc.estimator.onProbeStarted(started);
        }
        ProbeSent probe = cc.probeSent;
        if (probe != null) {
            cc.probeSent = null;
            cc.estimator.onProbeSent(probe.first(), probe.last(), probe.endUs());
        }
        cc.sent.match(cc.feedback, cc.results);
        if (cc.results.size() == 0) {
            return;
        }
        cc.estimator.onFeedback(cc.results, nowMicros());
        cc.probeResultBps = cc.estimator.probeResultBps();
        cc.probeCeilingBps = cc.estimator.probeCeilingBps();
        long verdicts = cc.estimator.probeVerdicts();
        if (verdicts != cc.probeVerdictsSeen) {
            cc.probeVerdictsSeen = verdicts;
            long raises = cc.estimator.probeRaises();
            boolean raised = raises != cc.probeRaisesSeen;
            cc.probeRaisesSeen = raises;
            long candidate = cc.estimator.probeCandidateBps();
            cc.probeCandidateBps = candidate;
            // A carried cluster is followed at once: to confirm it, or to climb further after a raise.
            cc.probeAgain = candidate > 0 || raised && cc.probeResultBps >= PROBE_CARRIED_SHARE * cc.probeRateBps;
            if (raised) {
                cc.holdsLifted = true;
                cc.probeIntervalNanos = PROBE_INTERVAL_NANOS;
            } else if (candidate == 0) {
                cc.probeIntervalNanos = Math.min(2 * cc.probeIntervalNanos, PROBE_MAX_INTERVAL_NANOS);
            }
            allocationDue = true;
        }
        BandwidthEstimate latest = cc.estimator.state();
        cc.latest = latest;
        cc.reports++;
        pacer.rate(sharedEstimateBps(), linkLimited, now);
        long used = allocatedForEstimateBps;
        if (allocating && Math.abs(latest.estimateBps() - used) > used * REALLOCATE_CHANGE) {
            allocationDue = true;
        }
    }

    @Override
    public void remb(long senderSsrc, long bitrate, byte[] buf, int ssrcsOffset, int ssrcCount) {
        reportedBitrate = bitrate;
    }

    void close() {
        for (Slot slot : slots) {
            detach(slot);
        }
        pacer.clear();
        transport.close();
    }
}
