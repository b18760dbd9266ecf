package dev.parley.media.loadtest;

/** The endpoints of one phase of a run (Parley, or the plain UDP baseline) and the relay they go through. */
interface Fleet extends AutoCloseable {
    String name();

    /** Where the relay is, for the report. */
    String target();

    /** Connects one conference's endpoints; its streams start sending as soon as their publisher is connected. */
    void connectConference(int conference) throws Exception;

    /** The relay's counters now; CPU seconds are NaN where they cannot be known. */
    ServerSnapshot serverSnapshot();

    /** Packets the load generator's own transports dropped so far, by reason (SRTP failures, replays, ...). */
    default java.util.Map<String, Long> clientDrops() {
        return java.util.Map.of();
    }

    /** CPU seconds the load generator's own work has used so far. */
    double clientCpuSeconds();

    /** Periodic upkeep on the conductor thread (about once a second). */
    default void tick() {
    }

    @Override
    void close();
}
