import { describe, expect, it } from "vitest";
import examples from "../../../docs/protocol-examples.json";
import { parseServerMessage } from "./messages";

describe("parseServerMessage", () => {
  it("reads a welcome", () => {
    const user = { userId: "u1", username: "ana", displayName: "Ana" };
    expect(parseServerMessage(JSON.stringify({ type: "welcome", sessionId: "s", user }))).toEqual({
      type: "welcome",
      sessionId: "s",
      user,
    });
  });

  it("reads errors and presence", () => {
    expect(parseServerMessage('{"type":"error","code":"session.active","message":"m"}')).toEqual({
      type: "error",
      code: "session.active",
      message: "m",
    });
    expect(parseServerMessage('{"type":"presence","userId":"u","status":"offline"}')).toEqual({
      type: "presence",
      userId: "u",
      status: "offline",
    });
  });

  it("ignores what it does not understand", () => {
    expect(parseServerMessage("not json")).toBeNull();
    expect(parseServerMessage("42")).toBeNull();
    expect(parseServerMessage('{"type":"welcome"}')).toBeNull();
    expect(parseServerMessage('{"type":"presence","userId":"u","status":"asleep"}')).toBeNull();
    expect(parseServerMessage('{"type":"something.new"}')).toBeNull();
  });

  it("reads chat, meeting and call messages", () => {
    const message = { messageId: "1-0", senderId: "u1", senderName: "Ann", text: "hi", sentAt: 1, clientMsgId: "c-1", system: false };
    expect(parseServerMessage(JSON.stringify({ type: "chat.message", meetingId: "m", message }))).toEqual({
      type: "chat.message",
      meetingId: "m",
      message,
    });
    expect(parseServerMessage('{"re":"r4","type":"error","code":"meeting.archived","message":"m"}')).toEqual({
      type: "error",
      code: "meeting.archived",
      message: "m",
      re: "r4",
    });
    expect(parseServerMessage('{"type":"meeting.removed","meetingId":"m"}')).toEqual({ type: "meeting.removed", meetingId: "m" });
    expect(parseServerMessage('{"type":"call.subscribe.offer","meetingId":"m","sdp":"v=0","version":3}')).toEqual({
      type: "call.subscribe.offer",
      meetingId: "m",
      sdp: "v=0",
      version: 3,
    });
    const state = {
      type: "call.state",
      meetingId: "m",
      active: true,
      startedAt: 5,
      participants: [
        {
          userId: "u1",
          displayName: "Ann",
          endpointId: "e1",
          audioMuted: true,
          videoMuted: false,
          screenSharing: false,
          tracks: [{ trackId: "t", kind: "video", streamId: "s", mediaStreamTrackId: "x" }, { kind: "data", streamId: "s" }],
        },
      ],
    };
    expect(parseServerMessage(JSON.stringify(state))).toEqual({
      ...state,
      participants: [{ ...state.participants[0], tracks: [state.participants[0].tracks[0]] }],
    });
    expect(parseServerMessage('{"type":"call.subscribe.offer","meetingId":"m","sdp":"v=0"}')).toBeNull();
  });

  it("reads which of our simulcast layers someone receives, and refuses a malformed list", () => {
    expect(parseServerMessage(JSON.stringify(examples.callLayers))).toEqual({
      type: "call.layers",
      meetingId: "m1",
      mid: "1",
      rids: ["q", "f"],
    });
    expect(parseServerMessage(JSON.stringify({ ...examples.callLayers, rids: [] }))).toMatchObject({ rids: [] });
    expect(parseServerMessage(JSON.stringify({ ...examples.callLayers, rids: ["q", 2] }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...examples.callLayers, rids: "q" }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...examples.callLayers, mid: 1 }))).toBeNull();
  });

  it("reads who speaks and who is the dominant speaker, and refuses a malformed list", () => {
    expect(parseServerMessage(JSON.stringify(examples.callSpeakers))).toEqual({
      type: "call.speakers",
      meetingId: "m1",
      dominantUserId: "u2",
      speakingUserIds: ["u2", "u1"],
    });
    expect(parseServerMessage(JSON.stringify({ ...examples.callSpeakers, dominantUserId: null }))).toMatchObject({ dominantUserId: null });
    expect(parseServerMessage(JSON.stringify({ ...examples.callSpeakers, speakingUserIds: [1] }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...examples.callSpeakers, dominantUserId: 3 }))).toBeNull();
  });

  it("reads which videos the server withholds, and refuses a malformed list", () => {
    expect(parseServerMessage(JSON.stringify(examples.callWithheld))).toEqual({
      type: "call.withheld",
      meetingId: "m1",
      trackIds: ["e2:1"],
      lowBandwidth: [],
      linkLimited: false,
    });
    expect(parseServerMessage(JSON.stringify({ ...examples.callWithheld, trackIds: [] }))).toMatchObject({ trackIds: [] });
    expect(parseServerMessage(JSON.stringify({ ...examples.callWithheld, trackIds: [1] }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...examples.callWithheld, trackIds: "e2:1" }))).toBeNull();
  });

  it("reads which videos our weak downlink pauses and that it limits us, and refuses malformed ones", () => {
    expect(parseServerMessage(JSON.stringify(examples.callWithheldWeakLink))).toEqual({
      type: "call.withheld",
      meetingId: "m1",
      trackIds: [],
      lowBandwidth: ["e2:1"],
      linkLimited: true,
    });
    expect(parseServerMessage(JSON.stringify({ ...examples.callWithheldWeakLink, lowBandwidth: [1] }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...examples.callWithheldWeakLink, lowBandwidth: "e2:1" }))).toBeNull();
    expect(parseServerMessage(JSON.stringify({ ...examples.callWithheldWeakLink, linkLimited: "yes" }))).toBeNull();
  });

  it("reads an older server's call.withheld, which names only the last-N's videos, as nothing limited", () => {
    const { lowBandwidth: _low, linkLimited: _limited, ...older } = examples.callWithheld;
    expect(parseServerMessage(JSON.stringify(older))).toEqual({
      type: "call.withheld",
      meetingId: "m1",
      trackIds: ["e2:1"],
      lowBandwidth: [],
      linkLimited: false,
    });
  });

  it("reads every message the gateway really sends, keeping the id of the request it answers", () => {
    for (const [name, example] of Object.entries(examples)) {
      if (name.startsWith("_")) continue;
      const parsed = parseServerMessage(JSON.stringify(example));
      expect(parsed, name).not.toBeNull();
      expect(parsed?.type, name).toBe((example as { type: string }).type);
      expect(parsed?.re, name).toBe((example as { re?: string }).re);
    }
  });
});
