package dev.parley.media.sdp;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What the server forwards: Opus for audio; VP8 (preferred) and H.264 packetization-mode 1 for video, each with
 * RTX; a few header extensions that survive forwarding unchanged. A publisher's simulcast section also gets the mid,
 * rid and repaired-rid extensions, which tell the server which stream a packet belongs to; and a publisher that offers
 * transport-wide congestion control (the transport-wide sequence number extension and {@code transport-cc} feedback)
 * gets both, so its own send-side estimator adapts to its uplink. These describe one hop and are never forwarded.
 */
public final class CodecPolicy {
    public static final String AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    public static final String ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public static final String TOFFSET = "urn:ietf:params:rtp-hdrext:toffset";
    public static final String VIDEO_ORIENTATION = "urn:3gpp:video-orientation";
    public static final String MID = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public static final String RID = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    public static final String REPAIRED_RID = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    public static final String TRANSPORT_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    public static final String TRANSPORT_CC_FEEDBACK = "transport-cc";
    private static final Set<String> SIMULCAST_EXTENSIONS = Set.of(MID, RID, REPAIRED_RID);

    private static final Set<String> VIDEO_FEEDBACK = Set.of("nack", "nack pli", "ccm fir", "goog-remb");

    private CodecPolicy() {
    }

    /** The codecs of an offered section the server accepts, in its order of preference, keeping the offer's PTs. */
    public static List<Codec> accept(MediaKind kind, List<Codec> offered) {
        List<Codec> accepted = new ArrayList<>();
        if (kind == MediaKind.AUDIO) {
            for (Codec codec : offered) {
                if (codec.name().equalsIgnoreCase("opus") && codec.clockRate() == 48000) {
                    accepted.add(codec.withFeedback(List.of()).withPayloadTypes(codec.payloadType(), -1));
                    break;
                }
            }
            return accepted;
        }
        for (Codec codec : offered) {
            if (codec.isVp8() && codec.clockRate() == 90000) {
                accepted.add(videoFeedback(codec));
                break;
            }
        }
        Codec h264 = null;
        for (Codec codec : offered) {
            if (codec.isH264() && codec.packetizationMode().equals("1")) {
                if (h264 == null || codec.fmtpParameter("profile-level-id", "").startsWith("42e0")) {
                    h264 = codec;
                }
                if (codec.fmtpParameter("profile-level-id", "").startsWith("42e0")) {
                    break;
                }
            }
        }
        if (h264 != null) {
            accepted.add(videoFeedback(h264));
        }
        return accepted;
    }

    /** Header extensions from the peer's list that the server keeps, with the peer's ids. */
    public static List<HeaderExtension> acceptExtensions(MediaKind kind, List<HeaderExtension> offered) {
        List<HeaderExtension> accepted = new ArrayList<>();
        for (HeaderExtension extension : offered) {
            if (extension.id() >= 1 && extension.id() <= 14 && supported(kind).contains(extension.uri())) {
                accepted.add(extension);
            }
        }
        return accepted;
    }

    /**
     * Header extensions the server keeps from a publisher's section, with the peer's ids: those it forwards, and for
     * a simulcast section also mid, rid and repaired-rid, without which it could not tell the streams apart. The
     * transport-wide sequence number is kept only with id {@code transportCcId} (one id for the whole BUNDLE
     * transport, since one counter numbers all its packets; -1: not negotiated).
     */
    public static List<HeaderExtension> acceptPublishExtensions(MediaKind kind, List<HeaderExtension> offered,
                                                                boolean simulcast, int transportCcId) {
        List<HeaderExtension> accepted = new ArrayList<>(acceptExtensions(kind, offered));
        for (HeaderExtension extension : offered) {
            if (extension.id() < 1 || extension.id() > 14) {
                continue;
            }
            if (simulcast && SIMULCAST_EXTENSIONS.contains(extension.uri())
                    || extension.uri().equals(TRANSPORT_CC) && extension.id() == transportCcId) {
                accepted.add(extension);
            }
        }
        return accepted;
    }

    /**
     * The id a publisher's offer gives the transport-wide sequence number extension, in the first section (in the
     * order given) that offers both it and {@code transport-cc} feedback on a codec the server accepts; -1 if none.
     */
    public static int transportCcId(List<OfferedMedia> media) {
        for (OfferedMedia section : media) {
            if (section.rejected() || section.kind() == null) {
                continue;
            }
            for (HeaderExtension extension : section.extensions()) {
                if (extension.uri().equals(TRANSPORT_CC) && extension.id() >= 1 && extension.id() <= 14
                        && offersTransportCcFeedback(section.kind(), section.codecs())) {
                    return extension.id();
                }
            }
        }
        return -1;
    }

    private static boolean offersTransportCcFeedback(MediaKind kind, List<Codec> offered) {
        for (Codec codec : accept(kind, offered)) {
            if (offeredFeedback(codec, offered).contains(TRANSPORT_CC_FEEDBACK)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The accepted codecs with {@code transport-cc} feedback added to each whose offer asked for it: the answer to
     * a publisher that negotiated the transport-wide sequence number extension.
     */
    public static List<Codec> withTransportCcFeedback(List<Codec> accepted, List<Codec> offered) {
        List<Codec> result = new ArrayList<>();
        for (Codec codec : accepted) {
            if (offeredFeedback(codec, offered).contains(TRANSPORT_CC_FEEDBACK)
                    && !codec.feedback().contains(TRANSPORT_CC_FEEDBACK)) {
                List<String> feedback = new ArrayList<>(codec.feedback());
                feedback.add(TRANSPORT_CC_FEEDBACK);
                result.add(codec.withFeedback(feedback));
            } else {
                result.add(codec);
            }
        }
        return result;
    }

    private static List<String> offeredFeedback(Codec accepted, List<Codec> offered) {
        for (Codec codec : offered) {
            if (codec.payloadType() == accepted.payloadType()) {
                return codec.feedback();
            }
        }
        return List.of();
    }

    /**
     * The id the server gives the transport-wide sequence number extension in its subscribe offers: the same in every
     * section (one counter numbers every packet of the BUNDLE transport), and none of the other offered extensions'.
     */
    public static final int SUBSCRIBE_TRANSPORT_CC_ID = 5;

    /**
     * The extensions the server offers to subscribers, with its own ids: those it forwards, and the transport-wide
     * sequence number it stamps on everything it sends a subscriber that keeps it (with {@code transport-cc}).
     */
    public static List<HeaderExtension> offeredExtensions(MediaKind kind) {
        return kind == MediaKind.AUDIO
                ? List.of(new HeaderExtension(1, AUDIO_LEVEL), new HeaderExtension(3, ABS_SEND_TIME),
                        new HeaderExtension(SUBSCRIBE_TRANSPORT_CC_ID, TRANSPORT_CC))
                : List.of(new HeaderExtension(3, ABS_SEND_TIME), new HeaderExtension(4, TOFFSET),
                        new HeaderExtension(SUBSCRIBE_TRANSPORT_CC_ID, TRANSPORT_CC),
                        new HeaderExtension(13, VIDEO_ORIENTATION));
    }

    /**
     * The server's payload types and feedback for a subscriber offer, for a publisher's codec: {@code transport-cc}
     * on every codec (the publisher's own transport-cc describes its hop, not the subscriber's, and is not copied).
     */
    public static Codec forSubscriberOffer(Codec codec) {
        if (codec.name().equalsIgnoreCase("opus")) {
            return codec.withFeedback(List.of(TRANSPORT_CC_FEEDBACK)).withPayloadTypes(111, -1);
        }
        List<String> feedback = new ArrayList<>(videoFeedback(codec).feedback());
        feedback.add(TRANSPORT_CC_FEEDBACK);
        return codec.withFeedback(feedback).withPayloadTypes(codec.isVp8() ? 96 : 102, codec.isVp8() ? 97 : 103);
    }

    private static Set<String> supported(MediaKind kind) {
        return kind == MediaKind.AUDIO ? Set.of(AUDIO_LEVEL, ABS_SEND_TIME)
                : Set.of(ABS_SEND_TIME, TOFFSET, VIDEO_ORIENTATION);
    }

    private static Codec videoFeedback(Codec codec) {
        List<String> feedback = new ArrayList<>();
        for (String fb : List.of("nack", "nack pli", "ccm fir", "goog-remb")) {
            if (VIDEO_FEEDBACK.contains(fb)) {
                feedback.add(fb);
            }
        }
        return codec.withFeedback(feedback);
    }
}
