import { type FormEvent, useEffect, useId, useState } from "react";
import type { User } from "../api/client";
import { type PresenceMap, statusLabel } from "../presence/presence";
import { navigate, paths } from "../router";
import { Avatar } from "../ui/Avatar";
import { RingButtons } from "../call/RingButtons";
import { LinkIcon, PhoneIcon, PlusIcon } from "../ui/icons";
import type { CallState, RingMedia } from "../ws/messages";
import type { Invite, Meeting, MeetingsApi } from "./api";
import type { MeetingsStore } from "./store";

interface Props {
  self: User;
  meeting: Meeting;
  api: MeetingsApi;
  store: MeetingsStore;
  presence: PresenceMap;
  callState: CallState | null;
  inCall: boolean;
  online: boolean;
  onJoinCall: () => void;
  /** Rings the other person of a direct chat. */
  onRing: (person: { userId: string; displayName: string }, media: RingMedia) => void;
  /** Adds a third person to this direct chat's call: a new meeting of the three takes it. */
  onGrowCall: (username: string) => Promise<void>;
}

type Panel = "none" | "invite" | "add" | "members" | "rename" | "grow";

/** The selected meeting's title, members with presence, and what one can do with it. */
export function MeetingHeader({ self, meeting, api, store, presence, callState, inCall, online, onJoinCall, onRing, onGrowCall }: Props) {
  const [panel, setPanel] = useState<Panel>("none");
  const [error, setError] = useState<string | null>(null);
  const direct = meeting.kind === "direct";
  // A direct chat has no owner's powers, no invites and nobody leaving it.
  const isOwner = !direct && meeting.ownerId === self.userId;
  const canInvite = !direct && (isOwner || meeting.membersCanInvite);
  const callActive = callState?.active === true;
  const peer = direct ? meeting.members.find((m) => m.userId === meeting.peerId) : undefined;
  const inCallIds = new Set(callState?.participants.map((p) => p.userId) ?? []);

  useEffect(() => {
    setPanel("none");
    setError(null);
  }, [meeting.meetingId]);

  const toggle = (next: Panel) => {
    setError(null);
    setPanel((current) => (current === next ? "none" : next));
  };

  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      return true;
    } catch (e) {
      setError(e instanceof Error ? e.message : "That didn't work. Try again.");
      return false;
    }
  };

  const setArchived = (archived: boolean) =>
    run(async () => store.added(await api.update(meeting.meetingId, { archived })));

  const leaveMeeting = () =>
    run(async () => {
      await api.removeMember(meeting.meetingId, self.userId);
      store.handle({ type: "meeting.removed", meetingId: meeting.meetingId });
      navigate(paths.meetings);
    });

  return (
    <header className="meeting-header">
      <div className="meeting-header-main">
        <div className="meeting-title-block">
          <h2 className="meeting-title" data-meeting-title>
            {meeting.title}
            {meeting.archived && <span className="tag">Archived</span>}
          </h2>
          <ul className="member-strip" aria-label="Members">
            {meeting.members.map((m) => {
              const status = inCallIds.has(m.userId) ? "in-call" : (presence.get(m.userId) ?? "unknown");
              return (
                <li key={m.userId} className="member-chip" data-username={m.username} data-status={status} title={`${m.displayName} · ${statusLabel(status)}`}>
                  <Avatar id={m.userId} name={m.displayName} status={status} size="sm" />
                  <span className="visually-hidden">
                    {m.displayName}, {statusLabel(status)}
                  </span>
                </li>
              );
            })}
          </ul>
        </div>
        <div className="meeting-actions">
          {direct && !inCall && !callActive && peer && <RingButtons person={peer} onRing={onRing} disabled={!online} />}
          {!inCall && (!direct || callActive) && (
            <button
              className="button button-call"
              type="button"
              onClick={onJoinCall}
              disabled={!online || meeting.archived}
              data-action="join-call"
            >
              <PhoneIcon />
              <span>{callActive ? `Join call (${callState?.participants.length ?? 0})` : "Join call"}</span>
            </button>
          )}
          {direct && inCall && (
            <button className="button button-secondary button-small" type="button" onClick={() => toggle("grow")} aria-expanded={panel === "grow"}>
              <PlusIcon />
              <span>Add person</span>
            </button>
          )}
          {canInvite && !meeting.archived && (
            <>
              <button className="button button-secondary button-small" type="button" onClick={() => toggle("invite")} aria-expanded={panel === "invite"}>
                <LinkIcon />
                <span>Invite link</span>
              </button>
              <button className="button button-secondary button-small" type="button" onClick={() => toggle("add")} aria-expanded={panel === "add"}>
                <PlusIcon />
                <span>Add member</span>
              </button>
            </>
          )}
          <button className="button button-secondary button-small" type="button" onClick={() => toggle("members")} aria-expanded={panel === "members"}>
            {meeting.members.length} {meeting.members.length === 1 ? "member" : "members"}
          </button>
          {isOwner && (
            <button className="button button-ghost button-small" type="button" onClick={() => toggle("rename")} aria-expanded={panel === "rename"}>
              Rename
            </button>
          )}
          {isOwner && (
            <button className="button button-ghost button-small" type="button" onClick={() => void setArchived(!meeting.archived)}>
              {meeting.archived ? "Unarchive" : "Archive"}
            </button>
          )}
          {!isOwner && !direct && (
            <button className="button button-ghost button-small" type="button" onClick={() => void leaveMeeting()}>
              Leave meeting
            </button>
          )}
        </div>
      </div>
      {error && (
        <p className="form-error header-error" role="alert">
          {error}
        </p>
      )}
      {panel === "invite" && <InvitePanel meetingId={meeting.meetingId} api={api} onError={setError} />}
      {panel === "add" && (
        <AddMemberPanel
          onAdd={(username) => run(async () => store.added(await api.addMember(meeting.meetingId, username)))}
        />
      )}
      {panel === "grow" && (
        <AddMemberPanel
          label="Add someone to this call by username"
          action="Add to call"
          onAdd={(username) => run(async () => onGrowCall(username))}
        />
      )}
      {panel === "rename" && (
        <RenamePanel
          title={meeting.title}
          onRename={async (title) => {
            const ok = await run(async () => store.added(await api.update(meeting.meetingId, { title })));
            if (ok) setPanel("none");
          }}
        />
      )}
      {panel === "members" && isOwner && <InviteLinks meetingId={meeting.meetingId} api={api} onError={setError} />}
      {panel === "members" && (
        <ul className="member-list" aria-label="Members of this meeting">
          {meeting.members.map((m) => {
            const status = inCallIds.has(m.userId) ? "in-call" : (presence.get(m.userId) ?? "unknown");
            return (
              <li key={m.userId} className="person" data-username={m.username} data-status={status}>
                <Avatar id={m.userId} name={m.displayName} status={status} size="sm" />
                <span className="person-text">
                  <span className="person-name">
                    {m.displayName}
                    {m.userId === meeting.ownerId && <span className="tag">Owner</span>}
                    {m.userId === self.userId && <span className="tag">You</span>}
                  </span>
                  <span className="person-handle">
                    @{m.username} · {statusLabel(status)}
                  </span>
                </span>
                {isOwner && m.userId !== self.userId && (
                  <button
                    className="button button-ghost button-small"
                    type="button"
                    aria-label={`Remove ${m.displayName}`}
                    onClick={() => void run(async () => {
                      await api.removeMember(meeting.meetingId, m.userId);
                      await store.loadDetails(meeting.meetingId);
                    })}
                  >
                    Remove
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </header>
  );
}

/** When an invite link runs out, in the reader's words. */
function expiryText(expiresAt: number): string {
  return new Date(expiresAt).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** The meeting's live invite links, for its owner: who made each, until when, how often used; and Revoke. */
function InviteLinks({ meetingId, api, onError }: { meetingId: string; api: MeetingsApi; onError: (m: string) => void }) {
  const [invites, setInvites] = useState<Invite[] | null>(null);

  useEffect(() => {
    let live = true;
    api.listInvites(meetingId).then(
      (list) => live && setInvites(list),
      (e: unknown) => live && onError(e instanceof Error ? e.message : "The invite links couldn't be loaded."),
    );
    return () => {
      live = false;
    };
  }, [api, meetingId, onError]);

  const revoke = async (token: string) => {
    try {
      await api.revokeInvite(meetingId, token);
      setInvites((current) => current?.filter((invite) => invite.token !== token) ?? null);
    } catch (e) {
      onError(e instanceof Error ? e.message : "The invite link couldn't be revoked.");
    }
  };

  if (invites === null) return null;
  return (
    <section className="header-panel invite-links" aria-label="Invite links">
      <h3 className="panel-heading">Invite links</h3>
      {invites.length === 0 ? (
        <p className="muted">No invite links are open.</p>
      ) : (
        <ul className="member-list">
          {invites.map((invite) => (
            <li key={invite.token} className="person" data-invite={invite.token}>
              <span className="person-text">
                <span className="person-name">Created by {invite.createdByName || "a former member"}</span>
                <span className="person-handle">
                  Used {invite.uses} of {invite.maxUses} · expires {expiryText(invite.expiresAt)}
                </span>
              </span>
              <button
                className="button button-ghost button-small"
                type="button"
                aria-label={`Revoke the invite link created by ${invite.createdByName}`}
                onClick={() => void revoke(invite.token)}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function InvitePanel({ meetingId, api, onError }: { meetingId: string; api: MeetingsApi; onError: (m: string) => void }) {
  const [invite, setInvite] = useState<Invite | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const inputId = useId();

  useEffect(() => {
    let live = true;
    api.createInvite(meetingId).then(
      (created) => {
        if (!live) return;
        setInvite(created);
        setLink(new URL(created.path, window.location.origin).toString());
      },
      (e: unknown) => live && onError(e instanceof Error ? e.message : "The invite link couldn't be created."),
    );
    return () => {
      live = false;
    };
  }, [api, meetingId, onError]);

  const copy = async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      (document.getElementById(inputId) as HTMLInputElement | null)?.select();
    }
  };

  return (
    <div className="header-panel">
      <label htmlFor={inputId}>
        {invite
          ? `Invite link (${invite.maxUses === 1 ? "one person" : `up to ${invite.maxUses} people`}, until ${expiryText(invite.expiresAt)})`
          : "Invite link"}
      </label>
      <div className="inline-form">
        <input id={inputId} readOnly value={link ?? "Creating…"} data-invite-link onFocus={(e) => e.target.select()} />
        <button className="button button-primary button-small" type="button" onClick={() => void copy()} disabled={!link}>
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}

function AddMemberPanel({
  onAdd,
  label = "Add someone by username",
  action = "Add",
}: {
  onAdd: (username: string) => Promise<boolean>;
  label?: string;
  action?: string;
}) {
  const [username, setUsername] = useState("");
  const [added, setAdded] = useState<string | null>(null);
  const inputId = useId();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const name = username.trim().toLowerCase();
    if (!name) return;
    if (await onAdd(name)) {
      setAdded(name);
      setUsername("");
    }
  };
  return (
    <form className="header-panel" onSubmit={submit}>
      <label htmlFor={inputId}>{label}</label>
      <div className="inline-form">
        <input id={inputId} autoFocus value={username} onChange={(e) => setUsername(e.target.value)} placeholder="username" />
        <button className="button button-primary button-small" type="submit">
          {action}
        </button>
      </div>
      {added && <p role="status">@{added} was added.</p>}
    </form>
  );
}

function RenamePanel({ title, onRename }: { title: string; onRename: (title: string) => Promise<void> }) {
  const [value, setValue] = useState(title);
  const inputId = useId();
  return (
    <form
      className="header-panel"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) void onRename(value.trim().slice(0, 120));
      }}
    >
      <label htmlFor={inputId}>Meeting title</label>
      <div className="inline-form">
        <input id={inputId} autoFocus maxLength={120} value={value} onChange={(e) => setValue(e.target.value)} />
        <button className="button button-primary button-small" type="submit">
          Save
        </button>
      </div>
    </form>
  );
}
