import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ShownQuality, StatsEntry } from "./quality";
import { inboundRtp, remoteInboundRtp, selectedPair } from "./statsFixtures";
import { type QualitySource, ownQualityKey, qualityPollMs, watchConnectionQuality } from "./useConnectionQuality";

/** A connection whose statistics are made up per poll; counts its polls. */
class StatsPeer {
  polls = 0;
  constructor(private readonly statsAt: (poll: number) => StatsEntry[]) {}
  async getStats(): Promise<Map<string, unknown>> {
    const entries = this.statsAt(this.polls++);
    return new Map(entries.map((e, i) => [e.id ?? String(i), e]));
  }
}

/** Alice's video, losing `lostPerPoll` of every 400 packets. */
const aliceVideo = (lostPerPoll: number) => (poll: number): StatsEntry[] => [
  inboundRtp({
    kind: "video",
    trackIdentifier: "video-track-alice",
    timestamp: poll * qualityPollMs,
    packetsReceived: poll * (400 - lostPerPoll),
    packetsLost: poll * lostPerPoll,
    framesPerSecond: 24,
  }),
  ...selectedPair(poll * qualityPollMs, 0.03),
];

const ownReport = (poll: number): StatsEntry[] => [
  remoteInboundRtp({ kind: "video", ssrc: 7, timestamp: poll * qualityPollMs, fractionLost: 0, roundTripTime: 0.03 }),
];
const aliceTracks = new Map([["video-track-alice", "alice-cam"]]);

describe("watching a call's connection quality", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function call(subscriber: StatsPeer | null, publisher: StatsPeer | null): QualitySource {
    return { peerConnections: { subscriber, publisher }, streamOfTrack: aliceTracks };
  }

  it("polls each connection once per tick for all tiles, and reports every tile's level", async () => {
    const subscriber = new StatsPeer(aliceVideo(0));
    const publisher = new StatsPeer(ownReport);
    const reports: ReadonlyMap<string, ShownQuality>[] = [];
    const stop = watchConnectionQuality(call(subscriber, publisher), (q) => reports.push(q));
    await vi.advanceTimersByTimeAsync(qualityPollMs * 2);
    expect(subscriber.polls).toBe(3);
    expect(publisher.polls).toBe(3);
    const latest = reports.at(-1);
    expect(latest?.get("alice-cam")?.shown).toBe("good");
    expect(latest?.get(ownQualityKey)?.shown).toBe("good");
    stop();
  });

  it("reports a tile going poor at the next tick", async () => {
    let lost = 0;
    const subscriber = new StatsPeer((poll) => aliceVideo(lost)(poll));
    const reports: ReadonlyMap<string, ShownQuality>[] = [];
    const stop = watchConnectionQuality(call(subscriber, null), (q) => reports.push(q));
    await vi.advanceTimersByTimeAsync(qualityPollMs * 2);
    expect(reports.at(-1)?.get("alice-cam")?.shown).toBe("good");
    lost = 80; // from now on every window loses well over 10 %
    await vi.advanceTimersByTimeAsync(qualityPollMs * 2);
    expect(reports.at(-1)?.get("alice-cam")?.shown).toBe("poor");
    stop();
  });

  it("polls nothing while the call has no connection, and starts at the next tick once it has one", async () => {
    const connections: QualitySource["peerConnections"] = { subscriber: null, publisher: null };
    const reports: ReadonlyMap<string, ShownQuality>[] = [];
    const stop = watchConnectionQuality({ peerConnections: connections, streamOfTrack: aliceTracks }, (q) => reports.push(q));
    await vi.advanceTimersByTimeAsync(qualityPollMs * 5);
    expect(reports).toEqual([]);
    const subscriber = new StatsPeer(aliceVideo(0));
    connections.subscriber = subscriber;
    await vi.advanceTimersByTimeAsync(qualityPollMs * 2);
    expect(subscriber.polls).toBe(2);
    expect(reports.at(-1)?.get("alice-cam")?.shown).toBe("good");
    stop();
  });

  it("leaves no timer and reports nothing once stopped, even for a poll still under way", async () => {
    let release: () => void = () => undefined;
    const slow = {
      polls: 0,
      getStats(): Promise<Map<string, unknown>> {
        this.polls++;
        return new Promise((resolve) => {
          release = () => resolve(new Map(aliceVideo(0)(this.polls).map((e) => [e.id ?? "", e])));
        });
      },
    };
    const reports: unknown[] = [];
    const source = { peerConnections: { subscriber: slow, publisher: null }, streamOfTrack: aliceTracks };
    const stop = watchConnectionQuality(source, (q) => reports.push(q));
    await vi.advanceTimersByTimeAsync(qualityPollMs * 3);
    expect(slow.polls).toBe(1); // ticks wait for the poll under way instead of piling up
    stop();
    release();
    await vi.advanceTimersByTimeAsync(qualityPollMs * 3);
    expect(reports).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
