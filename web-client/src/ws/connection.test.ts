import { describe, expect, it } from "vitest";
import examples from "../../../docs/protocol-examples.json";
import { Connection, type ConnectionState, type SocketLike, reconnectDelay, socketUrl } from "./connection";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closedWith: number | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("sent on a socket that is not open");
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 2;
  }
  serverOpens(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverStartsClosing(): void {
    this.readyState = 2;
  }
  serverSends(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  serverCloses(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

class ManualTimers {
  pending: { callback: () => void; ms: number }[] = [];
  set(callback: () => void, ms: number) {
    const entry = { callback, ms };
    this.pending.push(entry);
    return entry;
  }
  clear(handle: unknown) {
    this.pending = this.pending.filter((e) => e !== handle);
  }
  fireNext() {
    const entry = this.pending.shift();
    if (!entry) throw new Error("no timer pending");
    entry.callback();
  }
}

const alice = { userId: "u1", username: "alice", displayName: "Alice" };

function setup(storedSessionId: string | null = null) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  let sessionId = storedSessionId;
  const states: ConnectionState[] = [];
  const connection = new Connection({
    url: "ws://127.0.0.1:8080/ws",
    token: "tok",
    sessionIds: { get: () => sessionId, set: (id) => (sessionId = id), clear: () => (sessionId = null) },
    createSocket: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      return socket;
    },
    timers,
    random: () => 0.5,
  });
  connection.onState((s) => states.push(s));
  return { connection, sockets, timers, states, sessionId: () => sessionId };
}

describe("Connection", () => {
  it("says hello with the token and keeps the session id it is welcomed with", () => {
    const { connection, sockets, sessionId } = setup();
    connection.start();
    sockets[0].serverOpens();
    expect(sockets[0].sent).toEqual([{ type: "hello", token: "tok" }]);
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    expect(connection.current).toEqual({ kind: "open", sessionId: "s-1", user: alice });
    expect(sessionId()).toBe("s-1");
  });

  it("offers the tab's previous session id so a reload takes its own lock back", () => {
    const { connection, sockets } = setup("s-old");
    connection.start();
    sockets[0].serverOpens();
    expect(sockets[0].sent).toEqual([{ type: "hello", token: "tok", resume: "s-old" }]);
  });

  it("reconnects after a drop with backoff and resumes the same session", () => {
    const { connection, sockets, timers } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    sockets[0].serverCloses(1006);
    expect(connection.current).toEqual({ kind: "reconnecting", attempt: 1 });
    expect(timers.pending[0].ms).toBe(500);
    timers.fireNext();
    sockets[1].serverCloses(1006);
    expect(timers.pending[0].ms).toBe(1000);
    timers.fireNext();
    sockets[2].serverOpens();
    expect(sockets[2].sent).toEqual([{ type: "hello", token: "tok", resume: "s-1" }]);
    sockets[2].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    expect(connection.current.kind).toBe("open");
  });

  it("reconnects when the server goes away for a restart", () => {
    const { connection, sockets } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    sockets[0].serverCloses(1001);
    expect(connection.current.kind).toBe("reconnecting");
  });

  it("stops and reports the session as open elsewhere when the server refuses it", () => {
    const { connection, sockets, timers, sessionId } = setup("s-stale");
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "error", code: "session.active", message: "You already have an active session" });
    sockets[0].serverCloses(4409);
    expect(connection.current).toEqual({ kind: "blocked", reason: "session.active" });
    expect(timers.pending).toHaveLength(0);
    expect(sessionId()).toBeNull();
  });

  it("treats close code 4409 without an error frame as a refused session", () => {
    const { connection, sockets } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverCloses(4409);
    expect(connection.current).toEqual({ kind: "blocked", reason: "session.active" });
  });

  it("tells a replaced session apart from one that was never let in", () => {
    const { connection, sockets } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    sockets[0].serverSends({ type: "error", code: "session.replaced", message: "replaced" });
    sockets[0].serverCloses(4409);
    expect(connection.current).toEqual({ kind: "blocked", reason: "session.replaced" });
  });

  it("retries on request after being refused", () => {
    const { connection, sockets } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverCloses(4409);
    connection.retry();
    expect(connection.current.kind).toBe("connecting");
    sockets[1].serverOpens();
    sockets[1].serverSends({ type: "welcome", sessionId: "s-2", user: alice });
    expect(connection.current.kind).toBe("open");
  });

  it("reports an invalid token as unauthorized and does not reconnect", () => {
    const { connection, sockets, timers } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "error", code: "auth.invalid", message: "bad token" });
    sockets[0].serverCloses(4401);
    expect(connection.current).toEqual({ kind: "unauthorized" });
    expect(timers.pending).toHaveLength(0);
  });

  it("returns to sign-in with the server's reason when the token was revoked, and does not reconnect", () => {
    const { connection, sockets, timers } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    sockets[0].serverSends(examples.sessionEnded);
    sockets[0].serverCloses(4410);
    expect(connection.current).toEqual({ kind: "signedOut", message: examples.sessionEnded.message });
    expect(timers.pending).toHaveLength(0);
  });

  it("treats close 4410 without an error message as signed out too", () => {
    const { connection, sockets, timers } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    sockets[0].serverCloses(4410);
    expect(connection.current.kind).toBe("signedOut");
    expect(timers.pending).toHaveLength(0);
  });

  it("hands a renewed token to the open session and says hello with it after a reconnect", async () => {
    const { connection, sockets, timers } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    const renewed = connection.renewToken("token-2");
    expect(sockets[0].sent[1]).toEqual({ type: "session.renew", token: "token-2", id: "r1" });
    sockets[0].serverSends({ ...examples.ok, re: "r1" });
    await renewed;
    sockets[0].serverCloses(1006);
    timers.fireNext();
    sockets[1].serverOpens();
    expect(sockets[1].sent[0]).toEqual({ type: "hello", token: "token-2", resume: "s-1" });
  });

  it("keeps the connection on a bad_request error", () => {
    const { connection, sockets } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    sockets[0].serverSends({ type: "error", code: "bad_request", message: "unknown type" });
    expect(connection.current.kind).toBe("open");
  });

  it("subscribes to presence once open, adds new users, and subscribes again after every reconnect", () => {
    const { connection, sockets, timers } = setup();
    connection.watchPresence(["u2", "u1", "u2"]);
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    expect(sockets[0].sent[1]).toEqual({ type: "presence.subscribe", userIds: ["u2", "u1"], id: "r1" });
    connection.watchPresence(["u1", "u2"]);
    expect(sockets[0].sent).toHaveLength(2);
    connection.watchPresence(["u1", "u2", "u3"]);
    expect(sockets[0].sent[2]).toEqual({ type: "presence.subscribe", userIds: ["u3"], id: "r2" });
    sockets[0].serverCloses(1006);
    timers.fireNext();
    sockets[1].serverOpens();
    sockets[1].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    expect(sockets[1].sent[1]).toEqual({ type: "presence.subscribe", userIds: ["u2", "u1", "u3"], id: "r3" });
  });

  it("does not write to a socket that has started closing", async () => {
    const { connection, sockets } = setup();
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    sockets[0].serverStartsClosing();
    connection.watchPresence(["u2"]);
    await expect(connection.request({ type: "presence.subscribe", userIds: ["u3"] })).rejects.toMatchObject({ code: "disconnected" });
    expect(sockets[0].sent).toHaveLength(1);
  });

  it("matches answers to requests by id, passes events on, and fails what waits when the socket drops", async () => {
    const { connection, sockets } = setup();
    const seen: unknown[] = [];
    connection.onMessage((m) => seen.push(m));
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "welcome", sessionId: "s-1", user: alice });
    const join = connection.request({ type: "call.join", meetingId: "m1" });
    const leave = connection.request({ type: "call.leave", meetingId: "m2" });
    expect(sockets[0].sent.slice(1)).toEqual([
      { type: "call.join", meetingId: "m1", id: "r1" },
      { type: "call.leave", meetingId: "m2", id: "r2" },
    ]);
    sockets[0].serverSends({ ...examples.callJoinArchived, re: "r1" });
    await expect(join).rejects.toMatchObject({ code: "meeting.archived", message: "This meeting is archived" });
    sockets[0].serverSends(examples.callState);
    expect(seen.map((m) => (m as { type: string }).type)).toEqual(["welcome", "call.state"]);
    sockets[0].serverCloses(1006);
    await expect(leave).rejects.toMatchObject({ code: "disconnected" });
  });

  it("passes presence updates to listeners", () => {
    const { connection, sockets } = setup();
    const seen: unknown[] = [];
    connection.onMessage((m) => seen.push(m));
    connection.start();
    sockets[0].serverOpens();
    sockets[0].serverSends({ type: "presence", userId: "u2", status: "online" });
    expect(seen).toEqual([{ type: "presence", userId: "u2", status: "online" }]);
  });

  it("closes for good when stopped", () => {
    const { connection, sockets, timers } = setup();
    connection.start();
    sockets[0].serverOpens();
    connection.stop();
    expect(sockets[0].closedWith).toBe(1000);
    expect(connection.current.kind).toBe("closed");
    expect(timers.pending).toHaveLength(0);
  });
});

describe("reconnectDelay", () => {
  it("doubles from half a second up to ten seconds", () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => reconnectDelay(n, middle))).toEqual([
      500, 1000, 2000, 4000, 8000, 10000, 10000,
    ]);
  });

  it("spreads reconnects by up to a fifth either way", () => {
    expect(reconnectDelay(1, () => 0)).toBe(400);
    expect(reconnectDelay(1, () => 1)).toBe(600);
  });
});

describe("socketUrl", () => {
  it("uses the page's host and a matching scheme", () => {
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:8080" })).toBe("ws://127.0.0.1:8080/ws");
    expect(socketUrl({ protocol: "https:", host: "parley.example" })).toBe("wss://parley.example/ws");
  });
});
