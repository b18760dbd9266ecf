import { describe, expect, it } from "vitest";
import {
  type QualityJudgement,
  type QualityLevel,
  type StatsEntry,
  judgeQuality,
  notShownYet,
  ownSample,
  qualityDetail,
  qualityLabel,
  remoteSamples,
  settleQuality,
  unmeasured,
} from "./quality";
import { failedPair, inboundRtp, outboundRtp, remoteInboundRtp, selectedPair } from "./statsFixtures";

// Alice's camera stream arrives as msid "alice-cam" with a video and an audio track.
const streamOfTrack = new Map([
  ["video-track-alice", "alice-cam"],
  ["audio-track-alice", "alice-cam"],
]);

interface Received {
  packetsReceived: number;
  packetsLost: number;
  framesPerSecond?: number;
  framesDecoded?: number;
  freezeCount?: number;
  ssrc?: number;
  jitter?: number;
}

/** One getStats() of the subscribe connection at `timestamp` ms: Alice's video, her audio, the selected pair. */
function subscribeStats(timestamp: number, video: Received | null, audio: Received | null, rttSeconds = 0.038): StatsEntry[] {
  return [
    ...(video ? [inboundRtp({ kind: "video", trackIdentifier: "video-track-alice", timestamp, ...video })] : []),
    ...(audio ? [inboundRtp({ kind: "audio", trackIdentifier: "audio-track-alice", timestamp, ...audio })] : []),
    failedPair(timestamp),
    ...selectedPair(timestamp, rttSeconds),
  ];
}

/** Alice's tile judged over the window between two polls. */
function judgeAlice(before: StatsEntry[], after: StatsEntry[]): QualityJudgement {
  const previous = remoteSamples(before, streamOfTrack).get("alice-cam") ?? null;
  const current = remoteSamples(after, streamOfTrack).get("alice-cam");
  if (!current) throw new Error("no sample for alice-cam");
  return judgeQuality(previous, current);
}

const audioSteady = (at: number): Received => ({ packetsReceived: 50 * at, packetsLost: 0 });

describe("a remote tile's connection quality", () => {
  it("is good with steady clean video, and its title gives the numbers it was judged on", () => {
    const judged = judgeAlice(
      subscribeStats(10_000, { packetsReceived: 10_000, packetsLost: 3, framesPerSecond: 24, framesDecoded: 240 }, audioSteady(10)),
      subscribeStats(12_000, { packetsReceived: 10_400, packetsLost: 4, framesPerSecond: 24, framesDecoded: 288 }, audioSteady(12)),
    );
    expect(judged.level).toBe("good");
    expect(qualityLabel(judged.level)).toBe("Connection: good");
    expect(qualityDetail(judged)).toBe("0.2% loss, 38 ms round trip, 24 fps");
  });

  it("is fair when 5 % of the window's packets were lost, however clean the call was before", () => {
    const judged = judgeAlice(
      subscribeStats(60_000, { packetsReceived: 100_000, packetsLost: 0, framesPerSecond: 24 }, audioSteady(60)),
      subscribeStats(62_000, { packetsReceived: 100_950, packetsLost: 50, framesPerSecond: 24 }, audioSteady(62)),
    );
    expect(judged.loss).toBeCloseTo(0.05, 5);
    expect(judged.level).toBe("fair");
  });

  it("is poor when 15 % of the window's packets were lost", () => {
    const judged = judgeAlice(
      subscribeStats(10_000, { packetsReceived: 10_000, packetsLost: 10, framesPerSecond: 24 }, audioSteady(10)),
      subscribeStats(12_000, { packetsReceived: 10_850, packetsLost: 160, framesPerSecond: 22 }, audioSteady(12)),
    );
    expect(judged.loss).toBeCloseTo(0.15, 5);
    expect(judged.level).toBe("poor");
  });

  it("forgets a burst of loss once a window passes without loss (deltas, not totals)", () => {
    const judged = judgeAlice(
      subscribeStats(30_000, { packetsReceived: 20_000, packetsLost: 5_000, framesPerSecond: 24 }, audioSteady(30)),
      subscribeStats(32_000, { packetsReceived: 20_400, packetsLost: 5_000, framesPerSecond: 24 }, audioSteady(32)),
    );
    expect(judged.loss).toBe(0);
    expect(judged.level).toBe("good");
  });

  it("is fair from a 300 ms round trip and poor from 700 ms, without loss", () => {
    const clean = (at: number, rtt: number) =>
      subscribeStats(at, { packetsReceived: at / 5, packetsLost: 0, framesPerSecond: 24 }, audioSteady(at / 1000), rtt);
    expect(judgeAlice(clean(10_000, 0.35), clean(12_000, 0.35)).level).toBe("fair");
    expect(judgeAlice(clean(10_000, 0.75), clean(12_000, 0.75)).level).toBe("poor");
    expect(qualityDetail(judgeAlice(clean(10_000, 0.75), clean(12_000, 0.75)))).toBe("0.0% loss, 750 ms round trip, 24 fps");
  });

  it("is poor when the video froze in the window, even without loss", () => {
    const judged = judgeAlice(
      subscribeStats(10_000, { packetsReceived: 10_000, packetsLost: 0, framesPerSecond: 24, freezeCount: 0 }, audioSteady(10)),
      subscribeStats(12_000, { packetsReceived: 10_300, packetsLost: 0, framesPerSecond: 9, freezeCount: 1 }, audioSteady(12)),
    );
    expect(judged.froze).toBe(true);
    expect(judged.level).toBe("poor");
    expect(qualityDetail(judged)).toContain("video froze");
  });

  it("measures nothing, and never a negative loss, when a renegotiation brought new SSRCs with counters from zero", () => {
    const judged = judgeAlice(
      subscribeStats(50_000, { ssrc: 111, packetsReceived: 50_000, packetsLost: 900, framesPerSecond: 24 }, null),
      subscribeStats(52_000, { ssrc: 222, packetsReceived: 120, packetsLost: 0, framesPerSecond: 20 }, null),
    );
    expect(judged.loss).toBeNull();
    expect(judged.level).toBe("unknown");
    expect(qualityDetail(judged)).not.toContain("NaN");
  });

  it("measures nothing across new SSRCs even when their counters are already past the old ones", () => {
    const judged = judgeAlice(
      subscribeStats(50_000, { ssrc: 111, packetsReceived: 100, packetsLost: 60 }, null),
      subscribeStats(52_000, { ssrc: 222, packetsReceived: 500, packetsLost: 0 }, null),
    );
    expect(judged.loss).toBeNull();
    expect(judged.level).toBe("unknown");
  });

  it("measures nothing when the same stream's counters went backwards", () => {
    const judged = judgeAlice(
      subscribeStats(50_000, { packetsReceived: 50_000, packetsLost: 900 }, null),
      subscribeStats(52_000, { packetsReceived: 400, packetsLost: 2 }, null),
    );
    expect(judged.loss).toBeNull();
    expect(judged.level).toBe("unknown");
  });

  it("counts no negative loss when duplicates lower packetsLost", () => {
    const judged = judgeAlice(
      subscribeStats(10_000, { packetsReceived: 10_000, packetsLost: 12, framesPerSecond: 24 }, audioSteady(10)),
      subscribeStats(12_000, { packetsReceived: 10_400, packetsLost: 9, framesPerSecond: 24 }, audioSteady(12)),
    );
    expect(judged.loss).toBe(0);
    expect(judged.level).toBe("good");
  });

  it("is judged by the audio when no video arrives (camera off, or video paused)", () => {
    const video = { packetsReceived: 8_000, packetsLost: 0, framesPerSecond: 24 };
    const judged = judgeAlice(
      subscribeStats(10_000, video, { packetsReceived: 500, packetsLost: 0 }),
      subscribeStats(12_000, video, { packetsReceived: 595, packetsLost: 5 }),
    );
    expect(judged.loss).toBeCloseTo(0.05, 5);
    expect(judged.fps).toBeNull();
    expect(judged.level).toBe("fair");
  });

  it("is unknown on the first poll: a window needs two", () => {
    const judged = judgeAlice([], subscribeStats(2_000, { packetsReceived: 400, packetsLost: 0, framesPerSecond: 24 }, audioSteady(2)));
    expect(judged.level).toBe("unknown");
    expect(qualityLabel(judged.level)).toBe("Connection: measuring");
  });

  it("is unknown, never NaN, when the fields it needs are missing or not numbers", () => {
    const broken = (timestamp: number): StatsEntry[] => [
      { id: "IT01V1", type: "inbound-rtp", timestamp, kind: "video", trackIdentifier: "video-track-alice", packetsReceived: timestamp / 5 },
      { id: "IT01A2", type: "inbound-rtp", timestamp, kind: "audio", trackIdentifier: "audio-track-alice", packetsReceived: Number.NaN, packetsLost: 0 },
      { id: "CP1", type: "candidate-pair", timestamp, state: "succeeded", nominated: true },
    ];
    const judged = judgeAlice(broken(10_000), broken(12_000));
    expect(judged).toEqual(unmeasured);
    expect(qualityLabel(judged.level)).toBe("Connection: measuring");
    expect(qualityDetail(judged)).toBe("Not measured yet");
  });

  it("uses the selected candidate pair's round trip, not another pair's", () => {
    const sample = remoteSamples(subscribeStats(2_000, { packetsReceived: 400, packetsLost: 0 }, null, 0.021), streamOfTrack).get("alice-cam");
    expect(sample?.roundTripMs).toBeCloseTo(21, 5);
  });

  it("keeps streams apart: another person's loss is not this tile's", () => {
    const map = new Map([...streamOfTrack, ["video-track-bruno", "bruno-cam"]]);
    const poll = (at: number, brunoLost: number): StatsEntry[] => [
      ...subscribeStats(at, { packetsReceived: at / 5, packetsLost: 0, framesPerSecond: 24 }, null),
      inboundRtp({ kind: "video", trackIdentifier: "video-track-bruno", ssrc: 999, timestamp: at, packetsReceived: at / 5, packetsLost: brunoLost }),
    ];
    const before = remoteSamples(poll(10_000, 0), map);
    const after = remoteSamples(poll(12_000, 200), map);
    expect(judgeQuality(before.get("alice-cam") ?? null, after.get("alice-cam")!).level).toBe("good");
    expect(judgeQuality(before.get("bruno-cam") ?? null, after.get("bruno-cam")!).level).toBe("poor");
  });
});

describe("our own tiles' connection quality", () => {
  const publishStats = (fractionLost: number, roundTripTime: number, reason: "none" | "bandwidth" = "none"): StatsEntry[] => [
    outboundRtp({ rid: "q", ssrc: 101, timestamp: 4_000, framesPerSecond: 30, qualityLimitationReason: reason }),
    outboundRtp({ rid: "h", ssrc: 102, timestamp: 4_000, framesPerSecond: 30, qualityLimitationReason: reason }),
    // The full-size layer nobody receives: turned off, its last receiver report stale.
    outboundRtp({ rid: "f", ssrc: 103, timestamp: 4_000, active: false }),
    remoteInboundRtp({ kind: "video", ssrc: 101, timestamp: 4_000, fractionLost, roundTripTime }),
    remoteInboundRtp({ kind: "video", ssrc: 102, timestamp: 4_000, fractionLost: 0, roundTripTime }),
    remoteInboundRtp({ kind: "video", ssrc: 103, timestamp: 4_000, fractionLost: 0.4, roundTripTime: 2 }),
    remoteInboundRtp({ kind: "audio", ssrc: 104, timestamp: 4_000, fractionLost: 0, roundTripTime }),
  ];
  const judgeOwn = (stats: StatsEntry[]) => judgeQuality(null, ownSample(stats));

  it("is good when the server reports little loss and a short round trip (a layer turned off does not count)", () => {
    const judged = judgeOwn(publishStats(0.01, 0.042));
    expect(judged.level).toBe("good");
    expect(qualityDetail(judged)).toBe("1.0% loss, 42 ms round trip, 30 fps");
  });

  it("is fair with 5 % reported loss, poor with 12 %", () => {
    expect(judgeOwn(publishStats(0.05, 0.042)).level).toBe("fair");
    expect(judgeOwn(publishStats(0.12, 0.042)).level).toBe("poor");
  });

  it("is at best fair while the browser holds our video back for bandwidth", () => {
    const judged = judgeOwn(publishStats(0, 0.02, "bandwidth"));
    expect(judged.level).toBe("fair");
    expect(qualityDetail(judged)).toContain("video reduced for bandwidth");
  });

  it("is unknown before the server has sent any receiver report", () => {
    const judged = judgeOwn([outboundRtp({ rid: "q", ssrc: 101, timestamp: 1_000 })]);
    expect(judged.level).toBe("unknown");
    expect(qualityDetail(judged)).not.toContain("NaN");
  });
});

describe("the level shown (hysteresis)", () => {
  const judged = (level: QualityLevel): QualityJudgement => ({ ...unmeasured, level });
  const show = (levels: QualityLevel[]): QualityLevel[] => {
    let state = notShownYet;
    return levels.map((level) => (state = settleQuality(state, judged(level))).shown);
  };

  it("shows the first level measured at once", () => {
    expect(show(["unknown", "good"])).toEqual(["unknown", "good"]);
  });

  it("changes to a better or middling level only after two samples in a row", () => {
    expect(show(["good", "fair", "fair", "good", "good"])).toEqual(["good", "good", "fair", "fair", "good"]);
  });

  it("does not flicker when samples alternate", () => {
    expect(show(["good", "fair", "good", "fair", "good", "fair"])).toEqual(["good", "good", "good", "good", "good", "good"]);
  });

  it("shows poor at once, and leaves it only after two better samples", () => {
    expect(show(["good", "poor", "good", "poor", "fair", "fair"])).toEqual(["good", "poor", "poor", "poor", "poor", "fair"]);
  });

  it("keeps the numbers of the level shown in its title while a single sample measures nothing", () => {
    const good: QualityJudgement = { ...unmeasured, level: "good", loss: 0.004, rttMs: 40 };
    const state = settleQuality(settleQuality(notShownYet, good), unmeasured);
    expect(state.shown).toBe("good");
    expect(qualityDetail(state.latest)).toBe("0.4% loss, 40 ms round trip");
    expect(qualityDetail(settleQuality(state, unmeasured).latest)).toBe("Not measured yet");
  });

  it("goes back to measuring only after two samples without measurements", () => {
    expect(show(["good", "unknown", "good", "unknown", "unknown"])).toEqual(["good", "good", "good", "good", "unknown"]);
  });
});
