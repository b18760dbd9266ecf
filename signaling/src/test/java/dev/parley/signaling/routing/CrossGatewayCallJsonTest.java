package dev.parley.signaling.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Gateways of the previous version and this one understand each other's forwarded call operations. */
class CrossGatewayCallJsonTest {

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void anOperationFromAnOlderGatewayWithEveryFieldIsReadAsItsOwnRecord() throws Exception {
        String old = "{\"op\":\"publish\",\"userId\":\"u1\",\"sessionId\":\"g1.s\",\"requestId\":\"r7\","
                + "\"account\":null,\"meetingId\":\"m1\",\"sdp\":\"v=0\",\"version\":0,\"audioMuted\":false,"
                + "\"videoMuted\":false,\"screenSharing\":false}";

        CrossGatewayCall read = json.readValue(old, CrossGatewayCall.class);

        assertEquals(new CrossGatewayCall.Publish("u1", "g1.s", "r7", "m1", "v=0"), read);
    }

    @Test
    void anOperationSentNowCarriesTheOpAndFieldsAnOlderGatewayReads() throws Exception {
        String sent = json.writerFor(CrossGatewayCall.class).writeValueAsString(
                new CrossGatewayCall.Media("u1", "g1.s", "r8", "m1", true, false, true));

        JsonNode node = json.readTree(sent);
        assertEquals("media", node.get("op").asText());
        assertEquals("r8", node.get("requestId").asText());
        assertEquals(true, node.get("audioMuted").asBoolean());
        assertEquals(true, node.get("screenSharing").asBoolean());
    }
}
