import { useEffect, useState } from "react";
import type { OutgoingPhase, RingController, RingView } from "../call/ringing";
import { Ringtone } from "../call/ringtone";
import { useStore } from "../store";
import { Avatar } from "../ui/Avatar";
import { CameraIcon, PhoneIcon } from "../ui/icons";

interface Props {
  rings: RingController;
}

const outcomeText: Record<OutgoingPhase, (name: string) => string> = {
  calling: (name) => `Calling ${name}…`,
  ringing: (name) => `Ringing ${name}…`,
  declined: (name) => `${name} declined the call`,
  missed: (name) => `No answer from ${name}`,
  busy: (name) => `${name} is busy in another call`,
  unavailable: (name) => `${name} is unavailable`,
  failed: () => "The call could not be started",
};

const outcomeTitle: Record<OutgoingPhase, string> = {
  calling: "Calling…",
  ringing: "Ringing…",
  declined: "Declined",
  missed: "No answer",
  busy: "Busy",
  unavailable: "Unavailable",
  failed: "Not started",
};

/**
 * The incoming-call card (caller, Accept with video, Accept with audio only, Decline; a ringtone, and a system
 * notification while the tab is hidden) and the caller's panel (Ringing…, then the outcome; Cancel).
 */
export function RingPanel({ rings }: Props) {
  const view = useStore(rings.view);
  const sounding = useRingtone(view);
  useIncomingNotification(view, rings);
  const [permission, setPermission] = useState(() => notificationPermission());

  if (view.kind === "incoming") {
    const { ring, answering } = view;
    const audio = ring.media === "audio";
    return (
      <div className="ring-card" role="dialog" aria-label={`Incoming call from ${ring.callerName}`} data-ring="incoming" data-ringtone={sounding ? "playing" : "silent"}>
        <Avatar id={ring.callerId} name={ring.callerName} size="lg" />
        <div className="ring-text">
          <span className="ring-name">{ring.callerName}</span>
          <span className="ring-what">Incoming {audio ? "audio" : "video"} call</span>
        </div>
        <div className="ring-actions">
          <button className="button button-call" type="button" disabled={answering} onClick={() => rings.accept("full")} data-action="accept-video">
            <CameraIcon />
            <span>Accept</span>
          </button>
          <button className="button button-call" type="button" disabled={answering} onClick={() => rings.accept("audio-only")} data-action="accept-audio">
            <PhoneIcon />
            <span>Audio only</span>
          </button>
          <button className="button button-danger" type="button" disabled={answering} onClick={() => rings.decline()} data-action="decline">
            Decline
          </button>
        </div>
        {permission === "default" && (
          <button
            className="button button-ghost button-small ring-notify"
            type="button"
            onClick={() => void Notification.requestPermission().then(setPermission, () => undefined)}
          >
            Notify me of calls in the background
          </button>
        )}
      </div>
    );
  }

  if (view.kind === "outgoing") {
    const live = view.phase === "calling" || view.phase === "ringing";
    return (
      <div className="ring-card" role="status" aria-live="polite" data-ring="outgoing" data-phase={view.phase}>
        <Avatar id={view.calleeId} name={view.calleeName} size="lg" />
        <div className="ring-text">
          <span className="ring-name">{outcomeTitle[view.phase]}</span>
          <span className="ring-what">{view.phase === "failed" && view.message ? view.message : outcomeText[view.phase](view.calleeName)}</span>
        </div>
        <div className="ring-actions">
          {live ? (
            <button className="button button-danger" type="button" onClick={() => rings.cancel()} data-action="cancel-ring">
              Cancel
            </button>
          ) : (
            <button className="button button-secondary" type="button" onClick={() => rings.dismiss()} data-action="close-ring">
              Close
            </button>
          )}
        </div>
      </div>
    );
  }
  return null;
}

/** Rings while a call comes in, plays ringback while ours rings; reports whether sound actually plays. */
function useRingtone(view: RingView): boolean {
  const kind = view.kind === "incoming" ? "incoming" : view.kind === "outgoing" && view.phase === "ringing" ? "ringback" : null;
  const key = kind === null ? null : `${kind}:${view.kind === "incoming" ? view.ring.ringId : ""}`;
  const [sounding, setSounding] = useState(false);
  useEffect(() => {
    if (kind === null) return;
    const tone = new Ringtone();
    let live = true;
    void tone.start(kind).then((playing) => live && setSounding(playing));
    return () => {
      live = false;
      tone.stop();
      setSounding(false);
    };
  }, [key]);
  return sounding;
}

/** A system notification for an incoming call while the tab is hidden; clicking it brings the tab forward. */
function useIncomingNotification(view: RingView, rings: RingController): void {
  const ringId = view.kind === "incoming" ? view.ring.ringId : null;
  useEffect(() => {
    if (view.kind !== "incoming") return;
    if (document.visibilityState !== "hidden" || notificationPermission() !== "granted") return;
    const ring = view.ring;
    const notification = new Notification(`${ring.callerName} is calling`, {
      body: ring.media === "audio" ? "Audio call" : "Video call",
      tag: ring.ringId,
      requireInteraction: true,
    });
    notification.onclick = () => {
      window.focus();
      notification.close();
    };
    return () => notification.close();
  }, [ringId, rings]);
}

function notificationPermission(): NotificationPermission | "unsupported" {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}
