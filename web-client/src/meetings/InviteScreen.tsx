import { useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { meetingPath, navigate, paths } from "../router";
import type { Meeting, MeetingsApi } from "./api";

interface Props {
  token: string;
  api: MeetingsApi;
  onAccepted: (meeting: Meeting) => void;
}

/** /invite/{token}: accepts the invite for the signed-in user and opens the meeting. */
export function InviteScreen({ token, api, onAccepted }: Props) {
  const [error, setError] = useState<string | null>(null);
  const started = useRef<string | null>(null);

  useEffect(() => {
    if (started.current === token) return;
    started.current = token;
    api.acceptInvite(token).then(
      (meeting) => {
        onAccepted(meeting);
        navigate(meetingPath(meeting.meetingId), { replace: true });
      },
      (e: unknown) => {
        setError(
          e instanceof ApiError && e.code === "invite.invalid"
            ? "This invite link is not valid any more. Ask for a new one."
            : e instanceof Error
              ? e.message
              : "The invite couldn't be accepted.",
        );
      },
    );
  }, [api, token, onAccepted]);

  return (
    <div className="page">
      <section className="card invite-card" aria-live="polite">
        {error ? (
          <>
            <h2 className="card-title">Invite</h2>
            <p className="card-message" role="alert">
              {error}
            </p>
            <div className="card-actions">
              <button className="button button-primary" type="button" onClick={() => navigate(paths.meetings, { replace: true })}>
                Go to your meetings
              </button>
            </div>
          </>
        ) : (
          <p className="card-message" role="status">
            Joining the meeting…
          </p>
        )}
      </section>
    </div>
  );
}
