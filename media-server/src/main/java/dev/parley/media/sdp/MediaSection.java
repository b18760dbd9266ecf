package dev.parley.media.sdp;

import java.util.ArrayList;
import java.util.List;

/** One {@code m=} section: its line and its attributes (the text after {@code a=}), in order. */
public record MediaSection(String kind, int port, String protocol, List<String> formats, List<String> attributes) {

    public MediaSection {
        formats = List.copyOf(formats);
        attributes = List.copyOf(attributes);
    }

    /** The first value of {@code a=name:value}, "" for a flag {@code a=name}, or null. */
    public String attribute(String name) {
        return SdpAttributes.first(attributes, name);
    }

    public List<String> attributeValues(String name) {
        List<String> values = new ArrayList<>();
        for (String attribute : attributes) {
            if (attribute.startsWith(name + ":")) {
                values.add(attribute.substring(name.length() + 1));
            }
        }
        return values;
    }

    public String mid() {
        return attribute("mid");
    }

    public Direction direction() {
        for (Direction direction : Direction.values()) {
            if (attribute(direction.sdp()) != null) {
                return direction;
            }
        }
        return Direction.SENDRECV;
    }
}
