import { describe, expect, it } from "vitest";
import { FakeServer, serverMessage } from "../ws/testing";
import { RingController, type RingTimers, outcomeShownMs } from "./ringing";

// The examples are Ann (u1) calling Ben (u2) over ring r1 in their direct chat m1.
const ann = { userId: "u1", displayName: "Ann" };
const ben = { userId: "u2", displayName: "Ben" };

class FakeTimers implements RingTimers {
  readonly pending: Array<{ callback: () => void; ms: number; cleared: boolean }> = [];
  set(callback: () => void, ms: number) {
    const timer = { callback, ms, cleared: false };
    this.pending.push(timer);
    return timer;
  }
  clear(handle: unknown) {
    (handle as { cleared: boolean }).cleared = true;
  }
  /** Runs the live timers that are due within `ms`. */
  run(ms: number) {
    for (const timer of this.pending.splice(0)) {
      if (timer.cleared) continue;
      if (timer.ms <= ms) timer.callback();
      else this.pending.push(timer);
    }
  }
}

function setup(selfId: string) {
  const server = new FakeServer();
  const timers = new FakeTimers();
  const joined: Array<{ meetingId: string; mode: string }> = [];
  /** The calls the caller waits in while ringing, and leaves when nobody answers. */
  const waits: string[] = [];
  const rings = new RingController({
    selfId,
    request: (message) => server.request(message),
    timers,
    onAccepted: (meetingId, mode) => joined.push({ meetingId, mode }),
    onRinging: (meetingId, mode) => waits.push(`wait ${meetingId} ${mode}`),
    onUnanswered: (meetingId) => waits.push(`leave ${meetingId}`),
  });
  return { server, timers, joined, waits, rings };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the caller", () => {
  it("rings, waits in the direct chat's call, and joins it once when it is accepted", async () => {
    const { server, joined, waits, rings } = setup(ann.userId);
    rings.call(ben, "video");
    expect(server.last("ring.start")).toMatchObject({ userId: "u2", media: "video" });
    expect(rings.view.get()).toMatchObject({ kind: "outgoing", phase: "calling", calleeName: "Ben" });
    server.answer("ring.start", "ringStarted");
    await settle();
    expect(rings.view.get()).toMatchObject({ kind: "outgoing", phase: "ringing", ringId: "r1" });
    expect(waits).toEqual(["wait m1 full"]);
    rings.handle(serverMessage("ringAccepted"));
    rings.handle(serverMessage("ringAccepted"));
    expect(rings.view.get()).toEqual({ kind: "none" });
    expect(joined).toEqual([{ meetingId: "m1", mode: "full" }]);
    expect(waits, "accepted: the call goes on").toEqual(["wait m1 full"]);
  });

  it("shows Busy at once without waiting in a call, and closes it after a while", async () => {
    const { server, timers, waits, rings } = setup(ann.userId);
    rings.call(ben, "audio");
    server.answer("ring.start", "ringBusy");
    await settle();
    expect(rings.view.get()).toMatchObject({ phase: "busy" });
    expect(waits).toEqual([]);
    timers.run(outcomeShownMs);
    expect(rings.view.get()).toEqual({ kind: "none" });
  });

  it("shows the server's reason when ringing is refused", async () => {
    const { server, rings } = setup(ann.userId);
    rings.call(ben, "video");
    server.answer("ring.start", "ringLimited");
    await settle();
    expect(rings.view.get()).toMatchObject({ phase: "failed", message: expect.stringContaining("too many calls") });
  });

  it("turns a decline and a timeout into their outcomes, leaving the call it waited in each time", async () => {
    const { server, timers, waits, rings } = setup(ann.userId);
    rings.call(ben, "video");
    server.answer("ring.start", "ringStarted");
    await settle();
    rings.handle(serverMessage("ringAccepted", { state: "declined", timeoutMs: 0 }));
    rings.handle(serverMessage("ringAccepted", { state: "declined", timeoutMs: 0 }));
    expect(rings.view.get()).toMatchObject({ phase: "declined" });
    expect(waits).toEqual(["wait m1 full", "leave m1"]);
    rings.dismiss();
    rings.call(ben, "video");
    server.answer("ring.start", "ringStarted", { ringId: "r2" });
    await settle();
    rings.handle(serverMessage("ringAccepted", { ringId: "r2", state: "missed", timeoutMs: 0 }));
    expect(rings.view.get()).toMatchObject({ phase: "missed" });
    // Should the server's word never come, the client's own clock says No answer.
    rings.dismiss();
    rings.call(ben, "video");
    server.answer("ring.start", "ringStarted", { ringId: "r3" });
    await settle();
    timers.run(40_000);
    expect(rings.view.get()).toMatchObject({ phase: "missed", ringId: "r3" });
    expect(waits.filter((w) => w.startsWith("leave"))).toHaveLength(3);
  });

  it("cancels and leaves the call it waited in", async () => {
    const { server, waits, rings } = setup(ann.userId);
    rings.call(ben, "video");
    server.answer("ring.start", "ringStarted");
    await settle();
    rings.cancel();
    server.answer("ring.cancel", "ringAccepted", { re: server.last("ring.cancel").id, state: "cancelled" });
    await settle();
    expect(waits).toEqual(["wait m1 full", "leave m1"]);
  });

  it("cancels; should the callee have accepted first, the call goes ahead", async () => {
    const { server, joined, rings } = setup(ann.userId);
    rings.call(ben, "video");
    server.answer("ring.start", "ringStarted");
    await settle();
    rings.cancel();
    expect(server.last("ring.cancel")).toMatchObject({ ringId: "r1" });
    expect(rings.view.get()).toEqual({ kind: "none" });
    server.answer("ring.cancel", "ringAccepted", { re: server.last("ring.cancel").id });
    await settle();
    expect(joined).toEqual([{ meetingId: "m1", mode: "full" }]);
  });

  it("cancelling before the server answered stops the ring its answer names", async () => {
    const { server, rings } = setup(ann.userId);
    rings.call(ben, "video");
    rings.cancel();
    server.answer("ring.start", "ringStarted");
    await settle();
    expect(server.last("ring.cancel")).toMatchObject({ ringId: "r1" });
    expect(rings.view.get()).toEqual({ kind: "none" });
  });
});

describe("the callee", () => {
  it("sees the card, accepts with audio only, and joins once without video", async () => {
    const { server, joined, rings } = setup(ben.userId);
    rings.handle(serverMessage("ringIncoming"));
    expect(rings.view.get()).toMatchObject({ kind: "incoming", ring: { callerName: "Ann", media: "video" } });
    rings.accept("audio-only");
    expect(server.last("ring.accept")).toMatchObject({ ringId: "r1" });
    rings.handle(serverMessage("ringAccepted"));
    server.answer("ring.accept", "ringAccepted", { re: server.last("ring.accept").id });
    await settle();
    expect(rings.view.get()).toEqual({ kind: "none" });
    expect(joined).toEqual([{ meetingId: "m1", mode: "audio-only" }]);
  });

  it("learns that the caller cancelled first, and joins nothing", async () => {
    const { server, joined, rings } = setup(ben.userId);
    rings.handle(serverMessage("ringIncoming"));
    rings.accept("full");
    server.answer("ring.accept", "ringAccepted", { re: server.last("ring.accept").id, state: "cancelled" });
    await settle();
    expect(rings.view.get()).toEqual({ kind: "none" });
    expect(joined).toEqual([]);
  });

  it("declines; the card goes and a repeated push does not bring it back", async () => {
    const { server, rings } = setup(ben.userId);
    rings.handle(serverMessage("ringIncoming"));
    rings.decline();
    expect(server.last("ring.decline")).toMatchObject({ ringId: "r1" });
    server.answer("ring.decline", "ringAccepted", { re: server.last("ring.decline").id, state: "declined" });
    await settle();
    rings.handle(serverMessage("ringIncoming"));
    expect(rings.view.get()).toEqual({ kind: "none" });
  });

  it("loses the card when the caller cancels or the ring times out", () => {
    const { timers, rings } = setup(ben.userId);
    rings.handle(serverMessage("ringIncoming"));
    rings.handle(serverMessage("ringAccepted", { state: "cancelled" }));
    expect(rings.view.get()).toEqual({ kind: "none" });
    rings.handle(serverMessage("ringIncoming", { ringId: "r2" }));
    timers.run(29_500 + 5_000);
    expect(rings.view.get()).toEqual({ kind: "none" });
  });

  it("joining the direct chat's call while it rings accepts the ring", () => {
    const { server, rings } = setup(ben.userId);
    expect(rings.joining("m2")).toBe(false);
    rings.handle(serverMessage("ringIncoming"));
    expect(rings.joining("m1")).toBe(true);
    expect(server.last("ring.accept")).toMatchObject({ ringId: "r1" });
  });

  it("an accepted push for a ring it did not answer joins nothing", () => {
    const { joined, rings } = setup(ben.userId);
    rings.handle(serverMessage("ringIncoming"));
    rings.handle(serverMessage("ringAccepted"));
    expect(joined).toEqual([]);
  });
});
