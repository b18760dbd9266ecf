package dev.parley.media.sfu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.media.metrics.DropReason;
import dev.parley.media.metrics.MediaCounters;
import dev.parley.media.rtp.Rtp;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetransmissionRequestsTest {
    private static final long MS = 1_000_000L;
    private static final long RTT = 50 * MS;
    private final MediaCounters counters = new MediaCounters();
    private final RetransmissionRequests requests = new RetransmissionRequests(counters);
    private final byte[] buf = new byte[4 * 300];

    /** The packets the NACK entries written now ask for, in order. */
    private List<Integer> due(long nowNanos, int maxEntries) {
        int entries = requests.writeDue(nowNanos, RTT, buf, 0, maxEntries);
        List<Integer> asked = new ArrayList<>();
        for (int e = 0; e < entries; e++) {
            int packetId = Rtp.readUint16(buf, 4 * e);
            int mask = Rtp.readUint16(buf, 4 * e + 2);
            asked.add(packetId);
            for (int bit = 0; bit < 16; bit++) {
                if ((mask & (1 << bit)) != 0) {
                    asked.add((packetId + bit + 1) & 0xffff);
                }
            }
        }
        return asked;
    }

    private List<Integer> due(long nowNanos) {
        return due(nowNanos, 300);
    }

    private void receive(long nowNanos, int... sequences) {
        for (int sequence : sequences) {
            requests.received(sequence, nowNanos);
        }
    }

    @Test
    void aGapIsAskedForAtOnceThenAgainOnlyAfterARoundTrip() {
        receive(0, 1, 2);
        assertTrue(requests.received(5, 0), "a gap is news for the timer");
        assertEquals(List.of(3, 4), due(MS));
        assertEquals(List.of(), due(30 * MS), "no repeat within the round trip");
        assertEquals(List.of(3, 4), due(52 * MS));
        assertEquals(4, requests.requested());
        assertEquals(4, counters.retransmissionsRequested());
    }

    @Test
    void aRetransmissionCountsOnceAndOnlyForAPacketStillMissing() {
        receive(0, 10, 13);
        due(MS);
        assertEquals(9 * MS, requests.recover(11, 10 * MS), "recovered, with a round-trip sample");
        assertEquals(RetransmissionRequests.NOT_WANTED, requests.recover(11, 10 * MS), "a second copy is not wanted");
        assertEquals(RetransmissionRequests.NOT_WANTED, requests.recover(10, 10 * MS),
                "nor one that arrived in the first place");
        assertEquals(List.of(12), due(60 * MS));
        assertEquals(60 * MS, requests.recover(12, 61 * MS), "asked twice: from the first request");
        assertEquals(RetransmissionRequests.NOT_WANTED, requests.recover(99, 61 * MS), "never missing");
        assertEquals(2, counters.packetsRecovered());
    }

    @Test
    void aLateOriginalIsNoLongerAskedFor() {
        receive(0, 100, 104);
        receive(MS, 102);
        assertEquals(List.of(101, 103), due(2 * MS));
        receive(3 * MS, 101, 103);
        assertFalse(requests.pending());
        assertEquals(List.of(), due(100 * MS));
    }

    @Test
    void farApartGapsTakeSeveralEntriesAndTheLimitLeavesTheRestForLater() {
        receive(0, 0, 40);
        List<Integer> asked = due(MS, 2);
        assertEquals(34, asked.size(), "two entries of 17 packets each");
        assertEquals(1, asked.get(0));
        assertEquals(18, asked.get(17));
        assertEquals(List.of(35, 36, 37, 38, 39), due(2 * MS, 2), "the rest at the next look");
    }

    @Test
    void sequenceNumbersWrapAround() {
        receive(0, 65533, 1);
        assertEquals(List.of(65534, 65535, 0), due(MS));
        assertTrue(requests.recover(65535, 0) != RetransmissionRequests.NOT_WANTED);
        assertTrue(requests.recover(0, 0) != RetransmissionRequests.NOT_WANTED);
        assertEquals(List.of(65534), due(60 * MS));
    }

    @Test
    void aPacketIsGivenUpAfterTenRequestsOrOneSecond() {
        receive(0, 1, 3);
        int asked = 0;
        for (long t = MS; t < 2000 * MS; t += 5 * MS) {
            asked += due(t).size();
        }
        assertEquals(RetransmissionRequests.MAX_REQUESTS, asked);
        assertFalse(requests.pending());
        assertEquals(1, counters.drops(DropReason.PUBLISHER_PACKET_LOST));

        receive(3000 * MS, 5);
        due(3000 * MS);
        // A round trip of 300 ms allows only four requests in a second: then it is too old to be of use.
        int slowAsked = 0;
        for (long t = 3001 * MS; t < 4500 * MS; t += 5 * MS) {
            slowAsked += requests.writeDue(t, 300 * MS, buf, 0, 300);
        }
        assertEquals(3, slowAsked, "three repeats after the first request, then it is a second old");
        assertEquals(2, counters.drops(DropReason.PUBLISHER_PACKET_LOST));
    }

    @Test
    void aJumpLongerThanTheListIsNotAskedForAndDropsWhatWasMissing() {
        receive(0, 1, 3);
        assertFalse(requests.received(3 + RetransmissionRequests.MAX_MISSING + 2, MS));
        assertFalse(requests.pending());
        assertEquals(List.of(), due(2 * MS));
        assertEquals(1, counters.drops(DropReason.PUBLISHER_PACKET_LOST));
        assertTrue(requests.received(3 + RetransmissionRequests.MAX_MISSING + 4, 3 * MS), "then gaps count again");
    }

    @Test
    void aFullListGivesUpItsOldestToTakeTheNewest() {
        receive(0, 0);
        for (int i = 1; i <= RetransmissionRequests.MAX_MISSING; i++) {
            receive(i * MS, 2 * i);
        }
        assertEquals(0, counters.drops(DropReason.PUBLISHER_PACKET_LOST));
        receive(300 * MS, 2 * RetransmissionRequests.MAX_MISSING + 2);
        assertEquals(1, counters.drops(DropReason.PUBLISHER_PACKET_LOST));
        List<Integer> asked = due(301 * MS);
        assertEquals(RetransmissionRequests.MAX_MISSING, asked.size());
        assertEquals(3, asked.get(0), "packet 1, the oldest, was given up");
    }
}
