import { describe, expect, it } from "vitest";
import type { KeyValueStorage } from "../session/storage";
import { PendingQueue, compareMessageIds, newClientMsgId } from "./pending";

function memoryStorage(): KeyValueStorage {
  const data = new Map<string, string>();
  return {
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

function counterIds() {
  let n = 0;
  return () => `c-${++n}`;
}

describe("newClientMsgId", () => {
  it("uses only the characters the server accepts, within 64", () => {
    const id = newClientMsgId(() => "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(newClientMsgId(() => "x".repeat(100)).length).toBe(64);
  });
});

describe("PendingQueue", () => {
  it("keeps a message until it is acknowledged, then resends nothing", () => {
    const queue = new PendingQueue(null, counterIds());
    const sent = queue.add("m1", "hello");
    expect(queue.unacknowledged()).toEqual([sent]);
    expect(queue.resolve(sent.clientMsgId)).toEqual(sent);
    expect(queue.unacknowledged()).toEqual([]);
    expect(queue.resolve(sent.clientMsgId)).toBeNull();
  });

  it("resends every unacknowledged message after a reconnect, oldest first, with the same ids", () => {
    const queue = new PendingQueue(null, counterIds());
    const a = queue.add("m1", "one");
    const b = queue.add("m2", "two");
    const c = queue.add("m1", "three");
    queue.resolve(b.clientMsgId);
    expect(queue.unacknowledged().map((m) => m.clientMsgId)).toEqual([a.clientMsgId, c.clientMsgId]);
    expect(queue.forMeeting("m1").map((m) => m.text)).toEqual(["one", "three"]);
  });

  it("does not resend a message the server refused until the user retries it", () => {
    const queue = new PendingQueue(null, counterIds());
    const a = queue.add("m1", "one");
    expect(queue.fail(a.clientMsgId, "This meeting is archived")).toBe(true);
    expect(queue.unacknowledged()).toEqual([]);
    expect(queue.forMeeting("m1")[0]).toMatchObject({ status: "failed", error: "This meeting is archived" });
    expect(queue.retry(a.clientMsgId)).toMatchObject({ clientMsgId: a.clientMsgId, status: "sending" });
    expect(queue.unacknowledged().map((m) => m.clientMsgId)).toEqual([a.clientMsgId]);
  });

  it("survives a reload of the tab", () => {
    const storage = memoryStorage();
    const first = new PendingQueue(storage, counterIds());
    const a = first.add("m1", "typed before the reload");
    const again = new PendingQueue(storage, counterIds());
    expect(again.unacknowledged()).toEqual([a]);
    again.resolve(a.clientMsgId);
    expect(new PendingQueue(storage).unacknowledged()).toEqual([]);
  });

  it("forgets a meeting's messages when the user is no longer in it", () => {
    const queue = new PendingQueue(null, counterIds());
    queue.add("m1", "one");
    queue.add("m2", "two");
    queue.dropMeeting("m1");
    expect(queue.unacknowledged().map((m) => m.meetingId)).toEqual(["m2"]);
  });
});

describe("compareMessageIds", () => {
  it("orders by time, then by sequence, numerically", () => {
    const ids = ["1700000000010-0", "1700000000002-10", "1700000000002-9", "999999999999-0"];
    expect([...ids].sort(compareMessageIds)).toEqual([
      "999999999999-0",
      "1700000000002-9",
      "1700000000002-10",
      "1700000000010-0",
    ]);
  });
});
