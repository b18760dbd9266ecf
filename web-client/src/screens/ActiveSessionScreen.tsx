import { useEffect, useRef } from "react";
import type { BlockedReason } from "../ws/connection";
import { AuthLayout } from "./AuthLayout";

interface Props {
  reason: BlockedReason;
  /** True while a retry is under way. */
  checking: boolean;
  /** How many retries the server has refused so far. */
  refusedRetries: number;
  onRetry: () => void;
  onSignOut: () => void;
}

const explanations: Record<BlockedReason, { title: string; text: string }> = {
  "session.active": {
    title: "Parley is open somewhere else",
    text:
      "Parley is already open for you in another tab or on another device. Close it there, or wait — " +
      "a session that stopped answering is released within 30 seconds.",
  },
  "session.replaced": {
    title: "Parley was opened somewhere else",
    text:
      "You opened Parley in another tab or on another device, so this tab was disconnected. " +
      "Keep using it there, or close it there and select Retry to continue here.",
  },
};

export function ActiveSessionScreen({ reason, checking, refusedRetries, onRetry, onSignOut }: Props) {
  const { title, text } = explanations[reason];
  const retryButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    retryButton.current?.focus();
  }, []);
  return (
    <AuthLayout title={title}>
      <section className="session-notice" aria-labelledby="session-notice-text" data-screen="active-session">
        <p id="session-notice-text" className="session-notice-text">
          {text}
        </p>
        <p className="session-notice-status" role="status">
          {checking ? "Checking…" : refusedRetries > 0 ? "Still open elsewhere. Try again in a few seconds." : ""}
        </p>
        <div className="button-row">
          <button ref={retryButton} className="button button-primary" type="button" onClick={onRetry} disabled={checking}>
            Retry
          </button>
          <button className="button button-secondary" type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </section>
    </AuthLayout>
  );
}
