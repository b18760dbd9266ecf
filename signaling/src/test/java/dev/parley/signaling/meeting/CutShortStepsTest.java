package dev.parley.signaling.meeting;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.auth.AccountStore;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.store.RedisConnections;
import dev.parley.signaling.testing.RedisServer;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a step cut short between two Redis slots leaves behind (the state is written as the first step alone would
 * leave it), and that nobody sees it: the orders the stores keep (architecture.md, "Redis Cluster") at work. Runs on
 * whatever {@link RedisServer#start()} gives, a cluster included.
 */
class CutShortStepsTest {

    private static RedisServer redis;
    private static RedisConnections connections;
    private static RedisClusterAsyncCommands<String, String> commands;
    private static MeetingStore meetings;
    private static AccountStore accounts;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        connections = redis.connections();
        commands = connections.async();
        meetings = new MeetingStore(commands);
        accounts = new AccountStore(commands);
    }

    @AfterAll
    static void stop() throws Exception {
        connections.close();
        redis.close();
    }

    private static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get();
    }

    @Test
    void aJoinCutShortAfterTheIndexIsNeitherListedNorShared() throws Exception {
        await(meetings.create("mcut1", "Cut short", "", "uowner1", 1));
        // A join by uguest1 indexed the meeting for them, then stopped before the meeting side.
        await(commands.sadd(MeetingStore.userMeetingsKey("uguest1"), "mcut1"));
        assertEquals(List.of(), await(meetings.meetingsOf("uguest1")), "not listed");
        assertEquals(List.of(), await(meetings.sharingAMeeting("uguest1", List.of("uowner1"))), "shares nothing");
        assertEquals(List.of(), await(meetings.sharingAMeeting("uowner1", List.of("uguest1"))));
        // A later join goes through and mends the index.
        assertEquals(MeetingStore.Added.ADDED, await(meetings.addMember("mcut1", "uguest1", 10, true)));
        assertEquals(1, await(meetings.meetingsOf("uguest1")).size());
        assertEquals(List.of("uowner1"), await(meetings.sharingAMeeting("uguest1", List.of("uowner1", "unobody"))));
    }

    @Test
    void aLeaveCutShortAfterTheMeetingSideIsNotListed() throws Exception {
        await(meetings.create("mcut2", "Left", "", "uowner2", 1));
        assertEquals(MeetingStore.Added.ADDED, await(meetings.addMember("mcut2", "uleaver", 10, true)));
        // The meeting side of a leave, without the index step after it.
        await(commands.srem(MeetingStore.membersKey("mcut2"), "uleaver"));
        assertEquals(List.of(), await(meetings.meetingsOf("uleaver")));
        assertEquals(List.of(), await(meetings.sharingAMeeting("uleaver", List.of("uowner2"))));
    }

    @Test
    void aRefusedJoinTakesItsIndexEntryBack() throws Exception {
        await(meetings.create("mcut3", "Refusing", "", "uowner3", 1));
        await(meetings.removeMember("mcut3", "ugone", true));
        assertEquals(MeetingStore.Added.REMOVED, await(meetings.addMember("mcut3", "ugone", 10, false)));
        assertEquals(MeetingStore.Added.NO_MEETING, await(meetings.addMember("mnone", "ugone", 10, true)));
        assertEquals(List.of(), await(meetings.meetingIdsOf("ugone")), "no index entry stays behind");
        // At the cap, the meeting's own answer still comes first, as when the join was one step.
        await(meetings.create("mcut4", "Full user", "", "ubusy", 1));
        assertEquals(MeetingStore.Added.NO_MEETING, await(meetings.addMember("mnone", "ubusy", 1, true)));
        assertEquals(MeetingStore.Added.ALREADY, await(meetings.addMember("mcut4", "ubusy", 1, true)));
        assertEquals(MeetingStore.Added.LIMIT, await(meetings.addMember("mcut3", "ubusy", 1, true)));
        assertEquals(List.of("mcut4"), await(meetings.meetingIdsOf("ubusy")));
    }

    @Test
    void aRegistrationCutShortAfterTheClaimFreesTheNameByItself() throws Exception {
        // The claim of a registration that stopped there: held, but not for good.
        await(commands.set("parley:username:halfway", "uhalf", SetArgs.Builder.px(300)));
        ExecutionException taken = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> await(accounts.create(new Account(AccountStore.newUserId(), "halfway", "Half Way"), "")));
        assertInstanceOf(ApiException.class, taken.getCause());
        Thread.sleep(400);
        Account made = await(accounts.create(new Account(AccountStore.newUserId(), "halfway", "Half Way"), ""));
        assertEquals(made.userId(), await(accounts.findByUsername("halfway")).orElseThrow().account().userId());
        assertEquals(-1L, await(commands.pttl("parley:username:halfway")), "the claim lasts once the account is made");
        assertTrue(await(accounts.search("half", null, 10)).users().stream()
                .anyMatch(user -> user.userId().equals(made.userId())), "and it is found");
    }
}
