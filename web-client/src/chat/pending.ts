// Messages the user sent that the server has not acknowledged yet. Each carries a client message id, so
// sending it again after a reconnect is safe: the server stores a clientMsgId once and acknowledges every
// retry with the original messageId. The queue survives a reload of the tab (sessionStorage).
import type { KeyValueStorage } from "../session/storage";

export interface PendingMessage {
  clientMsgId: string;
  meetingId: string;
  text: string;
  createdAt: number;
  /** "sending" until acknowledged; "failed" when the server refused it (it is not sent again). */
  status: "sending" | "failed";
  error?: string;
}

const storageKey = "parley.pendingMessages";

/** A client message id: 1–64 of [A-Za-z0-9_-], unique per message. */
export function newClientMsgId(randomUUID: () => string = () => crypto.randomUUID()): string {
  return `c-${randomUUID().replace(/[^A-Za-z0-9_-]/g, "")}`.slice(0, 64);
}

export class PendingQueue {
  private items: PendingMessage[] = [];

  constructor(
    private readonly storage: KeyValueStorage | null = null,
    private readonly newId: () => string = () => newClientMsgId(),
  ) {
    this.items = this.restore();
  }

  /** Queues a new message and returns it; the caller sends it. */
  add(meetingId: string, text: string, now = Date.now()): PendingMessage {
    const item: PendingMessage = { clientMsgId: this.newId(), meetingId, text, createdAt: now, status: "sending" };
    this.items = [...this.items, item];
    this.save();
    return item;
  }

  /** The server stored it (chat.ack, or its own chat.message came back): it leaves the queue. */
  resolve(clientMsgId: string): PendingMessage | null {
    const found = this.items.find((m) => m.clientMsgId === clientMsgId) ?? null;
    if (!found) return null;
    this.items = this.items.filter((m) => m !== found);
    this.save();
    return found;
  }

  /** The server refused it (an error answering its chat.send), or did not answer in time. */
  fail(clientMsgId: string, error: string): boolean {
    let changed = false;
    this.items = this.items.map((m) => {
      if (m.clientMsgId !== clientMsgId) return m;
      changed = true;
      return { ...m, status: "failed", error };
    });
    if (changed) this.save();
    return changed;
  }

  /** Puts a failed message back to "sending" (the user's Retry) and returns it. */
  retry(clientMsgId: string): PendingMessage | null {
    const found = this.items.find((m) => m.clientMsgId === clientMsgId);
    if (!found) return null;
    const again: PendingMessage = { ...found, status: "sending", error: undefined };
    this.items = this.items.map((m) => (m === found ? again : m));
    this.save();
    return again;
  }

  discard(clientMsgId: string): void {
    this.resolve(clientMsgId);
  }

  /** Everything to send again after a reconnect, oldest first. */
  unacknowledged(): PendingMessage[] {
    return this.items.filter((m) => m.status === "sending");
  }

  forMeeting(meetingId: string): PendingMessage[] {
    return this.items.filter((m) => m.meetingId === meetingId);
  }

  dropMeeting(meetingId: string): void {
    const before = this.items.length;
    this.items = this.items.filter((m) => m.meetingId !== meetingId);
    if (this.items.length !== before) this.save();
  }

  private restore(): PendingMessage[] {
    const raw = this.storage?.getItem(storageKey);
    if (!raw) return [];
    try {
      const value = JSON.parse(raw) as unknown;
      if (!Array.isArray(value)) return [];
      return value.filter(
        (m): m is PendingMessage =>
          typeof m === "object" &&
          m !== null &&
          typeof m.clientMsgId === "string" &&
          typeof m.meetingId === "string" &&
          typeof m.text === "string" &&
          (m.status === "sending" || m.status === "failed"),
      );
    } catch {
      return [];
    }
  }

  private save(): void {
    if (!this.storage) return;
    if (this.items.length === 0) this.storage.removeItem(storageKey);
    else this.storage.setItem(storageKey, JSON.stringify(this.items));
  }
}

/** Orders Redis stream ids ("1700000000000-0"): by time, then sequence. */
export function compareMessageIds(a: string, b: string): number {
  const [at, as = "0"] = a.split("-");
  const [bt, bs = "0"] = b.split("-");
  return Number(at) - Number(bt) || Number(as) - Number(bs);
}
