import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import type { User } from "../api/client";
import type { Meeting } from "../meetings/api";
import type { MeetingsStore } from "../meetings/store";
import type { ChatMessage } from "../ws/messages";
import type { PendingMessage } from "./pending";

interface Props {
  self: User;
  meeting: Meeting;
  store: MeetingsStore;
  online: boolean;
}

const nearBottomPx = 80;

/** A meeting's chat: history (older pages on scrolling up), pending messages, typing, and the composer. */
export function ChatPane({ self, meeting, store, online }: Props) {
  const timeline = store.timelines.get(meeting.meetingId);
  const pending = store.pending.forMeeting(meeting.meetingId);
  const typists = store.typists(meeting.meetingId);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const heightBeforeOlder = useRef<number | null>(null);
  const [, setTick] = useState(0);
  const messages = timeline?.messages ?? [];
  const newestId = messages[messages.length - 1]?.messageId;

  // Typing notices expire on their own: re-render while any is shown.
  useEffect(() => {
    if (typists.length === 0) return;
    const timer = setInterval(() => setTick((n) => n + 1), 1_000);
    return () => clearInterval(timer);
  }, [typists.length]);

  useEffect(() => {
    stickToBottom.current = true;
  }, [meeting.meetingId]);

  // Keep the view at the bottom as messages arrive, and in place when an older page is added on top.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (heightBeforeOlder.current !== null) {
      el.scrollTop += el.scrollHeight - heightBeforeOlder.current;
      heightBeforeOlder.current = null;
    } else if (stickToBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages.length, pending.length, newestId, meeting.meetingId]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < nearBottomPx;
    stickToBottom.current = atBottom;
    if (atBottom) store.markRead(meeting.meetingId);
    if (el.scrollTop < 40 && timeline?.hasMore && !timeline.loadingOlder) loadOlder();
  };

  const loadOlder = () => {
    heightBeforeOlder.current = scroller.current?.scrollHeight ?? null;
    void store.loadOlder(meeting.meetingId);
  };

  return (
    <section className="chat" aria-label="Chat">
      <div className="chat-scroll" ref={scroller} onScroll={onScroll}>
        {timeline?.hasMore && (
          <div className="chat-older">
            <button className="button button-ghost button-small" type="button" onClick={loadOlder} disabled={timeline.loadingOlder}>
              {timeline.loadingOlder ? "Loading…" : "Load older messages"}
            </button>
          </div>
        )}
        {timeline?.error && (
          <p className="card-message" role="alert">
            {timeline.error}
          </p>
        )}
        {!timeline?.loaded && !timeline?.error && <p className="card-message">Loading messages…</p>}
        {timeline?.loaded && messages.length === 0 && pending.length === 0 && (
          <p className="card-message">No messages yet. Say hello.</p>
        )}
        <ol className="messages" aria-label="Messages" aria-live="polite">
          {messages.map((m, i) => (
            <MessageItem key={m.messageId} message={m} self={self} continued={continues(messages[i - 1], m)} />
          ))}
          {pending.map((p) => (
            <PendingItem key={p.clientMsgId} message={p} self={self} store={store} />
          ))}
        </ol>
      </div>
      <p className="typing" aria-live="polite">
        {typingText(typists.map((t) => t.displayName))}
      </p>
      <Composer meetingId={meeting.meetingId} store={store} disabled={meeting.archived} online={online} />
    </section>
  );
}

function continues(previous: ChatMessage | undefined, m: ChatMessage): boolean {
  return !!previous && !previous.system && !m.system && previous.senderId === m.senderId && m.sentAt - previous.sentAt < 5 * 60_000;
}

function MessageItem({ message, self, continued }: { message: ChatMessage; self: User; continued: boolean }) {
  if (message.system) {
    return (
      <li className="message message-system" data-message-id={message.messageId} data-system>
        <span className="message-text">{message.text}</span>
        <time dateTime={new Date(message.sentAt).toISOString()}>{clock(message.sentAt)}</time>
      </li>
    );
  }
  const mine = message.senderId === self.userId;
  return (
    <li className={`message${mine ? " message-mine" : ""}${continued ? " message-continued" : ""}`} data-message-id={message.messageId}>
      {!continued && (
        <div className="message-meta">
          <span className="message-sender">{mine ? "You" : message.senderName}</span>
          <time dateTime={new Date(message.sentAt).toISOString()}>{clock(message.sentAt)}</time>
        </div>
      )}
      <div className="message-text">{message.text}</div>
    </li>
  );
}

function PendingItem({ message, self, store }: { message: PendingMessage; self: User; store: MeetingsStore }) {
  return (
    <li className="message message-mine message-pending" data-pending={message.status} aria-label={`${self.displayName}: ${message.text}`}>
      <div className="message-text">{message.text}</div>
      <div className="message-status">
        {message.status === "sending" ? (
          "Sending…"
        ) : (
          <>
            <span role="alert">Not sent: {message.error}</span>
            <button className="link-button" type="button" onClick={() => store.retry(message.clientMsgId)}>
              Retry
            </button>
            <button className="link-button" type="button" onClick={() => store.discard(message.clientMsgId)}>
              Delete
            </button>
          </>
        )}
      </div>
    </li>
  );
}

function Composer({ meetingId, store, disabled, online }: { meetingId: string; store: MeetingsStore; disabled: boolean; online: boolean }) {
  const [text, setText] = useState("");
  const inputId = useId();
  const send = () => {
    const value = text.trim();
    if (!value || disabled) return;
    store.send(meetingId, value.slice(0, 4000));
    setText("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label htmlFor={inputId} className="visually-hidden">
        Message
      </label>
      <textarea
        id={inputId}
        rows={1}
        maxLength={4000}
        value={text}
        disabled={disabled}
        placeholder={disabled ? "This meeting is archived" : online ? "Type a message" : "Type a message (sent when you're back online)"}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim()) store.typingNow(meetingId);
        }}
        onKeyDown={onKeyDown}
      />
      <button className="button button-primary" type="submit" disabled={disabled || !text.trim()}>
        Send
      </button>
    </form>
  );
}

export function typingText(names: string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}
