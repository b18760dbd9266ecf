// A call's two peer connections, as the server expects: *publish* (this browser offers its microphone, camera
// and screen; the server answers, one offer in flight at a time) and *subscribe* (the server offers everyone
// else's tracks whenever they change; this browser answers each offer, in order, with its version). What happens
// to them is reported to the call (`PeerReports`); what the call does about it is the state machine's business.
import type { ClientMessage, ServerMessage } from "../ws/messages";
import { type SendEncoding, type SendParameters, type VideoCapabilities, cameraEncodingChoices, fullSizeIfSingleLayer, onlyLayers, screenEncoding } from "./encodings";
import { freshIceServers } from "./turn";

/** The parts of RTCPeerConnection a call uses, so tests can stand in for the browser. */
export interface PeerLike {
  readonly connectionState: string;
  onconnectionstatechange: ((event: unknown) => void) | null;
  ontrack: ((event: { track: { id: string; kind: string }; streams: readonly unknown[] }) => void) | null;
  /** Throws (OperationError) for sendEncodings the browser cannot send, e.g. an unsupported scalabilityMode. */
  addTransceiver(track: unknown, init: { direction: "sendonly"; streams: unknown[]; sendEncodings?: SendEncoding[] }): TransceiverLike;
  createOffer(): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  setLocalDescription(description: { type: string; sdp?: string }): Promise<void>;
  setRemoteDescription(description: { type: "offer" | "answer"; sdp: string }): Promise<void>;
  getStats(): Promise<ReadonlyMap<string, unknown> | { forEach(cb: (value: unknown) => void): void }>;
  readonly signalingState: string;
  setConfiguration(configuration: { iceServers: RTCIceServer[]; bundlePolicy: "max-bundle" }): void;
  close(): void;
}

export interface TransceiverLike {
  direction: string;
  /** The transceiver's m-section in the SDP; null until an offer with it was set as the local description. */
  readonly mid: string | null;
  readonly sender: SenderLike;
}

export interface SenderLike {
  replaceTrack(track: unknown): Promise<void>;
  getParameters(): SendParameters;
  setParameters(parameters: SendParameters): Promise<void>;
}

export interface TrackLike {
  readonly id: string;
  readonly kind: string;
  enabled: boolean;
  /** "detail" for a shared screen: the encoder keeps text sharp rather than motion smooth. */
  contentHint?: string;
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

export interface PeerEnvironment {
  /** Sends a request; resolves with its answer, rejects with a RequestError (Connection.request). */
  request(message: ClientMessage, timeoutMs?: number): Promise<ServerMessage>;
  createPeerConnection(config: { iceServers: RTCIceServer[]; bundlePolicy: "max-bundle" }): PeerLike;
  /** RTCRtpSender.getCapabilities("video"); absent or null: unknown. */
  videoCapabilities?(): VideoCapabilities | null;
  /** The clock TURN credential expiries are compared with (Date.now when absent). */
  now?(): number;
}

/** What the peer connections tell the call. */
export interface PeerReports {
  /** The main connection (publish, else subscribe) connected. */
  connected(): void;
  failed(): void;
  streamsChanged(): void;
  negotiationFailed(trouble: "publish-offer" | "publish-answer" | "subscribe-refused", detail: string): void;
  requestFailed(request: "publish" | "subscribe", error: unknown): void;
}

export class CallPeers {
  private publisher: PeerLike | null = null;
  private subscriber: PeerLike | null = null;
  private screenTransceiver: TransceiverLike | null = null;
  private cameraTransceiver: TransceiverLike | null = null;
  /** The camera and microphone have their transceivers on the publish connection. */
  private localPublished = false;
  private publishing: "idle" | "awaiting-answer" = "idle";
  private publishAgain = false;
  private lastOfferSdp: string | null = null;
  private subscribeChain: Promise<void> = Promise.resolve();
  /** msid stream id → received stream; replaced (never changed in place) so React sees each change. */
  remoteStreams: ReadonlyMap<string, StreamLike> = new Map();
  /** track id → msid stream id of received tracks (for audio levels). */
  readonly streamOfTrack = new Map<string, string>();
  iceServers: RTCIceServer[] = [];
  /** Connections that have begun their first negotiation (and so have, or are getting, their ICE servers). */
  private readonly negotiated = new WeakSet<PeerLike>();
  /** mid → the rids of our layers someone receives (call.layers), the latest per mid; applied when it can be. */
  private readonly wantedLayers = new Map<string, readonly string[]>();
  /** Counts call.layers messages, so a setParameters that ends knows whether a newer wish came meanwhile. */
  private layersVersion = 0;
  /** The sender whose setParameters for the wanted layers has not finished (the browser takes one at a time). */
  private layersInFlight: SenderLike | null = null;
  /** The server answered an offer with our camera in it: the camera's encodings are now what it will send. */
  private cameraNegotiated = false;

  constructor(
    private readonly meetingId: string,
    private readonly env: PeerEnvironment,
    private readonly reports: PeerReports,
  ) {}

  get current(): { publisher: PeerLike | null; subscriber: PeerLike | null } {
    return { publisher: this.publisher, subscriber: this.subscriber };
  }

  get isPublishing(): boolean {
    return this.publisher !== null;
  }

  /** A fresh subscribe connection (any old ones belong to an endpoint the server has closed). */
  openSubscriber(): void {
    this.close();
    this.subscriber = this.newPeer("subscribe");
  }

  /** The publish connection, sending these streams. */
  startPublishing(streams: { local: StreamLike | null; screen: StreamLike | null }): void {
    const publisher = this.newPeer("publish");
    this.publisher = publisher;
    if (streams.local) this.addLocalTransceivers(publisher, streams.local);
    if (streams.screen) this.addScreenTransceiver(streams.screen);
    void this.negotiatePublish();
  }

  /**
   * The camera and microphone, once they have started: on the publish connection when there is one already (a
   * screen shared while they were starting), else on a new one.
   */
  publishLocal(local: StreamLike, screen: StreamLike | null): void {
    const publisher = this.publisher;
    if (!publisher) {
      this.startPublishing({ local, screen });
      return;
    }
    if (this.localPublished) return;
    this.addLocalTransceivers(publisher, local);
    void this.negotiatePublish();
  }

  private addLocalTransceivers(publisher: PeerLike, local: StreamLike): void {
    this.localPublished = true;
    for (const track of local.getTracks()) {
      if (track.kind === "video") this.cameraTransceiver = this.addCameraTransceiver(publisher, track, local);
      else publisher.addTransceiver(track, { direction: "sendonly", streams: [local] });
    }
  }

  /** Adds (or brings back) the screen's transceiver and offers again. */
  async shareScreen(screen: StreamLike): Promise<void> {
    const track = screen.getVideoTracks()[0];
    if (track) track.contentHint = "detail";
    if (this.screenTransceiver) {
      this.screenTransceiver.direction = "sendonly";
      await this.screenTransceiver.sender.replaceTrack(track);
    } else {
      this.addScreenTransceiver(screen);
    }
    void this.negotiatePublish();
  }

  async stopScreen(): Promise<void> {
    if (!this.screenTransceiver || !this.publisher) return;
    await this.screenTransceiver.sender.replaceTrack(null);
    this.screenTransceiver.direction = "inactive";
    void this.negotiatePublish();
  }

  /** Our place was kept over a reconnect: an offer we sent while away may have lost its answer. */
  resendOffer(): void {
    if (this.publishing === "awaiting-answer" && this.lastOfferSdp) this.requestPublish(this.lastOfferSdp);
  }

  /**
   * The server says which of our simulcast layers in section `mid` someone receives: the camera encodes only those
   * (the others get `active: false`) until it says otherwise. Unknown mids and rids are ignored; the latest wish is
   * kept and applied once the camera's transceiver has its mid and no other change of its encodings is under way.
   */
  layersWanted(mid: string, rids: readonly string[]): void {
    this.wantedLayers.delete(mid);
    this.wantedLayers.set(mid, [...rids]);
    // Only our own sections are named, and we have few: a bound against a confused server, nothing more.
    for (const oldest of this.wantedLayers.keys()) {
      if (this.wantedLayers.size <= maxLayerWishes) break;
      this.wantedLayers.delete(oldest);
    }
    this.layersVersion += 1;
    void this.applyWantedLayers();
  }

  subscribeOffered(sdp: string, version: number): void {
    // Offers are applied in the order they came, each answered with its own version.
    this.subscribeChain = this.subscribeChain.then(async () => {
      const pc = this.subscriber;
      if (!pc) return;
      try {
        await this.renewIceServers(pc);
        await pc.setRemoteDescription({ type: "offer", sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        if (pc !== this.subscriber) return;
        const message: ClientMessage = { type: "call.subscribe.answer", meetingId: this.meetingId, sdp: answer.sdp ?? "", version };
        this.env.request(message).catch((error: unknown) => {
          if (pc === this.subscriber) this.reports.requestFailed("subscribe", error);
        });
      } catch (error) {
        if (pc === this.subscriber) this.reports.negotiationFailed("subscribe-refused", errorText(error));
      }
    });
  }

  close(): void {
    for (const pc of [this.publisher, this.subscriber]) {
      if (!pc) continue;
      pc.onconnectionstatechange = null;
      pc.ontrack = null;
      pc.close();
    }
    this.publisher = null;
    this.subscriber = null;
    this.screenTransceiver = null;
    this.cameraTransceiver = null;
    this.localPublished = false;
    this.wantedLayers.clear();
    this.layersInFlight = null;
    this.cameraNegotiated = false;
    this.publishing = "idle";
    this.publishAgain = false;
    this.lastOfferSdp = null;
    this.subscribeChain = Promise.resolve();
    if (this.remoteStreams.size > 0) this.remoteStreams = new Map();
    this.streamOfTrack.clear();
  }

  private newPeer(role: "publish" | "subscribe"): PeerLike {
    const pc = this.env.createPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    pc.onconnectionstatechange = () => this.peerStateChanged(pc);
    if (role === "subscribe") pc.ontrack = (event) => this.received(event.track.id, event.streams[0] as StreamLike | undefined);
    return pc;
  }

  /**
   * Before a connection first gathers candidates (its first offer or answer): fresh TURN credentials when the ones
   * it was made with expire soon. Later negotiations reuse its transport, so they ask nothing.
   */
  private async renewIceServers(pc: PeerLike): Promise<void> {
    if (this.negotiated.has(pc)) return;
    this.negotiated.add(pc);
    const servers = await freshIceServers(
      this.iceServers,
      this.meetingId, (message) => this.env.request(message),
      this.env.now?.() ?? Date.now(),
    );
    if (servers === this.iceServers) return;
    this.iceServers = servers;
    pc.setConfiguration({ iceServers: servers, bundlePolicy: "max-bundle" });
  }

  private received(trackId: string, stream: StreamLike | undefined): void {
    if (!stream) return;
    this.streamOfTrack.set(trackId, stream.id);
    this.remoteStreams = new Map(this.remoteStreams).set(stream.id, stream);
    // A later offer that stops a stream (someone left, a screen share ended) removes its tracks.
    stream.onremovetrack = () => {
      if (stream.getTracks().length > 0 || this.remoteStreams.get(stream.id) !== stream) return;
      const remaining = new Map(this.remoteStreams);
      remaining.delete(stream.id);
      this.remoteStreams = remaining;
      this.reports.streamsChanged();
    };
    this.reports.streamsChanged();
  }

  /**
   * The camera in simulcast layers, falling back step by step to what the browser accepts (see encodings.ts). A
   * server that refuses simulcast in its answer leaves one layer, which `publishAnswered` sends at full size.
   */
  private addCameraTransceiver(publisher: PeerLike, track: TrackLike, stream: StreamLike): TransceiverLike {
    for (const sendEncodings of cameraEncodingChoices(this.env.videoCapabilities?.())) {
      try {
        return publisher.addTransceiver(track, { direction: "sendonly", streams: [stream], sendEncodings });
      } catch {
        // Not these encodings: try the next, simpler ones.
      }
    }
    return publisher.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  }

  private addScreenTransceiver(screen: StreamLike): void {
    const track = screen.getVideoTracks()[0];
    if (!this.publisher || !track) return;
    track.contentHint = "detail";
    this.screenTransceiver = this.publisher.addTransceiver(track, {
      direction: "sendonly",
      streams: [screen],
      sendEncodings: [{ ...screenEncoding }],
    });
    void keepResolution(this.screenTransceiver.sender);
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
      await this.renewIceServers(pc);
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      if (pc !== this.publisher) return;
      this.lastOfferSdp = offer.sdp ?? "";
      this.requestPublish(this.lastOfferSdp);
    } catch (error) {
      if (pc !== this.publisher) return;
      this.publishing = "idle";
      this.reports.negotiationFailed("publish-offer", errorText(error));
    }
  }

  private requestPublish(sdp: string): void {
    const pc = this.publisher;
    this.env.request({ type: "call.publish", meetingId: this.meetingId, sdp }).then(
      (answer) => {
        if (answer.type === "call.publish.answer" && pc === this.publisher) void this.publishAnswered(answer.sdp);
      },
      (error: unknown) => {
        if (pc === this.publisher) this.reports.requestFailed("publish", error);
      },
    );
  }

  private async publishAnswered(sdp: string): Promise<void> {
    const pc = this.publisher;
    if (!pc || this.publishing !== "awaiting-answer" || pc.signalingState !== "have-local-offer") return;
    try {
      await pc.setRemoteDescription({ type: "answer", sdp });
    } catch (error) {
      if (pc === this.publisher) this.reports.negotiationFailed("publish-answer", errorText(error));
      return;
    }
    this.publishing = "idle";
    this.lastOfferSdp = null;
    void this.cameraAtFullSizeIfAlone().then(() => {
      if (pc !== this.publisher) return;
      this.cameraNegotiated = true;
      return this.applyWantedLayers();
    });
    if (this.publishAgain) {
      this.publishAgain = false;
      void this.negotiatePublish();
    }
  }

  /** The answer refused simulcast: the one layer left is the quarter-size one; send it at full size. */
  private async cameraAtFullSizeIfAlone(): Promise<void> {
    const sender = this.cameraTransceiver?.sender;
    if (!sender) return;
    try {
      const fitted = fullSizeIfSingleLayer(sender.getParameters());
      if (fitted) await sender.setParameters(fitted);
    } catch {
      // The camera then stays small; the call goes on.
    }
  }

  /**
   * Turns the camera's encodings on and off as the server last asked for its mid, one setParameters at a time; when
   * one ends and a newer wish came meanwhile, that one is applied. Nothing while the camera has no mid or no answer
   * yet, and nothing when the answer refused simulcast (one layer: it must keep sending).
   */
  private async applyWantedLayers(): Promise<void> {
    const camera = this.cameraTransceiver;
    if (!camera || !this.cameraNegotiated || this.layersInFlight || camera.mid === null) return;
    const rids = this.wantedLayers.get(camera.mid);
    if (!rids) return;
    const sender = camera.sender;
    const version = this.layersVersion;
    let parameters: SendParameters | null;
    try {
      parameters = onlyLayers(sender.getParameters(), rids);
    } catch {
      return;
    }
    if (!parameters) return;
    this.layersInFlight = sender;
    try {
      await sender.setParameters(parameters);
    } catch {
      // The browser refused: the layers keep going as they were, until the server's next wish.
    } finally {
      if (this.layersInFlight === sender) this.layersInFlight = null;
    }
    if (camera === this.cameraTransceiver && version !== this.layersVersion) await this.applyWantedLayers();
  }

  private peerStateChanged(pc: PeerLike): void {
    if (pc !== this.publisher && pc !== this.subscriber) return;
    if (pc.connectionState === "failed") this.reports.failed();
    else if (pc.connectionState === "connected" && pc === (this.publisher ?? this.subscriber)) this.reports.connected();
  }
}

/** How many sections' call.layers are remembered (only the camera's is used; a publisher has a handful). */
const maxLayerWishes = 8;

/** A shared screen keeps its resolution when bandwidth is short (frames drop instead). */
async function keepResolution(sender: SenderLike): Promise<void> {
  try {
    await sender.setParameters({ ...sender.getParameters(), degradationPreference: "maintain-resolution" });
  } catch {
    // Not supported here: contentHint "detail" already leans the same way.
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
