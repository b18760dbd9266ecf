package dev.parley.signaling.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.signaling.auth.PasswordHasher;
import dev.parley.signaling.testing.RedisServer;
import dev.parley.signaling.testing.TestGateway;
import dev.parley.signaling.testing.TestGateway.Response;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An install made by a version before hash tags: its keys are written under their old names, as that version wrote
 * them, and a gateway of this version starts on them. Everything is found afterwards and no old name is left.
 */
class KeyMigrationTest {

    @Test
    void oldNamesMapToTheirTaggedNames() {
        assertEquals(Optional.of("parley:meeting:{m1a}"), KeyMigration.newName("parley:meeting:m1a"));
        assertEquals(Optional.of("parley:meeting:{m1a}:sent:u1:c-9"),
                KeyMigration.newName("parley:meeting:m1a:sent:u1:c-9"));
        assertEquals(Optional.of("parley:user:{u1}:meetings"), KeyMigration.newName("parley:user:u1:meetings"));
        assertEquals(Optional.of("parley:user:{u1}"), KeyMigration.newName("parley:user:u1"));
        assertEquals(Optional.of("parley:user:{u1}:generation"), KeyMigration.newName("parley:auth:generation:u1"));
        assertEquals(Optional.of("parley:call-owner:{m1}"), KeyMigration.newName("parley:call-owner:m1"));
        assertEquals(Optional.empty(), KeyMigration.newName("parley:meeting:{m1a}:chat"), "moved already");
        assertEquals(Optional.empty(), KeyMigration.newName("parley:user:{u1}:blocks"), "tagged from the start");
        assertEquals(Optional.empty(), KeyMigration.newName("parley:users:search"));
        assertEquals(Optional.empty(), KeyMigration.newName("parley:invite:abc"), "invites move by their own step");
    }

    @Test
    void aGatewayStartingOnAnOldInstallMovesItsKeysAndFindsEverything() throws Exception {
        String ann = "u00000000000000000a01";
        String bob = "u00000000000000000b02";
        String meeting = "m00000000000000000c03";
        String token = "ab".repeat(20);
        long now = System.currentTimeMillis();
        try (RedisServer redis = RedisServer.start()) {
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                RedisCommands<String, String> r = connection.sync();
                String hash = new PasswordHasher(1024, 1, 1).hash("correct horse");
                for (String[] user : List.of(new String[]{ann, "annie", "Ann Old"}, new String[]{bob, "bobby",
                        "Bob Old"})) {
                    r.set("parley:username:" + user[1], user[0]);
                    r.hset("parley:user:" + user[0], Map.of("username", user[1], "displayName", user[2],
                            "passwordHash", hash, "createdAt", "1"));
                    r.zadd("parley:users", 1, user[0]);
                    String entry = user[1] + "\0" + user[0];
                    r.zadd("parley:users:search", 0, entry);
                    r.sadd("parley:user:" + user[0] + ":search", entry);
                    r.sadd("parley:user:" + user[0] + ":meetings", meeting);
                }
                r.set("parley:users:search:built", "1");
                r.set("parley:auth:generation:" + ann, "3");
                r.hset("parley:meeting:" + meeting, Map.of("title", "Before tags", "description", "",
                        "ownerId", ann, "createdAt", "1", "lastActivity", "1", "archived", "0",
                        "membersCanInvite", "1"));
                r.sadd("parley:meeting:" + meeting + ":members", ann, bob);
                String messageId = r.xadd("parley:meeting:" + meeting + ":chat", XAddArgs.Builder.maxlen(1000),
                        Map.of("senderId", ann, "senderName", "Ann Old", "text", "written before the move",
                                "clientMsgId", "c1", "kind", "user", "sentAt", Long.toString(now)));
                r.set("parley:meeting:" + meeting + ":sent:" + ann + ":c1", messageId);
                r.expire("parley:meeting:" + meeting + ":sent:" + ann + ":c1", 600);
                r.hset("parley:meeting:" + meeting + ":read", ann, messageId);
                long expiresAt = now + 3_600_000;
                r.hset("parley:invite:" + token, Map.of("meetingId", meeting, "createdBy", ann,
                        "createdAt", Long.toString(now), "expiresAt", Long.toString(expiresAt), "maxUses", "5",
                        "uses", "0"));
                r.pexpire("parley:invite:" + token, 3_600_000);
                r.zadd("parley:meeting:" + meeting + ":invites", expiresAt, token);

                try (TestGateway gateway = TestGateway.start(redis)) {
                    Response login = gateway.post("/api/auth/login", Map.of("username", "annie",
                            "password", "correct horse"), null);
                    assertEquals(200, login.status(), login.raw());
                    String annToken = login.body().get("token").asText();
                    JsonNode meetings = gateway.get("/api/meetings", annToken).body().get("meetings");
                    assertEquals(1, meetings.size(), meetings.toString());
                    assertEquals("Before tags", meetings.get(0).get("title").asText());
                    JsonNode messages = gateway.get("/api/meetings/" + meeting + "/messages", annToken).body()
                            .get("messages");
                    assertEquals("written before the move", messages.get(messages.size() - 1).get("text").asText());
                    assertEquals(1, gateway.get("/api/users?q=bob", annToken).body().get("users").size(),
                            "the search index still finds Bob");

                    JsonNode carol = gateway.register("carol");
                    Response accepted = gateway.post("/api/invites/" + token + "/accept", Map.of(),
                            carol.get("token").asText());
                    assertEquals(200, accepted.status(), "the invite link made before the move still works: "
                            + accepted.raw());
                    assertEquals(3, gateway.get("/api/meetings/" + meeting, annToken).body().get("members").size());
                }

                assertEquals("3", r.get("parley:user:{" + ann + "}:generation"), "the token generation moved");
                assertTrue(r.ttl("parley:meeting:{" + meeting + "}:sent:" + ann + ":c1") > 0,
                        "a moved key keeps its expiry");
                assertTrue(r.pttl("parley:invite:" + token) > 0, "the link's pointer expires with the link");
                assertEquals(String.valueOf(KeyMigration.SCHEMA), r.get(KeyMigration.SCHEMA_KEY));
                List<String> old = new ArrayList<>();
                for (String pattern : List.of("parley:meeting:m*", "parley:user:u*", "parley:auth:generation:*")) {
                    old.addAll(r.scan(ScanArgs.Builder.matches(pattern).limit(10_000)).getKeys());
                }
                assertEquals(List.of(), old, "no key is left under its old name");
            } finally {
                client.shutdown();
            }
        }
    }
}
