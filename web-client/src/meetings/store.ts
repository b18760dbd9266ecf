// What the tab knows about the user's meetings: the list (with unread counts and last messages), each
// opened meeting's chat timeline, who is typing, and each meeting's call. It follows the socket's
// messages and, after a reconnect, catches up over REST and resends unacknowledged messages.
import { PendingQueue, compareMessageIds } from "../chat/pending";
import { type ReadableStore, createStore } from "../store";
import type { CallState, ChatMessage, ClientMessage, ServerMessage } from "../ws/messages";
import { RequestError, RequestFailure } from "../ws/requests";
import type { Meeting, MeetingsApi } from "./api";

export interface Timeline {
  /** Oldest first. */
  messages: ChatMessage[];
  hasMore: boolean;
  loaded: boolean;
  loadingOlder: boolean;
  error: string | null;
}

export interface Typist {
  userId: string;
  displayName: string;
  until: number;
}

const typingShownMs = 5_000;
const typingThrottleMs = 3_000;
const pageSize = 50;

export interface MeetingsStoreOptions {
  api: MeetingsApi;
  /** Sends a request over the socket and resolves with its answer (Connection.request). */
  request: (message: ClientMessage) => Promise<ServerMessage>;
  selfId: string;
  pending?: PendingQueue;
  now?: () => number;
  /** Whether the user can see the page (document.visibilityState). */
  pageVisible?: () => boolean;
}

/** A call that started in one of my meetings while I was not in it: shown as a notice with Join. */
export interface CallNotice {
  meetingId: string;
  startedBy: string;
  startedAt: number;
}

/** A call.state this much after the call began is not news (a page that loaded late, a reconnect). */
const callNewsMs = 30_000;

export class MeetingsStore {
  meetings: Meeting[] = [];
  /** Calls that started in my meetings and that I am not in, newest first (see CallNotice). */
  callNotices: CallNotice[] = [];
  listLoaded = false;
  listError: string | null = null;
  readonly details = new Map<string, Meeting>();
  readonly timelines = new Map<string, Timeline>();
  readonly calls = new Map<string, CallState>();
  readonly typing = new Map<string, Typist[]>();
  readonly pending: PendingQueue;
  /** The meeting on screen, whose messages count as read while the page is visible. */
  private openMeetingId: string | null = null;
  private readonly lastReadSent = new Map<string, string>();
  private readonly lastTypingSent = new Map<string, number>();
  private readonly changes = createStore(0);
  private readonly now: () => number;
  private readonly pageVisible: () => boolean;

  constructor(private readonly options: MeetingsStoreOptions) {
    this.pending = options.pending ?? new PendingQueue();
    this.now = options.now ?? Date.now;
    this.pageVisible = options.pageVisible ?? (() => true);
  }

  /** Counts the store's changes: React renders again on each (the store's maps change in place). */
  get revision(): ReadableStore<number> {
    return this.changes;
  }

  private changed(): void {
    this.changes.update((n) => n + 1);
  }

  /** The socket is (again) open: refresh the list, catch up on open timelines, resend what was not acked. */
  async connected(): Promise<void> {
    for (const message of this.pending.unacknowledged()) this.sendChat(message.meetingId, message.clientMsgId, message.text);
    await this.loadList();
    await Promise.all([...this.timelines.keys()].map((id) => this.catchUp(id)));
    if (this.openMeetingId) {
      void this.loadDetails(this.openMeetingId);
      this.markRead(this.openMeetingId);
    }
  }

  async loadList(): Promise<void> {
    try {
      const list = await this.options.api.list();
      this.meetings = sortByActivity(list);
      this.listLoaded = true;
      this.listError = null;
      for (const meeting of list) {
        if (meeting.meetingId === this.openMeetingId && this.pageVisible()) meeting.unread = 0;
      }
      this.changed();
      await Promise.all(list.slice(0, 30).map((m) => this.loadCall(m.meetingId)));
    } catch (error) {
      this.listError = messageOf(error, "Your meetings couldn't be loaded.");
      this.changed();
    }
  }

  async loadCall(meetingId: string): Promise<void> {
    try {
      const state = await this.options.api.call(meetingId);
      this.calls.set(meetingId, state);
      this.changed();
    } catch {
      // The call marker is a hint; the next call.state corrects it.
    }
  }

  async loadDetails(meetingId: string): Promise<Meeting | null> {
    try {
      const meeting = await this.options.api.get(meetingId);
      this.details.set(meetingId, meeting);
      this.upsert({ ...meeting, unread: this.find(meetingId)?.unread ?? meeting.unread });
      this.changed();
      return meeting;
    } catch {
      return null;
    }
  }

  find(meetingId: string): Meeting | undefined {
    return this.meetings.find((m) => m.meetingId === meetingId);
  }

  /** A meeting the user created or joined: it goes to the top of the list. */
  added(meeting: Meeting): void {
    this.details.set(meeting.meetingId, meeting);
    this.upsert(meeting);
    this.changed();
  }

  /** Shows a meeting: loads its members and newest messages, and reads it while visible. */
  open(meetingId: string | null): void {
    this.openMeetingId = meetingId;
    if (!meetingId) return;
    void this.loadDetails(meetingId);
    void this.loadCall(meetingId);
    const timeline = this.timelines.get(meetingId);
    if (!timeline || timeline.error) void this.loadNewest(meetingId);
    else this.markRead(meetingId);
  }

  /** The page became visible or the user scrolled the newest messages into view. */
  pageShown(): void {
    if (this.openMeetingId) this.markRead(this.openMeetingId);
  }

  private async loadNewest(meetingId: string): Promise<void> {
    this.timelines.set(meetingId, { messages: [], hasMore: false, loaded: false, loadingOlder: false, error: null });
    this.changed();
    try {
      const page = await this.options.api.history(meetingId, { limit: pageSize });
      const timeline = this.timelines.get(meetingId);
      if (!timeline) return;
      timeline.messages = mergeMessages(timeline.messages, page.messages);
      timeline.hasMore = page.hasMore;
      timeline.loaded = true;
      this.dropResolvedPending(timeline.messages);
      this.changed();
      if (meetingId === this.openMeetingId) this.markRead(meetingId);
    } catch (error) {
      this.timelines.set(meetingId, {
        messages: [],
        hasMore: false,
        loaded: false,
        loadingOlder: false,
        error: messageOf(error, "The messages couldn't be loaded."),
      });
      this.changed();
    }
  }

  /** Scrolling back: the page before the oldest message shown. */
  async loadOlder(meetingId: string): Promise<void> {
    const timeline = this.timelines.get(meetingId);
    if (!timeline || !timeline.loaded || !timeline.hasMore || timeline.loadingOlder) return;
    const oldest = timeline.messages[0];
    if (!oldest) return;
    timeline.loadingOlder = true;
    this.changed();
    try {
      const page = await this.options.api.history(meetingId, { before: oldest.messageId, limit: pageSize });
      timeline.messages = mergeMessages(timeline.messages, page.messages);
      timeline.hasMore = page.hasMore;
      timeline.error = null;
    } catch (error) {
      timeline.error = messageOf(error, "Older messages couldn't be loaded.");
    } finally {
      timeline.loadingOlder = false;
      this.changed();
    }
  }

  /** What was posted while the socket was down: every page after the newest message held. */
  private async catchUp(meetingId: string): Promise<void> {
    const timeline = this.timelines.get(meetingId);
    if (!timeline?.loaded) return;
    for (let pages = 0; pages < 20; pages++) {
      const newest = timeline.messages[timeline.messages.length - 1];
      if (!newest) {
        this.timelines.delete(meetingId);
        await this.loadNewest(meetingId);
        return;
      }
      let page;
      try {
        page = await this.options.api.history(meetingId, { after: newest.messageId, limit: 100 });
      } catch {
        return;
      }
      timeline.messages = mergeMessages(timeline.messages, page.messages);
      this.dropResolvedPending(page.messages);
      this.changed();
      if (!page.hasMore || page.messages.length === 0) break;
    }
    if (meetingId === this.openMeetingId) this.markRead(meetingId);
  }

  /** Posts a message: it shows at once as pending and is sent again after reconnects until acknowledged. */
  send(meetingId: string, text: string): void {
    const message = this.pending.add(meetingId, text, this.now());
    this.sendChat(meetingId, message.clientMsgId, text);
    this.changed();
  }

  retry(clientMsgId: string): void {
    const message = this.pending.retry(clientMsgId);
    if (message) this.sendChat(message.meetingId, message.clientMsgId, message.text);
    this.changed();
  }

  discard(clientMsgId: string): void {
    this.pending.discard(clientMsgId);
    this.changed();
  }

  private sendChat(meetingId: string, clientMsgId: string, text: string): void {
    this.options.request({ type: "chat.send", meetingId, clientMsgId, text }).then(
      (answer) => {
        if (answer.type === "chat.ack" && this.pending.resolve(answer.clientMsgId)) this.changed();
      },
      (error: unknown) => {
        // Lost with the connection: connected() sends it again. Refused, or unanswered: the user may retry.
        if (error instanceof RequestError && error.code === RequestFailure.disconnected) return;
        const reason = error instanceof Error && error.message ? error.message : "Not sent";
        if (this.pending.fail(clientMsgId, reason)) this.changed();
      },
    );
  }

  /** The user is typing: tell the others, at most every few seconds. */
  typingNow(meetingId: string): void {
    const last = this.lastTypingSent.get(meetingId) ?? -Infinity;
    const now = this.now();
    if (now - last < typingThrottleMs) return;
    this.lastTypingSent.set(meetingId, now);
    this.options.request({ type: "chat.typing", meetingId }).catch(() => {
      // Nobody was told: the next keystroke may try again.
      if (this.lastTypingSent.get(meetingId) === now) this.lastTypingSent.delete(meetingId);
    });
  }

  typists(meetingId: string): Typist[] {
    const now = this.now();
    return (this.typing.get(meetingId) ?? []).filter((t) => t.until > now);
  }

  /** Moves the read pointer to the newest message on screen and clears the unread badge. */
  markRead(meetingId: string): void {
    if (!this.pageVisible()) return;
    const timeline = this.timelines.get(meetingId);
    const newest = timeline?.messages[timeline.messages.length - 1];
    const meeting = this.find(meetingId);
    if (meeting && meeting.unread !== 0) {
      meeting.unread = 0;
      this.changed();
    }
    if (!newest) return;
    const sent = this.lastReadSent.get(meetingId);
    if (sent && compareMessageIds(sent, newest.messageId) >= 0) return;
    const messageId = newest.messageId;
    this.lastReadSent.set(meetingId, messageId);
    this.options.request({ type: "chat.read", meetingId, messageId }).catch(() => {
      if (this.lastReadSent.get(meetingId) === messageId) this.lastReadSent.delete(meetingId);
    });
  }

  /** Handles one socket message; returns true when it concerned meetings or chat. */
  handle(message: ServerMessage): boolean {
    switch (message.type) {
      case "chat.ack":
        this.pending.resolve(message.clientMsgId);
        this.changed();
        return true;
      case "chat.message":
        this.received(message.meetingId, message.message);
        return true;
      case "chat.typing": {
        if (message.userId === this.options.selfId) return true;
        const others = this.typists(message.meetingId).filter((t) => t.userId !== message.userId);
        others.push({ userId: message.userId, displayName: message.displayName, until: this.now() + typingShownMs });
        this.typing.set(message.meetingId, others);
        this.changed();
        return true;
      }
      case "meeting.updated":
        void this.loadDetails(message.meetingId);
        return true;
      case "meeting.removed":
        this.meetings = this.meetings.filter((m) => m.meetingId !== message.meetingId);
        this.details.delete(message.meetingId);
        this.timelines.delete(message.meetingId);
        this.calls.delete(message.meetingId);
        this.pending.dropMeeting(message.meetingId);
        this.changed();
        return true;
      case "call.state": {
        const { type: _type, ...state } = message;
        const before = this.calls.get(message.meetingId);
        this.calls.set(message.meetingId, state);
        this.noteCall(state, before?.active === true);
        this.changed();
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * Keeps the call notices current: a call that has just started (it was not active, began within callNewsMs, and I
   * am not in it) gets one, naming who started it; it goes when the call ends or I join.
   */
  private noteCall(state: CallState, wasActive: boolean): void {
    const others = this.callNotices.filter((n) => n.meetingId !== state.meetingId);
    const inIt = state.participants.some((p) => p.userId === this.options.selfId);
    if (!state.active || inIt) {
      this.callNotices = others;
      return;
    }
    const starter = state.participants[0];
    if (!wasActive && starter && this.now() - state.startedAt < callNewsMs && !this.callNotices.some((n) => n.meetingId === state.meetingId)) {
      this.callNotices = [{ meetingId: state.meetingId, startedBy: starter.displayName, startedAt: state.startedAt }, ...others];
    }
  }

  /** The user closed a call notice. */
  dismissCallNotice(meetingId: string): void {
    this.callNotices = this.callNotices.filter((n) => n.meetingId !== meetingId);
    this.changed();
  }

  private received(meetingId: string, message: ChatMessage): void {
    if (message.clientMsgId && message.senderId === this.options.selfId) this.pending.resolve(message.clientMsgId);
    const timeline = this.timelines.get(meetingId);
    // A retried send is delivered again under its first messageId: merged, and not counted as unread twice.
    const known =
      (timeline?.loaded === true && timeline.messages.some((m) => m.messageId === message.messageId)) ||
      this.find(meetingId)?.lastMessage?.messageId === message.messageId;
    if (timeline?.loaded) timeline.messages = mergeMessages(timeline.messages, [message]);
    // The sender is no longer typing once their message is here.
    const typists = this.typing.get(meetingId);
    if (typists && message.senderId) this.typing.set(meetingId, typists.filter((t) => t.userId !== message.senderId));
    const meeting = this.find(meetingId);
    if (!meeting) {
      void this.loadList();
      return;
    }
    meeting.lastMessage = message;
    meeting.lastActivity = Math.max(meeting.lastActivity, message.sentAt);
    const fromOthers = message.senderId !== this.options.selfId && !message.system;
    if (meetingId === this.openMeetingId && this.pageVisible()) this.markRead(meetingId);
    else if (fromOthers && !known) meeting.unread = Math.min(100, meeting.unread + 1);
    this.meetings = sortByActivity(this.meetings);
    if (message.system) void this.loadDetails(meetingId);
    this.changed();
  }

  private dropResolvedPending(messages: ChatMessage[]): void {
    for (const m of messages) {
      if (m.clientMsgId && m.senderId === this.options.selfId) this.pending.resolve(m.clientMsgId);
    }
  }

  private upsert(meeting: Meeting): void {
    const rest = this.meetings.filter((m) => m.meetingId !== meeting.meetingId);
    const previous = this.find(meeting.meetingId);
    const merged = previous
      ? { ...meeting, lastMessage: meeting.lastMessage ?? previous.lastMessage, members: meeting.members }
      : meeting;
    this.meetings = sortByActivity([...rest, merged]);
  }
}

/** Most recent activity first. */
export function sortByActivity(meetings: Meeting[]): Meeting[] {
  return [...meetings].sort((a, b) => b.lastActivity - a.lastActivity || a.title.localeCompare(b.title));
}

/** Both lists merged without duplicates, oldest first. */
export function mergeMessages(current: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return current;
  const byId = new Map(current.map((m) => [m.messageId, m]));
  for (const m of incoming) byId.set(m.messageId, m);
  return [...byId.values()].sort((a, b) => compareMessageIds(a.messageId, b.messageId));
}

function messageOf(error: unknown, fallback: string): string {
  return error instanceof Error && error.message ? `${fallback} ${error.message}` : fallback;
}
