package dev.parley.signaling.ws;

import java.util.concurrent.CompletableFuture;

/** What a capability hears of a connection's life; every call runs on the connection's event loop. */
public interface ConnectionListener {

    /** Signed in and welcomed. */
    default void live(Connection connection) {
    }

    /** The client answered the server's latest ping (an unsolicited pong never gets here). */
    default void pong(Connection connection) {
    }

    /**
     * The socket of a live connection went away (in any way); called once, before {@link #ending}. What the
     * connection registered elsewhere is taken back here.
     */
    default void closed(Connection connection) {
    }

    /**
     * The connection is closing (by the server, the client or shutdown); called once. Completes when what must
     * happen before the goodbye (the session lock's release) is done.
     */
    default CompletableFuture<Void> ending(Connection connection) {
        return CompletableFuture.completedFuture(null);
    }
}
