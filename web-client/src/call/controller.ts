// At most one call per tab: the controller owns the current CallSession, routes call messages to it and
// gives React one snapshot to render.
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
  };
}

export class CallController {
  private session: CallSession | null = null;
  private view: CallView = idle;
  private offSession: (() => void) | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    request: CallEnvironment["request"],
    private readonly env: CallEnvironment = browserCallEnvironment(request),
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): CallView => this.view;

  private refresh(): void {
    this.view = this.session ? { session: this.session, snapshot: this.session.getSnapshot() } : idle;
    for (const listener of this.listeners) listener();
  }

  /** Joins a meeting's call, leaving any other call first. */
  join(meetingId: string, mode: JoinMode = "full"): void {
    if (this.session?.meetingId === meetingId && this.session.isActive) return;
    this.leave();
    const session = new CallSession(meetingId, this.env);
    this.session = session;
    this.offSession = session.subscribe(() => this.refresh());
    this.refresh();
    void session.start(mode);
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

