package dev.parley.signaling.meeting;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MeetingRoutesTest {

    private static RedisServer redis;
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        gateway = TestGateway.start(redis);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        redis.close();
    }

    static String token(JsonNode user) {
        return user.get("token").asText();
    }

    static JsonNode createMeeting(String token, String title) throws Exception {
        Response created = gateway.post("/api/meetings", Map.of("title", title, "description", "about " + title), token);
        assertEquals(201, created.status(), created.raw());
        return created.body();
    }

    @Test
    void anOwnerCreatesAMeetingAndSeesItInTheirList() throws Exception {
        JsonNode owner = gateway.register("mowner");
        JsonNode meeting = createMeeting(token(owner), "Roadmap");
        assertEquals("Roadmap", meeting.get("title").asText());
        assertEquals(owner.get("userId").asText(), meeting.get("ownerId").asText());
        assertEquals(1, meeting.get("members").size());
        assertTrue(meeting.get("lastMessage").get("system").asBoolean(), "creation is announced in the chat");

        Response list = gateway.get("/api/meetings", token(owner));
        assertEquals(200, list.status());
        assertEquals(meeting.get("meetingId").asText(), list.body().get("meetings").get(0).get("meetingId").asText());
    }

    @Test
    void meetingsAreListedByMostRecentActivity() throws Exception {
        JsonNode owner = gateway.register("sorter");
        String first = createMeeting(token(owner), "First").get("meetingId").asText();
        Thread.sleep(5);
        String second = createMeeting(token(owner), "Second").get("meetingId").asText();
        JsonNode meetings = gateway.get("/api/meetings", token(owner)).body().get("meetings");
        assertEquals(second, meetings.get(0).get("meetingId").asText());
        Thread.sleep(5);
        gateway.post("/api/meetings/" + first + "/members", Map.of("username", gateway.register("bumper")
                .get("username").asText()), token(owner));
        meetings = gateway.get("/api/meetings", token(owner)).body().get("meetings");
        assertEquals(first, meetings.get(0).get("meetingId").asText(), "the member joining is new activity");
    }

    @Test
    void theOwnerRenamesDescribesAndArchivesButMembersCannot() throws Exception {
        JsonNode owner = gateway.register("renamer");
        JsonNode member = gateway.register("renamee");
        String id = createMeeting(token(owner), "Old name").get("meetingId").asText();
        gateway.post("/api/meetings/" + id + "/members", Map.of("username", "renamee"), token(owner));

        Response renamed = gateway.send("PATCH", "/api/meetings/" + id,
                "{\"title\":\"New name\",\"description\":\"d\",\"archived\":true}", token(owner));
        assertEquals(200, renamed.status(), renamed.raw());
        assertEquals("New name", renamed.body().get("title").asText());
        assertTrue(renamed.body().get("archived").asBoolean());

        Response refused = gateway.send("PATCH", "/api/meetings/" + id, "{\"title\":\"Mine now\"}", token(member));
        assertEquals(403, refused.status());
        assertEquals("forbidden", refused.errorCode());
    }

    @Test
    void membersJoinByUsernameOrInviteAndLeave() throws Exception {
        JsonNode owner = gateway.register("host");
        JsonNode guest = gateway.register("guest");
        JsonNode invited = gateway.register("invited");
        String id = createMeeting(token(owner), "Party").get("meetingId").asText();

        Response added = gateway.post("/api/meetings/" + id + "/members", Map.of("username", "guest"), token(owner));
        assertEquals(200, added.status(), added.raw());
        assertEquals(2, added.body().get("members").size());
        assertEquals(200, gateway.get("/api/meetings/" + id, token(guest)).status());

        Response invite = gateway.post("/api/meetings/" + id + "/invites", Map.of(), token(guest));
        assertEquals(201, invite.status(), invite.raw());
        String inviteToken = invite.body().get("token").asText();
        assertTrue(invite.body().get("path").asText().endsWith(inviteToken));
        Response accepted = gateway.post("/api/invites/" + inviteToken + "/accept", Map.of(), token(invited));
        assertEquals(200, accepted.status(), accepted.raw());
        assertEquals(3, accepted.body().get("members").size());

        Response left = gateway.send("DELETE", "/api/meetings/" + id + "/members/" + guest.get("userId").asText(),
                null, token(guest));
        assertEquals(204, left.status());
        assertEquals(404, gateway.get("/api/meetings/" + id, token(guest)).status(), "a former member sees nothing");

        Response removed = gateway.send("DELETE", "/api/meetings/" + id + "/members/"
                + invited.get("userId").asText(), null, token(owner));
        assertEquals(204, removed.status());
        JsonNode messages = gateway.get("/api/meetings/" + id + "/messages", token(owner)).body().get("messages");
        List<String> texts = new ArrayList<>();
        messages.forEach(m -> texts.add(m.get("text").asText()));
        assertTrue(texts.contains("User guest left"), texts.toString());
        assertTrue(texts.contains("User host removed User invited"), texts.toString());
        assertTrue(texts.contains("User invited joined"), texts.toString());
    }

    @Test
    void whenMembersMayNotInviteOnlyTheOwnerCan() throws Exception {
        JsonNode owner = gateway.register("strict");
        JsonNode member = gateway.register("plain");
        gateway.register("outsider1");
        String id = createMeeting(token(owner), "Closed").get("meetingId").asText();
        gateway.post("/api/meetings/" + id + "/members", Map.of("username", "plain"), token(owner));
        gateway.send("PATCH", "/api/meetings/" + id, "{\"membersCanInvite\":false}", token(owner));
        assertEquals("forbidden", gateway.post("/api/meetings/" + id + "/members", Map.of("username", "outsider1"),
                token(member)).errorCode());
        assertEquals("forbidden", gateway.post("/api/meetings/" + id + "/invites", Map.of(), token(member))
                .errorCode());
    }

    @Test
    void invitesPerUserAreRateLimited() throws Exception {
        Map<String, Object> settings = TestGateway.testSettings(redis);
        settings.put("parley.meetings.max-invites-per-hour", 2);
        try (TestGateway strict = TestGateway.start(settings)) {
            JsonNode owner = strict.register("inviter");
            String id = strict.post("/api/meetings", Map.of("title", "Popular"), token(owner)).body()
                    .get("meetingId").asText();
            assertEquals(201, strict.post("/api/meetings/" + id + "/invites", Map.of(), token(owner)).status());
            assertEquals(201, strict.post("/api/meetings/" + id + "/invites", Map.of(), token(owner)).status());
            Response third = strict.post("/api/meetings/" + id + "/invites", Map.of(), token(owner));
            assertEquals(429, third.status(), third.raw());
            assertEquals("rate_limited", third.errorCode());
        }
    }

    @Test
    void badInvitesAndTheOwnerLeavingAreRefused() throws Exception {
        JsonNode owner = gateway.register("stayer");
        String id = createMeeting(token(owner), "Mine").get("meetingId").asText();
        assertEquals("invite.invalid", gateway.post("/api/invites/" + "ab".repeat(20) + "/accept", Map.of(),
                token(owner)).errorCode());
        assertEquals("invite.invalid", gateway.post("/api/invites/nonsense/accept", Map.of(), token(owner))
                .errorCode());
        assertEquals("forbidden", gateway.send("DELETE", "/api/meetings/" + id + "/members/"
                + owner.get("userId").asText(), null, token(owner)).errorCode());
    }

    @Test
    void nonMembersGetNotFoundOnEveryMeetingRoute() throws Exception {
        JsonNode owner = gateway.register("keeper");
        JsonNode stranger = gateway.register("stranger");
        String id = createMeeting(token(owner), "Private").get("meetingId").asText();
        String base = "/api/meetings/" + id;
        String t = token(stranger);
        List<Response> answers = List.of(
                gateway.get(base, t),
                gateway.send("PATCH", base, "{\"title\":\"x\"}", t),
                gateway.post(base + "/members", Map.of("username", "stranger"), t),
                gateway.send("DELETE", base + "/members/" + owner.get("userId").asText(), null, t),
                gateway.post(base + "/invites", Map.of(), t),
                gateway.get(base + "/messages", t));
        for (Response answer : answers) {
            assertEquals(404, answer.status(), answer.raw());
            assertEquals("not_found", answer.errorCode());
        }
        Response unknown = gateway.get("/api/meetings/m" + "0".repeat(20), t);
        assertEquals(unknown.raw(), answers.get(0).raw(), "an existing meeting looks exactly like a missing one");
        List<Response> anonymous = List.of(gateway.get(base, null), gateway.get("/api/meetings", null),
                gateway.post("/api/meetings", Map.of("title", "x"), null), gateway.get(base + "/messages", null),
                gateway.post("/api/invites/" + "ab".repeat(20) + "/accept", Map.of(), null));
        for (Response answer : anonymous) {
            assertEquals(401, answer.status(), answer.raw());
        }
        JsonNode mine = gateway.get("/api/meetings", t).body().get("meetings");
        mine.forEach(m -> assertFalse(m.get("meetingId").asText().equals(id)));
    }

    @Test
    void badMeetingInputGetsBadRequestNamingTheField() throws Exception {
        String t = token(gateway.register("sloppy"));
        assertBad(gateway.post("/api/meetings", Map.of("title", ""), t), "title");
        assertBad(gateway.post("/api/meetings", Map.of("title", "x".repeat(121)), t), "title");
        assertBad(gateway.post("/api/meetings", Map.of("title", 5), t), "title");
        assertBad(gateway.post("/api/meetings", Map.of("title", "ok", "description", "d".repeat(2001)), t),
                "description");
        String id = createMeeting(t, "Fine").get("meetingId").asText();
        assertBad(gateway.send("PATCH", "/api/meetings/" + id, "{\"archived\":\"yes\"}", t), "archived");
        assertBad(gateway.send("PATCH", "/api/meetings/" + id, "{}", t), "nothing to change");
        assertBad(gateway.get("/api/meetings/" + id + "/messages?limit=0", t), "limit");
        assertBad(gateway.get("/api/meetings/" + id + "/messages?limit=abc", t), "limit");
        assertBad(gateway.get("/api/meetings/" + id + "/messages?before=xyz", t), "before");
        assertEquals("not_found", gateway.post("/api/meetings/" + id + "/members", Map.of("username", "nosuchuser"), t)
                .errorCode());
    }

    private static void assertBad(Response response, String mentions) {
        assertEquals(400, response.status(), response.raw());
        assertEquals("bad_request", response.errorCode());
        assertTrue(response.body().get("error").get("message").asText().contains(mentions), response.raw());
    }
}
