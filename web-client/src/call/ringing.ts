// Direct calls that ring (docs/protocol.md, "Direct calls"): the caller's "Ringing…" panel and its outcomes, the
// callee's incoming-call card, and the moment both join the direct chat's call. The server decides every outcome;
// this only follows its ring.state messages, whether they come as answers or pushes, in any order and any number of
// times.
import { type ReadableStore, createStore } from "../store";
import type { ClientMessage, RingMedia, RingState, ServerMessage } from "../ws/messages";
import type { JoinMode } from "./machine";

/** The caller's side, from pressing the button to an outcome. */
export type OutgoingPhase = "calling" | "ringing" | "declined" | "missed" | "busy" | "unavailable" | "failed";

export type RingView =
  | { kind: "none" }
  | { kind: "incoming"; ring: RingState; answering: boolean }
  | {
      kind: "outgoing";
      calleeId: string;
      calleeName: string;
      media: RingMedia;
      phase: OutgoingPhase;
      ringId: string | null;
      /** Why it failed, for phase "failed". */
      message: string | null;
    };

export interface RingTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface RingDeps {
  selfId: string;
  request(message: ClientMessage): Promise<ServerMessage>;
  timers: RingTimers;
  /** Both sides agreed: join the call (the caller is in it already, since it began ringing). */
  onAccepted(meetingId: string, mode: JoinMode): void;
  /**
   * Our call rings: the caller waits in its call, so that once it is accepted only the callee still has to connect
   * (and the caller sees themselves meanwhile).
   */
  onRinging(meetingId: string, mode: JoinMode): void;
  /** Our call ended unanswered (declined, missed, cancelled): leave the call we waited in. */
  onUnanswered(meetingId: string): void;
}

const none: RingView = { kind: "none" };
/** How long an outcome ("No answer", "Declined"...) stays on screen unless closed. */
export const outcomeShownMs = 8_000;
/** Beyond the server's own timeout, how long a ring may go unanswered before the client gives up on hearing of it. */
const graceMs = 5_000;

export class RingController {
  private readonly current = createStore<RingView>(none);
  private timer: unknown = null;
  /** Rings already joined, so an answer and a push of the same acceptance join once. */
  private readonly joined = new Set<string>();
  /** Incoming rings already answered or ended here: a late or repeated push must not show them again. */
  private readonly done = new Set<string>();
  private incomingMode: JoinMode = "full";
  /** Our rings whose call we wait in, by ring id: the meeting to leave should nobody answer. */
  private readonly waiting = new Map<string, string>();

  constructor(private readonly deps: RingDeps) {}

  get view(): ReadableStore<RingView> {
    return this.current;
  }

  /**
   * Rings someone; the panel shows "Calling…" until the server answers. Into their direct chat's call, or with
   * `meetingId` into that meeting's (both are members).
   */
  call(person: { userId: string; displayName: string }, media: RingMedia, meetingId?: string): void {
    const now = this.current.get();
    if (now.kind === "incoming" || (now.kind === "outgoing" && isLive(now.phase))) return;
    this.show({
      kind: "outgoing",
      calleeId: person.userId,
      calleeName: person.displayName,
      media,
      phase: "calling",
      ringId: null,
      message: null,
    });
    this.deps.request({ type: "ring.start", userId: person.userId, media, ...(meetingId ? { meetingId } : {}) }).then(
      (answer) => {
        if (answer.type === "ring.state") this.outgoingChanged(answer);
      },
      (error: unknown) => {
        const view = this.current.get();
        if (view.kind !== "outgoing" || view.phase !== "calling") return;
        this.show({ ...view, phase: "failed", message: messageOf(error, "The call could not be started.") }, outcomeShownMs);
      },
    );
  }

  /** The callee takes the call, with the camera or voice only. */
  accept(mode: "full" | "audio-only"): void {
    const view = this.current.get();
    if (view.kind !== "incoming" || view.answering) return;
    this.incomingMode = mode;
    this.show({ ...view, answering: true });
    this.answer("ring.accept", view.ring);
  }

  decline(): void {
    const view = this.current.get();
    if (view.kind !== "incoming" || view.answering) return;
    this.show({ ...view, answering: true });
    this.answer("ring.decline", view.ring);
  }

  /** The caller stops ringing; should the callee have accepted first, the call goes ahead. */
  cancel(): void {
    const view = this.current.get();
    if (view.kind !== "outgoing" || !isLive(view.phase)) return;
    const ringId = view.ringId;
    this.clear();
    if (ringId === null) return; // ring.start is still on its way; its answer finds the panel closed and cancels.
    this.cancelRing(ringId);
  }

  /**
   * The user joins a call some other way (Join call in the chat): if that call is the one ringing them, that is
   * an accept, so the caller hears of it; answers whether it was.
   */
  joining(meetingId: string): boolean {
    const view = this.current.get();
    if (view.kind !== "incoming" || view.ring.meetingId !== meetingId) return false;
    this.accept("full");
    return true;
  }

  /** Closes an outcome the caller has read. */
  dismiss(): void {
    const view = this.current.get();
    if (view.kind === "outgoing" && !isLive(view.phase)) this.clear();
  }

  handle(message: ServerMessage): void {
    if (message.type !== "ring.state" || message.re !== undefined) return;
    if (message.callerId === this.deps.selfId) this.outgoingChanged(message);
    else if (message.calleeId === this.deps.selfId) this.incomingChanged(message);
  }

  private answer(type: "ring.accept" | "ring.decline", ring: RingState): void {
    this.done.add(ring.ringId);
    this.deps.request({ type, ringId: ring.ringId }).then(
      (answer) => {
        if (answer.type === "ring.state") this.incomingChanged(answer);
      },
      () => this.clearIf((view) => view.kind === "incoming" && view.ring.ringId === ring.ringId),
    );
  }

  private incomingChanged(ring: RingState): void {
    const view = this.current.get();
    if (ring.state === "accepted") {
      this.clearIf((v) => v.kind === "incoming" && v.ring.ringId === ring.ringId);
      if (this.done.has(ring.ringId)) this.acceptedRing(ring, this.incomingMode);
      return;
    }
    if (ring.state !== "ringing") {
      this.done.add(ring.ringId);
      this.clearIf((v) => v.kind === "incoming" && v.ring.ringId === ring.ringId);
      return;
    }
    if (this.done.has(ring.ringId) || view.kind === "incoming") return;
    if (view.kind === "outgoing" && isLive(view.phase)) return;
    this.incomingMode = "full";
    this.show({ kind: "incoming", ring, answering: false }, ring.timeoutMs + graceMs);
  }

  private outgoingChanged(ring: RingState): void {
    const view = this.current.get();
    const ours = view.kind === "outgoing" && (view.ringId === ring.ringId || (view.ringId === null && view.calleeId === ring.calleeId));
    if (ring.state === "accepted") {
      if (ours) this.clear();
      this.acceptedRing(ring);
      return;
    }
    if (!ours || view.kind !== "outgoing") {
      // The panel was closed while ring.start was on its way: stop the ring it started.
      if (ring.state === "ringing" && view.kind !== "outgoing") this.cancelRing(ring.ringId);
      if (ring.state === "cancelled" || ring.state === "declined" || ring.state === "missed") this.unanswered(ring);
      return;
    }
    switch (ring.state) {
      case "ringing":
        if (view.phase === "calling") this.waiting.set(ring.ringId, ring.meetingId);
        if (view.phase === "calling") this.deps.onRinging(ring.meetingId, ring.media === "audio" ? "audio-only" : "full");
        this.show({ ...view, phase: "ringing", ringId: ring.ringId }, ring.timeoutMs + graceMs, "missed");
        return;
      case "cancelled":
        this.unanswered(ring);
        this.clear();
        return;
      default:
        this.unanswered(ring);
        this.show({ ...view, phase: ring.state, ringId: ring.ringId }, outcomeShownMs);
    }
  }

  private cancelRing(ringId: string): void {
    this.deps.request({ type: "ring.cancel", ringId }).then(
      (answer) => {
        if (answer.type !== "ring.state") return;
        if (answer.state === "accepted") this.acceptedRing(answer);
        else this.unanswered(answer);
      },
      () => undefined,
    );
  }

  /** Our ring ended without an answer: leave the call we waited in, once. */
  private unanswered(ring: RingState): void {
    if (!this.waiting.delete(ring.ringId)) return;
    this.deps.onUnanswered(ring.meetingId);
  }

  private acceptedRing(ring: RingState, mode?: JoinMode): void {
    this.waiting.delete(ring.ringId);
    if (this.joined.has(ring.ringId)) return;
    this.joined.add(ring.ringId);
    this.done.add(ring.ringId);
    const callerMode: JoinMode = ring.media === "audio" ? "audio-only" : "full";
    this.deps.onAccepted(ring.meetingId, mode ?? callerMode);
  }

  /** Shows a view; after {@code ms} it closes, or (for a ring nobody answered) turns into {@code then}. */
  private show(view: RingView, ms?: number, then?: OutgoingPhase): void {
    this.stopTimer();
    this.current.set(view);
    if (ms === undefined) return;
    this.timer = this.deps.timers.set(() => {
      this.timer = null;
      const now = this.current.get();
      if (now !== view) return;
      if (then && now.kind === "outgoing") {
        const meetingId = now.ringId === null ? undefined : this.waiting.get(now.ringId);
        if (now.ringId !== null && meetingId !== undefined) {
          this.waiting.delete(now.ringId);
          this.deps.onUnanswered(meetingId);
        }
        this.show({ ...now, phase: then }, outcomeShownMs);
      } else {
        if (now.kind === "incoming") this.done.add(now.ring.ringId);
        this.current.set(none);
      }
    }, ms);
  }

  private clearIf(test: (view: RingView) => boolean): void {
    if (test(this.current.get())) this.clear();
  }

  private clear(): void {
    this.stopTimer();
    this.current.set(none);
  }

  private stopTimer(): void {
    if (this.timer !== null) this.deps.timers.clear(this.timer);
    this.timer = null;
  }
}

function isLive(phase: OutgoingPhase): boolean {
  return phase === "calling" || phase === "ringing";
}

function messageOf(error: unknown, fallback: string): string {
  return error instanceof Error && error.message ? error.message : fallback;
}
