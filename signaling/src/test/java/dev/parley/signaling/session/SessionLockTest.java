package dev.parley.signaling.session;

import dev.parley.signaling.store.RedisConnections;
import dev.parley.signaling.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionLockTest {

    private static RedisServer redisServer;
    private static RedisConnections redis;

    @BeforeAll
    static void startRedis() throws Exception {
        redisServer = RedisServer.start();
        redis = redisServer.connections();
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.close();
        redisServer.close();
    }

    private static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void fiftyConcurrentAcquiresForOneUserLetExactlyOneIn() throws Exception {
        SessionLock lock = new SessionLock(redis.async(), redis.durableWrites(write -> { }), Duration.ofSeconds(30));
        List<CompletableFuture<Boolean>> attempts = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            attempts.add(lock.acquire("racer", "s" + i).toCompletableFuture());
        }
        long winners = 0;
        for (CompletableFuture<Boolean> attempt : attempts) {
            if (attempt.get(5, TimeUnit.SECONDS)) {
                winners++;
            }
        }
        assertEquals(1, winners);
    }

    @Test
    void aStaleSessionCanNeitherRenewNorDeleteANewerSessionsLock() throws Exception {
        SessionLock lock = new SessionLock(redis.async(), redis.durableWrites(write -> { }), Duration.ofMillis(300));
        assertTrue(await(lock.acquire("stale", "old")));
        Thread.sleep(600);
        assertTrue(await(lock.acquire("stale", "new")), "the expired lock is free again");

        assertEquals(SessionLock.Renewal.REPLACED, await(lock.renew("stale", "old")));
        assertFalse(await(lock.release("stale", "old")));
        assertEquals("new", await(redis.async().get(SessionLock.lockKey("stale"))));
    }

    @Test
    void aLockExpiresWithinItsTtlWhenNobodyRenewsIt() throws Exception {
        SessionLock lock = new SessionLock(redis.async(), redis.durableWrites(write -> { }), Duration.ofMillis(500));
        assertTrue(await(lock.acquire("crashy", "a")));
        assertFalse(await(lock.acquire("crashy", "b")));
        Thread.sleep(800);
        assertNull(await(redis.async().get(SessionLock.lockKey("crashy"))));
        assertNull(await(redis.async().get(SessionLock.presenceKey("crashy"))), "presence expires with the lock");
        assertTrue(await(lock.acquire("crashy", "b")));
    }

    @Test
    void renewalKeepsTheLockAndReacquiresAnExpiredOne() throws Exception {
        SessionLock lock = new SessionLock(redis.async(), redis.durableWrites(write -> { }), Duration.ofMillis(400));
        assertTrue(await(lock.acquire("renewer", "x")));
        for (int i = 0; i < 4; i++) {
            Thread.sleep(200);
            assertEquals(SessionLock.Renewal.RENEWED, await(lock.renew("renewer", "x")));
        }
        Thread.sleep(700);
        assertEquals(SessionLock.Renewal.REACQUIRED, await(lock.renew("renewer", "x")));
        assertEquals("x", await(redis.async().get(SessionLock.lockKey("renewer"))));
    }

    @Test
    void resumeTakesBackOnlyTheCallersOwnLock() throws Exception {
        SessionLock lock = new SessionLock(redis.async(), redis.durableWrites(write -> { }), Duration.ofSeconds(30));
        assertTrue(await(lock.acquire("resumer", "first")));
        assertFalse(await(lock.resume("resumer", "guessed", "intruder")));
        assertTrue(await(lock.resume("resumer", "first", "second")));
        assertEquals("second", await(redis.async().get(SessionLock.lockKey("resumer"))));
        assertEquals(SessionLock.Renewal.REPLACED, await(lock.renew("resumer", "first")));
    }

    @Test
    void releaseDeletesOwnLockAndPresence() throws Exception {
        SessionLock lock = new SessionLock(redis.async(), redis.durableWrites(write -> { }), Duration.ofSeconds(30));
        assertTrue(await(lock.acquire("leaver", "mine")));
        assertEquals("online", await(redis.async().get(SessionLock.presenceKey("leaver"))));
        assertTrue(await(lock.release("leaver", "mine")));
        assertNull(await(redis.async().get(SessionLock.lockKey("leaver"))));
        assertNull(await(redis.async().get(SessionLock.presenceKey("leaver"))));
    }
}
