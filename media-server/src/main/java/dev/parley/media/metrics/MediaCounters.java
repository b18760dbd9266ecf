package dev.parley.media.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Packet and byte counters, and one counter per drop reason. Cheap enough for the hot path:
 * {@link LongAdder} allocates only when threads contend for the first time.
 */
public final class MediaCounters {
    private final LongAdder[] drops = new LongAdder[DropReason.values().length];
    private final LongAdder packetsIn = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder packetsOut = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder iceChecks = new LongAdder();
    private final LongAdder icePathSwitches = new LongAdder();
    private final LongAdder layerSwitches = new LongAdder();
    private final LongAdder dominantSpeakerChanges = new LongAdder();
    private final LongAdder retransmissionsRequested = new LongAdder();
    private final LongAdder packetsRecovered = new LongAdder();
    /** HTTP requests refused, by error code (a closed set; anything past {@link #MAX_REFUSAL_CODES} is "other"). */
    private final Map<String, LongAdder> refusals = new ConcurrentHashMap<>();
    private static final int MAX_REFUSAL_CODES = 64;

    public MediaCounters() {
        for (int i = 0; i < drops.length; i++) {
            drops[i] = new LongAdder();
        }
    }

    public void drop(DropReason reason) {
        drops[reason.ordinal()].increment();
    }

    public void drop(DropReason reason, long count) {
        drops[reason.ordinal()].add(count);
    }

    /** Packets asked of publishers again (NACK entries, repeats included). */
    public void retransmissionsRequested(long count) {
        retransmissionsRequested.add(count);
    }

    /** A publisher's packet that was missing arrived as a retransmission the server asked for, and went on. */
    public void packetRecovered() {
        packetsRecovered.increment();
    }

    public long retransmissionsRequested() {
        return retransmissionsRequested.sum();
    }

    public long packetsRecovered() {
        return packetsRecovered.sum();
    }

    public void received(int bytes) {
        packetsIn.increment();
        bytesIn.add(bytes);
    }

    public void sent(int bytes) {
        packetsOut.increment();
        bytesOut.add(bytes);
    }

    /** A STUN binding request with valid credentials was answered with success. */
    public void iceCheckAnswered() {
        iceChecks.increment();
    }

    /** A transport moved its media to another remote address (a new nomination, or its first path). */
    public void icePathSelected() {
        icePathSwitches.increment();
    }

    /** A receiver's video moved to another layer (or started, or resumed after a pause). */
    public void layerSwitched(long count) {
        layerSwitches.add(count);
    }

    public void dominantSpeakerChanged() {
        dominantSpeakerChanges.increment();
    }

    public long dominantSpeakerChanges() {
        return dominantSpeakerChanges.sum();
    }

    public long layerSwitches() {
        return layerSwitches.sum();
    }

    public long iceChecks() {
        return iceChecks.sum();
    }

    public long icePathSwitches() {
        return icePathSwitches.sum();
    }

    public long drops(DropReason reason) {
        return drops[reason.ordinal()].sum();
    }

    public long packetsIn() {
        return packetsIn.sum();
    }

    public long bytesIn() {
        return bytesIn.sum();
    }

    public long packetsOut() {
        return packetsOut.sum();
    }

    public long bytesOut() {
        return bytesOut.sum();
    }

    /** An HTTP request was answered with this error code (4xx or 5xx). */
    public void refused(String code) {
        String key = refusals.containsKey(code) || refusals.size() < MAX_REFUSAL_CODES ? code : "other";
        refusals.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    public long refusals(String code) {
        LongAdder adder = refusals.get(code);
        return adder == null ? 0 : adder.sum();
    }

    public Map<DropReason, Long> dropsByReason() {
        Map<DropReason, Long> result = new EnumMap<>(DropReason.class);
        for (DropReason reason : DropReason.values()) {
            result.put(reason, drops(reason));
        }
        return result;
    }
}
