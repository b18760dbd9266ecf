package dev.parley.signaling.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {
    private final ExecutorService pool = Executors.newFixedThreadPool(2);

    @AfterEach
    void tearDown() {
        pool.shutdownNow();
    }

    @Test
    void oneCallStuckInASlowOperationDoesNotHoldUpAnother() throws Exception {
        SerialExecutor slowCall = new SerialExecutor(pool, 100);
        SerialExecutor otherCall = new SerialExecutor(pool, 100);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch otherDone = new CountDownLatch(1);
        slowCall.execute(() -> {
            try {
                release.await(10, TimeUnit.SECONDS); // a media server that takes its time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        otherCall.execute(otherDone::countDown);
        assertTrue(otherDone.await(2, TimeUnit.SECONDS), "the other call went ahead");
        release.countDown();
    }

    @Test
    void aCallsOperationsRunOneAtATimeInOrder() throws Exception {
        SerialExecutor call = new SerialExecutor(pool, 1000);
        List<Integer> seen = new CopyOnWriteArrayList<>();
        int[] running = {0};
        int[] mostAtOnce = {0};
        CountDownLatch done = new CountDownLatch(500);
        for (int i = 0; i < 500; i++) {
            int n = i;
            call.execute(() -> {
                synchronized (running) {
                    mostAtOnce[0] = Math.max(mostAtOnce[0], ++running[0]);
                }
                seen.add(n);
                synchronized (running) {
                    running[0]--;
                }
                done.countDown();
            });
        }
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertEquals(1, mostAtOnce[0]);
        for (int i = 0; i < 500; i++) {
            assertEquals(i, seen.get(i));
        }
    }

    @Test
    void refusesWorkBeyondItsLimitAndKeepsGoingAfterAFailure() throws Exception {
        SerialExecutor call = new SerialExecutor(pool, 2);
        CountDownLatch release = new CountDownLatch(1);
        call.execute(() -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread.sleep(100); // the first task is running, not waiting
        call.execute(() -> {
            throw new IllegalStateException("a failing operation");
        });
        CountDownLatch after = new CountDownLatch(1);
        call.execute(after::countDown);
        assertThrows(RejectedExecutionException.class, () -> call.execute(() -> { }));
        release.countDown();
        assertTrue(after.await(2, TimeUnit.SECONDS), "work after a failing task still runs");
    }
}
