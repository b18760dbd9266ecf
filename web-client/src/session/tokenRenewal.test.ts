import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { TokenRenewal, renewalDelay, retryAfterMs, tokenTimes } from "./tokenRenewal";

function token(claims: Record<string, unknown>): string {
  const part = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "HS256", kid: "k0" })}.${part(claims)}.sig`;
}

class ManualTimers {
  pending: { callback: () => void; ms: number }[] = [];
  set(callback: () => void, ms: number) {
    const entry = { callback, ms };
    this.pending.push(entry);
    return entry;
  }
  clear(handle: unknown) {
    this.pending = this.pending.filter((e) => e !== handle);
  }
  fireNext() {
    const entry = this.pending.shift();
    if (!entry) throw new Error("no timer pending");
    entry.callback();
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("token renewal", () => {
  it("reads a token's times and provider", () => {
    expect(tokenTimes(token({ iat: 1000, exp: 1600, prv: "firebase" }))).toEqual({
      issuedAt: 1_000_000,
      expiresAt: 1_600_000,
      provider: "firebase",
    });
    expect(tokenTimes(token({ iat: 1000, exp: 1600 }))?.provider).toBe("local");
    expect(tokenTimes("not a token")).toBeNull();
  });

  it("renews at 60 % of the token's life", () => {
    const times = { issuedAt: 0, expiresAt: 600_000, provider: "firebase" as const };
    expect(renewalDelay(times, 0)).toBe(360_000);
    expect(renewalDelay(times, 500_000)).toBe(0);
  });

  it("renews, hands the fresh token on and follows it", async () => {
    const timers = new ManualTimers();
    const next = token({ iat: 600, exp: 1200, prv: "firebase" });
    const asked: string[] = [];
    const renewed: string[] = [];
    const renewal = new TokenRenewal({
      renew: async (provider) => {
        asked.push(provider);
        return next;
      },
      onRenewed: (t) => renewed.push(t),
      timers,
      now: () => 0,
    });
    renewal.follow(token({ iat: 0, exp: 600, prv: "firebase" }));
    expect(timers.pending[0].ms).toBe(360_000);
    timers.fireNext();
    await flush();
    expect(asked).toEqual(["firebase"]);
    expect(renewed).toEqual([next]);
    expect(timers.pending).toHaveLength(1);
  });

  it("retries after a passing failure but not after a refusal", async () => {
    const timers = new ManualTimers();
    let failure: Error = new ApiError(0, "network", "offline");
    const renewal = new TokenRenewal({
      renew: async () => {
        throw failure;
      },
      onRenewed: () => undefined,
      timers,
      now: () => 0,
    });
    renewal.follow(token({ iat: 0, exp: 7 * 24 * 3600 }));
    timers.fireNext();
    await flush();
    expect(timers.pending.map((t) => t.ms)).toEqual([retryAfterMs]);
    failure = new ApiError(401, "auth.invalid", "This Firebase account is disabled");
    timers.fireNext();
    await flush();
    expect(timers.pending).toHaveLength(0);
  });

  it("drops a renewal under way when it was stopped meanwhile", async () => {
    const timers = new ManualTimers();
    const renewed: string[] = [];
    const renewal = new TokenRenewal({ renew: async () => "x", onRenewed: (t) => renewed.push(t), timers, now: () => 0 });
    renewal.follow(token({ iat: 0, exp: 600 }));
    timers.fireNext();
    renewal.stop();
    await flush();
    expect(renewed).toEqual([]);
  });

  it("does nothing once stopped", () => {
    const timers = new ManualTimers();
    const renewal = new TokenRenewal({ renew: async () => "x", onRenewed: () => undefined, timers, now: () => 0 });
    renewal.follow(token({ iat: 0, exp: 600 }));
    renewal.stop();
    expect(timers.pending).toHaveLength(0);
  });
});
