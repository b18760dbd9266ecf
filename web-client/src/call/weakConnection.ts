import { useEffect, useState } from "react";

/** How long the server must say our downlink no longer limits us before the notice goes, so it does not blink. */
export const weakNoticeHoldMs = 5000;

/**
 * Whether the weak-connection notice shows: at once when the link turns limited, and hidden only once it has stayed
 * unlimited for {@link weakNoticeHoldMs}. Tells `onShown` each time that changes.
 */
export class WeakConnectionNotice {
  private shown = false;
  private hideTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly onShown: (shown: boolean) => void) {}

  /** What the server says now. */
  linkLimited(limited: boolean): void {
    if (limited) {
      this.cancelHide();
      this.show(true);
    } else if (this.shown && this.hideTimer === null) {
      this.hideTimer = setTimeout(() => {
        this.hideTimer = null;
        this.show(false);
      }, weakNoticeHoldMs);
    }
  }

  /** The call is over: hidden at once, nothing pending. */
  stop(): void {
    this.cancelHide();
    this.show(false);
  }

  private cancelHide(): void {
    if (this.hideTimer !== null) clearTimeout(this.hideTimer);
    this.hideTimer = null;
  }

  private show(shown: boolean): void {
    if (shown === this.shown) return;
    this.shown = shown;
    this.onShown(shown);
  }
}

/** Whether the call stage shows the weak-connection notice; never outside the call (`inCall` false). */
export function useWeakConnectionNotice(linkLimited: boolean, inCall: boolean): boolean {
  const [notice] = useState(() => new WeakConnectionNotice((shown) => setShown(shown)));
  const [shown, setShown] = useState(linkLimited && inCall);
  useEffect(() => {
    if (inCall) notice.linkLimited(linkLimited);
    else notice.stop();
  }, [notice, linkLimited, inCall]);
  useEffect(() => () => notice.stop(), [notice]);
  return shown && inCall;
}
