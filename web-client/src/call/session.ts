// One call in one meeting, as the browser sees it. Two peer connections, as the server expects: *publish*
// (this browser offers its microphone, camera and screen; the server answers) and *subscribe* (the server
// offers everyone else's tracks whenever they change; this browser answers with the same version). The
// socket can drop and come back: call.join is sent again and, when the server says `resumed`, the peer
// connections carry on untouched; if the server has let the place go, the call is joined again cleanly.
import type { CallState, ClientMessage, ServerMessage } from "../ws/messages";
import { RequestError, RequestFailure } from "../ws/requests";

export type CallPhase =
  /** Asking for the camera and microphone. */
  | "preparing"
  /** The devices could not be used; the user chooses audio-only, receive-only or to give up. */
  | "media-problem"
  /** call.join sent, waiting for call.joined. */
  | "joining"
  /** Peer connections set up, media not flowing yet. */
  | "connecting"
  | "connected"
  /** ICE failed, the media server refused, or the server ended our place; Retry starts again. */
  | "failed"
  | "left";

export type JoinMode = "full" | "audio-only" | "receive-only";

export interface MediaProblem {
  kind: "denied" | "missing" | "other";
  /** The microphone alone works, so an audio-only join is possible. */
  audioAvailable: boolean;
  message: string;
}

export interface CallFailure {
  kind: "ice" | "server";
  message: string;
}

/** The parts of RTCPeerConnection a call uses, so tests can stand in for the browser. */
export interface PeerLike {
  readonly connectionState: string;
  onconnectionstatechange: ((event: unknown) => void) | null;
  ontrack: ((event: { track: { id: string; kind: string }; streams: readonly unknown[] }) => void) | null;
  addTransceiver(track: unknown, init: { direction: "sendonly"; streams: unknown[] }): TransceiverLike;
  createOffer(): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  setLocalDescription(description: { type: string; sdp?: string }): Promise<void>;
  setRemoteDescription(description: { type: "offer" | "answer"; sdp: string }): Promise<void>;
  getStats(): Promise<ReadonlyMap<string, unknown> | { forEach(cb: (value: unknown) => void): void }>;
  readonly signalingState: string;
  close(): void;
}

export interface TransceiverLike {
  direction: string;
  readonly sender: { replaceTrack(track: unknown): Promise<void> };
}

export interface TrackLike {
  readonly id: string;
  readonly kind: string;
  enabled: boolean;
  stop(): void;
  onended: ((event: unknown) => void) | null;
}

export interface StreamLike {
  readonly id: string;
  onremovetrack?: ((event: unknown) => void) | null;
  getTracks(): TrackLike[];
  getAudioTracks(): TrackLike[];
  getVideoTracks(): TrackLike[];
}

export interface CallEnvironment {
  /** Sends a request; resolves with its answer, rejects with a RequestError (Connection.request). */
  request(message: ClientMessage, timeoutMs?: number): Promise<ServerMessage>;
  createPeerConnection(config: { iceServers: RTCIceServer[]; bundlePolicy: "max-bundle" }): PeerLike;
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
  /** msid stream id → received stream. */
  remoteStreams: ReadonlyMap<string, unknown>;
  state: CallState | null;
}

export const iceFailureMessage =
  "The call's media couldn't connect. UDP traffic is probably blocked by a firewall or this network. " +
  "Try another network, or ask your administrator to set up a TURN server for Parley.";

export class CallSession {
  private phase: CallPhase = "preparing";
  private mode: JoinMode = "full";
  private problem: MediaProblem | null = null;
  private failure: CallFailure | null = null;
  private local: StreamLike | null = null;
  private screen: StreamLike | null = null;
  private audioMuted = false;
  private videoMuted = false;
  private reconnecting = false;
  private state: CallState | null = null;
  private publisher: PeerLike | null = null;
  private subscriber: PeerLike | null = null;
  private screenTransceiver: TransceiverLike | null = null;
  private iceServers: RTCIceServer[] = [];
  private remoteStreams = new Map<string, unknown>();
  /** track id → msid stream id of received tracks (for audio levels). */
  readonly streamOfTrack = new Map<string, string>();
  private publishing: "idle" | "awaiting-answer" = "idle";
  private publishAgain = false;
  private lastOfferSdp: string | null = null;
  private subscribeChain: Promise<void> = Promise.resolve();
  private connectTimer: unknown = null;
  private leaving = false;
  /** Counts joins, so the answer to an earlier one is not taken for the latest's. */
  private joinAttempt = 0;
  /** The devices failed before call.joined came: leave as soon as it does. */
  private leaveOnJoined = false;
  /** Resolves with whether the devices the mode needs are ready. */
  private mediaReady: Promise<boolean> = Promise.resolve(true);
  private autoRejoins = 0;
  private readonly listeners = new Set<() => void>();
  private snapshotCache: CallSnapshot | null = null;

  constructor(
    readonly meetingId: string,
    private readonly env: CallEnvironment,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): CallSnapshot => {
    if (!this.snapshotCache) {
      this.snapshotCache = {
        meetingId: this.meetingId,
        phase: this.phase,
        mode: this.mode,
        problem: this.problem,
        failure: this.failure,
        local: this.local,
        screen: this.screen,
        audioMuted: this.audioMuted,
        videoMuted: this.videoMuted,
        reconnecting: this.reconnecting,
        remoteStreams: this.remoteStreams,
        state: this.state,
      };
    }
    return this.snapshotCache;
  };

  get peers(): { publisher: PeerLike | null; subscriber: PeerLike | null } {
    return { publisher: this.publisher, subscriber: this.subscriber };
  }

  get isActive(): boolean {
    return this.phase !== "left";
  }

  private changed(): void {
    this.snapshotCache = null;
    for (const listener of this.listeners) listener();
  }

  /** Asks for the devices the mode needs, then joins. */
  async start(mode: JoinMode = "full"): Promise<void> {
    this.mode = mode;
    this.problem = null;
    this.failure = null;
    this.leaving = false;
    this.leaveOnJoined = false;
    // The devices start while the server sets up our place: both take a while, neither needs the other.
    const media = mode !== "receive-only" && !this.local ? this.acquireMedia(mode) : Promise.resolve(null);
    this.mediaReady = media.then((problem) => problem === null);
    this.join();
    const problem = await media;
    if (!problem || this.phase === "left" || this.leaving) return;
    if (this.phase !== "joining") {
      this.sendLeave();
    } else {
      // call.joined has not come yet; it finds the problem and leaves again.
      this.leaveOnJoined = true;
    }
    this.clearConnectTimer();
    this.closePeers();
    this.problem = problem;
    this.phase = "media-problem";
    this.changed();
  }

  /** Gets the camera and/or microphone; a description of the problem when they cannot be used. */
  private async acquireMedia(mode: JoinMode): Promise<MediaProblem | null> {
    try {
      const local = await this.env.getUserMedia({
        audio: true,
        video: mode === "full" ? { width: { ideal: 640 }, height: { ideal: 360 } } : false,
      });
      if (this.phase === "left") {
        for (const track of local.getTracks()) track.stop();
        return null;
      }
      this.local = local;
      return null;
    } catch (error) {
      return this.describeProblem(error, mode);
    }
  }

  private async describeProblem(error: unknown, mode: JoinMode): Promise<MediaProblem> {
    const name = (error as { name?: string } | null)?.name ?? "";
    const kind: MediaProblem["kind"] =
      name === "NotAllowedError" || name === "SecurityError"
        ? "denied"
        : name === "NotFoundError" || name === "OverconstrainedError"
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
    const what = mode !== "full" ? "microphone" : audioAvailable ? "camera" : "camera or microphone";
    const message =
      kind === "denied"
        ? `Parley isn't allowed to use your ${what}. Allow it in the browser's site settings, or join without it.`
        : kind === "missing"
          ? `No ${what} was found on this device.`
          : `Your ${what} couldn't be started (${name || "unknown error"}).`;
    return { kind, audioAvailable, message };
  }

  private join(): void {
    this.phase = "joining";
    this.changed();
    this.requestJoin();
  }

  /** Sends call.join; its answer is call.joined, or an error that says why the place was refused. */
  private requestJoin(): void {
    this.joinAttempt += 1;
    const attempt = this.joinAttempt;
    this.env.request({ type: "call.join", meetingId: this.meetingId }, joinTimeoutMs).then(
      (answer) => {
        if (attempt === this.joinAttempt && answer.type === "call.joined") this.joined(answer.resumed, answer.iceServers);
      },
      (error: unknown) => {
        if (attempt === this.joinAttempt) this.joinRefused(error);
      },
    );
  }

  private joinRefused(error: unknown): void {
    if (this.phase === "left" || this.phase === "failed" || this.phase === "media-problem") return;
    const code = error instanceof RequestError ? error.code : "";
    // The socket dropped: socketReopened() asks again.
    if (code === RequestFailure.disconnected) return;
    this.fail({ kind: "server", message: joinRefusalMessage(error) });
  }

  /** The socket came back (the session resumed): take our place in the call back. */
  socketReopened(): void {
    this.reconnecting = false;
    this.changed();
    if (this.phase === "joining" || this.phase === "connecting" || this.phase === "connected") this.requestJoin();
  }

  socketLost(): void {
    if (this.reconnecting) return;
    this.reconnecting = true;
    this.changed();
  }

  /** Handles the call events of this meeting (answers to this session's requests come back to the request). */
  handle(message: ServerMessage): void {
    if (!("meetingId" in message) || message.meetingId !== this.meetingId) return;
    switch (message.type) {
      case "call.subscribe.offer":
        this.subscribeOffered(message.sdp, message.version);
        break;
      case "call.state": {
        const { type: _type, ...state } = message;
        this.state = state;
        this.changed();
        break;
      }
      case "call.left":
        this.leftByServer(message.reason);
        break;
      default:
        break;
    }
  }

  /**
   * A call request other than the join failed. The server no longer knows us as a participant: join again. The
   * socket dropped: the request is repeated after the resume, or does not matter. Anything else ends the call
   * when `fatal` (a publish or subscribe that failed leaves the media broken).
   */
  private requestFailed(error: unknown, fatal: boolean, what: string): void {
    if (this.phase === "left" || this.phase === "failed") return;
    const code = error instanceof RequestError ? error.code : "";
    if (code === "call.not_joined") {
      if (this.isInCall()) this.rejoin();
      return;
    }
    if (code === RequestFailure.disconnected || !fatal) return;
    this.fail({ kind: "server", message: `${what} (${errorText(error)}).` });
  }

  private isInCall(): boolean {
    return this.phase === "connecting" || this.phase === "connected";
  }

  private joined(resumed: boolean, iceServers: RTCIceServer[]): void {
    this.iceServers = iceServers;
    if (this.phase === "left" || this.phase === "failed") return;
    if (resumed && (this.publisher || this.subscriber)) {
      // Our place was kept: the peer connections carry on. An offer we sent while away may be lost.
      if (this.publishing === "awaiting-answer" && this.lastOfferSdp) this.requestPublish(this.lastOfferSdp);
      this.sendMediaState();
      return;
    }
    if (this.leaveOnJoined || this.phase === "media-problem") {
      this.leaveOnJoined = false;
      this.sendLeave();
      return;
    }
    // A fresh place: any old peer connections belong to an endpoint the server has closed.
    this.closePeers();
    this.phase = "connecting";
    const subscriber = this.newPeer("subscribe");
    this.subscriber = subscriber;
    this.armConnectTimer();
    this.changed();
    void this.mediaReady.then((ready) => {
      if (!ready || this.subscriber !== subscriber) return;
      if (this.local || this.screen) this.startPublishing();
      else this.connectedOrWaiting();
      this.sendMediaState();
      this.changed();
    });
  }

  private newPeer(role: "publish" | "subscribe"): PeerLike {
    const pc = this.env.createPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    pc.onconnectionstatechange = () => this.peerStateChanged(pc);
    if (role === "subscribe") {
      pc.ontrack = (event) => {
        const stream = event.streams[0] as StreamLike | undefined;
        if (!stream) return;
        this.streamOfTrack.set(event.track.id, stream.id);
        const next = new Map(this.remoteStreams);
        next.set(stream.id, stream);
        this.remoteStreams = next;
        // A later offer that stops a stream (someone left, a screen share ended) removes its tracks.
        stream.onremovetrack = () => {
          if (stream.getTracks().length > 0 || this.remoteStreams.get(stream.id) !== stream) return;
          const remaining = new Map(this.remoteStreams);
          remaining.delete(stream.id);
          this.remoteStreams = remaining;
          this.changed();
        };
        this.changed();
      };
    }
    return pc;
  }

  private startPublishing(): void {
    this.publisher = this.newPeer("publish");
    if (this.local) {
      for (const track of this.local.getTracks()) {
        this.publisher.addTransceiver(track, { direction: "sendonly", streams: [this.local] });
      }
    }
    if (this.screen) this.addScreenTransceiver(this.screen);
    void this.negotiatePublish();
  }

  private addScreenTransceiver(screen: StreamLike): void {
    const track = screen.getVideoTracks()[0];
    if (!this.publisher || !track) return;
    this.screenTransceiver = this.publisher.addTransceiver(track, { direction: "sendonly", streams: [screen] });
  }

  /** Sends a publish offer for the current tracks; one at a time, the latest wins. */
  private async negotiatePublish(): Promise<void> {
    const pc = this.publisher;
    if (!pc) return;
    if (this.publishing === "awaiting-answer") {
      this.publishAgain = true;
      return;
    }
    this.publishing = "awaiting-answer";
    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      if (pc !== this.publisher) return;
      this.lastOfferSdp = offer.sdp ?? "";
      this.requestPublish(this.lastOfferSdp);
    } catch (error) {
      this.publishing = "idle";
      this.fail({ kind: "server", message: `The call couldn't start sending media (${errorText(error)}).` });
    }
  }

  private requestPublish(sdp: string): void {
    const pc = this.publisher;
    this.env.request({ type: "call.publish", meetingId: this.meetingId, sdp }).then(
      (answer) => {
        if (answer.type === "call.publish.answer" && pc === this.publisher) void this.publishAnswered(answer.sdp);
      },
      (error: unknown) => {
        if (pc === this.publisher) this.requestFailed(error, true, "The media server refused what this browser sends");
      },
    );
  }

  private async publishAnswered(sdp: string): Promise<void> {
    const pc = this.publisher;
    if (!pc || this.publishing !== "awaiting-answer" || pc.signalingState !== "have-local-offer") return;
    try {
      await pc.setRemoteDescription({ type: "answer", sdp });
    } catch (error) {
      this.fail({ kind: "server", message: `The media server's answer was refused (${errorText(error)}).` });
      return;
    }
    this.publishing = "idle";
    this.lastOfferSdp = null;
    if (this.publishAgain) {
      this.publishAgain = false;
      void this.negotiatePublish();
    }
  }

  private subscribeOffered(sdp: string, version: number): void {
    // Offers are applied in the order they came, each answered with its own version.
    this.subscribeChain = this.subscribeChain.then(async () => {
      const pc = this.subscriber;
      if (!pc) return;
      try {
        await pc.setRemoteDescription({ type: "offer", sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        if (pc !== this.subscriber) return;
        const message: ClientMessage = { type: "call.subscribe.answer", meetingId: this.meetingId, sdp: answer.sdp ?? "", version };
        this.env.request(message).catch((error: unknown) => {
          if (pc === this.subscriber) this.requestFailed(error, true, "The call's incoming media couldn't be set up");
        });
      } catch (error) {
        this.fail({ kind: "server", message: `The call's incoming media couldn't be set up (${errorText(error)}).` });
      }
    });
  }

  private peerStateChanged(pc: PeerLike): void {
    if (pc !== this.publisher && pc !== this.subscriber) return;
    if (pc.connectionState === "failed") {
      this.fail({ kind: "ice", message: iceFailureMessage });
      return;
    }
    const main = this.publisher ?? this.subscriber;
    if (pc === main && pc.connectionState === "connected" && this.phase === "connecting") {
      this.phase = "connected";
      this.autoRejoins = 0;
      this.clearConnectTimer();
      this.changed();
    }
  }

  /** Receive-only and alone: nothing to connect until someone publishes. */
  private connectedOrWaiting(): void {
    this.phase = "connected";
  }

  private armConnectTimer(): void {
    this.clearConnectTimer();
    this.connectTimer = this.env.setTimer(() => {
      this.connectTimer = null;
      if (this.phase === "connecting") this.fail({ kind: "ice", message: iceFailureMessage });
    }, connectTimeoutMs);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) this.env.clearTimer(this.connectTimer);
    this.connectTimer = null;
  }

  /** The server took us out of the call (an event: the answer to our own call.leave goes to its request). */
  private leftByServer(reason: string): void {
    if (this.phase === "failed") return;
    if (this.leaving || this.phase === "left") {
      this.finish();
      return;
    }
    this.closePeers();
    if (reason === "joined another call") {
      this.finish();
      return;
    }
    // Our place was let go (the socket was away too long, or the media server stopped hearing from us, as after
    // a network change): join again once with the same devices before saying the media can't connect.
    if (this.autoRejoins >= 1) {
      if (reason.startsWith("media connection lost")) this.fail({ kind: "ice", message: iceFailureMessage });
      else this.finish();
      return;
    }
    this.autoRejoins += 1;
    this.join();
  }

  private rejoin(): void {
    this.closePeers();
    this.join();
  }

  private fail(failure: CallFailure): void {
    if (this.phase === "left") return;
    this.clearConnectTimer();
    this.closePeers();
    if (!this.leaving && this.phase !== "joining") this.sendLeave();
    this.leaving = true;
    this.failure = failure;
    this.phase = "failed";
    this.changed();
  }

  /** Starts over after a failure, with the same devices. */
  retry(): void {
    if (this.phase !== "failed" && this.phase !== "media-problem") return;
    this.leaving = false;
    this.failure = null;
    if (this.phase === "media-problem") {
      void this.start(this.mode);
      return;
    }
    this.join();
  }

  /** The user's choice after a device problem. */
  continueWith(mode: "audio-only" | "receive-only"): void {
    void this.start(mode);
  }

  leave(): void {
    if (this.phase === "left") return;
    const wasJoined = this.phase !== "media-problem" && !this.leaving;
    this.leaving = true;
    if (wasJoined) this.sendLeave();
    this.finish();
  }

  /** Gives our place back; nothing waits for the answer (a lost one changes nothing here). */
  private sendLeave(): void {
    this.env.request({ type: "call.leave", meetingId: this.meetingId }).catch(() => undefined);
  }

  private finish(): void {
    this.clearConnectTimer();
    this.closePeers();
    this.stopLocal();
    this.phase = "left";
    this.changed();
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

  get hasMicrophone(): boolean {
    return (this.local?.getAudioTracks().length ?? 0) > 0;
  }

  get hasCamera(): boolean {
    return (this.local?.getVideoTracks().length ?? 0) > 0;
  }

  /** Shares a screen: a new sendonly track on the publish connection and a new offer. */
  async shareScreen(): Promise<string | null> {
    if (this.screen || !this.isInCall()) return null;
    let screen: StreamLike;
    try {
      screen = await this.env.getDisplayMedia();
    } catch (error) {
      const name = (error as { name?: string } | null)?.name;
      return name === "NotAllowedError" ? null : `The screen couldn't be shared (${errorText(error)}).`;
    }
    if (!this.isInCall()) {
      for (const track of screen.getTracks()) track.stop();
      return null;
    }
    this.screen = screen;
    const track = screen.getVideoTracks()[0];
    if (track) track.onended = () => void this.stopScreen();
    if (!this.publisher) {
      this.startPublishing();
    } else if (this.screenTransceiver) {
      this.screenTransceiver.direction = "sendonly";
      await this.screenTransceiver.sender.replaceTrack(track);
      void this.negotiatePublish();
    } else {
      this.addScreenTransceiver(screen);
      void this.negotiatePublish();
    }
    this.sendMediaState();
    this.changed();
    return null;
  }

  async stopScreen(): Promise<void> {
    const screen = this.screen;
    if (!screen) return;
    this.screen = null;
    for (const track of screen.getTracks()) track.stop();
    if (this.screenTransceiver && this.publisher) {
      await this.screenTransceiver.sender.replaceTrack(null);
      this.screenTransceiver.direction = "inactive";
      void this.negotiatePublish();
    }
    this.sendMediaState();
    this.changed();
  }

  private sendMediaState(): void {
    if (this.phase === "left" || this.phase === "preparing" || this.phase === "joining") return;
    const message: ClientMessage = {
      type: "call.media",
      meetingId: this.meetingId,
      audioMuted: this.audioMuted || !this.hasMicrophone,
      videoMuted: this.videoMuted || !this.hasCamera,
      screenSharing: this.screen !== null,
    };
    this.env.request(message).catch((error: unknown) => this.requestFailed(error, false, "Mute state not shared"));
  }

  private closePeers(): void {
    this.clearConnectTimer();
    for (const pc of [this.publisher, this.subscriber]) {
      if (!pc) continue;
      pc.onconnectionstatechange = null;
      pc.ontrack = null;
      pc.close();
    }
    this.publisher = null;
    this.subscriber = null;
    this.screenTransceiver = null;
    this.publishing = "idle";
    this.publishAgain = false;
    this.lastOfferSdp = null;
    this.subscribeChain = Promise.resolve();
    if (this.remoteStreams.size > 0) this.remoteStreams = new Map();
    this.streamOfTrack.clear();
  }

  private stopLocal(): void {
    for (const stream of [this.local, this.screen]) for (const track of stream?.getTracks() ?? []) track.stop();
    this.local = null;
    this.screen = null;
  }
}

/** What the page says when the server refuses a join: its own words (they name the reason), or a plain fallback. */
function joinRefusalMessage(error: unknown): string {
  if (error instanceof RequestError && error.code === RequestFailure.timeout) {
    return "The server didn't answer the request to join the call. Check your connection and try again.";
  }
  const reason = error instanceof Error && error.message ? error.message : "";
  return reason ? `The call couldn't be joined: ${reason}` : "The call couldn't be joined.";
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
