package dev.parley.signaling.protocol;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ErrorCode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** call.receive as clients send it: what each tile shows, read exactly, and every bad shape refused by name. */
class CallReceiveParsingTest {

    private final ClientMessageParser parser = new ClientMessageParser(new ObjectMapper());

    @Test
    void aReceiveListIsReadWithEveryTileAsSent() {
        ClientRequest request = parser.parse("{\"type\":\"call.receive\",\"id\":\"r1\",\"meetingId\":\"m0123456789abcdef0123\","
                + "\"videos\":[{\"trackId\":\"e1:1\",\"visible\":true,\"width\":640,\"height\":360},"
                + "{\"trackId\":\"e2:3\",\"visible\":false,\"width\":0,\"height\":16384,\"pinned\":true}]}");

        assertEquals("r1", request.id());
        assertEquals(new ClientMessage.CallReceive("m0123456789abcdef0123", List.of(
                new ClientMessage.CallReceive.Video("e1:1", true, 640, 360, false),
                new ClientMessage.CallReceive.Video("e2:3", false, 0, 16384, true))), request.message());
    }

    @Test
    void anEmptyListSaysNoRemoteVideoIsShown() {
        ClientRequest request = parser.parse("{\"type\":\"call.receive\",\"meetingId\":\"m0123456789abcdef0123\",\"videos\":[]}");

        assertEquals(new ClientMessage.CallReceive("m0123456789abcdef0123", List.of()), request.message());
    }

    @Test
    void badShapesAreRefusedNamingTheField() {
        assertRefused("\"videos\":{}", "videos must be an array");
        assertRefused("\"videos\":[1]", "videos[0] must be an object");
        assertRefused("\"videos\":[{\"visible\":true,\"width\":1,\"height\":1}]", "trackId is required");
        assertRefused("\"videos\":[{\"trackId\":\"a b\",\"visible\":true,\"width\":1,\"height\":1}]",
                "videos[0].trackId");
        assertRefused("\"videos\":[{\"trackId\":\"" + "t".repeat(257) + "\",\"visible\":true,\"width\":1,"
                + "\"height\":1}]", "trackId must be at most 256");
        assertRefused("\"videos\":[{\"trackId\":\"t\",\"visible\":\"yes\",\"width\":1,\"height\":1}]",
                "videos[0].visible must be true or false");
        assertRefused("\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"width\":1,\"height\":1,\"pinned\":1}]",
                "videos[0].pinned must be true or false");
        assertRefused("\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"height\":1}]", "videos[0].width");
        assertRefused("\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"width\":1,\"height\":16385}]",
                "videos[0].height must be a whole number of device pixels, 0..16384");
        assertRefused("\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"width\":-1,\"height\":1}]",
                "videos[0].width");
        assertRefused("\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"width\":1.5,\"height\":1}]",
                "videos[0].width");
        assertRefused("\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"width\":\"640\",\"height\":1}]",
                "videos[0].width");
        assertRefused("\"videos\":[{\"trackId\":\"t\",\"visible\":true,\"width\":4294967936,\"height\":1}]",
                "videos[0].width");
    }

    @Test
    void moreThanAHundredVideosAreRefused() {
        String one = "{\"trackId\":\"t\",\"visible\":true,\"width\":1,\"height\":1}";
        String hundred = String.join(",", java.util.Collections.nCopies(100, one));

        assertEquals(100, ((ClientMessage.CallReceive) parser.parse("{\"type\":\"call.receive\",\"meetingId\":"
                + "\"m0123456789abcdef0123\",\"videos\":[" + hundred + "]}").message()).videos().size());
        assertRefused("\"videos\":[" + hundred + "," + one + "]", "at most 100");
    }

    private void assertRefused(String videos, String expected) {
        ClientMessageParser.Rejected rejected = assertThrows(ClientMessageParser.Rejected.class, () -> parser.parse(
                "{\"type\":\"call.receive\",\"id\":\"r9\",\"meetingId\":\"m0123456789abcdef0123\"," + videos + "}"));
        assertEquals(ErrorCode.BAD_REQUEST, rejected.error().code());
        assertEquals("r9", rejected.requestId());
        assertTrue(rejected.getMessage().contains(expected), rejected.getMessage());
    }
}
