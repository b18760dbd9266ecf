/** Shown while the socket is down and the client is trying to get it back. */
export function ReconnectingBanner({ onRetryNow }: { onRetryNow: () => void }) {
  return (
    <div className="banner banner-warning" role="status" data-banner="reconnecting">
      <span className="banner-spinner" aria-hidden="true" />
      <span>Connection lost. Reconnecting…</span>
      <button className="banner-action" type="button" onClick={onRetryNow}>
        Try now
      </button>
    </div>
  );
}
