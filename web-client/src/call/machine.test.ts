import { describe, expect, it } from "vitest";
import { serverMessage } from "../ws/testing";
import { type CallEffect, type CallEvent, type CallMachineState, initialCallState, transition } from "./machine";

/** Runs events from a fresh call; the state reached and every effect asked for, by type. */
function run(events: CallEvent[], from: CallMachineState = initialCallState) {
  let state = from;
  const effects: CallEffect["type"][] = [];
  for (const event of events) {
    const next = transition(state, event);
    state = next.state;
    effects.push(...next.effects.map((e) => e.type));
  }
  return { state, effects };
}

/** What the server's call.left says, taken from the shared protocol examples. */
function reasonOf(
  example: "callLeftAnswer" | "callLeftLost" | "callLeftRemoved" | "callLeftArchived" | "callLeftLeftMeeting",
): string {
  const message = serverMessage(example);
  if (message.type !== "call.left") throw new Error(`${example} is not a call.left`);
  return message.reason;
}

const joinedFresh = (attempt = 1): CallEvent => ({ type: "joined", attempt, resumed: false });
/** Joined with camera and microphone, media flowing. */
const connected = run([{ type: "start", mode: "full" }, { type: "devicesReady" }, joinedFresh(), { type: "mediaConnected" }]).state;

describe("the call's state machine", () => {
  it("starts the devices and the join together, and publishes once it has both a place and devices", () => {
    const started = run([{ type: "start", mode: "full" }]);
    expect(started.state.phase).toBe("joining");
    expect(started.effects).toEqual(["startDevices", "requestJoin"]);

    const placeFirst = run([joinedFresh()], started.state);
    expect(placeFirst.state.phase).toBe("connecting");
    expect(placeFirst.effects).toEqual(["openSubscriber", "sendReceiving"]);
    expect(run([{ type: "devicesReady" }], placeFirst.state).effects).toEqual(["publish", "sendMediaState"]);
  });

  it("publishes devices that start after the others' media connected", () => {
    // Joining a running call: the subscribe connection connects while the camera is still starting.
    const receiving = run([{ type: "start", mode: "full" }, joinedFresh(), { type: "mediaConnected" }]);
    expect(receiving.state.phase).toBe("connected");
    expect(receiving.effects).not.toContain("publish");
    const { state, effects } = run([{ type: "devicesReady" }], receiving.state);
    expect(state).toMatchObject({ phase: "connected", devices: "ready" });
    expect(effects).toEqual(["publish", "sendMediaState"]);
  });

  it("is connected once the media flows, and stops the connect timer", () => {
    const { state, effects } = run([{ type: "start", mode: "full" }, { type: "devicesReady" }, joinedFresh(), { type: "mediaConnected" }]);
    expect(state.phase).toBe("connected");
    expect(effects).toEqual(["startDevices", "requestJoin", "openSubscriber", "sendReceiving", "publish", "sendMediaState", "stopConnectTimer"]);
  });

  it("joins receive-only without asking for devices, connected with nothing to publish", () => {
    const { state, effects } = run([{ type: "start", mode: "receive-only" }, joinedFresh(), { type: "nothingToPublish" }]);
    expect(effects).not.toContain("startDevices");
    expect(state.phase).toBe("connected");
  });

  it("keeps its peer connections when the server resumes its place after the socket came back", () => {
    const { state, effects } = run([{ type: "socketLost" }, { type: "socketReopened" }, { type: "joined", attempt: 2, resumed: true }], connected);
    expect(state).toMatchObject({ phase: "connected", reconnecting: false });
    expect(effects).toEqual(["requestJoin", "resendOffer", "sendMediaState", "sendReceiving"]);
  });

  it("sets up fresh peer connections when the place was let go while the socket was away", () => {
    const { state, effects } = run([{ type: "socketLost" }, { type: "socketReopened" }, joinedFresh(2)], connected);
    expect(state.phase).toBe("connecting");
    expect(effects).toEqual(["requestJoin", "openSubscriber", "sendReceiving", "publish", "sendMediaState"]);
  });

  it("ignores the answer to an earlier join", () => {
    const asked = run([{ type: "socketReopened" }], run([{ type: "start", mode: "full" }]).state).state;
    expect(asked.joinAttempt).toBe(2);
    expect(run([{ type: "joinFailed", attempt: 1, code: "unavailable", detail: "full" }], asked).state.phase).toBe("joining");
  });

  it("says why the server refused the join, gives nothing back, and Retry asks again", () => {
    const refused = serverMessage("callJoinRefused");
    if (refused.type !== "error") throw new Error("callJoinRefused is not an error");
    const { state, effects } = run([{ type: "start", mode: "full" }, { type: "joinFailed", attempt: 1, code: refused.code, detail: refused.message }]);
    expect(state).toMatchObject({ phase: "failed", failure: { kind: "server", trouble: "join-refused", detail: refused.message } });
    expect(effects).not.toContain("sendLeave");
    const retried = run([{ type: "retry" }], state);
    expect(retried.state).toMatchObject({ phase: "joining", failure: null });
    expect(retried.effects).toEqual(["requestJoin"]);
  });

  it("waits for the socket when the join is lost with it", () => {
    const { state } = run([{ type: "start", mode: "full" }, { type: "socketLost" }, { type: "joinFailed", attempt: 1, code: "disconnected", detail: "" }]);
    expect(state).toMatchObject({ phase: "joining", reconnecting: true });
  });

  it("joins again once when the media server lost its media, and fails the second time before connecting", () => {
    const lost = reasonOf("callLeftLost");
    const once = run([{ type: "serverLeft", reason: lost }], connected);
    expect(once.state.phase).toBe("joining");
    expect(once.effects).toEqual(["closePeers", "requestJoin"]);
    const twice = run([joinedFresh(2), { type: "serverLeft", reason: lost }], once.state);
    expect(twice.state).toMatchObject({ phase: "failed", failure: { kind: "ice" } });
  });

  it("never joins again over call.left 'left': it only ever answers our own call.leave", () => {
    const { state, effects } = run([{ type: "serverLeft", reason: reasonOf("callLeftAnswer") }], connected);
    expect(state).toBe(connected);
    expect(effects).toEqual([]);
  });

  it("ends for good, saying why, when the owner removes the user or archives the meeting", () => {
    for (const example of ["callLeftRemoved", "callLeftArchived"] as const) {
      const reason = reasonOf(example);
      const { state, effects } = run([{ type: "serverLeft", reason }], connected);
      expect(state).toMatchObject({ phase: "failed", failure: { kind: "ended", reason } });
      expect(effects).toEqual(["closePeers", "stopDevices"]);
      expect(run([{ type: "retry" }], state).state).toBe(state);
    }
    expect(run([{ type: "serverLeft", reason: reasonOf("callLeftLeftMeeting") }], connected).state.phase).toBe("left");
  });

  it("gives its place back when the media fails, and Retry joins again", () => {
    const failed = run([{ type: "mediaFailed" }], connected);
    expect(failed.state).toMatchObject({ phase: "failed", failure: { kind: "ice" } });
    expect(failed.effects).toEqual(["closePeers", "sendLeave"]);
    expect(run([{ type: "retry" }], failed.state).state.phase).toBe("joining");
  });

  it("joins again when the server no longer knows it, but carries on over a refused mute state", () => {
    expect(run([{ type: "requestFailed", request: "media", code: "unavailable", detail: "x" }], connected).state).toBe(connected);
    const rejoined = run([{ type: "requestFailed", request: "media", code: "call.not_joined", detail: "x" }], connected);
    expect(rejoined.state.phase).toBe("joining");
    expect(rejoined.effects).toEqual(["closePeers", "requestJoin"]);
  });

  it("ends the call when the media server refuses what the browser publishes", () => {
    const { state } = run([{ type: "requestFailed", request: "publish", code: "call.failed", detail: "no" }], connected);
    expect(state).toMatchObject({ phase: "failed", failure: { kind: "server", trouble: "publish-refused", detail: "no" } });
  });

  it("gives back the place a join got after the devices failed, and continues in the mode the user picks", () => {
    const problem = { kind: "denied", audioAvailable: true, device: "camera", errorName: "NotAllowedError" } as const;
    const { state, effects } = run([{ type: "start", mode: "full" }, { type: "devicesFailed", problem }, joinedFresh()]);
    expect(state).toMatchObject({ phase: "media-problem", problem });
    expect(effects).toEqual(["startDevices", "requestJoin", "closePeers", "sendLeave"]);
    const audioOnly = run([{ type: "start", mode: "audio-only" }], state);
    expect(audioOnly.state).toMatchObject({ phase: "joining", mode: "audio-only", problem: null });
    expect(audioOnly.effects).toEqual(["startDevices", "requestJoin"]);
  });

  it("leaves for good: gives the place back, closes the connections, stops the devices, and ignores what comes later", () => {
    const { state, effects } = run([{ type: "leave" }, { type: "serverLeft", reason: reasonOf("callLeftLost") }, { type: "retry" }], connected);
    expect(state.phase).toBe("left");
    expect(effects).toEqual(["sendLeave", "closePeers", "stopDevices"]);
  });
  it("rejoins the same meeting with new peer connections when the server moves the call off a lost media server", () => {
    const moved = serverMessage("callMovedMediaServerLost");
    if (moved.type !== "call.moved") throw new Error("callMovedMediaServerLost is not a call.moved");
    expect(moved.to).toBe(moved.meetingId);
    const { state, effects } = run([{ type: "moved" }], connected);
    expect(state.phase).toBe("joining");
    expect(state.moving).toBe(true);
    expect(effects).toEqual(["closePeers", "requestJoin"]);
    // The devices keep running: the fresh place publishes them at once, and "moving" ends when media flows.
    const back = run([joinedFresh(state.joinAttempt)], state);
    expect(back.effects).toEqual(["openSubscriber", "sendReceiving", "publish", "sendMediaState"]);
    expect(back.state.moving).toBe(true);
    const flowing = run([{ type: "mediaConnected" }], back.state);
    expect(flowing.state.phase).toBe("connected");
    expect(flowing.state.moving).toBe(false);
    // Moves are the server's doing, not a failure: a second one rejoins again.
    expect(run([{ type: "moved" }], flowing.state).effects).toEqual(["closePeers", "requestJoin"]);
    // Without a place (left, or never joined) there is nothing to move.
    expect(run([{ type: "moved" }], initialCallState).effects).toEqual([]);
    expect(run([{ type: "leave" }, { type: "moved" }], connected).state.phase).toBe("left");
  });
});
