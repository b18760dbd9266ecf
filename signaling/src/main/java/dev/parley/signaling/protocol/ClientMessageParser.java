package dev.parley.signaling.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.signaling.error.ApiException;

import java.util.ArrayList;
import java.util.List;

/** Turns a text frame into a {@link ClientRequest}, naming the field at fault when it cannot. */
public final class ClientMessageParser {

    static final int MAX_IDS = 500;
    private static final int MAX_ID_LENGTH = 64;
    private static final int MAX_TOKEN_LENGTH = 4096;
    public static final int MAX_CHAT_TEXT = 4000;
    private static final int MAX_SDP = 60_000;
    /** The most remote videos one call.receive may describe (the media server's limit). */
    public static final int MAX_VIDEOS = 100;
    /** The largest tile width or height in device pixels (the media server's limit). */
    public static final int MAX_VIDEO_DIMENSION = 16_384;
    private static final int MAX_TRACK_ID = 256;
    private static final java.util.regex.Pattern CLIENT_MSG_ID = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,64}");
    /** A request id needs no escaping in JSON, so answers can carry it as it came. */
    private static final java.util.regex.Pattern REQUEST_ID = java.util.regex.Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private final ObjectMapper json;

    public ClientMessageParser(ObjectMapper json) {
        this.json = json;
    }

    /**
     * Reads one request. A malformed one throws {@link Rejected}, carrying the request's id when the id itself could
     * be read, so the error can answer it.
     */
    public ClientRequest parse(String text) {
        JsonNode root;
        try {
            root = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new Rejected(null, ApiException.badRequest("message is not valid JSON"));
        }
        if (root == null || !root.isObject()) {
            throw new Rejected(null, ApiException.badRequest("message must be a JSON object"));
        }
        String id;
        try {
            id = requestId(root);
        } catch (ApiException e) {
            throw new Rejected(null, e);
        }
        try {
            return new ClientRequest(id, message(root));
        } catch (ApiException e) {
            throw new Rejected(id, e);
        }
    }

    /** A request that could not be read, and the id to answer it with (null when there is none to echo). */
    public static final class Rejected extends RuntimeException {
        private final String requestId;
        private final ApiException error;

        Rejected(String requestId, ApiException error) {
            super(error.getMessage(), null, false, false);
            this.requestId = requestId;
            this.error = error;
        }

        public String requestId() {
            return requestId;
        }

        public ApiException error() {
            return error;
        }
    }

    private static String requestId(JsonNode root) {
        String id = text(root, "id", MAX_ID_LENGTH, false);
        if (id != null && !REQUEST_ID.matcher(id).matches()) {
            throw ApiException.badRequest("id must be 1-64 characters of A-Z, a-z, 0-9, '.', ':', '-' or '_'");
        }
        return id;
    }

    private static ClientMessage message(JsonNode root) {
        String type = text(root, "type", 64, true);
        return switch (type) {
            case "hello" -> new ClientMessage.Hello(text(root, "token", MAX_TOKEN_LENGTH, true),
                    text(root, "resume", MAX_ID_LENGTH, false));
            case "session.renew" -> new ClientMessage.SessionRenew(text(root, "token", MAX_TOKEN_LENGTH, true));
            case "presence.subscribe" -> new ClientMessage.PresenceSubscribe(ids(root, "userIds"));
            case "presence.unsubscribe" -> new ClientMessage.PresenceUnsubscribe(ids(root, "userIds"));
            case "presence.set" -> new ClientMessage.PresenceSet(choice(root));
            case "presence.mine" -> new ClientMessage.PresenceMine();
            case "presence.idle" -> new ClientMessage.PresenceIdle(requiredBool(root, "idle"));
            case "chat.send" -> new ClientMessage.ChatSend(meetingId(root),
                    clientMsgId(root), chatText(root));
            case "chat.typing" -> new ClientMessage.ChatTyping(meetingId(root));
            case "chat.read" -> new ClientMessage.ChatRead(meetingId(root),
                    messageId(root, "messageId"));
            case "call.join" -> new ClientMessage.CallJoin(meetingId(root));
            case "call.leave" -> new ClientMessage.CallLeave(meetingId(root));
            case "call.turn" -> new ClientMessage.CallTurn(meetingId(root));
            case "call.publish" -> new ClientMessage.CallPublish(meetingId(root),
                    sdp(root));
            case "call.subscribe.answer" -> new ClientMessage.CallSubscribeAnswer(
                    meetingId(root), sdp(root), version(root));
            case "call.ice" -> new ClientMessage.CallIce(meetingId(root),
                    text(root, "candidate", 1024, false));
            case "call.media" -> new ClientMessage.CallMedia(meetingId(root),
                    bool(root, "audioMuted"), bool(root, "videoMuted"), bool(root, "screenSharing"));
            case "call.receive" -> new ClientMessage.CallReceive(meetingId(root), videos(root));
            case "ring.start" -> new ClientMessage.RingStart(Ids.userId("userId", text(root, "userId", MAX_ID_LENGTH,
                    true)), ringMedia(root), root.hasNonNull("meetingId") ? meetingId(root) : null);
            case "ring.accept" -> new ClientMessage.RingAccept(ringId(root));
            case "ring.decline" -> new ClientMessage.RingDecline(ringId(root));
            case "ring.cancel" -> new ClientMessage.RingCancel(ringId(root));
            default -> throw ApiException.badRequest("unknown message type '" + type + "'");
        };
    }

    private static String meetingId(JsonNode root) {
        return Ids.meetingId("meetingId", text(root, "meetingId", MAX_ID_LENGTH, true));
    }

    private static String choice(JsonNode root) {
        String status = text(root, "status", 16, true);
        if (!status.equals("available") && !status.equals("dnd")) {
            throw ApiException.badRequest("status must be \"available\" or \"dnd\"");
        }
        return status;
    }

    private static boolean requiredBool(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || !node.isBoolean()) {
            throw ApiException.badRequest(field + " must be true or false");
        }
        return node.booleanValue();
    }

    private static String ringId(JsonNode root) {
        return Ids.ringId("ringId", text(root, "ringId", MAX_ID_LENGTH, true));
    }

    private static String ringMedia(JsonNode root) {
        String media = text(root, "media", 16, false);
        if (media == null) {
            return "video";
        }
        if (!media.equals("video") && !media.equals("audio")) {
            throw ApiException.badRequest("media must be \"video\" or \"audio\"");
        }
        return media;
    }

    private static String clientMsgId(JsonNode root) {
        String id = text(root, "clientMsgId", MAX_ID_LENGTH, true);
        if (!CLIENT_MSG_ID.matcher(id).matches()) {
            throw ApiException.badRequest("clientMsgId must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'");
        }
        return id;
    }

    private static String chatText(JsonNode root) {
        String text = text(root, "text", MAX_CHAT_TEXT, true);
        if (text.isBlank()) {
            throw ApiException.badRequest("text must not be blank");
        }
        return text;
    }

    static String messageId(JsonNode root, String field) {
        String id = text(root, field, 40, true);
        if (!ChatMessage.ID.matcher(id).matches()) {
            throw ApiException.badRequest(field + " must be a message id such as 1700000000000-0");
        }
        return id;
    }

    private static String sdp(JsonNode root) {
        String sdp = text(root, "sdp", MAX_SDP, true);
        if (!sdp.startsWith("v=0")) {
            throw ApiException.badRequest("sdp must be a session description starting with v=0");
        }
        return sdp;
    }

    private static long version(JsonNode root) {
        JsonNode node = root.get("version");
        // canConvertToLong too: asLong() of a larger number wraps (2^64 + 1 reads as 1) or clamps (1e300).
        if (node == null || !node.canConvertToExactIntegral() || !node.canConvertToLong() || node.asLong() < 0) {
            throw ApiException.badRequest("version must be the offer's version number");
        }
        return node.asLong();
    }

    private static List<ClientMessage.CallReceive.Video> videos(JsonNode root) {
        JsonNode node = root.get("videos");
        if (node == null || !node.isArray()) {
            throw ApiException.badRequest("videos must be an array of {trackId, visible, width, height}");
        }
        if (node.size() > MAX_VIDEOS) {
            throw ApiException.badRequest("videos may hold at most " + MAX_VIDEOS + " entries");
        }
        List<ClientMessage.CallReceive.Video> videos = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            String at = "videos[" + i + "]";
            if (!item.isObject()) {
                throw ApiException.badRequest(at + " must be an object {trackId, visible, width, height}");
            }
            String trackId = text(item, "trackId", MAX_TRACK_ID, true);
            if (!trackId.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw ApiException.badRequest(at + ".trackId must be a track id from call.state");
            }
            JsonNode visible = item.get("visible");
            if (visible == null || !visible.isBoolean()) {
                throw ApiException.badRequest(at + ".visible must be true or false");
            }
            JsonNode pinned = item.get("pinned");
            if (pinned != null && !pinned.isNull() && !pinned.isBoolean()) {
                throw ApiException.badRequest(at + ".pinned must be true or false");
            }
            videos.add(new ClientMessage.CallReceive.Video(trackId, visible.booleanValue(),
                    dimension(item, "width", at), dimension(item, "height", at),
                    pinned != null && pinned.booleanValue()));
        }
        return videos;
    }

    private static int dimension(JsonNode item, String field, String at) {
        JsonNode node = item.get(field);
        if (node == null || !node.canConvertToExactIntegral() || !node.canConvertToInt() || node.asInt() < 0
                || node.asInt() > MAX_VIDEO_DIMENSION) {
            throw ApiException.badRequest(at + "." + field + " must be a whole number of device pixels, 0.."
                    + MAX_VIDEO_DIMENSION);
        }
        return node.asInt();
    }

    private static boolean bool(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            throw ApiException.badRequest(field + " must be true or false");
        }
        return node.booleanValue();
    }

    static String text(JsonNode root, String field, int maxLength, boolean required) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            if (required) {
                throw ApiException.badRequest(field + " is required");
            }
            return null;
        }
        if (!node.isTextual()) {
            throw ApiException.badRequest(field + " must be a string");
        }
        String value = node.textValue();
        if (required && value.isEmpty()) {
            throw ApiException.badRequest(field + " must not be empty");
        }
        if (value.length() > maxLength) {
            throw ApiException.badRequest(field + " must be at most " + maxLength + " characters");
        }
        return value;
    }

    static List<String> ids(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || !node.isArray()) {
            throw ApiException.badRequest(field + " must be an array of strings");
        }
        if (node.size() > MAX_IDS) {
            throw ApiException.badRequest(field + " may hold at most " + MAX_IDS + " ids");
        }
        List<String> ids = new ArrayList<>(node.size());
        for (JsonNode item : node) {
            if (!item.isTextual() || !Ids.isUserId(item.textValue())) {
                throw ApiException.badRequest(field + " must hold user ids such as u0123456789abcdef0123");
            }
            ids.add(item.textValue());
        }
        return List.copyOf(new java.util.LinkedHashSet<>(ids));
    }
}
