import { describe, expect, it } from "vitest";
import type { CallParticipant } from "../ws/messages";
import { callFeeds, gridColumns, participantOfStream, speakerLayout, videoTrackIds } from "./feeds";

function person(userId: string, tracks: Array<[string, "audio" | "video"]>, extra: Partial<CallParticipant> = {}) {
  return {
    userId,
    displayName: userId.toUpperCase(),
    endpointId: `e-${userId}`,
    audioMuted: false,
    videoMuted: false,
    screenSharing: false,
    tracks: tracks.map(([streamId, kind], i) => ({ trackId: `${userId}-${i}`, kind, streamId, mediaStreamTrackId: `t${i}` })),
    ...extra,
  } satisfies CallParticipant;
}

describe("callFeeds", () => {
  it("puts each received stream on the tile of the person who publishes it", () => {
    const participants = [person("ann", [["s-ann", "audio"], ["s-ann", "video"]]), person("bob", [["s-bob", "video"], ["s-bob", "audio"]])];
    const streams = new Map([
      ["s-bob", "bob's stream"],
      ["s-ann", "ann's stream"],
    ]);
    const feeds = callFeeds(participants, "me", streams);
    expect(feeds.map((f) => [f.userId, f.kind, f.stream, f.hasVideo])).toEqual([
      ["ann", "camera", "ann's stream", true],
      ["bob", "camera", "bob's stream", true],
    ]);
  });

  it("shows a tile without a stream for someone whose media has not arrived or who publishes nothing", () => {
    const feeds = callFeeds([person("ann", [["s-ann", "audio"]]), person("cid", [])], "me", new Map<string, string>());
    expect(feeds.map((f) => [f.userId, f.stream, f.hasVideo])).toEqual([
      ["ann", null, false],
      ["cid", null, false],
    ]);
  });

  it("gives a shared screen its own tile, first, and keeps the camera on the stream with the microphone", () => {
    const ann = person("ann", [["screen", "video"], ["cam", "audio"], ["cam", "video"]], { screenSharing: true });
    const streams = new Map([
      ["cam", "camera"],
      ["screen", "screen"],
    ]);
    const feeds = callFeeds([ann], "me", streams);
    expect(feeds.map((f) => [f.key, f.kind, f.stream])).toEqual([
      ["ann:screen:screen", "screen", "screen"],
      ["ann:camera", "camera", "camera"],
    ]);
  });

  it("uses the local preview for one's own tile", () => {
    const feeds = callFeeds([person("me", [["s-me", "audio"], ["s-me", "video"]])], "me", new Map([["s-me", "echo"]]), {
      camera: "preview",
      screen: null,
      hasVideo: true,
    });
    expect(feeds[0]).toMatchObject({ isSelf: true, stream: "preview", hasVideo: true });
  });

  it("carries mute state to the tile", () => {
    const feeds = callFeeds([person("ann", [["s", "audio"]], { audioMuted: true, videoMuted: true })], "me", new Map());
    expect(feeds[0]).toMatchObject({ audioMuted: true, videoMuted: true });
  });
});

describe("participantOfStream", () => {
  it("finds the publisher of an msid stream", () => {
    const participants = [person("ann", [["a", "audio"]]), person("bob", [["b", "video"]])];
    expect(participantOfStream(participants, "b")?.userId).toBe("bob");
    expect(participantOfStream(participants, "zzz")).toBeUndefined();
  });
});

describe("gridColumns", () => {
  it("keeps 8 or more tiles on screen in a near-square grid", () => {
    expect([1, 2, 4, 5, 8, 9, 10, 16, 25].map(gridColumns)).toEqual([1, 2, 2, 3, 3, 3, 4, 4, 5]);
  });
});

describe("speakerLayout", () => {
  const feed = (userId: string, kind: "camera" | "screen" = "camera", isSelf = false) => ({
    key: `${userId}:${kind}`, userId, displayName: userId, kind, streamId: `${userId}-${kind}`, stream: null,
    hasVideo: true, audioMuted: false, videoMuted: false, isSelf,
  });

  it("puts the dominant speaker in the large tile, others beside it", () => {
    const feeds = [feed("me", "camera", true), feed("ann"), feed("ben")];
    const layout = speakerLayout(feeds, "ben");
    expect(layout.main?.userId).toBe("ben");
    expect(layout.others.map((f) => f.userId)).toEqual(["me", "ann"]);
  });

  it("gives a shared screen the large tile, and never shows us large while someone else is there", () => {
    expect(speakerLayout([feed("ann"), feed("ben", "screen")], "ann").main?.kind).toBe("screen");
    expect(speakerLayout([feed("me", "camera", true), feed("ann")], "me").main?.userId).toBe("ann");
    expect(speakerLayout([feed("me", "camera", true), feed("ann")], null).main?.userId).toBe("ann");
    expect(speakerLayout([feed("me", "camera", true)], "me").main?.userId).toBe("me");
    expect(speakerLayout([], null).main).toBeNull();
  });

  it("gives a pinned tile the large tile, before a screen and the dominant speaker", () => {
    const feeds = [feed("me", "camera", true), feed("ann"), feed("ben"), feed("cid", "screen")];
    expect(speakerLayout(feeds, "ben", new Set(["ann-camera"])).main?.userId).toBe("ann");
    expect(speakerLayout(feeds, "ben", new Set(["me-camera"])).main?.kind).toBe("screen");
  });
});

describe("videoTrackIds", () => {
  it("names the video tracks of a remote feed's stream, none of our own", () => {
    const participants = [person("me", [["m", "audio"], ["m", "video"]]), person("ann", [["a", "audio"], ["a", "video"], ["s", "video"]])];
    const [screen, mine, anns] = callFeeds(participants, "me", new Map());
    expect(videoTrackIds(participants, anns)).toEqual(["ann-1"]);
    expect(videoTrackIds(participants, screen)).toEqual(["ann-2"]);
    expect(videoTrackIds(participants, mine)).toEqual([]);
  });
});
