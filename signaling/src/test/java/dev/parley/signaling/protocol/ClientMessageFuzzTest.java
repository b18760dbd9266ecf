package dev.parley.signaling.protocol;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ErrorCode;

import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * WebSocket text frames as a client may send them, before any check of who sent them. The parser either reads a
 * request whose every field is exactly what the JSON said, or refuses with its own {@link ClientMessageParser.Rejected}
 * (bad_request, a message, and an id only when that id is safe to echo); anything else thrown is a bug. Corpus:
 * {@code src/test/resources/dev/parley/signaling/protocol/ClientMessageFuzzTestInputs}.
 */
class ClientMessageFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ClientMessageParser PARSER = new ClientMessageParser(JSON);
    private static final Pattern ECHOABLE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    @FuzzTest(maxDuration = "30s")
    void clientMessages(FuzzedDataProvider data) throws Exception {
        String text = data.consumeRemainingAsString();
        ClientRequest request;
        try {
            request = PARSER.parse(text);
        } catch (ClientMessageParser.Rejected rejected) {
            if (rejected.error().code() != ErrorCode.BAD_REQUEST || rejected.getMessage() == null
                    || rejected.getMessage().isBlank()) {
                throw new AssertionError("refused without a clear bad_request: " + rejected.error().code());
            }
            if (rejected.requestId() != null && !ECHOABLE_ID.matcher(rejected.requestId()).matches()) {
                throw new AssertionError("a refusal would echo an unsafe id: " + rejected.requestId());
            }
            return;
        }
        // Accepted: the same text must be a JSON object whose fields the request carries unchanged.
        JsonNode root = JSON.readTree(text);
        if (request.id() != null && !ECHOABLE_ID.matcher(request.id()).matches()) {
            throw new AssertionError("an accepted id is not safe to echo: " + request.id());
        }
        ClientMessage message = request.message();
        String type = root.get("type").textValue().replace(".", "");
        if (!message.getClass().getSimpleName().toLowerCase(Locale.ROOT).equals(type)) {
            throw new AssertionError("type " + root.get("type") + " read as " + message.getClass().getSimpleName());
        }
        for (RecordComponent component : message.getClass().getRecordComponents()) {
            checkField(root.get(component.getName()), component.getName(), component.getAccessor().invoke(message));
        }
    }

    private static void checkField(JsonNode node, String name, Object value) {
        boolean absent = node == null || node.isNull();
        boolean same;
        if (value == null) {
            same = absent;
        } else if (name.equals("media") && absent) {
            same = value.equals("video"); // ring.start's one default
        } else if (value instanceof String text) {
            same = !absent && text.equals(node.textValue());
        } else if (value instanceof Boolean flag) {
            same = absent ? !flag : node.isBoolean() && flag == node.booleanValue();
        } else if (value instanceof Long number) {
            same = !absent && node.isNumber() && node.decimalValue().compareTo(BigDecimal.valueOf(number)) == 0;
        } else if (value instanceof List<?> videos && name.equals("videos")) {
            same = node != null && node.isArray() && node.size() == videos.size()
                    && videos.size() <= ClientMessageParser.MAX_VIDEOS;
            for (int i = 0; same && i < videos.size(); i++) {
                var video = (ClientMessage.CallReceive.Video) videos.get(i);
                JsonNode sent = node.get(i);
                same = video.trackId().equals(sent.path("trackId").textValue())
                        && sent.path("visible").isBoolean() && video.visible() == sent.get("visible").booleanValue()
                        && sent.path("width").isNumber() && sent.get("width").decimalValue()
                                .compareTo(BigDecimal.valueOf(video.width())) == 0
                        && sent.path("height").isNumber() && sent.get("height").decimalValue()
                                .compareTo(BigDecimal.valueOf(video.height())) == 0
                        && video.width() >= 0 && video.width() <= ClientMessageParser.MAX_VIDEO_DIMENSION
                        && video.height() >= 0 && video.height() <= ClientMessageParser.MAX_VIDEO_DIMENSION;
            }
        } else if (value instanceof List<?> ids) {
            List<String> sent = new ArrayList<>();
            node.forEach(item -> sent.add(item.textValue()));
            same = ids.equals(sent.stream().distinct().toList()) && ids.size() <= ClientMessageParser.MAX_IDS;
        } else {
            throw new AssertionError(name + " has a type this check does not know: " + value.getClass());
        }
        if (!same) {
            throw new AssertionError(name + " read as " + value + " from " + node);
        }
    }
}
