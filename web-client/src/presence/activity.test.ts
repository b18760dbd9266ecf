import { describe, expect, it } from "vitest";
import { ActivityTracker, idleAfterMs } from "./activity";

function setup() {
  const timers: Array<{ callback: () => void; ms: number; cleared: boolean }> = [];
  const reports: boolean[] = [];
  let hidden = false;
  const tracker = new ActivityTracker({
    timers: {
      set: (callback, ms) => {
        const timer = { callback, ms, cleared: false };
        timers.push(timer);
        return timer;
      },
      clear: (handle) => void ((handle as { cleared: boolean }).cleared = true),
    },
    isHidden: () => hidden,
    report: (idle) => reports.push(idle),
  });
  const elapse = () => {
    for (const timer of timers.splice(0)) if (!timer.cleared) timer.callback();
  };
  return { tracker, reports, elapse, hide: (value: boolean) => (hidden = value), timers };
}

describe("ActivityTracker", () => {
  it("goes idle after five minutes without input, and active again on input", () => {
    const { tracker, reports, elapse, timers } = setup();
    expect(timers[0].ms).toBe(idleAfterMs);
    elapse();
    expect(reports).toEqual([true]);
    tracker.activity();
    tracker.activity();
    expect(reports).toEqual([true, false]);
  });

  it("input keeps it active", () => {
    const { tracker, reports, elapse } = setup();
    tracker.activity();
    expect(reports).toEqual([]);
    elapse(); // only the latest timer is live
    expect(reports).toEqual([true]);
  });

  it("is idle at once while hidden, and active when shown", () => {
    const { tracker, reports, hide, elapse } = setup();
    hide(true);
    tracker.visibilityChanged();
    tracker.activity();
    elapse();
    expect(reports).toEqual([true]);
    hide(false);
    tracker.visibilityChanged();
    expect(reports).toEqual([true, false]);
  });

  it("says idle again to a new session, which starts active", () => {
    const { tracker, reports, elapse } = setup();
    tracker.connected();
    expect(reports).toEqual([]);
    elapse();
    tracker.connected();
    expect(reports).toEqual([true, true]);
  });
});
