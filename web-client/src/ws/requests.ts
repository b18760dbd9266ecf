// Requests and their answers over the socket. Every request gets an id; the server echoes it as `re` on the
// answer, success or error, so an answer is matched to its request, never guessed from its type or fields.
import type { ClientMessage, ServerMessage } from "./messages";

/** Why a request got no successful answer: the server's error code, or one of the client's own below. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "RequestError";
  }
}

/** Client-side reasons a request failed (server codes are listed in docs/protocol.md). */
export const RequestFailure = {
  /** The socket was not open, or closed before the answer came. */
  disconnected: "disconnected",
  /** No answer within the request's time limit. */
  timeout: "timeout",
  /** Too many requests already waiting for answers. */
  tooMany: "too_many_requests",
} as const;

export interface RequestTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** How long an answer may take unless the caller says otherwise. */
export const defaultRequestTimeoutMs = 15_000;
/** Most requests waiting for answers at once; more are refused at once rather than queued. */
export const maxPendingRequests = 256;

type Answer = Exclude<ServerMessage, { type: "error" }>;

interface Pending {
  resolve(answer: Answer): void;
  reject(error: RequestError): void;
  timer: unknown;
}

export class Requests {
  private readonly pending = new Map<string, Pending>();
  private next = 0;

  constructor(
    /** Writes a frame; false when the socket is not open. */
    private readonly write: (message: ClientMessage) => boolean,
    private readonly timers: RequestTimers,
  ) {}

  /** Sends a request; resolves with its answer, rejects with a RequestError (the server's, or a client one). */
  request(message: ClientMessage, timeoutMs = defaultRequestTimeoutMs): Promise<Answer> {
    if (this.pending.size >= maxPendingRequests) {
      return Promise.reject(new RequestError(RequestFailure.tooMany, "Too many requests are waiting for answers."));
    }
    this.next += 1;
    const id = `r${this.next}`;
    if (!this.write({ ...message, id })) {
      return Promise.reject(new RequestError(RequestFailure.disconnected, "Not connected to the server."));
    }
    return new Promise<Answer>((resolve, reject) => {
      const timer = this.timers.set(() => {
        if (this.pending.delete(id)) {
          reject(new RequestError(RequestFailure.timeout, "The server didn't answer in time."));
        }
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  /** Settles the request a message answers; false when it answers none of ours (an event, or a late answer). */
  settle(message: ServerMessage): boolean {
    if (message.re === undefined) return false;
    const pending = this.pending.get(message.re);
    if (!pending) return false;
    this.pending.delete(message.re);
    this.timers.clear(pending.timer);
    if (message.type === "error") pending.reject(new RequestError(message.code, message.message));
    else pending.resolve(message);
    return true;
  }

  /** The socket closed: no answer will come to what is waiting. */
  abandonAll(): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const pending of waiting) {
      this.timers.clear(pending.timer);
      pending.reject(new RequestError(RequestFailure.disconnected, "The connection to the server was lost."));
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
