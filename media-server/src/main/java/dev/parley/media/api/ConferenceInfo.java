package dev.parley.media.api;

import java.util.List;

/** A conference and the ids of its endpoints. */
public record ConferenceInfo(String conferenceId, List<String> endpointIds) {
}
