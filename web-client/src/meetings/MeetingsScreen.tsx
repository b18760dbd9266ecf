import { type FormEvent, useEffect, useId, useState } from "react";
import type { User } from "../api/client";
import { CallStage } from "../call/CallStage";
import type { CallController, CallView } from "../call/controller";
import { ChatPane } from "../chat/ChatPane";
import { type PersonRow, type PresenceMap, statusLabel } from "../presence/presence";
import type { RingMedia } from "../ws/messages";
import { meetingPath, navigate } from "../router";
import { Link } from "../ui/Link";
import { PlusIcon } from "../ui/icons";
import type { Meeting, MeetingsApi } from "./api";
import { MeetingHeader } from "./MeetingHeader";
import type { MeetingsStore } from "./store";

interface Props {
  self: User;
  store: MeetingsStore;
  api: MeetingsApi;
  calls: CallController;
  call: CallView;
  presence: PresenceMap;
  /** Rings the other person of a direct chat. */
  onRing: (person: { userId: string; displayName: string }, media: RingMedia) => void;
  /** Adds a third person to a direct chat's call (a new meeting of the three takes it). */
  onGrowCall: (directId: string, username: string) => Promise<void>;
  /** Joins a meeting's call (accepting it instead, when it is the call ringing us). */
  joinCall: (meetingId: string) => void;
  selectedId: string | null;
  online: boolean;
}

/** Meetings, Teams-style: the list on the left, the selected meeting (its call and chat) on the right. */
export function MeetingsScreen({ self, store, api, calls, call, presence, onRing, onGrowCall, joinCall, selectedId, online }: Props) {
  useEffect(() => {
    store.open(selectedId);
    return () => store.open(null);
  }, [store, selectedId]);

  const selected = selectedId ? store.find(selectedId) : undefined;
  const details = selectedId ? store.details.get(selectedId) : undefined;
  const meeting = details && selected ? { ...details, title: selected.title, archived: selected.archived } : (details ?? selected);
  const ongoing = call.snapshot && call.snapshot.phase !== "left" ? call.snapshot : null;
  const callHere = ongoing && ongoing.meetingId === selectedId ? call : null;
  const callElsewhere = ongoing && ongoing.meetingId !== selectedId ? ongoing : null;

  return (
    <div className={`meetings${selectedId ? " meetings-has-selection" : ""}`}>
      <MeetingList store={store} api={api} selectedId={selectedId} presence={presence} />
      <section className="meeting-pane" aria-label={meeting ? `Meeting ${meeting.title}` : "Meeting"}>
        {callElsewhere && (
          <div className="banner banner-info" role="status">
            <span>You are in a call in {store.find(callElsewhere.meetingId)?.title ?? "another meeting"}.</span>
            <Link className="banner-action" href={meetingPath(callElsewhere.meetingId)}>
              Return to the call
            </Link>
          </div>
        )}
        {!selectedId ? (
          <div className="empty-state">
            <h2>Your meetings</h2>
            <p>Pick a meeting on the left, or start a new one to chat and call.</p>
          </div>
        ) : !meeting ? (
          <div className="empty-state" role="status">
            {store.listLoaded ? "This meeting isn't available. It may have been removed." : "Loading…"}
          </div>
        ) : (
          <>
            <MeetingHeader
              self={self}
              meeting={meeting}
              api={api}
              store={store}
              presence={presence}
              callState={store.calls.get(meeting.meetingId) ?? null}
              inCall={callHere !== null}
              online={online}
              onJoinCall={() => joinCall(meeting.meetingId)}
              onRing={onRing}
              onGrowCall={(username) => onGrowCall(meeting.meetingId, username)}
            />
            <div className={`meeting-body${callHere ? " meeting-body-call" : ""}`}>
              {callHere && callHere.session && callHere.snapshot && (
                <CallStage
                  self={self}
                  session={callHere.session}
                  snapshot={callHere.snapshot}
                  callState={store.calls.get(meeting.meetingId) ?? null}
                  onLeave={() => calls.leave()}
                />
              )}
              <ChatPane self={self} meeting={meeting} store={store} online={online} />
            </div>
          </>
        )}
      </section>
    </div>
  );
}

function MeetingList({
  store,
  api,
  selectedId,
  presence,
}: {
  store: MeetingsStore;
  api: MeetingsApi;
  selectedId: string | null;
  presence: PresenceMap;
}) {
  const [creating, setCreating] = useState(false);
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();
  // Direct chats (most recent first, as the store keeps every list) above the meetings.
  const chats = store.meetings.filter((m) => m.kind === "direct");
  const meetings = store.meetings.filter((m) => m.kind !== "direct");

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = title.trim();
    if (!trimmed) {
      setError("Give the meeting a title.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const meeting = await api.create(trimmed.slice(0, 120));
      store.added(meeting);
      setCreating(false);
      setTitle("");
      navigate(meetingPath(meeting.meetingId));
    } catch (e) {
      setError(e instanceof Error ? e.message : "The meeting couldn't be created.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <aside className="meeting-list-pane" aria-labelledby="meetings-heading">
      <div className="meeting-list-head">
        <h2 id="meetings-heading">Meetings</h2>
        <button className="button button-primary button-small" type="button" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
          <PlusIcon />
          <span>New meeting</span>
        </button>
      </div>
      {creating && (
        <form className="new-meeting" onSubmit={create}>
          <label htmlFor={titleId}>Title</label>
          <input
            id={titleId}
            autoFocus
            maxLength={120}
            value={title}
            placeholder="What is it about?"
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && setCreating(false)}
          />
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
          <div className="button-row">
            <button className="button button-primary button-small" type="submit" disabled={busy}>
              Create
            </button>
            <button className="button button-secondary button-small" type="button" onClick={() => setCreating(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {store.listError && (
        <p className="card-message" role="alert">
          {store.listError}
        </p>
      )}
      {!store.listLoaded && !store.listError && <p className="card-message">Loading meetings…</p>}
      {store.listLoaded && store.meetings.length === 0 && (
        <p className="card-message">No meetings yet. Start one with “New meeting”.</p>
      )}
      {chats.length > 0 && (
        <>
          <h3 className="meeting-list-section" id="chats-heading">
            Chats
          </h3>
          <MeetingRows meetings={chats} store={store} selectedId={selectedId} list="chats" labelledBy="chats-heading" presence={presence} />
        </>
      )}
      {chats.length > 0 && meetings.length > 0 && (
        <h3 className="meeting-list-section" id="meetings-section-heading">
          Meetings
        </h3>
      )}
      <MeetingRows meetings={meetings} store={store} selectedId={selectedId} list="meetings" label="Your meetings" presence={presence} />
    </aside>
  );
}

function MeetingRows(props: {
  meetings: readonly Meeting[];
  store: MeetingsStore;
  selectedId: string | null;
  list: "chats" | "meetings";
  label?: string;
  labelledBy?: string;
  presence: PresenceMap;
}) {
  const { meetings, store, selectedId, list, label, labelledBy, presence } = props;
  return (
    <ul className="meeting-list" aria-label={label} aria-labelledby={labelledBy} data-list={list}>
      {meetings.map((m) => (
        <MeetingRow
          key={m.meetingId}
          meeting={m}
          selected={m.meetingId === selectedId}
          callActive={store.calls.get(m.meetingId)?.active === true}
          peerStatus={m.kind === "direct" && m.peerId ? (presence.get(m.peerId) ?? "unknown") : null}
        />
      ))}
    </ul>
  );
}

function MeetingRow({
  meeting,
  selected,
  callActive,
  peerStatus,
}: {
  meeting: Meeting;
  selected: boolean;
  callActive: boolean;
  /** A direct chat's other person's status, shown beside their name. */
  peerStatus: PersonRow["status"] | null;
}) {
  const last = meeting.lastMessage;
  const preview = last ? (last.system ? last.text : `${last.senderName}: ${last.text}`) : meeting.description || "No messages yet";
  return (
    <li>
      <Link
        className={`meeting-row${meeting.unread > 0 ? " meeting-row-unread" : ""}${meeting.archived ? " meeting-row-archived" : ""}`}
        href={meetingPath(meeting.meetingId)}
        aria-current={selected ? "page" : undefined}
        data-meeting-id={meeting.meetingId}
        data-title={meeting.title}
        data-kind={meeting.kind}
        data-unread={meeting.unread}
      >
        <span className="meeting-row-top">
          {peerStatus && (
            <span
              className={`presence-dot presence-inline presence-${peerStatus}`}
              data-status={peerStatus}
              role="img"
              aria-label={statusLabel(peerStatus)}
              title={statusLabel(peerStatus)}
            />
          )}
          <span className="meeting-row-title">{meeting.title}</span>
          {callActive && (
            <span className="call-marker" data-call-active>
              In a call
            </span>
          )}
          <time className="meeting-row-time" dateTime={new Date(meeting.lastActivity).toISOString()}>
            {shortTime(meeting.lastActivity)}
          </time>
        </span>
        <span className="meeting-row-bottom">
          <span className="meeting-row-preview">{meeting.archived ? `Archived · ${preview}` : preview}</span>
          {meeting.unread > 0 && (
            <span className="unread-badge" data-unread-badge aria-label={`${meeting.unread} unread`}>
              {meeting.unread >= 100 ? "99+" : meeting.unread}
            </span>
          )}
        </span>
      </Link>
    </li>
  );
}

export function shortTime(ms: number): string {
  if (!ms) return "";
  const date = new Date(ms);
  const now = new Date();
  return date.toDateString() === now.toDateString()
    ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
