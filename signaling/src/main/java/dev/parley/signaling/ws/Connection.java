package dev.parley.signaling.ws;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.protocol.ServerMessage;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * One client's WebSocket, as the capability handlers see it. Its state belongs to its event loop
 * ({@link #executor()}); the methods marked thread-safe hop onto it, the others must be called there.
 */
public interface Connection {

    /** Who signed in on this connection; {@code null} until it is live. */
    Account account();

    /** Shorthand for {@code account().userId()}. */
    String userId();

    /** This connection's session id (it starts with the gateway's node id); {@code null} until it is live. */
    String sessionId();

    /** Signed in, welcomed and not closed. */
    boolean isLive();

    /** Not yet signed in, and the socket is still there (it may go while the lock is being taken). */
    boolean isOpen();

    EventExecutor executor();

    /** A capability's own state on this connection, like Netty's channel attributes. */
    <T> Attribute<T> attr(AttributeKey<T> key);

    /** Sends an event that answers no request, while the connection is live. Thread-safe. */
    void push(ServerMessage message);

    /**
     * Sends the answer to the request with this id, while the connection is live ({@code null} when the request
     * carried none, in which case a bare {@code ok} is not sent at all). Thread-safe.
     */
    void answer(String requestId, ServerMessage message);

    /** Answers a request with an error; the connection stays open. Also before sign-in. */
    void reject(String requestId, ApiException error);

    /** Answers with an error, then closes with this WebSocket close code. */
    void fail(ErrorCode code, String message, int closeCode, String requestId);

    /** Closes with this WebSocket close code, after the capabilities were told it is ending. */
    void close(int code, String reason);

    /** The session capability signed this connection in: it becomes live and the capabilities are told. */
    void goLive(Account account, String sessionId);

    /**
     * Sends a WebSocket ping with a fresh random payload; only the pong that echoes it reaches
     * {@link ConnectionListener#pong} (unsolicited pongs are ignored).
     */
    void ping();

    /** Answers a request with what it completes with ({@code ok} for nothing), or with its error. */
    default void answerWith(String requestId, Supplier<? extends CompletionStage<? extends ServerMessage>> request) {
        started(request).whenComplete((message, failure) -> executor().execute(() -> {
            if (failure != null) {
                reject(requestId, ApiException.from(failure));
            } else {
                answer(requestId, message == null ? new ServerMessage.Ok() : message);
            }
        }));
    }

    /** For operations that send their own answer: only a failure is answered here. */
    default void answerFailureOf(String requestId, Supplier<? extends CompletionStage<?>> request) {
        started(request).whenComplete((ok, failure) -> {
            if (failure != null) {
                executor().execute(() -> reject(requestId, ApiException.from(failure)));
            }
        });
    }

    private static <T> CompletionStage<? extends T> started(Supplier<? extends CompletionStage<? extends T>> request) {
        try {
            return request.get();
        } catch (RuntimeException e) {
            // A request refused at once (busy, disabled) is answered like any other failure; the socket stays.
            return CompletableFuture.failedFuture(e);
        }
    }
}
