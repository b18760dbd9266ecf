// Whether the user is at the app: idle after a while without input, or at once when the app is hidden. Only changes
// are reported (presence.idle), and a new session hears the current state again, since it starts active.

export interface ActivityTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface ActivityDeps {
  timers: ActivityTimers;
  isHidden(): boolean;
  /** Tells the server; called only when the state changes, or again on reconnect while idle. */
  report(idle: boolean): void;
  idleAfterMs?: number;
}

/** No input for this long counts as away. */
export const idleAfterMs = 5 * 60_000;

export class ActivityTracker {
  private idle = false;
  private timer: unknown = null;
  private readonly idleAfter: number;

  constructor(private readonly deps: ActivityDeps) {
    this.idleAfter = deps.idleAfterMs ?? idleAfterMs;
    this.arm();
  }

  /** The user did something (a key, a click, the pointer moved). */
  activity(): void {
    if (this.deps.isHidden()) return;
    this.change(false);
    this.arm();
  }

  /** The page was shown or hidden. */
  visibilityChanged(): void {
    if (this.deps.isHidden()) {
      this.stop();
      this.change(true);
    } else {
      this.activity();
    }
  }

  /** A (new) session is live: it starts active on the server, so an idle state is said again. */
  connected(): void {
    if (this.idle) this.deps.report(true);
  }

  stop(): void {
    if (this.timer !== null) this.deps.timers.clear(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.stop();
    this.timer = this.deps.timers.set(() => {
      this.timer = null;
      this.change(true);
    }, this.idleAfter);
  }

  private change(idle: boolean): void {
    if (idle === this.idle) return;
    this.idle = idle;
    this.deps.report(idle);
  }
}
