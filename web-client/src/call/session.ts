// One call in one meeting, as the browser sees it. The call's states and transitions are `machine.ts`; this class
// runs what they ask for — the devices, the requests, the peer connections (`peers.ts`), the connect timer — and
// turns what happens back into the machine's events. The socket can drop and come back: call.join is sent again
// and, when the server says `resumed`, the peer connections carry on untouched.
import type { CallState, ServerMessage } from "../ws/messages";
import { RequestError } from "../ws/requests";
import {
  type CallEffect,
  type CallEvent,
  type CallFailure,
  type CallMachineState,
  type CallPhase,
  type JoinMode,
  type MediaProblem,
  initialCallState,
  transition,
} from "./machine";
import { CallPeers, type PeerEnvironment, type PeerLike, type StreamLike, errorText } from "./peers";
import { cameraCapture } from "./encodings";
import { ReceiveReports, type TileReport } from "./receiving";
import { screenShareErrorMessage } from "./wording";
import { type ReadableStore, type Store, createStore } from "../store";

export type { CallFailure, CallPhase, JoinMode, MediaProblem } from "./machine";
export type { PeerLike, SenderLike, StreamLike, TrackLike, TransceiverLike } from "./peers";
export type { TileReport } from "./receiving";

export interface CallEnvironment extends PeerEnvironment {
  getUserMedia(constraints: { audio: boolean; video: boolean | object }): Promise<StreamLike>;
  getDisplayMedia(): Promise<StreamLike>;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** How long media may take to connect before the call says it could not. */
export const connectTimeoutMs = 20_000;
/** How long the server may take to answer call.join (it sets up a place on the media server). */
export const joinTimeoutMs = 20_000;

export interface CallSnapshot {
  meetingId: string;
  phase: CallPhase;
  mode: JoinMode;
  problem: MediaProblem | null;
  failure: CallFailure | null;
  local: StreamLike | null;
  screen: StreamLike | null;
  audioMuted: boolean;
  videoMuted: boolean;
  /** Whether the socket is away (the media keeps flowing meanwhile). */
  reconnecting: boolean;
  /** Whether the call is being taken to another media server (call.moved), until media flows again. */
  moving: boolean;
  /** msid stream id → received stream. */
  remoteStreams: ReadonlyMap<string, StreamLike>;
  state: CallState | null;
  /** Who speaks (most active first) and who is the dominant speaker, as the server hears them; null until it says. */
  speakers: { dominant: string | null; speaking: readonly string[] } | null;
  /** Remote video track ids the server withholds (last-N): their tiles show the person without video. */
  withheld: ReadonlySet<string>;
  /** Remote video track ids paused because our downlink does not carry them: their tiles show the person. */
  lowBandwidth: ReadonlySet<string>;
  /** Whether our downlink keeps some video below what its tile asks for (or paused), as the server says. */
  linkLimited: boolean;
  /** msid stream ids of the tiles the user pinned. */
  pinned: ReadonlySet<string>;
}

export class CallSession {
  private machine: CallMachineState = initialCallState;
  private readonly queue: CallEvent[] = [];
  private dispatching = false;
  private local: StreamLike | null = null;
  private screen: StreamLike | null = null;
  private audioMuted = false;
  private videoMuted = false;
  private state: CallState | null = null;
  private speakers: CallSnapshot["speakers"] = null;
  private withheld: ReadonlySet<string> = new Set();
  private lowBandwidth: ReadonlySet<string> = new Set();
  private linkLimited = false;
  private pinned: ReadonlySet<string> = new Set();
  private connectTimer: unknown = null;
  private readonly peers: CallPeers;
  private readonly receiving: ReceiveReports;
  private readonly snapshot: Store<CallSnapshot>;

  constructor(
    readonly meetingId: string,
    private readonly env: CallEnvironment,
  ) {
    this.peers = new CallPeers(meetingId, env, {
      connected: () => this.dispatch({ type: "mediaConnected" }),
      failed: () => this.dispatch({ type: "mediaFailed" }),
      streamsChanged: () => this.changed(),
      negotiationFailed: (trouble, detail) => this.dispatch({ type: "negotiationFailed", trouble, detail }),
      requestFailed: (request, error) => this.requestFailed(request, error),
    });
    this.receiving = new ReceiveReports(meetingId, env, () => this.inCall && !this.machine.reconnecting);
    this.snapshot = createStore(this.snapshotNow());
  }

  /** What the call stage renders; a new snapshot after every change. */
  get view(): ReadableStore<CallSnapshot> {
    return this.snapshot;
  }

  /** The peer connections, for their statistics. */
  get peerConnections(): { publisher: PeerLike | null; subscriber: PeerLike | null } {
    return this.peers.current;
  }

  /** track id → msid stream id of received tracks (for audio levels). */
  get streamOfTrack(): ReadonlyMap<string, string> {
    return this.peers.streamOfTrack;
  }

  get isActive(): boolean {
    return this.machine.phase !== "left";
  }

  get hasMicrophone(): boolean {
    return (this.local?.getAudioTracks().length ?? 0) > 0;
  }

  get hasCamera(): boolean {
    return (this.local?.getVideoTracks().length ?? 0) > 0;
  }

  /** Asks for the devices the mode needs and, at the same time, for a place in the call. */
  start(mode: JoinMode = "full"): void {
    this.dispatch({ type: "start", mode });
  }

  /** Starts over after a failure or a device problem, with the same mode. */
  retry(): void {
    this.dispatch({ type: "retry" });
  }

  /** The user's choice after a device problem. */
  continueWith(mode: "audio-only" | "receive-only"): void {
    this.dispatch({ type: "start", mode });
  }

  leave(): void {
    this.dispatch({ type: "leave" });
  }

  /** The socket came back (the session resumed): take our place in the call back. */
  socketReopened(): void {
    this.dispatch({ type: "socketReopened" });
  }

  socketLost(): void {
    this.dispatch({ type: "socketLost" });
  }

  /** A remote video tile's stream, place on screen and size (null: the tile is gone); see receiving.ts. */
  reportTile(key: string, report: TileReport | null): void {
    this.receiving.tile(key, report);
  }

  /**
   * Pins or unpins the tile of a remote stream (msid): a pinned tile's video comes even when more people send video
   * than the server's last-N and its publisher is not among the recent speakers.
   */
  setPinned(streamId: string, pinned: boolean): void {
    if (this.pinned.has(streamId) === pinned) return;
    const next = new Set(this.pinned);
    if (pinned) next.add(streamId);
    else next.delete(streamId);
    this.pinned = next;
    this.receiving.pinned(next);
    this.changed();
  }

  /** Whether the page is visible (document.visibilityState): a hidden page shows no video. */
  pageVisibility(visible: boolean): void {
    this.receiving.pageVisibility(visible);
  }

  /** Handles the call events of this meeting (answers to this session's requests come back to the request). */
  handle(message: ServerMessage): void {
    if (!("meetingId" in message) || message.meetingId !== this.meetingId) return;
    switch (message.type) {
      case "call.subscribe.offer":
        this.peers.subscribeOffered(message.sdp, message.version);
        break;
      case "call.layers":
        this.peers.layersWanted(message.mid, message.rids);
        break;
      case "call.speakers":
        this.speakers = { dominant: message.dominantUserId, speaking: message.speakingUserIds };
        this.changed();
        break;
      case "call.withheld":
        this.withheld = new Set(message.trackIds);
        this.lowBandwidth = new Set(message.lowBandwidth);
        this.linkLimited = message.linkLimited;
        this.changed();
        break;
      case "call.state": {
        const { type: _type, re: _re, ...state } = message;
        this.state = state;
        this.receiving.participantsChanged(state.participants);
        this.changed();
        break;
      }
      case "call.left":
        this.dispatch({ type: "serverLeft", reason: message.reason });
        break;
      case "call.moved":
        // The media server under the call was lost: the call goes on on another one, which we join.
        if (message.to === this.meetingId) this.dispatch({ type: "moved" });
        break;
      default:
        break;
    }
  }

  setAudioMuted(muted: boolean): void {
    for (const track of this.local?.getAudioTracks() ?? []) track.enabled = !muted;
    this.audioMuted = muted;
    this.sendMediaState();
    this.changed();
  }

  setVideoMuted(muted: boolean): void {
    for (const track of this.local?.getVideoTracks() ?? []) track.enabled = !muted;
    this.videoMuted = muted;
    this.sendMediaState();
    this.changed();
  }

  /** Shares a screen: a new sendonly track on the publish connection and a new offer; words when it can't. */
  async shareScreen(): Promise<string | null> {
    if (this.screen || !this.inCall) return null;
    let screen: StreamLike;
    try {
      screen = await this.env.getDisplayMedia();
    } catch (error) {
      const name = (error as { name?: string } | null)?.name;
      return name === "NotAllowedError" ? null : screenShareErrorMessage(errorText(error));
    }
    if (!this.inCall) {
      for (const track of screen.getTracks()) track.stop();
      return null;
    }
    this.screen = screen;
    const track = screen.getVideoTracks()[0];
    if (track) track.onended = () => void this.stopScreen();
    if (this.peers.isPublishing) await this.peers.shareScreen(screen);
    else this.peers.startPublishing({ local: this.local, screen });
    this.sendMediaState();
    this.changed();
    return null;
  }

  async stopScreen(): Promise<void> {
    const screen = this.screen;
    if (!screen) return;
    this.screen = null;
    for (const track of screen.getTracks()) track.stop();
    await this.peers.stopScreen();
    this.sendMediaState();
    this.changed();
  }

  private get inCall(): boolean {
    return this.machine.phase === "connecting" || this.machine.phase === "connected";
  }

  /** Runs events one at a time: an event raised while effects run waits for them to finish. */
  private dispatch(event: CallEvent): void {
    this.queue.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const { state, effects } = transition(this.machine, next);
        const moved = state !== this.machine;
        this.machine = state;
        for (const effect of effects) this.run(effect);
        if (moved || effects.length > 0) this.changed();
      }
    } finally {
      this.dispatching = false;
    }
  }

  private run(effect: CallEffect): void {
    switch (effect.type) {
      case "startDevices":
        void this.startDevices(effect.mode);
        break;
      case "requestJoin":
        this.requestJoin(effect.attempt);
        break;
      case "sendLeave":
        this.env.request({ type: "call.leave", meetingId: this.meetingId }).catch(() => undefined);
        break;
      case "openSubscriber":
        // A new place: the server says again what it withholds.
        this.forgetWithheld();
        this.peers.openSubscriber();
        this.armConnectTimer();
        break;
      case "publish":
        if (this.local) this.peers.publishLocal(this.local, this.screen);
        else if (this.screen) this.peers.startPublishing({ local: null, screen: this.screen });
        else this.dispatch({ type: "nothingToPublish" });
        break;
      case "resendOffer":
        this.peers.resendOffer();
        break;
      case "sendMediaState":
        this.sendMediaState();
        break;
      case "sendReceiving":
        this.receiving.resend();
        break;
      case "stopConnectTimer":
        this.clearConnectTimer();
        break;
      case "closePeers":
        // Nothing is received any more, so nothing is withheld or limited.
        this.forgetWithheld();
        this.clearConnectTimer();
        this.receiving.stop();
        this.peers.close();
        break;
      case "stopDevices":
        for (const stream of [this.local, this.screen]) for (const track of stream?.getTracks() ?? []) track.stop();
        this.local = null;
        this.screen = null;
        break;
    }
  }

  /** Gets the camera and/or microphone; says what the problem is when they cannot be used. */
  private async startDevices(mode: JoinMode): Promise<void> {
    try {
      const local = await this.env.getUserMedia({
        audio: true,
        video: mode === "full" ? cameraCapture : false,
      });
      if (this.machine.phase === "left") {
        for (const track of local.getTracks()) track.stop();
        return;
      }
      this.local = local;
      this.dispatch({ type: "devicesReady" });
    } catch (error) {
      this.dispatch({ type: "devicesFailed", problem: await this.describeProblem(error, mode) });
    }
  }

  private async describeProblem(error: unknown, mode: JoinMode): Promise<MediaProblem> {
    const errorName = (error as { name?: string } | null)?.name ?? "";
    const kind: MediaProblem["kind"] =
      errorName === "NotAllowedError" || errorName === "SecurityError"
        ? "denied"
        : errorName === "NotFoundError" || errorName === "OverconstrainedError"
          ? "missing"
          : "other";
    let audioAvailable = false;
    if (mode === "full") {
      try {
        const audio = await this.env.getUserMedia({ audio: true, video: false });
        for (const track of audio.getTracks()) track.stop();
        audioAvailable = true;
      } catch {
        audioAvailable = false;
      }
    }
    // Name only what failed: when the microphone alone works, the camera is the problem.
    const device = mode !== "full" ? "microphone" : audioAvailable ? "camera" : "camera or microphone";
    return { kind, audioAvailable, device, errorName };
  }

  /** Sends call.join; its answer is call.joined, or an error that says why the place was refused. */
  private requestJoin(attempt: number): void {
    this.env.request({ type: "call.join", meetingId: this.meetingId }, joinTimeoutMs).then(
      (answer) => {
        if (answer.type !== "call.joined") return;
        if (attempt === this.machine.joinAttempt) {
          this.peers.iceServers = answer.iceServers;
          this.receiving.joinedAs(answer.endpointId);
        }
        this.dispatch({ type: "joined", attempt, resumed: answer.resumed });
      },
      (error: unknown) => this.dispatch({ type: "joinFailed", attempt, ...failureOf(error) }),
    );
  }

  private requestFailed(request: "publish" | "subscribe" | "media", error: unknown): void {
    this.dispatch({ type: "requestFailed", request, ...failureOf(error) });
  }

  private sendMediaState(): void {
    if (!this.inCall) return;
    this.env
      .request({
        type: "call.media",
        meetingId: this.meetingId,
        audioMuted: this.audioMuted || !this.hasMicrophone,
        videoMuted: this.videoMuted || !this.hasCamera,
        screenSharing: this.screen !== null,
      })
      .catch((error: unknown) => this.requestFailed("media", error));
  }

  private armConnectTimer(): void {
    this.clearConnectTimer();
    this.connectTimer = this.env.setTimer(() => {
      this.connectTimer = null;
      if (this.machine.phase === "connecting") this.dispatch({ type: "mediaFailed" });
    }, connectTimeoutMs);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) this.env.clearTimer(this.connectTimer);
    this.connectTimer = null;
  }

  private forgetWithheld(): void {
    this.withheld = new Set();
    this.lowBandwidth = new Set();
    this.linkLimited = false;
  }

  private changed(): void {
    this.snapshot.set(this.snapshotNow());
  }

  private snapshotNow(): CallSnapshot {
    const { phase, mode, problem, failure, reconnecting, moving } = this.machine;
    return {
      meetingId: this.meetingId,
      phase,
      mode,
      problem,
      failure,
      local: this.local,
      screen: this.screen,
      audioMuted: this.audioMuted,
      videoMuted: this.videoMuted,
      reconnecting,
      moving,
      remoteStreams: this.peers.remoteStreams,
      state: this.state,
      speakers: this.speakers,
      withheld: this.withheld,
      lowBandwidth: this.lowBandwidth,
      linkLimited: this.linkLimited,
      pinned: this.pinned,
    };
  }
}

/** A failed request as the machine reads it: the error's code (the server's, or the client's own) and words. */
function failureOf(error: unknown): { code: string; detail: string } {
  if (error instanceof RequestError) return { code: error.code, detail: error.message };
  return { code: "", detail: errorText(error) };
}
