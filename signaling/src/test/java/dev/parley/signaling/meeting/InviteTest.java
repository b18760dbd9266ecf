package dev.parley.signaling.meeting;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Invite links: stored per meeting, limited in uses and lifetime, listed and revoked by the owner, and no way back in. */
class InviteTest {

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

    private static String token(JsonNode user) {
        return user.get("token").asText();
    }

    private static String userId(JsonNode user) {
        return user.get("userId").asText();
    }

    private static String meeting(JsonNode owner, JsonNode... members) throws Exception {
        String id = gateway.post("/api/meetings", Map.of("title", "Invites"), token(owner)).body()
                .get("meetingId").asText();
        for (JsonNode member : members) {
            assertEquals(200, gateway.post("/api/meetings/" + id + "/members",
                    Map.of("username", member.get("username").asText()), token(owner)).status());
        }
        return id;
    }

    private static String invite(String meetingId, JsonNode by, Map<String, Object> body) throws Exception {
        Response created = gateway.post("/api/meetings/" + meetingId + "/invites", body, token(by));
        assertEquals(201, created.status(), created.raw());
        return created.body().get("token").asText();
    }

    private static Response accept(String inviteToken, JsonNode user) throws Exception {
        return gateway.post("/api/invites/" + inviteToken + "/accept", Map.of(), token(user));
    }

    @Test
    void aLinkIsSingleUseUnlessItsCreatorAsksForMoreAndLivesADay() throws Exception {
        JsonNode owner = gateway.register("iv-owner");
        JsonNode first = gateway.register("iv-first");
        JsonNode second = gateway.register("iv-second");
        JsonNode third = gateway.register("iv-third");
        String id = meeting(owner);

        Response created = gateway.post("/api/meetings/" + id + "/invites", Map.of(), token(owner));
        long lifetime = created.body().get("expiresAt").asLong() - System.currentTimeMillis();
        assertTrue(lifetime <= Duration.ofHours(24).toMillis(), "a link lives at most a day: " + created.raw());
        String single = created.body().get("token").asText();
        assertEquals(200, accept(single, first).status());
        assertEquals("invite.invalid", accept(single, second).errorCode(), "a used-up link is dead");

        String twice = invite(id, owner, Map.of("maxUses", 2));
        assertEquals(200, accept(twice, second).status());
        assertEquals(200, accept(twice, third).status());
        assertEquals("bad_request", gateway.post("/api/meetings/" + id + "/invites", Map.of("maxUses", 1000),
                token(owner)).errorCode(), "a use limit above the configured maximum is refused");
    }

    @Test
    void theOwnerListsAndRevokesTheMeetingsLinks() throws Exception {
        JsonNode owner = gateway.register("ls-owner");
        JsonNode member = gateway.register("ls-member");
        JsonNode outsider = gateway.register("ls-out");
        String id = meeting(owner, member);
        String mine = invite(id, owner, Map.of("maxUses", 3));
        String theirs = invite(id, member, Map.of());

        Response listed = gateway.get("/api/meetings/" + id + "/invites", token(owner));
        assertEquals(200, listed.status(), listed.raw());
        JsonNode invites = listed.body().get("invites");
        assertEquals(2, invites.size(), listed.raw());
        JsonNode own = invites.get(0).get("token").asText().equals(mine) ? invites.get(0) : invites.get(1);
        assertEquals(userId(owner), own.get("createdBy").asText());
        assertEquals("User ls-owner", own.get("createdByName").asText());
        assertEquals(3, own.get("maxUses").asInt());
        assertEquals(0, own.get("uses").asInt());
        assertEquals("forbidden", gateway.get("/api/meetings/" + id + "/invites", token(member)).errorCode());

        assertEquals("forbidden", gateway.send("DELETE", "/api/meetings/" + id + "/invites/" + mine, null,
                token(member)).errorCode(), "only the owner revokes");
        assertEquals(204, gateway.send("DELETE", "/api/meetings/" + id + "/invites/" + theirs, null, token(owner))
                .status());
        assertEquals("invite.invalid", accept(theirs, outsider).errorCode(), "a revoked link is dead");
        assertEquals(1, gateway.get("/api/meetings/" + id + "/invites", token(owner)).body().get("invites").size());
        assertEquals("not_found", gateway.send("DELETE", "/api/meetings/" + id + "/invites/" + theirs, null,
                token(owner)).errorCode());
    }

    @Test
    void aLinkDiesWithItsCreatorsMembership() throws Exception {
        JsonNode owner = gateway.register("cr-owner");
        JsonNode member = gateway.register("cr-member");
        JsonNode newcomer = gateway.register("cr-new");
        String id = meeting(owner, member);
        String link = invite(id, member, Map.of("maxUses", 5));

        assertEquals(204, gateway.send("DELETE", "/api/meetings/" + id + "/members/" + userId(member), null,
                token(owner)).status());

        assertEquals("invite.invalid", accept(link, newcomer).errorCode());
        assertEquals(0, gateway.get("/api/meetings/" + id + "/invites", token(owner)).body().get("invites").size());
    }

    @Test
    void membersLinksDieWhenMembersMayNoLongerInvite() throws Exception {
        JsonNode owner = gateway.register("mc-owner");
        JsonNode member = gateway.register("mc-member");
        JsonNode newcomer = gateway.register("mc-new");
        JsonNode later = gateway.register("mc-later");
        String id = meeting(owner, member);
        String membersLink = invite(id, member, Map.of("maxUses", 5));
        String ownersLink = invite(id, owner, Map.of("maxUses", 5));

        assertEquals(200, gateway.send("PATCH", "/api/meetings/" + id, "{\"membersCanInvite\":false}", token(owner))
                .status());

        assertEquals("invite.invalid", accept(membersLink, newcomer).errorCode());
        assertEquals(200, accept(ownersLink, newcomer).status(), "the owner's own links stay good");
        // Turned back on, the dropped link stays dead: nobody can revive a link by toggling the setting.
        gateway.send("PATCH", "/api/meetings/" + id, "{\"membersCanInvite\":true}", token(owner));
        assertEquals("invite.invalid", accept(membersLink, later).errorCode());
    }

    @Test
    void aRemovedMemberCannotComeBackWithAnyLinkUntilTheOwnerAddsThem() throws Exception {
        JsonNode owner = gateway.register("rb-owner");
        JsonNode member = gateway.register("rb-member");
        JsonNode removed = gateway.register("rb-removed");
        String id = meeting(owner, member, removed);
        String ownersLink = invite(id, owner, Map.of("maxUses", 5));
        String membersLink = invite(id, member, Map.of("maxUses", 5));

        assertEquals(204, gateway.send("DELETE", "/api/meetings/" + id + "/members/" + userId(removed), null,
                token(owner)).status());

        assertEquals("forbidden", accept(ownersLink, removed).errorCode());
        assertEquals("forbidden", accept(membersLink, removed).errorCode());
        assertEquals("forbidden", gateway.post("/api/meetings/" + id + "/members", Map.of("username", "rb-removed"),
                token(member)).errorCode(), "a member cannot add back whom the owner removed");
        assertEquals(404, gateway.get("/api/meetings/" + id, token(removed)).status());

        assertEquals(200, gateway.post("/api/meetings/" + id + "/members", Map.of("username", "rb-removed"),
                token(owner)).status(), "the owner can");
        assertEquals(200, gateway.get("/api/meetings/" + id, token(removed)).status());
    }

    @Test
    void aLinkToAnArchivedMeetingIsRefused() throws Exception {
        JsonNode owner = gateway.register("ac-owner");
        JsonNode newcomer = gateway.register("ac-new");
        String id = meeting(owner);
        String link = invite(id, owner, Map.of());
        gateway.send("PATCH", "/api/meetings/" + id, "{\"archived\":true}", token(owner));
        assertEquals("meeting.archived", accept(link, newcomer).errorCode());
        assertEquals("meeting.archived", gateway.post("/api/meetings/" + id + "/invites", Map.of(), token(owner))
                .errorCode(), "no new links to an archived meeting");
    }
}
