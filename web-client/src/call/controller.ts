// At most one call per tab: the controller owns the current CallSession, routes call messages to it and
// gives React one view to render.
import { type ReadableStore, createStore } from "../store";
import type { ServerMessage } from "../ws/messages";
import { type CallEnvironment, CallSession, type CallSnapshot, type JoinMode } from "./session";

export interface CallView {
  session: CallSession | null;
  snapshot: CallSnapshot | null;
}

const idle: CallView = { session: null, snapshot: null };

export function browserCallEnvironment(request: CallEnvironment["request"]): CallEnvironment {
  return {
    request,
    createPeerConnection: (config) => new RTCPeerConnection(config) as never,
    getUserMedia: (constraints) => navigator.mediaDevices.getUserMedia(constraints) as Promise<never>,
    getDisplayMedia: () => navigator.mediaDevices.getDisplayMedia({ video: true, audio: false }) as Promise<never>,
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    videoCapabilities: () =>
      typeof RTCRtpSender !== "undefined" && typeof RTCRtpSender.getCapabilities === "function"
        ? RTCRtpSender.getCapabilities("video")
        : null,
  };
}

export class CallController {
  private session: CallSession | null = null;
  private offSession: (() => void) | null = null;
  private readonly current = createStore<CallView>(idle);

  constructor(
    request: CallEnvironment["request"],
    private readonly env: CallEnvironment = browserCallEnvironment(request),
  ) {}

  /** The tab's call and its latest snapshot (both null when there is none). */
  get view(): ReadableStore<CallView> {
    return this.current;
  }

  private refresh(): void {
    this.current.set(this.session ? { session: this.session, snapshot: this.session.view.get() } : idle);
  }

  /** Joins a meeting's call, leaving any other call first. */
  join(meetingId: string, mode: JoinMode = "full"): void {
    if (this.session?.meetingId === meetingId && this.session.isActive) return;
    this.leave();
    const session = new CallSession(meetingId, this.env);
    this.session = session;
    this.offSession = session.view.subscribe(() => this.refresh());
    this.refresh();
    session.start(mode);
  }

  leave(): void {
    const session = this.session;
    if (!session) return;
    this.offSession?.();
    this.offSession = null;
    this.session = null;
    session.leave();
    this.refresh();
  }

  handle(message: ServerMessage): void {
    this.session?.handle(message);
  }

  socketReopened(): void {
    this.session?.socketReopened();
  }

  socketLost(): void {
    this.session?.socketLost();
  }
}
