// Keeps the sign-in alive while the app is open: a token is renewed once 60 % of its life has passed (a Firebase
// one with a fresh Firebase ID token, a local one with /api/auth/refresh), and the fresh token goes to the open
// socket, so the socket — and a call on it — outlives the old token. A renewal the server refuses is not retried:
// the socket then ends with its token and the app returns to sign-in with the server's reason.
import { ApiError } from "../api/client";
import type { Timers } from "../ws/connection";

export interface TokenTimes {
  issuedAt: number;
  expiresAt: number;
  provider: "local" | "firebase";
}

/** Reads the times (in ms) and provider a Parley token carries; null if it is not one. */
export function tokenTimes(token: string): TokenTimes | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const claims = JSON.parse(json) as { iat?: unknown; exp?: unknown; prv?: unknown };
    if (typeof claims.iat !== "number" || typeof claims.exp !== "number") return null;
    return {
      issuedAt: claims.iat * 1000,
      expiresAt: claims.exp * 1000,
      provider: claims.prv === "firebase" ? "firebase" : "local",
    };
  } catch {
    return null;
  }
}

/** How long from `now` until the token should be renewed (60 % of its life); 0 when that is past. */
export function renewalDelay(times: TokenTimes, now: number): number {
  const renewAt = times.issuedAt + 0.6 * (times.expiresAt - times.issuedAt);
  return Math.max(0, renewAt - now);
}

/** How long to wait before trying again after a renewal failed for a passing reason (network, server busy). */
export const retryAfterMs = 30_000;
/** Browsers run longer timeouts at once (they overflow a 32-bit delay); such a timer is simply set again. */
const longestTimerMs = 2_000_000_000;

export interface TokenRenewalOptions {
  /** Gets a fresh token of the given kind (the caller knows how: refresh, or Firebase). */
  renew: (provider: TokenTimes["provider"]) => Promise<string>;
  /** A fresh token was obtained. */
  onRenewed: (token: string) => void;
  timers: Timers;
  now?: () => number;
}

export class TokenRenewal {
  private timer: unknown = null;
  /** Bumped by every follow and stop, so that a renewal still under way for an older plan is dropped. */
  private plan = 0;
  private readonly now: () => number;

  constructor(private readonly options: TokenRenewalOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Plans the renewal of this token (replacing any plan for an earlier one). */
  follow(token: string): void {
    this.stop();
    const times = tokenTimes(token);
    if (!times) return;
    this.schedule(times, renewalDelay(times, this.now()), this.plan);
  }

  /** Plans nothing more, and drops a renewal under way. */
  stop(): void {
    this.plan += 1;
    this.cancel();
  }

  private schedule(times: TokenTimes, delay: number, plan: number): void {
    if (delay > longestTimerMs) {
      this.timer = this.options.timers.set(() => this.schedule(times, delay - longestTimerMs, plan), longestTimerMs);
      return;
    }
    this.timer = this.options.timers.set(() => {
      this.timer = null;
      void this.attempt(times, plan);
    }, delay);
  }

  private async attempt(times: TokenTimes, plan: number): Promise<void> {
    let fresh: string;
    try {
      fresh = await this.options.renew(times.provider);
    } catch (error) {
      if (plan !== this.plan) return;
      const refused = error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429;
      if (!refused && this.now() + retryAfterMs < times.expiresAt) this.schedule(times, retryAfterMs, plan);
      return;
    }
    if (plan !== this.plan) return;
    this.options.onRenewed(fresh);
    this.follow(fresh);
  }

  private cancel(): void {
    if (this.timer !== null) this.options.timers.clear(this.timer);
    this.timer = null;
  }
}
