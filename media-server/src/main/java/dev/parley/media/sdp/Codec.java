package dev.parley.media.sdp;

import java.util.List;
import java.util.Locale;

/**
 * A payload format as negotiated: name, clock rate, channels, payload type, fmtp, RTCP feedback, and the payload
 * type of its RTX stream (-1 when none).
 */
public record Codec(String name, int clockRate, int channels, int payloadType, String fmtp, List<String> feedback,
                    int rtxPayloadType) {

    public Codec {
        feedback = List.copyOf(feedback);
        fmtp = fmtp == null ? "" : fmtp;
    }

    /** Same media format, whatever the payload type: name, rate, and for H.264 the packetization mode. */
    public boolean sameFormat(Codec other) {
        return name.equalsIgnoreCase(other.name) && clockRate == other.clockRate
                && (!isH264() || packetizationMode().equals(other.packetizationMode()));
    }

    public boolean isH264() {
        return name.equalsIgnoreCase("H264");
    }

    public boolean isVp8() {
        return name.equalsIgnoreCase("VP8");
    }

    public String packetizationMode() {
        return fmtpParameter("packetization-mode", "0");
    }

    public String fmtpParameter(String key, String fallback) {
        for (String part : fmtp.split(";")) {
            String[] kv = part.trim().split("=", 2);
            if (kv.length == 2 && kv[0].trim().equalsIgnoreCase(key)) {
                return kv[1].trim().toLowerCase(Locale.ROOT);
            }
        }
        return fallback;
    }

    public Codec withPayloadTypes(int payloadType, int rtxPayloadType) {
        return new Codec(name, clockRate, channels, payloadType, fmtp, feedback, rtxPayloadType);
    }

    public Codec withFeedback(List<String> newFeedback) {
        return new Codec(name, clockRate, channels, payloadType, fmtp, newFeedback, rtxPayloadType);
    }
}
