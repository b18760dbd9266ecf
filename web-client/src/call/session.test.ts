import { describe, expect, it } from "vitest";
import type { ClientMessage } from "../ws/messages";
import { FakeServer, serverMessage } from "../ws/testing";
import type { SendEncoding, SendParameters, VideoCapabilities } from "./encodings";
import { maxReceiveRetries, receiveDebounceMs, receiveRetryMs } from "./receiving";
import { type CallEnvironment, CallSession, type PeerLike, type SenderLike, type StreamLike, type TrackLike, connectTimeoutMs } from "./session";
import { failureMessage, iceFailureMessage, problemMessage } from "./wording";

class FakeTrack implements TrackLike {
  enabled = true;
  contentHint?: string;
  stopped = false;
  onended: ((event: unknown) => void) | null = null;
  constructor(
    readonly id: string,
    readonly kind: string,
  ) {}
  stop() {
    this.stopped = true;
  }
}

function stream(id: string, kinds: string[]): StreamLike & { tracks: FakeTrack[] } {
  const tracks = kinds.map((k, i) => new FakeTrack(`${id}-${k}-${i}`, k));
  return {
    id,
    tracks,
    onremovetrack: null,
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((t) => t.kind === "audio"),
    getVideoTracks: () => tracks.filter((t) => t.kind === "video"),
  };
}

/**
 * A sender as Chromium 156 behaves: it holds the encodings it was given (one default encoding without), and an
 * answer without a=simulcast leaves only the first one.
 */
class FakeSender implements SenderLike {
  parameters: SendParameters;
  sets: SendParameters[] = [];
  /** While true, setParameters waits for `release()`; like Chromium, a second one meanwhile is refused. */
  hold = false;
  refusedSets = 0;
  private pending: Array<() => void> = [];
  private inFlight = false;
  constructor(
    public track: unknown,
    encodings: SendEncoding[] | undefined,
  ) {
    this.parameters = { encodings: encodings ? encodings.map((e) => ({ active: true, ...e })) : [{ active: true }] };
  }
  async replaceTrack(next: unknown) {
    this.track = next;
  }
  getParameters(): SendParameters {
    return structuredClone(this.parameters);
  }
  async setParameters(parameters: SendParameters) {
    if (parameters.encodings.length !== this.parameters.encodings.length) throw new Error("InvalidModificationError");
    if (this.inFlight) {
      this.refusedSets += 1;
      throw new Error("InvalidStateError: Failed to set parameters since getParameters() has never been called");
    }
    this.sets.push(parameters);
    if (this.hold) {
      this.inFlight = true;
      await new Promise<void>((resolve) => this.pending.push(resolve));
      this.inFlight = false;
    }
    this.parameters = structuredClone(parameters);
  }
  release() {
    this.hold = false;
    for (const resolve of this.pending.splice(0)) resolve();
  }
  active(): Array<[string | undefined, boolean | undefined]> {
    return this.parameters.encodings.map((e) => [e.rid, e.active]);
  }
}

class FakePeer implements PeerLike {
  connectionState = "new";
  signalingState = "stable";
  onconnectionstatechange: ((event: unknown) => void) | null = null;
  ontrack: PeerLike["ontrack"] = null;
  closed = false;
  transceivers: Array<{ track: unknown; direction: string; mid: string | null; sender: FakeSender; init: { sendEncodings?: SendEncoding[] } }> = [];
  remote: Array<{ type: string; sdp: string }> = [];
  offers = 0;
  /** The scalability modes the fake browser can encode (addTransceiver refuses others, as Chromium does). */
  constructor(private readonly scalabilityModes: readonly string[] = ["L1T1", "L1T2", "L1T3"]) {}
  refusedTransceivers = 0;

  addTransceiver(track: unknown, init: { direction: "sendonly"; sendEncodings?: SendEncoding[] }) {
    const unsupported = init.sendEncodings?.find((e) => e.scalabilityMode && !this.scalabilityModes.includes(e.scalabilityMode));
    if (unsupported) this.refusedTransceivers += 1;
    if (unsupported) throw new Error("OperationError: Attempted to set RtpParameters scalabilityMode to an unsupported value");
    const sender = new FakeSender(track, init.sendEncodings);
    const t = {
      get track() {
        return sender.track;
      },
      direction: init.direction as string,
      mid: null as string | null,
      sender,
      init,
    };
    this.transceivers.push(t);
    return t;
  }
  async createOffer() {
    this.offers += 1;
    return { type: "offer", sdp: `offer-${this.offers}-${this.transceivers.length}` };
  }
  async createAnswer() {
    return { type: "answer", sdp: `answer-to-${this.remote[this.remote.length - 1]?.sdp}` };
  }
  /** Set before setLocalDescription takes an offer: the transceivers get no mid yet (as if it were still running). */
  midsLater = false;
  async setLocalDescription(d: { type: string }) {
    this.signalingState = d.type === "offer" ? "have-local-offer" : "stable";
    // As Chromium: an offer set as the local description gives each transceiver its m-section's mid, in order.
    if (d.type === "offer" && !this.midsLater) this.assignMids();
  }
  assignMids() {
    this.transceivers.forEach((t, i) => {
      t.mid ??= String(i);
    });
  }
  configurations: Array<{ iceServers: RTCIceServer[] }> = [];
  setConfiguration(configuration: { iceServers: RTCIceServer[]; bundlePolicy: "max-bundle" }) {
    expect(configuration.bundlePolicy).toBe("max-bundle");
    this.configurations.push(configuration);
  }
  async setRemoteDescription(d: { type: "offer" | "answer"; sdp: string }) {
    this.remote.push(d);
    if (d.type === "answer" && !d.sdp.includes("a=simulcast")) {
      for (const t of this.transceivers) t.sender.parameters.encodings.splice(1);
    }
    this.signalingState = d.type === "offer" ? "have-remote-offer" : "stable";
  }
  async getStats() {
    return new Map();
  }
  close() {
    this.closed = true;
  }
  setConnection(state: string) {
    this.connectionState = state;
    this.onconnectionstatechange?.({});
  }
}

/** The examples' TURN credentials (username 1700000600:u1) expire 10 minutes after this. */
const examplesNow = 1_700_000_000_000;

function setup(
  options: {
    userMedia?: (c: { audio: boolean; video: unknown }) => Promise<StreamLike>;
    /** What the fake browser can encode; Chromium's L1T1..L1T3 when absent. */
    scalabilityModes?: readonly string[];
    videoCapabilities?: VideoCapabilities | null;
  } = {},
) {
  const clock = { now: examplesNow };
  const server = new FakeServer();
  /** What the session sent, without the request ids. */
  const sent: ClientMessage[] = [];
  const peers: FakePeer[] = [];
  const timers: Array<{ callback: () => void; ms: number; cleared: boolean }> = [];
  const env: CallEnvironment = {
    request: (m, timeoutMs) => {
      if (server.online) sent.push(m);
      return server.request(m, timeoutMs);
    },
    createPeerConnection: (config) => {
      expect(config.bundlePolicy).toBe("max-bundle");
      const pc = new FakePeer(options.scalabilityModes);
      peers.push(pc);
      return pc;
    },
    getUserMedia: options.userMedia ?? (async (c) => stream("local", c.video ? ["audio", "video"] : ["audio"])),
    getDisplayMedia: async () => stream("screen", ["video"]),
    setTimer: (callback, ms) => {
      const t = { callback, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => void ((t as { cleared: boolean }).cleared = true),
    now: () => clock.now,
    videoCapabilities: options.videoCapabilities === undefined ? undefined : () => options.videoCapabilities ?? null,
  };
  const session = new CallSession("m1", env);
  const types = () => sent.map((m) => m.type);
  /** The server answers the latest call.join with call.joined (fresh, or resuming the kept place). */
  const joined = async (resumed = false) => {
    server.answer("call.join", resumed ? "callJoinedResumed" : "callJoined");
    await flush();
  };
  const publishAnswered = async (sdp: string) => {
    server.answer("call.publish", "callPublishAnswer", { sdp });
    await flush();
  };
  /** Runs the pending call.receive debounce, as the browser's timer would after receiveDebounceMs. */
  const settleReports = async () => {
    for (const t of timers.filter((x) => x.ms === receiveDebounceMs && !x.cleared)) {
      t.cleared = true;
      t.callback();
    }
    await flush();
  };
  const receives = () => sent.filter((m) => m.type === "call.receive");
  return { session, sent, peers, timers, types, server, joined, publishAnswered, clock, settleReports, receives };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("CallSession", () => {
  it("publishes camera and microphone as sendonly, applies the answer, and answers subscribe offers with their version", async () => {
    const { session, sent, peers, types, joined, publishAnswered } = setup();
    session.start();
    await flush();
    expect(types()).toEqual(["call.join"]);
    await joined();
    await flush();
    const [subscriber, publisher] = peers;
    expect(publisher.transceivers.map((t) => t.direction)).toEqual(["sendonly", "sendonly"]);
    const publish = sent.find((m) => m.type === "call.publish");
    expect(publish).toMatchObject({ meetingId: "m1", sdp: "offer-1-2" });
    await publishAnswered("server-answer");
    expect(publisher.remote).toEqual([{ type: "answer", sdp: "server-answer" }]);

    session.handle(serverMessage("callSubscribeOffer", { sdp: "sub-1", version: 1 }));
    session.handle(serverMessage("callSubscribeOffer", { sdp: "sub-2", version: 2 }));
    await flush();
    await flush();
    const answers = sent.filter((m) => m.type === "call.subscribe.answer");
    expect(answers).toEqual([
      { type: "call.subscribe.answer", meetingId: "m1", sdp: "answer-to-sub-1", version: 1 },
      { type: "call.subscribe.answer", meetingId: "m1", sdp: "answer-to-sub-2", version: 2 },
    ]);
    expect(subscriber.remote.map((d) => d.sdp)).toEqual(["sub-1", "sub-2"]);

    publisher.setConnection("connected");
    expect(session.view.get().phase).toBe("connected");
  });

  it("shows who speaks and who is dominant as the server says, and ignores another meeting's", async () => {
    const { session, joined } = setup();
    session.start();
    await flush();
    await joined();
    expect(session.view.get().speakers).toBeNull();
    session.handle(serverMessage("callSpeakers"));
    expect(session.view.get().speakers).toEqual({ dominant: "u2", speaking: ["u2", "u1"] });
    session.handle(serverMessage("callSpeakers", { meetingId: "other", dominantUserId: "u9", speakingUserIds: [] }));
    expect(session.view.get().speakers?.dominant).toBe("u2");
    session.handle(serverMessage("callSpeakers", { speakingUserIds: [] }));
    expect(session.view.get().speakers).toEqual({ dominant: "u2", speaking: [] });
  });

  it("maps received streams by their msid stream id, until their tracks are removed", async () => {
    const { session, peers, joined } = setup();
    session.start();
    await flush();
    await joined();
    const remote = stream("bob-stream", ["audio", "video"]);
    peers[0].ontrack?.({ track: remote.tracks[0], streams: [remote] });
    expect(session.view.get().remoteStreams.get("bob-stream")).toBe(remote);
    expect(session.streamOfTrack.get(remote.tracks[0].id)).toBe("bob-stream");
    // A later offer drops the stream's tracks: the stream goes.
    remote.tracks.splice(0, 1);
    remote.onremovetrack?.({});
    expect(session.view.get().remoteStreams.has("bob-stream")).toBe(true);
    remote.tracks.splice(0, 1);
    remote.onremovetrack?.({});
    expect(session.view.get().remoteStreams.has("bob-stream")).toBe(false);
  });

  it("starts the devices and the join together, and publishes once both are ready", async () => {
    let release: (s: StreamLike) => void = () => undefined;
    const { session, peers, types, joined } = setup({ userMedia: () => new Promise((resolve) => (release = resolve)) });
    session.start();
    expect(types()).toEqual(["call.join"]);
    await joined();
    expect(peers).toHaveLength(1);
    release(stream("late", ["audio", "video"]));
    await flush();
    expect(peers).toHaveLength(2);
    expect(types()).toContain("call.publish");
  });

  it("publishes a camera that starts after the others' media already connected", async () => {
    let release: (s: StreamLike) => void = () => undefined;
    const { session, peers, types, joined } = setup({ userMedia: () => new Promise((resolve) => (release = resolve)) });
    session.start();
    await joined();
    peers[0].setConnection("connected");
    await flush();
    expect(session.view.get().phase).toBe("connected");
    expect(types()).not.toContain("call.publish");
    release(stream("late", ["audio", "video"]));
    await flush();
    expect(peers).toHaveLength(2);
    expect(types()).toContain("call.publish");
  });

  it("adds a camera that starts after a screen share to the screen's publish connection", async () => {
    let release: (s: StreamLike) => void = () => undefined;
    const { session, peers, joined, publishAnswered } = setup({ userMedia: () => new Promise((resolve) => (release = resolve)) });
    session.start();
    await joined();
    peers[0].setConnection("connected");
    await flush();
    await session.shareScreen();
    await flush();
    await publishAnswered("v=0\r\n");
    expect(peers).toHaveLength(2);
    expect(peers[1].transceivers).toHaveLength(1);
    release(stream("late", ["audio", "video"]));
    await flush();
    expect(peers).toHaveLength(2);
    expect(peers[1].transceivers.map((t) => (t.track as FakeTrack).kind).sort()).toEqual(["audio", "video", "video"]);
  });

  it("keeps its peer connections when the server resumes its place after a reconnect", async () => {
    const { session, peers, types, joined, publishAnswered } = setup();
    session.start();
    await flush();
    await joined();
    await flush();
    await publishAnswered("a");
    peers[1].setConnection("connected");
    session.socketLost();
    expect(session.view.get().reconnecting).toBe(true);
    session.socketReopened();
    expect(types().filter((t) => t === "call.join")).toHaveLength(2);
    await joined(true);
    expect(peers).toHaveLength(2);
    expect(peers.some((p) => p.closed)).toBe(false);
    expect(session.view.get().phase).toBe("connected");
  });

  it("sends its publish offer again if the answer was lost while the socket was away", async () => {
    const { session, sent, joined } = setup();
    session.start();
    await flush();
    await joined();
    await flush();
    session.socketLost();
    session.socketReopened();
    await joined(true);
    expect(sent.filter((m) => m.type === "call.publish")).toHaveLength(2);
  });

  it("joins again cleanly when the server has let its place go", async () => {
    const { session, peers, types, joined } = setup();
    session.start();
    await flush();
    await joined();
    await flush();
    session.handle(serverMessage("callLeftLost", { reason: "disconnected" }));
    expect(peers.every((p) => p.closed)).toBe(true);
    expect(types().filter((t) => t === "call.join")).toHaveLength(2);
    await joined(false);
    await flush();
    expect(peers).toHaveLength(4);
    expect(session.view.get().phase).toBe("connecting");
  });

  it("joins again once when the media server lost its media, and says why if it happens again before connecting", async () => {
    const { session, types, joined } = setup();
    session.start();
    await flush();
    await joined();
    await flush();
    session.handle(serverMessage("callLeftLost", { reason: "media connection lost: consent expired" }));
    expect(types().filter((t) => t === "call.join")).toHaveLength(2);
    expect(session.view.get().phase).toBe("joining");
    await joined();
    await flush();
    session.handle(serverMessage("callLeftLost", { reason: "media connection lost: consent expired" }));
    expect(session.view.get()).toMatchObject({ phase: "failed", failure: { kind: "ice" } });
  });

  it("says why when ICE fails, and Retry joins again", async () => {
    const { session, peers, types, joined, server } = setup();
    session.start();
    await flush();
    await joined();
    await flush();
    peers[1].setConnection("failed");
    const snapshot = session.view.get();
    expect(snapshot.phase).toBe("failed");
    expect(snapshot.failure).toEqual({ kind: "ice" });
    expect(failureMessage(snapshot.failure!)).toBe(iceFailureMessage);
    expect(types()).toContain("call.leave");
    // The server's answer to that leave does not end the failure screen.
    server.answer("call.leave", "callLeftAnswer");
    await flush();
    expect(session.view.get().phase).toBe("failed");
    session.retry();
    expect(types().filter((t) => t === "call.join")).toHaveLength(2);
    expect(session.view.get().phase).toBe("joining");
  });

  it("takes a late answer to its own call.leave for no reason to join again", async () => {
    const { session, server, peers, types, joined } = setup();
    session.start();
    await flush();
    await joined();
    peers[1].setConnection("failed");
    const leave = server.last("call.leave");
    // The leave's answer is slow: its time runs out, and the user retries meanwhile.
    server.expireRequests();
    session.retry();
    await joined();
    const peersBefore = peers.length;
    session.handle(serverMessage("callLeftAnswer", { re: leave.id }));
    await flush();
    expect(types().filter((t) => t === "call.join")).toHaveLength(2);
    expect(peers).toHaveLength(peersBefore);
    expect(session.view.get().phase).toBe("connecting");
  });

  it("says why the server refused the join, and Retry asks again", async () => {
    const { session, server, types } = setup();
    session.start();
    await flush();
    server.answer("call.join", "callJoinRefused");
    await flush();
    expect(session.view.get()).toMatchObject({ phase: "failed", failure: { kind: "server" } });
    expect(failureMessage(session.view.get().failure!)).toBe(
      "The call couldn't be joined: The media server is full; try again later",
    );
    // Nothing to give back: the server gave no place.
    expect(types()).toEqual(["call.join"]);
    session.retry();
    expect(session.view.get().phase).toBe("joining");
    server.answer("call.join", "callJoined");
    await flush();
    expect(session.view.get().phase).toBe("connecting");
  });

  it("says so when the server does not answer the join in time", async () => {
    const { session, server } = setup();
    session.start();
    await flush();
    server.expireRequests();
    await flush();
    expect(session.view.get()).toMatchObject({ phase: "failed", failure: { kind: "server" } });
    expect(failureMessage(session.view.get().failure!)).toMatch(/didn't answer/);
  });

  it("waits for the socket when it drops during the join, and asks again once it is back", async () => {
    const { session, server, types } = setup();
    session.start();
    await flush();
    server.disconnect();
    session.socketLost();
    await flush();
    expect(session.view.get().phase).toBe("joining");
    server.online = true;
    session.socketReopened();
    expect(types().filter((t) => t === "call.join")).toHaveLength(2);
    server.answer("call.join", "callJoined");
    await flush();
    expect(session.view.get().phase).toBe("connecting");
  });

  it("ends the call when the media server refuses its publish offer, but not over a refused mute state", async () => {
    const { session, server, peers, joined } = setup();
    session.start();
    await flush();
    await joined();
    peers[1].setConnection("connected");
    session.setAudioMuted(true);
    server.answer("call.media", "callJoinRefused");
    await flush();
    expect(session.view.get().phase).toBe("connected");
    server.answer("call.publish", "callJoinRefused", { code: "call.failed", message: "The media server could not do that" });
    await flush();
    expect(session.view.get()).toMatchObject({ phase: "failed", failure: { kind: "server" } });
  });

  it("joins again when the server no longer knows it as a participant", async () => {
    const { session, server, peers, joined, types } = setup();
    session.start();
    await flush();
    await joined();
    peers[1].setConnection("connected");
    session.setVideoMuted(true);
    server.answer("call.media", "callNotJoined");
    await flush();
    expect(types().filter((t) => t === "call.join")).toHaveLength(2);
    expect(session.view.get().phase).toBe("joining");
  });

  it("gives up connecting after a while instead of waiting silently", async () => {
    const { session, timers, joined } = setup();
    session.start();
    await flush();
    await joined();
    const timer = timers.find((t) => t.ms === connectTimeoutMs && !t.cleared);
    timer?.callback();
    expect(session.view.get().failure?.kind).toBe("ice");
  });

  it("offers audio-only when the camera is refused, and publishes only the microphone", async () => {
    const denied = Object.assign(new Error("denied"), { name: "NotAllowedError" });
    const { session, peers, types, joined, server } = setup({
      userMedia: async (c) => {
        if (c.video) throw denied;
        return stream("mic", ["audio"]);
      },
    });
    session.start();
    await flush();
    expect(session.view.get()).toMatchObject({ phase: "media-problem", problem: { kind: "denied", audioAvailable: true } });
    expect(problemMessage(session.view.get().problem!)).toMatch(/isn't allowed to use your camera\./);
    // The join went out while the devices were starting: the place it gets is given back.
    await joined();
    expect(types()).toEqual(["call.join", "call.leave"]);
    server.answer("call.leave", "callLeftAnswer");
    await flush();
    expect(session.view.get().phase).toBe("media-problem");
    session.continueWith("audio-only");
    await flush();
    await joined();
    await flush();
    expect(peers[1].transceivers).toHaveLength(1);
    expect(session.hasCamera).toBe(false);
  });

  it("joins receive-only without a publish connection when no device works", async () => {
    const missing = Object.assign(new Error("none"), { name: "NotFoundError" });
    const { session, peers, sent, joined } = setup({ userMedia: async () => Promise.reject(missing) });
    session.start();
    await flush();
    expect(session.view.get().problem).toMatchObject({ kind: "missing", audioAvailable: false });
    expect(problemMessage(session.view.get().problem!)).toBe("No camera or microphone was found on this device.");
    await joined();
    session.continueWith("receive-only");
    await flush();
    await joined();
    await flush();
    expect(peers).toHaveLength(1);
    expect(session.view.get().phase).toBe("connected");
    expect(sent.some((m) => m.type === "call.publish")).toBe(false);
    expect(sent.find((m) => m.type === "call.media")).toMatchObject({ audioMuted: true, videoMuted: true });
  });

  it("sends mute state and stops the devices on leave", async () => {
    const media = stream("local", ["audio", "video"]);
    const { session, sent, peers, joined, server } = setup({ userMedia: async () => media });
    session.start();
    await flush();
    await joined();
    session.setAudioMuted(true);
    expect(media.tracks[0].enabled).toBe(false);
    expect(sent[sent.length - 1]).toEqual({ type: "call.media", meetingId: "m1", audioMuted: true, videoMuted: false, screenSharing: false });
    expect(server.last("call.media").id).toMatch(/^r\d+$/);
    session.leave();
    expect(sent[sent.length - 1]).toEqual({ type: "call.leave", meetingId: "m1" });
    expect(media.tracks.every((t) => t.stopped)).toBe(true);
    expect(peers.every((p) => p.closed)).toBe(true);
    expect(session.view.get().phase).toBe("left");
  });

  it("shares a screen with a new publish offer once the previous one is answered", async () => {
    const { session, sent, peers, joined, publishAnswered } = setup();
    session.start();
    await flush();
    await joined();
    await flush();
    await session.shareScreen();
    await flush();
    // One offer in flight at a time: the screen's offer waits for the first answer.
    expect(sent.filter((m) => m.type === "call.publish")).toHaveLength(1);
    await publishAnswered("a1");
    await flush();
    const publishes = sent.filter((m) => m.type === "call.publish");
    expect(publishes).toHaveLength(2);
    expect(peers[1].transceivers).toHaveLength(3);
    expect(sent.filter((m) => m.type === "call.media").pop()).toMatchObject({ screenSharing: true });
  });

  it("asks for fresh TURN credentials before a publish connection opened late in the call gathers candidates", async () => {
    const missing = Object.assign(new Error("none"), { name: "NotFoundError" });
    const { session, peers, sent, joined, server, clock } = setup({ userMedia: async () => Promise.reject(missing) });
    session.start();
    await flush();
    await joined();
    session.continueWith("receive-only");
    await flush();
    await joined();
    await flush();
    session.handle(serverMessage("callSubscribeOffer", { sdp: "sub-1", version: 1 }));
    await flush();
    expect(sent.some((m) => m.type === "call.turn")).toBe(false);

    // Eight minutes later the credentials of call.joined expire within the margin; the user shares their screen.
    clock.now = examplesNow + 8 * 60_000;
    await session.shareScreen();
    await flush();
    const publisher = peers[1];
    expect(sent.filter((m) => m.type === "call.turn")).toEqual([{ type: "call.turn", meetingId: "m1" }]);
    expect(publisher.offers).toBe(0);
    expect(sent.some((m) => m.type === "call.publish")).toBe(false);

    server.answer("call.turn", "callTurn");
    await flush();
    expect(publisher.configurations.map((c) => c.iceServers)).toEqual([
      [{ urls: ["turn:127.0.0.1:3478?transport=udp"], username: "1700007200:u1", credential: "ZnJlc2g=" }],
    ]);
    expect(publisher.offers).toBe(1);
    expect(sent.filter((m) => m.type === "call.publish")).toHaveLength(1);

    // Renegotiating a connection that already has its transport asks for nothing, however late.
    clock.now = examplesNow + 3 * 60 * 60_000;
    session.handle(serverMessage("callSubscribeOffer", { sdp: "sub-late", version: 2 }));
    await flush();
    expect(sent.filter((m) => m.type === "call.turn")).toHaveLength(1);
    expect(peers[0].remote.map((r) => r.sdp)).toContain("sub-late");
  });

  it("still publishes with the old credentials when the server refuses fresh ones", async () => {
    const missing = Object.assign(new Error("none"), { name: "NotFoundError" });
    const { session, peers, sent, joined, server, clock } = setup({ userMedia: async () => Promise.reject(missing) });
    session.start();
    await flush();
    await joined();
    session.continueWith("receive-only");
    await flush();
    await joined();
    await flush();
    clock.now = examplesNow + 9 * 60_000;
    await session.shareScreen();
    await flush();
    server.answer("call.turn", "callTurnLimited");
    await flush();
    expect(peers[1].configurations).toEqual([]);
    expect(sent.filter((m) => m.type === "call.publish")).toHaveLength(1);
  });
});

/** A connected call whose publish connection got `answerSdp` back. */
async function publishingCall(options: Parameters<typeof setup>[0] = {}, answerSdp = "v=0\r\na=simulcast:recv q;h;f\r\n") {
  const call = setup(options);
  call.session.start();
  await flush();
  await call.joined();
  await flush();
  await call.publishAnswered(answerSdp);
  await flush();
  const publisher = call.peers[1];
  const camera = publisher.transceivers.find((t) => (t.track as FakeTrack).kind === "video");
  if (!camera) throw new Error("no camera transceiver");
  return { ...call, publisher, camera };
}

describe("Publishing in layers", () => {
  it("sends the camera as three simulcast layers with temporal layers, and the microphone as it is", async () => {
    const { publisher, camera } = await publishingCall();
    expect(camera.init.sendEncodings).toEqual([
      { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: "L1T3" },
      { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: "L1T3" },
      { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000, scalabilityMode: "L1T3" },
    ]);
    const microphone = publisher.transceivers.find((t) => (t.track as FakeTrack).kind === "audio");
    expect(microphone?.init.sendEncodings).toBeUndefined();
    // The answer took simulcast: the three layers stay as they are.
    expect(camera.sender.sets).toEqual([]);
    expect(camera.sender.getParameters().encodings.map((e) => e.rid)).toEqual(["q", "h", "f"]);
  });

  it("asks for a camera large enough for all three layers", async () => {
    const asked: unknown[] = [];
    await publishingCall({
      userMedia: async (constraints) => {
        asked.push(constraints.video);
        return stream("local", ["audio", "video"]);
      },
    });
    expect(asked).toEqual([{ width: { ideal: 1280 }, height: { ideal: 720 } }]);
  });

  it("leaves the temporal layers out when the browser refuses them", async () => {
    const { publisher, camera } = await publishingCall({ scalabilityModes: [] });
    expect(publisher.refusedTransceivers).toBe(1);
    expect(camera.init.sendEncodings?.map((e) => [e.rid, e.scaleResolutionDownBy, e.maxBitrate, e.scalabilityMode])).toEqual([
      ["q", 4, 150_000, undefined],
      ["h", 2, 500_000, undefined],
      ["f", 1, 1_500_000, undefined],
    ]);
  });

  it("does not ask for temporal layers a browser says its VP8 lacks, and asks when it lists none", async () => {
    const lacking = await publishingCall({ videoCapabilities: { codecs: [{ mimeType: "video/VP8", scalabilityModes: ["L1T1"] }] } });
    expect(lacking.publisher.refusedTransceivers).toBe(0);
    expect(lacking.camera.init.sendEncodings?.some((e) => e.scalabilityMode)).toBe(false);
    // Chromium 156 lists no scalabilityModes at all, yet encodes L1T3.
    const silent = await publishingCall({ videoCapabilities: { codecs: [{ mimeType: "video/VP8" }, { mimeType: "video/H264" }] } });
    expect(silent.camera.init.sendEncodings?.every((e) => e.scalabilityMode === "L1T3")).toBe(true);
  });

  it("sends the one layer left at full size when the server's answer refuses simulcast", async () => {
    const { camera } = await publishingCall({}, "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    expect(camera.sender.getParameters().encodings).toEqual([
      { active: true, rid: "q", scaleResolutionDownBy: 1, maxBitrate: 1_500_000, scalabilityMode: "L1T3" },
    ]);
  });

  it("shares a screen as one detailed layer that keeps its resolution", async () => {
    const { session, publisher, publishAnswered } = await publishingCall();
    expect(await session.shareScreen()).toBeNull();
    await flush();
    await publishAnswered("v=0\r\na=simulcast:recv q;h;f\r\n");
    const screen = publisher.transceivers[publisher.transceivers.length - 1];
    expect((screen.track as FakeTrack).id).toMatch(/^screen-/);
    expect((screen.track as FakeTrack).contentHint).toBe("detail");
    expect(screen.init.sendEncodings).toEqual([{ maxBitrate: 2_500_000 }]);
    expect(screen.sender.getParameters()).toEqual({
      encodings: [{ active: true, maxBitrate: 2_500_000 }],
      degradationPreference: "maintain-resolution",
    });
  });
});

describe("Telling the server what the tiles show", () => {
  // The examples' call.joined makes us endpoint e1 (Ann): Ben's camera (e2:1) and screen (e2:2) are the remote videos.
  const benCamera = { streamId: "cam-ben", onScreen: true, width: 640, height: 360 };
  const hiddenBoth = [
    { trackId: "e2:1", visible: false, width: 0, height: 0 },
    { trackId: "e2:2", visible: false, width: 0, height: 0 },
  ];

  async function inCall() {
    const call = setup();
    call.session.start();
    await flush();
    await call.joined();
    await flush();
    call.session.handle(serverMessage("callStateVideo"));
    await call.settleReports();
    // No tile is shown yet: every remote video is said to be out of sight, our own camera not at all.
    expect(call.receives()).toEqual([{ type: "call.receive", meetingId: "m1", videos: hiddenBoth }]);
    call.server.answer("call.receive", "ok");
    await flush();
    return call;
  }

  it("sends every remote video's track, visibility and device-pixel size once the tiles' reports settle", async () => {
    const { session, server, settleReports, receives } = await inCall();
    session.reportTile("u1:camera", { streamId: "cam-ann", onScreen: true, width: 100, height: 100 });
    session.reportTile("u2:camera", { ...benCamera, width: 640.4, height: 359.6 });
    session.reportTile("u2:screen:screen-ben", { streamId: "screen-ben", onScreen: false, width: 99_999, height: 1080 });
    expect(receives()).toHaveLength(1);
    await settleReports();
    expect(receives()).toHaveLength(2);
    expect(receives()[1]).toEqual({
      type: "call.receive",
      meetingId: "m1",
      videos: [
        { trackId: "e2:1", visible: true, width: 640, height: 360 },
        { trackId: "e2:2", visible: false, width: 16_384, height: 1080 },
      ],
    });
    server.answer("call.receive", "ok");
    await flush();

    // The same again changes nothing, so nothing is sent.
    session.reportTile("u2:camera", { ...benCamera });
    await settleReports();
    expect(receives()).toHaveLength(2);
    // Tiles that go away (the stage closed) leave their videos out of sight.
    session.reportTile("u1:camera", null);
    session.reportTile("u2:camera", null);
    session.reportTile("u2:screen:screen-ben", null);
    await settleReports();
    expect(receives()[2]).toMatchObject({ videos: hiddenBoth });
  });

  it("asks for a pinned tile's video beside the last-N, and shows which videos the server withholds", async () => {
    const { session, server, settleReports, receives } = await inCall();
    session.reportTile("u2:camera", benCamera);
    await settleReports();
    server.answer("call.receive", "ok");
    await flush();

    // The server withholds Ben's camera (e2:1, the examples' call.withheld): his tile shows him without video.
    session.handle(serverMessage("callWithheld"));
    expect([...session.view.get().withheld]).toEqual(["e2:1"]);
    session.handle(serverMessage("callWithheld", { meetingId: "other", trackIds: [] }));
    expect([...session.view.get().withheld]).toEqual(["e2:1"]);

    // Pinning his tile asks for it.
    session.setPinned("cam-ben", true);
    expect([...session.view.get().pinned]).toEqual(["cam-ben"]);
    await settleReports();
    expect(receives()[2]).toMatchObject({ videos: [{ trackId: "e2:1", visible: true, width: 640, height: 360, pinned: true }, hiddenBoth[1]] });
    server.answer("call.receive", "ok");
    await flush();
    session.handle(serverMessage("callWithheld", { trackIds: [] }));
    expect(session.view.get().withheld.size).toBe(0);

    // Unpinned: the list goes out without it.
    session.setPinned("cam-ben", false);
    await settleReports();
    expect(receives()[3]).toEqual({ type: "call.receive", meetingId: "m1", videos: [{ trackId: "e2:1", visible: true, width: 640, height: 360 }, hiddenBoth[1]] });
  });

  it("shows which videos our weak downlink pauses and that it limits us, until the server says otherwise or we leave", async () => {
    const { session } = await inCall();
    expect(session.view.get().lowBandwidth.size).toBe(0);
    expect(session.view.get().linkLimited).toBe(false);

    // Our downlink no longer carries Ben's camera (e2:1, the examples' weak-link call.withheld).
    session.handle(serverMessage("callWithheldWeakLink"));
    expect([...session.view.get().lowBandwidth]).toEqual(["e2:1"]);
    expect(session.view.get().withheld.size).toBe(0);
    expect(session.view.get().linkLimited).toBe(true);
    session.handle(serverMessage("callWithheldWeakLink", { meetingId: "other", lowBandwidth: [], linkLimited: false }));
    expect(session.view.get().linkLimited).toBe(true);

    // It recovers enough for his camera in a lower layer: still limited, nothing paused.
    session.handle(serverMessage("callWithheldWeakLink", { lowBandwidth: [] }));
    expect(session.view.get().lowBandwidth.size).toBe(0);
    expect(session.view.get().linkLimited).toBe(true);

    session.handle(serverMessage("callWithheldWeakLink"));
    session.leave();
    expect(session.view.get().lowBandwidth.size).toBe(0);
    expect(session.view.get().linkLimited).toBe(false);
  });

  it("shows nothing while the page is hidden", async () => {
    const { session, server, settleReports, receives } = await inCall();
    session.reportTile("u2:camera", benCamera);
    await settleReports();
    server.answer("call.receive", "ok");
    await flush();
    session.pageVisibility(false);
    await settleReports();
    expect(receives()[2]).toMatchObject({ videos: [{ trackId: "e2:1", visible: false, width: 640, height: 360 }, hiddenBoth[1]] });
    server.answer("call.receive", "ok");
    await flush();
    session.pageVisibility(true);
    await settleReports();
    expect(receives()[3]).toMatchObject({ videos: [{ trackId: "e2:1", visible: true }, hiddenBoth[1]] });
  });

  it("sends a tile's stream once the call state maps it to a track", async () => {
    const { session, server, settleReports, receives } = await inCall();
    session.reportTile("u3:camera", { streamId: "cam-cat", onScreen: true, width: 200, height: 100 });
    await settleReports();
    expect(receives()).toHaveLength(1);
    const state = serverMessage("callStateVideo");
    if (state.type !== "call.state") throw new Error("not a call.state");
    const cat = { ...state.participants[1], userId: "u3", endpointId: "e3", screenSharing: false,
      tracks: [{ trackId: "e3:1", kind: "video" as const, streamId: "cam-cat", mediaStreamTrackId: "v" }] };
    session.handle({ ...state, participants: [...state.participants, cat] });
    await settleReports();
    expect(receives()[1]).toMatchObject({ videos: [{ trackId: "e3:1", visible: true, width: 200, height: 100 }, ...hiddenBoth] });
    server.answer("call.receive", "ok");
  });

  it("tells the server again after the call resumes, though nothing changed", async () => {
    const { session, server, settleReports, receives, joined } = await inCall();
    session.reportTile("u2:camera", benCamera);
    await settleReports();
    server.answer("call.receive", "ok");
    await flush();
    session.socketLost();
    session.reportTile("u2:camera", { ...benCamera, width: 1280, height: 720 });
    await settleReports();
    expect(receives()).toHaveLength(2);
    session.socketReopened();
    await joined(true);
    await settleReports();
    expect(receives()[2]).toMatchObject({ videos: [{ trackId: "e2:1", width: 1280, height: 720 }, hiddenBoth[1]] });
    server.answer("call.receive", "ok");
    await flush();
    session.socketLost();
    session.socketReopened();
    await joined(true);
    await settleReports();
    expect(receives()[3]).toEqual(receives()[2]);
  });

  it("a refused list does not end the call", async () => {
    const { session, server, settleReports, receives } = await inCall();
    session.reportTile("u2:camera", benCamera);
    await settleReports();
    server.answer("call.receive", "callReceiveRefused");
    await flush();
    expect(receives()).toHaveLength(2);
    expect(session.view.get().phase).not.toBe("failed");
  });

  it("sends a list the server did not take again, a few times, so it does not keep an older one", async () => {
    const { session, server, timers, settleReports, receives } = await inCall();
    session.reportTile("u2:camera", benCamera);
    await settleReports();
    const retry = async () => {
      const timer = timers.find((t) => t.ms === receiveRetryMs && !t.cleared);
      if (!timer) return false;
      timer.cleared = true;
      timer.callback();
      await flush();
      return true;
    };
    for (let i = 0; i < maxReceiveRetries; i++) {
      server.answer("call.receive", "callReceiveRefused");
      await flush();
      expect(await retry()).toBe(true);
      expect(receives().at(-1)).toEqual(receives()[1]);
    }
    expect(receives()).toHaveLength(2 + maxReceiveRetries);
    server.answer("call.receive", "callReceiveRefused");
    await flush();
    expect(await retry()).toBe(false);
  });
});

describe("Sending only the layers someone receives", () => {
  // The examples' call.layers names section 1: the camera (the microphone's section is 0). It wants q and f.
  const layers = (rids: string[], mid = "1") => serverMessage("callLayers", { rids, mid });

  it("turns off the camera's layers nobody receives, and back on when they are wanted", async () => {
    const { session, camera } = await publishingCall();
    expect(camera.mid).toBe("1");
    session.handle(serverMessage("callLayers"));
    await flush();
    expect(camera.sender.active()).toEqual([["q", true], ["h", false], ["f", true]]);
    // The other parameters stay as they were.
    expect(camera.sender.getParameters().encodings[2]).toMatchObject({ scaleResolutionDownBy: 1, maxBitrate: 1_500_000, scalabilityMode: "L1T3" });
    session.handle(layers([]));
    await flush();
    expect(camera.sender.active()).toEqual([["q", false], ["h", false], ["f", false]]);
    session.handle(layers(["h"]));
    await flush();
    expect(camera.sender.active()).toEqual([["q", false], ["h", true], ["f", false]]);
    // The same wish again changes nothing.
    const sets = camera.sender.sets.length;
    session.handle(layers(["h"]));
    await flush();
    expect(camera.sender.sets).toHaveLength(sets);
  });

  it("ignores other sections, rids it does not send, and other meetings", async () => {
    const { session, camera, publisher } = await publishingCall();
    session.handle(layers([], "0"));
    session.handle(layers([], "7"));
    session.handle(serverMessage("callLayers", { meetingId: "m2", rids: [] }));
    await flush();
    expect(camera.sender.sets).toEqual([]);
    const microphone = publisher.transceivers.find((t) => (t.track as FakeTrack).kind === "audio");
    expect(microphone?.sender.sets).toEqual([]);
    session.handle(layers(["x", "f", "y"]));
    await flush();
    expect(camera.sender.active()).toEqual([["q", false], ["h", false], ["f", true]]);
  });

  it("applies only the latest wish once a setParameters under way has finished, never two at once", async () => {
    const { session, camera } = await publishingCall();
    camera.sender.hold = true;
    session.handle(layers(["q"]));
    await flush();
    expect(camera.sender.sets).toHaveLength(1);
    session.handle(layers(["q", "h"]));
    session.handle(layers(["f"]));
    await flush();
    expect(camera.sender.sets).toHaveLength(1);
    camera.sender.release();
    await flush();
    await flush();
    expect(camera.sender.refusedSets).toBe(0);
    expect(camera.sender.sets).toHaveLength(2);
    expect(camera.sender.active()).toEqual([["q", false], ["h", false], ["f", true]]);
  });

  it("keeps a wish that comes before publishing starts, and applies it once the answer is in", async () => {
    let devicesReady: (s: StreamLike) => void = () => {};
    const call = setup({ userMedia: () => new Promise((resolve) => (devicesReady = resolve)) });
    call.session.start();
    await flush();
    await call.joined();
    await flush();
    // Joined, but the camera is still starting: nothing publishes yet.
    expect(call.peers).toHaveLength(1);
    call.session.handle(layers(["h"]));
    devicesReady(stream("local", ["audio", "video"]));
    await flush();
    await flush();
    const camera = call.peers[1].transceivers.find((t) => (t.track as FakeTrack).kind === "video");
    expect(camera?.sender.sets).toEqual([]);
    await call.publishAnswered("v=0\r\na=simulcast:recv q;h;f\r\n");
    await flush();
    expect(camera?.sender.active()).toEqual([["q", false], ["h", true], ["f", false]]);
  });

  it("keeps a wish that comes before the camera has its mid or its answer, and applies it then", async () => {
    const call = setup();
    call.session.start();
    await flush();
    await call.joined();
    await flush();
    const publisher = call.peers[1];
    const camera = publisher.transceivers.find((t) => (t.track as FakeTrack).kind === "video");
    if (!camera) throw new Error("no camera transceiver");
    camera.mid = null;
    call.session.handle(serverMessage("callLayers"));
    await flush();
    expect(camera.sender.sets).toEqual([]);
    publisher.assignMids();
    await call.publishAnswered("v=0\r\na=simulcast:recv q;h;f\r\n");
    await flush();
    expect(camera.sender.active()).toEqual([["q", true], ["h", false], ["f", true]]);
  });

  it("ignores call.layers when the answer refused simulcast: the one layer keeps sending", async () => {
    const { session, camera } = await publishingCall({}, "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    const sets = camera.sender.sets.length;
    session.handle(layers([]));
    session.handle(layers(["h"]));
    await flush();
    expect(camera.sender.sets).toHaveLength(sets);
    expect(camera.sender.active()).toEqual([["q", true]]);
  });

  it("waits for the publish answer: one that refuses simulcast leaves the one layer sending", async () => {
    const call = setup();
    call.session.start();
    await flush();
    await call.joined();
    await flush();
    const camera = call.peers[1].transceivers.find((t) => (t.track as FakeTrack).kind === "video");
    if (!camera) throw new Error("no camera transceiver");
    expect(camera.mid).toBe("1");
    call.session.handle(layers(["f"]));
    await flush();
    expect(camera.sender.sets).toEqual([]);
    await call.publishAnswered("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    await flush();
    expect(camera.sender.active()).toEqual([["q", true]]);
  });

  it("a refused setParameters leaves the layers as they were and the call going", async () => {
    const { session, camera } = await publishingCall();
    camera.sender.setParameters = async () => {
      throw new Error("InvalidModificationError");
    };
    session.handle(layers(["q"]));
    await flush();
    expect(camera.sender.active()).toEqual([["q", true], ["h", true], ["f", true]]);
    expect(session.view.get().phase).not.toBe("failed");
  });
});
