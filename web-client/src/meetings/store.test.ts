import { FakeServer, serverMessage } from "../ws/testing";
import { describe, expect, it } from "vitest";
import { PendingQueue } from "../chat/pending";
import type { ChatMessage, ClientMessage, ServerMessage } from "../ws/messages";
import type { HistoryPage, Meeting, MeetingsApi } from "./api";
import { MeetingsStore, mergeMessages } from "./store";

function message(id: string, text: string, senderId: string | null = "bob", extra: Partial<ChatMessage> = {}): ChatMessage {
  return { messageId: id, senderId, senderName: senderId ?? "", text, sentAt: Number(id.split("-")[0]), clientMsgId: null, system: senderId === null, ...extra };
}

function meeting(id: string, lastActivity: number, unread = 0): Meeting {
  return {
    meetingId: id,
    title: id,
    description: "",
    ownerId: "me",
    createdAt: 0,
    lastActivity,
    archived: false,
    membersCanInvite: true,
    members: [],
    unread,
    lastMessage: null,
    kind: "meeting",
    peerId: null,
  };
}

function fakeApi(history: Record<string, ChatMessage[]>, list: Meeting[]) {
  const calls: string[] = [];
  const api: MeetingsApi = {
    list: async () => list.map((m) => ({ ...m })),
    get: async (id) => ({ ...list.find((m) => m.meetingId === id)! }),
    create: async () => {
      throw new Error("unused");
    },
    update: async () => {
      throw new Error("unused");
    },
    addMember: async () => {
      throw new Error("unused");
    },
    removeMember: async () => undefined,
    createInvite: async () => {
      throw new Error("unused");
    },
    listInvites: async () => [],
    revokeInvite: async () => undefined,
    acceptInvite: async () => {
      throw new Error("unused");
    },
    openDirect: async () => {
      throw new Error("unused");
    },
    groupFromDirect: async () => {
      throw new Error("unused");
    },
    history: async (id, cursor = {}): Promise<HistoryPage> => {
      calls.push(`${id} ${JSON.stringify(cursor)}`);
      const all = history[id] ?? [];
      if (cursor.after) {
        const newer = all.filter((m) => m.messageId > cursor.after!);
        return { messages: newer, hasMore: false };
      }
      return { messages: [...all].reverse(), hasMore: false };
    },
    call: async (id) => ({ meetingId: id, active: false, startedAt: 0, participants: [] }),
  };
  return { api, calls };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

function setup(
  history: Record<string, ChatMessage[]>,
  list: Meeting[],
  options: { online?: () => boolean; visible?: () => boolean; now?: () => number } = {},
) {
  const sent: ClientMessage[] = [];
  const { api, calls } = fakeApi(history, list);
  let n = 0;
  const server = new FakeServer();
  const store = new MeetingsStore({
    api,
    request: (m) => {
      server.online = !options.online || options.online();
      if (server.online) sent.push(m);
      return server.request(m);
    },
    selfId: "me",
    pending: new PendingQueue(null, () => `c-${++n}`),
    pageVisible: options.visible ?? (() => true),
    now: options.now,
  });
  return { store, sent, calls, server };
}

describe("MeetingsStore", () => {
  it("lists meetings by most recent activity and moves one up when a message arrives", async () => {
    const { store } = setup({}, [meeting("a", 10), meeting("b", 20)]);
    await store.loadList();
    expect(store.meetings.map((m) => m.meetingId)).toEqual(["b", "a"]);
    store.handle({ type: "chat.message", meetingId: "a", message: message("30-0", "hi") });
    expect(store.meetings.map((m) => m.meetingId)).toEqual(["a", "b"]);
    expect(store.find("a")?.lastMessage?.text).toBe("hi");
  });

  it("counts other people's messages as unread unless the meeting is open, and reads what is shown", async () => {
    const { store, sent } = setup({ a: [message("1-0", "old")] }, [meeting("a", 1), meeting("b", 1)]);
    await store.loadList();
    store.handle({ type: "chat.message", meetingId: "a", message: message("2-0", "one") });
    store.handle({ type: "chat.message", meetingId: "a", message: message("3-0", "mine", "me") });
    store.handle({ type: "chat.message", meetingId: "a", message: message("4-0", "joined", null) });
    expect(store.find("a")?.unread).toBe(1);
    store.open("a");
    await flush();
    expect(store.find("a")?.unread).toBe(0);
    expect(sent.filter((m) => m.type === "chat.read").pop()).toEqual({ type: "chat.read", meetingId: "a", messageId: "1-0" });
    store.handle({ type: "chat.message", meetingId: "a", message: message("5-0", "while open") });
    expect(store.find("a")?.unread).toBe(0);
    expect(sent.filter((m) => m.type === "chat.read").pop()).toMatchObject({ messageId: "5-0" });
  });

  it("merges a message delivered again after its sender's retry and counts it as unread once", async () => {
    const { store } = setup({ a: [message("1-0", "old")] }, [meeting("a", 1), meeting("b", 1)]);
    await store.loadList();
    store.handle({ type: "chat.message", meetingId: "a", message: message("2-0", "one", "bob", { clientMsgId: "c-1" }) });
    store.handle({ type: "chat.message", meetingId: "a", message: message("2-0", "one", "bob", { clientMsgId: "c-1" }) });
    expect(store.find("a")?.unread).toBe(1);
    store.open("a");
    await flush();
    store.handle({ type: "chat.message", meetingId: "a", message: message("2-0", "one", "bob", { clientMsgId: "c-1" }) });
    expect(store.timelines.get("a")?.messages.filter((m) => m.messageId === "2-0")).toHaveLength(1);
  });

  it("does not read messages while the page is hidden", async () => {
    let visible = false;
    const { store, sent } = setup({ a: [] }, [meeting("a", 1)], { visible: () => visible });
    await store.loadList();
    store.open("a");
    await flush();
    store.handle({ type: "chat.message", meetingId: "a", message: message("5-0", "hello") });
    expect(store.find("a")?.unread).toBe(1);
    expect(sent.some((m) => m.type === "chat.read")).toBe(false);
    visible = true;
    store.pageShown();
    expect(store.find("a")?.unread).toBe(0);
    expect(sent.some((m) => m.type === "chat.read")).toBe(true);
  });

  it("shows a sent message as pending until its ack, and resends it after a reconnect with the same clientMsgId", async () => {
    let online = false;
    const { store, sent } = setup({ a: [] }, [meeting("a", 1)], { online: () => online });
    store.send("a", "hello");
    expect(store.pending.forMeeting("a")).toMatchObject([{ clientMsgId: "c-1", text: "hello", status: "sending" }]);
    expect(sent).toEqual([]);
    online = true;
    await store.connected();
    expect(sent.filter((m) => m.type === "chat.send")).toEqual([{ type: "chat.send", meetingId: "a", clientMsgId: "c-1", text: "hello" }]);
    // Lost again before the ack: sent again, same id (the server stores it once).
    await store.connected();
    expect(sent.filter((m) => m.type === "chat.send").map((m) => (m as { clientMsgId: string }).clientMsgId)).toEqual(["c-1", "c-1"]);
    store.handle({ type: "chat.ack", meetingId: "a", clientMsgId: "c-1", messageId: "9-0", sentAt: 9 });
    expect(store.pending.forMeeting("a")).toEqual([]);
    await store.connected();
    expect(sent.filter((m) => m.type === "chat.send")).toHaveLength(2);
  });

  it("marks a refused message as not sent, without resending it", async () => {
    const { store, sent, server } = setup({ a: [] }, [meeting("a", 1)]);
    store.send("a", "too late");
    server.answer("chat.send", "chatRefused");
    await flush();
    expect(store.pending.forMeeting("a")[0]).toMatchObject({ status: "failed", error: "This meeting is archived; its chat is read-only" });
    await store.connected();
    expect(sent.filter((m) => m.type === "chat.send")).toHaveLength(1);
  });

  it("catches up after a reconnect with the messages after the newest one held", async () => {
    const history = { a: [message("1-0", "one"), message("2-0", "two")] };
    const { store, calls } = setup(history, [meeting("a", 1)]);
    await store.loadList();
    store.open("a");
    await flush();
    history.a.push(message("3-0", "missed"), message("4-0", "missed too"));
    await store.connected();
    expect(calls).toContain('a {"after":"2-0","limit":100}');
    expect(store.timelines.get("a")?.messages.map((m) => m.text)).toEqual(["one", "two", "missed", "missed too"]);
  });

  it("resolves a pending message when its own chat.message comes back before the ack", async () => {
    const { store } = setup({ a: [] }, [meeting("a", 1)]);
    store.open("a");
    await flush();
    store.send("a", "hi");
    store.handle({ type: "chat.message", meetingId: "a", message: message("7-0", "hi", "me", { clientMsgId: "c-1" }) });
    expect(store.pending.forMeeting("a")).toEqual([]);
    expect(store.timelines.get("a")?.messages.map((m) => m.text)).toEqual(["hi"]);
  });

  it("shows who is typing for a few seconds, never oneself", async () => {
    const { store } = setup({}, []);
    store.handle({ type: "chat.typing", meetingId: "a", userId: "bob", displayName: "Bob" });
    store.handle({ type: "chat.typing", meetingId: "a", userId: "me", displayName: "Me" });
    expect(store.typists("a").map((t) => t.displayName)).toEqual(["Bob"]);
  });

  it("forgets a meeting the user was removed from", async () => {
    const { store } = setup({}, [meeting("a", 1)]);
    await store.loadList();
    store.send("a", "bye");
    store.handle({ type: "meeting.removed", meetingId: "a" });
    expect(store.meetings).toEqual([]);
    expect(store.pending.unacknowledged()).toEqual([]);
  });
});

describe("mergeMessages", () => {
  it("merges pages without duplicates, oldest first", () => {
    const merged = mergeMessages([message("2-0", "b"), message("3-0", "c")], [message("1-0", "a"), message("3-0", "c")]);
    expect(merged.map((m) => m.messageId)).toEqual(["1-0", "2-0", "3-0"]);
  });

  it("takes a message off the pending list when the answer to its chat.send acknowledges it", async () => {
    const { store, server } = setup({ a: [] }, [meeting("a", 1)]);
    store.send("a", "hello");
    expect(server.last("chat.send")).toMatchObject({ clientMsgId: "c-1", id: "r1" });
    server.answer("chat.send", "chatAck", { meetingId: "a", clientMsgId: "c-1" });
    await flush();
    expect(store.pending.forMeeting("a")).toEqual([]);
  });

  it("offers Retry for a message the server did not answer in time, and keeps one lost with the connection", async () => {
    const { store, server } = setup({ a: [] }, [meeting("a", 1)]);
    store.send("a", "slow");
    server.expireRequests();
    await flush();
    expect(store.pending.forMeeting("a")[0]).toMatchObject({ status: "failed" });
    store.retry("c-1");
    server.disconnect();
    await flush();
    expect(store.pending.forMeeting("a")[0]).toMatchObject({ status: "sending" });
  });
  it("notices a call that just started in one of my meetings, names who started it, and drops it when I join or it ends", async () => {
    const now = 1_700_000_010_000;
    const { store } = setup({}, [meeting("m1", 1)], { now: () => now });
    await store.loadList();
    // The server's own shape (docs/protocol-examples.json): Ann's call began 10 s ago, and I am not in it.
    store.handle(serverMessage("callState"));
    expect(store.callNotices).toEqual([{ meetingId: "m1", startedBy: "Ann", startedAt: 1_700_000_000_000 }]);
    // Someone else joining is no new call.
    store.handle(serverMessage("callStateVideo"));
    expect(store.callNotices).toHaveLength(1);
    // I join: no more notice; the call ends; a call that began long ago is no news.
    const withMe = serverMessage("callState") as Extract<ServerMessage, { type: "call.state" }>;
    store.handle({ ...withMe, participants: [...withMe.participants, { ...withMe.participants[0], userId: "me" }] });
    expect(store.callNotices).toEqual([]);
    store.handle(serverMessage("callState", { active: false, participants: [] }));
    store.handle(serverMessage("callState", { startedAt: now - 120_000 }));
    expect(store.callNotices).toEqual([]);
    store.handle(serverMessage("callState", { active: false, participants: [] }));
    store.handle(serverMessage("callState"));
    expect(store.callNotices).toHaveLength(1);
    store.dismissCallNotice("m1");
    expect(store.callNotices).toEqual([]);
  });
});
