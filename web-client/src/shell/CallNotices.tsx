import { useEffect, useRef, useState } from "react";
import type { CallNotice, MeetingsStore } from "../meetings/store";

interface Props {
  notices: readonly CallNotice[];
  store: MeetingsStore;
  /** The meeting on screen: its own Join call button says it already, so it gets no notice (nor a notification). */
  openMeetingId: string | null;
  /** Opens the meeting and joins its call. */
  onJoin: (meetingId: string) => void;
}

const shownAtOnce = 3;

/**
 * "Ann started a call in Roadmap — Join": one notice per call that started in my meetings while I am not in it, and
 * a system notification for it while the tab is hidden (once the user allowed them, which the notice offers).
 */
export function CallNotices({ notices: all, store, openMeetingId, onJoin }: Props) {
  const notified = useRef(new Set<string>());
  const [permission, setPermission] = useState(() => notificationPermission());
  // A direct chat's call rings instead (RingPanel).
  const notices = all.filter(
    (n) =>
      (n.meetingId !== openMeetingId || document.visibilityState === "hidden") && store.find(n.meetingId)?.kind !== "direct",
  );

  useEffect(() => {
    for (const notice of notices) {
      const key = `${notice.meetingId}:${notice.startedAt}`;
      if (notified.current.has(key)) continue;
      notified.current.add(key);
      if (document.visibilityState !== "hidden" || notificationPermission() !== "granted") continue;
      const title = store.find(notice.meetingId)?.title ?? "a meeting";
      const shown = new Notification(`${notice.startedBy} started a call`, { body: `In ${title}`, tag: key });
      shown.onclick = () => {
        window.focus();
        onJoin(notice.meetingId);
        shown.close();
      };
    }
  }, [notices, store, onJoin]);

  if (notices.length === 0) return null;
  return (
    <div className="call-notices" aria-label="Calls starting">
      {notices.slice(0, shownAtOnce).map((notice) => {
        const meeting = store.find(notice.meetingId);
        const where = ` in ${meeting?.title ?? "a meeting"}`;
        return (
          <div key={notice.meetingId} className="call-notice" role="status" data-call-notice={notice.meetingId}>
            <span className="call-notice-text">
              {notice.startedBy} started a call{where}
            </span>
            <button className="button button-call button-small" type="button" onClick={() => onJoin(notice.meetingId)}>
              Join
            </button>
            {permission === "default" && (
              <button
                className="button button-ghost button-small"
                type="button"
                onClick={() => void Notification.requestPermission().then(setPermission, () => undefined)}
              >
                Notify me in the background
              </button>
            )}
            <button
              className="button button-ghost button-small"
              type="button"
              aria-label="Dismiss"
              onClick={() => store.dismissCallNotice(notice.meetingId)}
            >
              ×
            </button>
          </div>
        );
      })}
    </div>
  );
}

function notificationPermission(): NotificationPermission | "unsupported" {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}
