// One call's life, written down: every state the call can be in, every event that moves it, and what each
// transition asks the browser to do (effects). Pure: no peer connections, no socket, no timers, no words —
// `session.ts` runs the effects and feeds the events back, `wording.ts` says it to people.

/**
 * preparing     created, not started yet
 * joining       call.join sent (devices starting meanwhile), waiting for call.joined
 * connecting    a place on the media server; peer connections set up, media not flowing yet
 * connected     media flows (or there is nothing to connect: receive-only and alone)
 * media-problem the devices could not be used; the user picks audio-only, receive-only, try again or cancel
 * failed        media didn't connect, or the server refused; Retry joins again
 * left          over; nothing more happens
 */
export type CallPhase = "preparing" | "joining" | "connecting" | "connected" | "media-problem" | "failed" | "left";

export type JoinMode = "full" | "audio-only" | "receive-only";

export interface MediaProblem {
  kind: "denied" | "missing" | "other";
  /** The microphone alone works, so an audio-only join is possible. */
  audioAvailable: boolean;
  /** The device that failed, named as narrowly as is known. */
  device: "camera" | "microphone" | "camera or microphone";
  /** The browser's error name, for "other" problems. */
  errorName: string;
}

/** Which request or step of the call failed, for a "server" failure. */
export type ServerTrouble =
  | "join-refused"
  | "join-timeout"
  | "publish-refused"
  | "subscribe-refused"
  | "publish-offer"
  | "publish-answer";

/** Why the server ended our place for good: a membership change (docs/protocol.md, call.left). */
export type EndedReason = "removed" | "archived";

export type CallFailure =
  | { kind: "ice" }
  | { kind: "server"; trouble: ServerTrouble; detail: string }
  /** The call is over for this user: nothing to retry. */
  | { kind: "ended"; reason: EndedReason };

export interface CallMachineState {
  readonly phase: CallPhase;
  readonly mode: JoinMode;
  readonly devices: "starting" | "ready" | "failed";
  readonly problem: MediaProblem | null;
  readonly failure: CallFailure | null;
  /** Whether the socket is away (media keeps flowing meanwhile). */
  readonly reconnecting: boolean;
  /** Numbers the joins, so the answer to an earlier one is not taken for the latest's. */
  readonly joinAttempt: number;
  /** Joins made after the server let our place go, since media last connected (at most one). */
  readonly autoRejoins: number;
  /** The server moved the call to another media server (call.moved): rejoining until media flows again. */
  readonly moving: boolean;
}

export type CallEvent =
  /** The user joins (or, after a device problem, joins in another mode). */
  | { type: "start"; mode: JoinMode }
  | { type: "devicesReady" }
  | { type: "devicesFailed"; problem: MediaProblem }
  | { type: "joined"; attempt: number; resumed: boolean }
  /** The join got no place: the server's error code (or the client's `timeout`/`disconnected`) and words. */
  | { type: "joinFailed"; attempt: number; code: string; detail: string }
  | { type: "socketLost" }
  | { type: "socketReopened" }
  /** Receive-only: there is no publish connection to wait for. */
  | { type: "nothingToPublish" }
  | { type: "mediaConnected" }
  /** A peer connection failed, or did not connect in time. */
  | { type: "mediaFailed" }
  /** call.left that answers no request of ours. */
  | { type: "serverLeft"; reason: string }
  /** call.moved to this same meeting: its media server was lost and the call goes on on another. */
  | { type: "moved" }
  /** A call request other than the join was answered with an error (or got no answer). */
  | { type: "requestFailed"; request: "publish" | "subscribe" | "media"; code: string; detail: string }
  /** The browser could not make or apply an offer or answer. */
  | { type: "negotiationFailed"; trouble: "publish-offer" | "publish-answer" | "subscribe-refused"; detail: string }
  | { type: "retry" }
  | { type: "leave" };

export type CallEffect =
  | { type: "startDevices"; mode: JoinMode }
  | { type: "requestJoin"; attempt: number }
  /** Gives our place back; nothing waits for the answer. */
  | { type: "sendLeave" }
  /** Closes any old peer connections, opens the subscribe one and starts the connect timer. */
  | { type: "openSubscriber" }
  /** Opens the publish connection for the devices (or reports nothingToPublish). */
  | { type: "publish" }
  /** After a resume: sends again a publish offer whose answer may have been lost. */
  | { type: "resendOffer" }
  | { type: "sendMediaState" }
  /** Tells the server (again) what the tiles show of each remote video: its place is new or resumed. */
  | { type: "sendReceiving" }
  | { type: "stopConnectTimer" }
  /** Closes both peer connections and stops the connect timer. */
  | { type: "closePeers" }
  | { type: "stopDevices" };

export interface Transition {
  state: CallMachineState;
  effects: CallEffect[];
}

/** What the server's call.left says when it answers our own call.leave. */
export const leftReason = "left";
/** call.left when the user joined a call elsewhere (another meeting). */
export const joinedAnotherCallReason = "joined another call";
const mediaLostReason = "media connection lost";
/** call.left when the user left the meeting itself (from another tab or device): the call ends quietly. */
export const leftMeetingReason = "left the meeting";
const endedReasons: readonly string[] = ["removed", "archived"] satisfies EndedReason[];
/** Client-side request failures (ws/requests.ts RequestFailure) and the server code this machine acts on. */
const disconnected = "disconnected";
const timeout = "timeout";
const notJoined = "call.not_joined";

export const initialCallState: CallMachineState = {
  phase: "preparing",
  mode: "full",
  devices: "starting",
  problem: null,
  failure: null,
  reconnecting: false,
  joinAttempt: 0,
  autoRejoins: 0,
  moving: false,
};

export function transition(state: CallMachineState, event: CallEvent): Transition {
  const inCall = state.phase === "connecting" || state.phase === "connected";
  const holdsPlace = state.phase === "joining" || inCall;
  switch (event.type) {
    case "start": {
      if (state.phase !== "preparing" && state.phase !== "media-problem") return unchanged(state);
      const devices = event.mode === "receive-only" ? "ready" : "starting";
      const next = { ...state, mode: event.mode, devices, problem: null, failure: null } as const;
      const joining = join(next);
      return devices === "starting"
        ? { state: joining.state, effects: [{ type: "startDevices", mode: event.mode }, ...joining.effects] }
        : joining;
    }
    case "devicesReady": {
      const next = { ...state, devices: "ready" } as const;
      // In the call already: publish now. The others' media may have connected first (the subscribe connection of
      // someone joining a running call can connect before a slow camera starts), so "connected" publishes too.
      return { state: next, effects: inCall ? [{ type: "publish" }, { type: "sendMediaState" }] : [] };
    }
    case "devicesFailed": {
      if (state.phase === "left" || state.phase === "failed") return { state: { ...state, devices: "failed" }, effects: [] };
      const next = { ...state, devices: "failed", phase: "media-problem", problem: event.problem } as const;
      // Still joining: the place is given back when call.joined comes.
      return { state: next, effects: inCall ? [{ type: "sendLeave" }, { type: "closePeers" }] : [{ type: "closePeers" }] };
    }
    case "joined": {
      if (event.attempt !== state.joinAttempt) return unchanged(state);
      if (state.phase === "media-problem") return { state, effects: [{ type: "sendLeave" }] };
      if (!holdsPlace) return unchanged(state);
      // Our place was kept: the peer connections carry on.
      if (event.resumed && inCall) {
        return { state, effects: [{ type: "resendOffer" }, { type: "sendMediaState" }, { type: "sendReceiving" }] };
      }
      // A fresh place: any old peer connections belong to an endpoint the server has closed.
      const effects: CallEffect[] = [{ type: "openSubscriber" }, { type: "sendReceiving" }];
      if (state.devices === "ready") effects.push({ type: "publish" }, { type: "sendMediaState" });
      return { state: { ...state, phase: "connecting" }, effects };
    }
    case "joinFailed": {
      if (event.attempt !== state.joinAttempt || !holdsPlace) return unchanged(state);
      // The socket dropped: socketReopened asks again.
      if (event.code === disconnected) return unchanged(state);
      return fail(state, event.code === timeout
        ? { kind: "server", trouble: "join-timeout", detail: "" }
        : { kind: "server", trouble: "join-refused", detail: event.detail });
    }
    case "socketLost":
      return { state: state.reconnecting ? state : { ...state, reconnecting: true }, effects: [] };
    case "socketReopened": {
      // Take our place back; the phase stays (the media may well be flowing) until the answer says otherwise.
      const next = { ...state, reconnecting: false };
      if (!holdsPlace) return { state: next, effects: [] };
      const attempt = state.joinAttempt + 1;
      return { state: { ...next, joinAttempt: attempt }, effects: [{ type: "requestJoin", attempt }] };
    }
    case "nothingToPublish":
      return state.phase === "connecting"
        ? { state: { ...state, phase: "connected", moving: false }, effects: [{ type: "stopConnectTimer" }] }
        : unchanged(state);
    case "mediaConnected":
      return state.phase === "connecting"
        ? {
            state: { ...state, phase: "connected", autoRejoins: 0, moving: false },
            effects: [{ type: "stopConnectTimer" }],
          }
        : unchanged(state);
    case "moved":
      // Our place went with the lost media server: join again (the server places the call on another one). The
      // devices keep running; only the peer connections are new.
      return holdsPlace ? rejoin({ ...state, moving: true }) : unchanged(state);
    case "mediaFailed":
      return inCall ? fail(state, { kind: "ice" }) : unchanged(state);
    case "serverLeft": {
      // call.left "left" only ever answers our own call.leave, however late it comes: never a reason to rejoin.
      if (event.reason === leftReason || !holdsPlace) return unchanged(state);
      if (event.reason === joinedAnotherCallReason || event.reason === leftMeetingReason) return finish(state, []);
      // The owner removed us from the meeting, or archived it: say so, and never join again by ourselves.
      if (endedReasons.includes(event.reason)) {
        const failure: CallFailure = { kind: "ended", reason: event.reason as EndedReason };
        return { state: { ...state, phase: "failed", failure }, effects: [{ type: "closePeers" }, { type: "stopDevices" }] };
      }
      // Our place was let go (the socket was away too long, or the media server stopped hearing from us, as after
      // a network change): join again once with the same devices before saying the media can't connect.
      if (state.autoRejoins >= 1) {
        return event.reason.startsWith(mediaLostReason) ? fail(state, { kind: "ice" }) : finish(state, []);
      }
      return rejoin({ ...state, autoRejoins: state.autoRejoins + 1 });
    }
    case "requestFailed": {
      if (!holdsPlace) return unchanged(state);
      // The server no longer knows us as a participant.
      if (event.code === notJoined) return inCall ? rejoin(state) : unchanged(state);
      // A dropped socket repeats what matters after the resume; a refused mute state leaves the media working.
      if (event.code === disconnected || event.request === "media") return unchanged(state);
      const trouble = event.request === "publish" ? "publish-refused" : "subscribe-refused";
      return fail(state, { kind: "server", trouble, detail: event.detail });
    }
    case "negotiationFailed":
      return holdsPlace ? fail(state, { kind: "server", trouble: event.trouble, detail: event.detail }) : unchanged(state);
    case "retry":
      if (state.phase === "media-problem") return transition(state, { type: "start", mode: state.mode });
      if (state.failure?.kind === "ended") return unchanged(state);
      return state.phase === "failed" ? join({ ...state, failure: null }) : unchanged(state);
    case "leave":
      if (state.phase === "left") return unchanged(state);
      return finish(state, holdsPlace ? [{ type: "sendLeave" }] : []);
  }
}

function unchanged(state: CallMachineState): Transition {
  return { state, effects: [] };
}

function join(state: CallMachineState): Transition {
  const attempt = state.joinAttempt + 1;
  return { state: { ...state, phase: "joining", joinAttempt: attempt }, effects: [{ type: "requestJoin", attempt }] };
}

function rejoin(state: CallMachineState): Transition {
  const joining = join(state);
  return { state: joining.state, effects: [{ type: "closePeers" }, ...joining.effects] };
}

/** Ends in `failed`; a place the server gave (anything past joining) is given back. */
function fail(state: CallMachineState, failure: CallFailure): Transition {
  const effects: CallEffect[] = [{ type: "closePeers" }];
  if (state.phase !== "joining") effects.push({ type: "sendLeave" });
  return { state: { ...state, phase: "failed", failure, moving: false }, effects };
}

function finish(state: CallMachineState, first: CallEffect[]): Transition {
  return {
    state: { ...state, phase: "left", moving: false },
    effects: [...first, { type: "closePeers" }, { type: "stopDevices" }],
  };
}
