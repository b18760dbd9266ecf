package dev.parley.media.sdp;

import java.util.List;

/** Looks up {@code a=} lines: {@code name:value} or the flag {@code name}. */
final class SdpAttributes {
    private SdpAttributes() {
    }

    /** The first value of {@code name}, "" for a flag, or null when absent. */
    static String first(List<String> attributes, String name) {
        for (String attribute : attributes) {
            if (attribute.equals(name)) {
                return "";
            }
            if (attribute.startsWith(name + ":")) {
                return attribute.substring(name.length() + 1);
            }
        }
        return null;
    }
}
