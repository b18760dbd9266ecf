// One WebSocket to the gateway per signed-in tab. It says hello with the token (and the previous
// session id, so a reload or a dropped connection takes its own session lock back at once), reconnects
// with backoff after a drop, and stops for good when the server says the session belongs elsewhere.
import type { User } from "../api/client";
import {
  type ClientMessage,
  type ServerMessage,
  WsCloseCode,
  WsErrorCode,
  parseServerMessage,
} from "./messages";
import { Requests } from "./requests";

export type BlockedReason = "session.active" | "session.replaced";

export type ConnectionState =
  | { kind: "connecting" }
  | { kind: "open"; sessionId: string; user: User }
  | { kind: "reconnecting"; attempt: number }
  | { kind: "blocked"; reason: BlockedReason }
  | { kind: "unauthorized" }
  /** The token was revoked (signed out elsewhere, password changed) or expired; `message` says which. */
  | { kind: "signedOut"; message: string }
  | { kind: "closed" };

/** Where the current tab keeps its session id between reloads (sessionStorage in the browser). */
export interface SessionIdStore {
  get(): string | null;
  set(sessionId: string): void;
  clear(): void;
}

/** The part of the browser's WebSocket this class uses. */
export interface SocketLike {
  /** 1 while open; a closing socket must not be written to (the browser logs an error). */
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface ConnectionOptions {
  url: string;
  token: string;
  sessionIds: SessionIdStore;
  createSocket?: (url: string) => SocketLike;
  timers?: Timers;
  random?: () => number;
}

/** Delay before reconnect attempt `attempt` (1-based): 0.5 s doubling to 10 s, with ±20 % jitter. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** ws:// or wss:// URL of the gateway socket for a page at `location`. */
export function socketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
}

type Listener<T> = (value: T) => void;

const socketOpen = 1;

export class Connection {
  private state: ConnectionState = { kind: "closed" };
  private socket: SocketLike | null = null;
  private reconnectTimer: unknown = null;
  private attempt = 0;
  private stopped = true;
  private presenceIds: string[] = [];
  private readonly stateListeners = new Set<Listener<ConnectionState>>();
  private readonly messageListeners = new Set<Listener<ServerMessage>>();
  private readonly createSocket: (url: string) => SocketLike;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly requests: Requests;
  private token: string;

  constructor(private readonly options: ConnectionOptions) {
    this.token = options.token;
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.timers = options.timers ?? {
      set: (callback, ms) => setTimeout(callback, ms),
      clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    this.random = options.random ?? Math.random;
    this.requests = new Requests((message) => this.write(message), this.timers);
  }

  get current(): ConnectionState {
    return this.state;
  }

  onState(listener: Listener<ConnectionState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onMessage(listener: Listener<ServerMessage>): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    this.attempt = 0;
    this.open({ kind: "connecting" });
  }

  /** Tries again after the server refused the session (the Retry button). */
  retry(): void {
    if (this.state.kind !== "blocked") return;
    this.start();
  }

  /** Skips the rest of the backoff wait, e.g. when the browser comes back online. */
  reconnectNow(): void {
    if (this.state.kind !== "reconnecting" || this.socket) return;
    this.cancelReconnect();
    this.open(this.state);
  }

  /**
   * Uses a fresh token from now on: the next hello carries it, and an open session is handed it
   * (`session.renew`), so the socket outlives the old token. Resolves once the server took it.
   */
  renewToken(token: string): Promise<void> {
    if (token === this.token) return Promise.resolve();
    this.token = token;
    if (this.state.kind !== "open") return Promise.resolve();
    return this.requests.request({ type: "session.renew", token }).then(() => undefined);
  }

  /** Closes for good (sign out, tab teardown). */
  stop(): void {
    this.stopped = true;
    this.cancelReconnect();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      socket.close(1000, "client closing");
    }
    this.requests.abandonAll();
    this.setState({ kind: "closed" });
  }

  /**
   * Adds users whose presence is wanted. Subscriptions add up on the server, so only new ids are sent
   * on a live connection; a new connection gets the whole list after its welcome.
   */
  watchPresence(userIds: string[]): void {
    const added = [...new Set(userIds)].filter((id) => !this.presenceIds.includes(id));
    if (added.length === 0) return;
    this.presenceIds = [...this.presenceIds, ...added];
    if (this.state.kind === "open") this.sendPresenceSubscription(added);
  }

  /**
   * Sends a request on the open session; resolves with its answer (matched by id), rejects with a RequestError:
   * the server's error, or `disconnected` / `timeout` / `too_many_requests` (requests.ts).
   */
  request(message: ClientMessage, timeoutMs?: number): ReturnType<Requests["request"]> {
    return this.requests.request(message, timeoutMs);
  }

  private write(message: ClientMessage): boolean {
    if (!this.socket || this.socket.readyState !== socketOpen || this.state.kind !== "open") return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private open(stateWhileOpening: ConnectionState): void {
    this.setState(stateWhileOpening);
    let refusal: ConnectionState | null = null;
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.options.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const resume = this.options.sessionIds.get();
      const hello: ClientMessage = resume
        ? { type: "hello", token: this.token, resume }
        : { type: "hello", token: this.token };
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      const message = parseServerMessage(event.data);
      if (!message) return;
      if (message.type !== "welcome" && this.requests.settle(message)) return;
      if (message.type === "welcome") {
        this.attempt = 0;
        this.options.sessionIds.set(message.sessionId);
        this.setState({ kind: "open", sessionId: message.sessionId, user: message.user });
        if (this.presenceIds.length > 0) this.sendPresenceSubscription(this.presenceIds);
      } else if (message.type === "error") {
        refusal = refusalFor(message.code, message.message) ?? refusal;
        // A session id the server refused or replaced must not be offered again.
        if (refusal?.kind === "blocked") this.options.sessionIds.clear();
      }
      this.emit(message);
    };
    socket.onerror = () => {
      // The close event that always follows decides what happens next.
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      detach(socket);
      this.socket = null;
      this.requests.abandonAll();
      if (this.stopped) return;
      const final = refusal ?? refusalForClose(event.code, event.reason);
      if (final) {
        if (final.kind === "blocked") this.options.sessionIds.clear();
        this.setState(final);
      } else {
        this.scheduleReconnect();
      }
    };
  }

  private scheduleReconnect(): void {
    this.attempt += 1;
    const attempt = this.attempt;
    this.setState({ kind: "reconnecting", attempt });
    this.reconnectTimer = this.timers.set(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this.open({ kind: "reconnecting", attempt });
    }, reconnectDelay(attempt, this.random));
  }

  private cancelReconnect(): void {
    if (this.reconnectTimer !== null) this.timers.clear(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private sendPresenceSubscription(userIds: string[]): void {
    // A lost subscription is sent again with the whole list after the next welcome.
    this.request({ type: "presence.subscribe", userIds }).catch(() => undefined);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private emit(message: ServerMessage): void {
    for (const listener of this.messageListeners) listener(message);
  }
}

const signedOutMessage = "You were signed out. Please sign in again.";

function refusalFor(code: string, message: string): ConnectionState | null {
  switch (code) {
    case WsErrorCode.sessionEnded:
      return { kind: "signedOut", message: message || signedOutMessage };
    case WsErrorCode.sessionActive:
      return { kind: "blocked", reason: "session.active" };
    case WsErrorCode.sessionReplaced:
      return { kind: "blocked", reason: "session.replaced" };
    case WsErrorCode.authInvalid:
      return { kind: "unauthorized" };
    default:
      return null;
  }
}

function refusalForClose(code: number, reason: string): ConnectionState | null {
  if (code === WsCloseCode.unauthorized) return { kind: "unauthorized" };
  if (code === WsCloseCode.signedOut) return { kind: "signedOut", message: reason || signedOutMessage };
  if (code === WsCloseCode.sessionConflict) return { kind: "blocked", reason: "session.active" };
  return null;
}

function detach(socket: SocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onerror = null;
  socket.onclose = null;
}
