import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WeakConnectionNotice, weakNoticeHoldMs } from "./weakConnection";

describe("the weak-connection notice", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function notice() {
    const changes: boolean[] = [];
    return { changes, notice: new WeakConnectionNotice((shown) => changes.push(shown)) };
  }

  it("shows at once when the link turns limited, and hides once it has stayed unlimited for the hold", () => {
    const { changes, notice: weak } = notice();
    weak.linkLimited(true);
    expect(changes).toEqual([true]);
    weak.linkLimited(false);
    vi.advanceTimersByTime(weakNoticeHoldMs - 1);
    expect(changes).toEqual([true]);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([true, false]);
  });

  it("does not blink while a recovering link turns limited again within the hold", () => {
    const { changes, notice: weak } = notice();
    weak.linkLimited(true);
    weak.linkLimited(false);
    vi.advanceTimersByTime(weakNoticeHoldMs - 1000);
    weak.linkLimited(true);
    vi.advanceTimersByTime(weakNoticeHoldMs * 2);
    expect(changes).toEqual([true]);
    // The hold starts again from the last time it was limited, and repeated news changes nothing.
    weak.linkLimited(false);
    vi.advanceTimersByTime(weakNoticeHoldMs - 1000);
    weak.linkLimited(false);
    vi.advanceTimersByTime(999);
    expect(changes).toEqual([true]);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([true, false]);
  });

  it("shows nothing for a link that was never limited", () => {
    const { changes, notice: weak } = notice();
    weak.linkLimited(false);
    vi.advanceTimersByTime(weakNoticeHoldMs * 2);
    expect(changes).toEqual([]);
  });

  it("hides at once when the call ends, with nothing left pending", () => {
    const { changes, notice: weak } = notice();
    weak.linkLimited(true);
    weak.linkLimited(false);
    weak.stop();
    expect(changes).toEqual([true, false]);
    expect(vi.getTimerCount()).toBe(0);
    weak.linkLimited(true);
    weak.stop();
    expect(changes).toEqual([true, false, true, false]);
  });
});
