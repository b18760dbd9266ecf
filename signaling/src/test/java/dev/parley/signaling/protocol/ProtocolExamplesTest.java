package dev.parley.signaling.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.media.api.TrackEvent;
import dev.parley.signaling.auth.Account;
import dev.parley.signaling.meeting.MeetingCalls;
import dev.parley.signaling.protocol.CallView;
import dev.parley.signaling.protocol.ChatMessage;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * docs/protocol-examples.json holds server messages the web client's unit tests use; each must be exactly what the
 * gateway encodes, so those tests never rest on a shape the server does not send.
 */
class ProtocolExamplesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Example(String re, ServerMessage message) {
    }

    @Test
    void everyExampleIsWhatTheGatewayEncodes() throws Exception {
        JsonNode examples = JSON.readTree(Files.readString(Path.of("..", "docs", "protocol-examples.json")));
        Map<String, Example> encoded = gatewayMessages();
        Set<String> named = new HashSet<>();
        var names = examples.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (name.startsWith("_")) {
                continue;
            }
            named.add(name);
            Example example = encoded.get(name);
            if (example == null) {
                throw new AssertionError("no gateway message stands behind the example '" + name + "'");
            }
            String wire = ServerMessage.answering(example.re(), JSON.writerFor(ServerMessage.class)
                    .writeValueAsString(example.message()));
            assertEquals(examples.get(name), JSON.readTree(wire), name);
        }
        assertEquals(encoded.keySet(), named, "every gateway message here has its example");
    }

    private static Map<String, Example> gatewayMessages() {
        Map<String, Example> m = new LinkedHashMap<>();
        m.put("welcome", new Example("r1", new ServerMessage.Welcome("g0a1b2c3d4e5f.5f3c",
                new Account("u1", "ann", "Ann"))));
        m.put("ok", new Example("r2", new ServerMessage.Ok()));
        m.put("presence", new Example(null, new ServerMessage.Presence("u2", "in-call")));
        m.put("chatAck", new Example("r3", new ServerMessage.ChatAck("m1", "c-1", "1700000000000-0",
                1700000000000L)));
        m.put("chatMessage", new Example(null, new ServerMessage.ChatMessageEvent("m1", new ChatMessage(
                "1700000000000-0", "u1", "Ann", "Hello", 1700000000000L, "c-1", false))));
        m.put("chatRefused", new Example("r4", new ServerMessage.Error("meeting.archived",
                "This meeting is archived; its chat is read-only")));
        m.put("callJoined", new Example("r5", new ServerMessage.CallJoined("m1", "e1", false, List.of(Map.of(
                "urls", List.of("turn:127.0.0.1:3478?transport=udp"), "username", "1700000600:u1",
                "credential", "c2VjcmV0")))));
        m.put("callJoinedResumed", new Example("r6", new ServerMessage.CallJoined("m1", "e1", true, List.of())));
        m.put("callJoinRefused", new Example("r7", new ServerMessage.Error("unavailable",
                "The media server is full; try again later")));
        m.put("callJoinArchived", new Example("r8", new ServerMessage.Error("meeting.archived",
                "This meeting is archived")));
        m.put("callPublishAnswer", new Example("r9", new ServerMessage.CallPublishAnswer("m1", "v=0\r\n")));
        m.put("callNotJoined", new Example("r10", new ServerMessage.Error("call.not_joined",
                "Join the meeting's call first")));
        m.put("callSubscribeOffer", new Example(null, new ServerMessage.CallSubscribeOffer("m1", "v=0\r\n", 1)));
        m.put("callLayers", new Example(null, new ServerMessage.CallLayers("m1", "1", List.of("q", "f"))));
        m.put("callState", new Example(null, new ServerMessage.CallState(new CallView("m1", true, 1700000000000L,
                List.of(new CallView.Participant("u1", "Ann", "e1", false, false, false,
                        List.of(new CallView.Track("t1", "audio", "s1", "a1"))))))));
        m.put("callLeftAnswer", new Example("r11", new ServerMessage.CallLeft("m1", "left")));
        m.put("callLeftLost", new Example(null, new ServerMessage.CallLeft("m1",
                "media connection lost: ICE consent expired")));
        m.put("sessionEnded", new Example(null, new ServerMessage.Error("session.ended",
                "You signed out; sign in again")));
        m.put("callLeftRemoved", new Example(null, new ServerMessage.CallLeft("m1", MeetingCalls.REMOVED)));
        m.put("callLeftArchived", new Example(null, new ServerMessage.CallLeft("m1", MeetingCalls.ARCHIVED)));
        m.put("callLeftLeftMeeting", new Example(null, new ServerMessage.CallLeft("m1", MeetingCalls.LEFT_MEETING)));
        m.put("callTurn", new Example("r12", new ServerMessage.CallTurn("m1", List.of(Map.of(
                "urls", List.of("turn:127.0.0.1:3478?transport=udp"), "username", "1700007200:u1",
                "credential", "ZnJlc2g=")))));
        m.put("callTurnNotJoined", new Example("r13", new ServerMessage.Error("call.not_joined",
                "Only a participant of the meeting's call gets TURN credentials; join the call first")));
        m.put("callTurnLimited", new Example("r14", new ServerMessage.Error("rate_limited",
                "You have asked for TURN credentials too often; try again within 60 minutes")));
        m.put("callStateVideo", new Example(null, new ServerMessage.CallState(new CallView("m1", true,
                1700000000000L, List.of(
                new CallView.Participant("u1", "Ann", "e1", false, false, false, List.of(
                        new CallView.Track("e1:0", "audio", "cam-ann", "mic-ann"),
                        new CallView.Track("e1:1", "video", "cam-ann", "video-ann"))),
                new CallView.Participant("u2", "Ben", "e2", false, false, true, List.of(
                        new CallView.Track("e2:0", "audio", "cam-ben", "mic-ben"),
                        new CallView.Track("e2:1", "video", "cam-ben", "video-ben"),
                        new CallView.Track("e2:2", "video", "screen-ben", "screen-video-ben"))))))));
        m.put("callReceiveRefused", new Example("r15", new ServerMessage.Error("bad_request",
                "videos[0].width must be a whole number of device pixels, 0..16384")));
        m.put("callSpeakers", new Example(null, new ServerMessage.CallSpeakers("m1", "u2", List.of("u2", "u1"))));
        // Built from the media server's event, as the gateway does: last-N withholds Ben's camera; then the receiver's
        // downlink pauses it instead, and limits the rest (his screen comes in a lower layer than its tile asks for).
        m.put("callWithheld", new Example(null, ServerMessage.CallWithheld.of("m1",
                new TrackEvent.VideosWithheld(3, "c1", "e1", List.of("e2:1")))));
        m.put("callWithheldWeakLink", new Example(null, ServerMessage.CallWithheld.of("m1",
                new TrackEvent.VideosWithheld(4, "c1", "e1", List.of(), List.of("e2:1"), true))));
        m.put("presenceDnd", new Example(null, new ServerMessage.Presence("u2", "dnd")));
        m.put("presenceChoice", new Example("r19", new ServerMessage.PresenceChoice("dnd")));
        m.put("callMoved", new Example(null, new ServerMessage.CallMoved("m1", "m2", "u1", "Ann",
                ServerMessage.CallMoved.GROWN)));
        m.put("callMovedMediaServerLost", new Example(null, ServerMessage.CallMoved.mediaServerLost("m1")));
        m.put("ringIncoming", new Example(null, new ServerMessage.RingState("r1", "m1", "u1", "Ann", "u2", "Ben",
                "video", "ringing", 29_500)));
        m.put("ringStarted", new Example("r16", new ServerMessage.RingState("r1", "m1", "u1", "Ann", "u2", "Ben",
                "video", "ringing", 30_000)));
        m.put("ringAccepted", new Example(null, new ServerMessage.RingState("r1", "m1", "u1", "Ann", "u2", "Ben",
                "video", "accepted", 0)));
        m.put("ringBusy", new Example("r17", new ServerMessage.RingState("r2", "m1", "u1", "Ann", "u2", "Ben",
                "audio", "busy", 0)));
        m.put("ringLimited", new Example("r18", new ServerMessage.Error("rate_limited",
                "You have started too many calls in the last 60 s; wait a moment")));
        return m;
    }
}
