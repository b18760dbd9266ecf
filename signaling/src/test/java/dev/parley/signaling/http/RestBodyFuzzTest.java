package dev.parley.signaling.http;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.auth.AuthRoutes;
import dev.parley.signaling.call.MediaTokenRoutes;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.meeting.MeetingRoutes;
import dev.parley.signaling.meeting.MeetingService;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The body of every REST route that has one, read exactly as its route reads it, before anything else happens. An
 * input is the route's name, a newline, then the body bytes (a name that is none picks a route by its hash). A body
 * is either read into fields equal to what the JSON said, or refused as bad_request with a message; anything else
 * thrown is a bug. Corpus: {@code src/test/resources/dev/parley/signaling/http/RestBodyFuzzTestInputs}.
 */
class RestBodyFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Each route's body reader, and what it read as field name to value, for comparing with the JSON. */
    private static final Map<String, Function<RestRequest, Map<String, Object>>> ROUTES = new LinkedHashMap<>();

    static {
        ROUTES.put("register", r -> {
            AuthRoutes.Registration body = AuthRoutes.Registration.read(r);
            return fields("username", body.username(), "password", body.password(), "displayName",
                    body.displayName());
        });
        ROUTES.put("login", r -> {
            AuthRoutes.Login body = AuthRoutes.Login.read(r);
            return fields("username", body.username(), "password", body.password());
        });
        ROUTES.put("password", r -> {
            AuthRoutes.PasswordChange body = AuthRoutes.PasswordChange.read(r);
            return fields("currentPassword", body.currentPassword(), "newPassword", body.newPassword(),
                    "keepSessionId", body.keepSessionId());
        });
        ROUTES.put("firebase", r -> fields("idToken", AuthRoutes.idToken(r)));
        ROUTES.put("meeting-create", r -> {
            MeetingRoutes.NewMeeting body = MeetingRoutes.NewMeeting.read(r);
            return fields("title", body.title(), "description", body.description());
        });
        ROUTES.put("meeting-patch", r -> {
            MeetingService.Patch patch = MeetingRoutes.patch(r);
            return fields("title", patch.title(), "description", patch.description(), "archived", patch.archived(),
                    "membersCanInvite", patch.membersCanInvite());
        });
        ROUTES.put("meeting-member", r -> fields("username", MeetingRoutes.newMember(r)));
        ROUTES.put("media-token", r -> {
            String grant = switch (MediaTokenRoutes.grant(r)) {
                case PLAY -> "play";
                case PUBLISH -> "publish";
                case ADMIN -> throw new AssertionError("an admin grant was read from a member's request");
            };
            return fields("grant", grant);
        });
    }

    @FuzzTest(maxDuration = "30s")
    void routeBodies(FuzzedDataProvider data) throws Exception {
        byte[] input = data.consumeRemainingAsBytes();
        int newline = indexOf(input, (byte) '\n');
        String name = new String(input, 0, newline < 0 ? 0 : newline, StandardCharsets.UTF_8);
        byte[] body = newline < 0 ? input : java.util.Arrays.copyOfRange(input, newline + 1, input.length);
        List<String> names = List.copyOf(ROUTES.keySet());
        String route = ROUTES.containsKey(name) ? name : names.get(Math.floorMod(name.hashCode(), names.size()));
        RestRequest request = new RestRequest("POST", "/api/fuzz", Map.of("id", "m1"), Map.of(), null, body,
                "127.0.0.1", JSON);

        Map<String, Object> read;
        try {
            read = ROUTES.get(route).apply(request);
        } catch (ApiException refused) {
            if (refused.code() != ErrorCode.BAD_REQUEST || refused.getMessage() == null
                    || refused.getMessage().isBlank()) {
                throw new AssertionError(route + " refused without a clear bad_request: " + refused.code());
            }
            return;
        }
        JsonNode json = JSON.readTree(body);
        for (Map.Entry<String, Object> field : read.entrySet()) {
            JsonNode sent = json.get(field.getKey());
            Object value = field.getValue();
            boolean same = value == null ? sent == null || sent.isNull()
                    : value instanceof String text ? sent != null && text.equals(sent.textValue())
                    : sent != null && sent.isBoolean() && value.equals(sent.booleanValue());
            if (!same) {
                throw new AssertionError(route + ": " + field.getKey() + " read as " + value + " from " + sent);
            }
        }
    }

    private static Map<String, Object> fields(Object... namesAndValues) {
        Map<String, Object> fields = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            fields.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return fields;
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
