// How good each tile's connection is, judged from the peer connections' statistics like the signal bars of other
// meeting apps: a remote person's tile from what the subscribe connection receives of their stream, our own tiles
// from what the server reports back about what we publish. Everything here is pure: the call stage's hook
// (useConnectionQuality.ts) samples getStats() and keeps the levels shown.

export type QualityLevel = "good" | "fair" | "poor" | "unknown";

// Thresholds. Loss: below 2 % the codecs' concealment and NACK/RTX repair hide it; from 10 % video stutters and
// speech breaks up whatever is repaired. Round trip: up to 300 ms (150 ms one way, ITU-T G.114's limit for
// natural conversation) talk flows; from 700 ms people talk over each other. Jitter: the receiver's jitter buffer
// absorbs tens of milliseconds at little cost; 200 ms of it means added delay and late frames dropped.
/** Loss fraction at or above which the connection is at best fair. */
export const LOSS_FAIR_FROM = 0.02;
/** Loss fraction at or above which the connection is poor. */
export const LOSS_POOR_FROM = 0.1;
/** Round trip (ms) at or above which the connection is at best fair. */
export const RTT_FAIR_FROM_MS = 300;
/** Round trip (ms) at or above which the connection is poor. */
export const RTT_POOR_FROM_MS = 700;
/** Interarrival jitter (ms) at or above which the connection is at best fair. */
export const JITTER_FAIR_FROM_MS = 50;
/** Interarrival jitter (ms) at or above which the connection is poor. */
export const JITTER_POOR_FROM_MS = 200;
/**
 * Samples a new level (other than poor) must be judged in a row before it replaces the shown one, so a single
 * burst of loss does not make the bars flicker. Poor shows at once: people should see why the video stutters.
 */
export const SAMPLES_TO_CHANGE = 2;

/**
 * One entry of RTCStatsReport, with the fields judged here under the names Chromium's getStats() gives them
 * (times in seconds, counters cumulative since the stream began). Every field may be missing.
 */
export interface StatsEntry {
  id?: string;
  type?: string;
  timestamp?: number;
  kind?: string;
  trackIdentifier?: string;
  packetsReceived?: number;
  packetsLost?: number;
  jitter?: number;
  framesPerSecond?: number;
  framesDecoded?: number;
  freezeCount?: number;
  state?: string;
  nominated?: boolean;
  currentRoundTripTime?: number;
  selectedCandidatePairId?: string;
  fractionLost?: number;
  roundTripTime?: number;
  localId?: string;
  qualityLimitationReason?: string;
  rid?: string;
  active?: boolean;
}

/** The cumulative receive counters of one kind of media of a stream (summed over its inbound-rtp entries). */
export interface ReceiveCounters {
  /** The inbound-rtp entries summed (their ids): a different set means new SSRCs, whose counters start again. */
  entries: string;
  packetsReceived: number;
  packetsLost: number;
  freezeCount: number | null;
  framesDecoded: number | null;
  framesPerSecond: number | null;
  /** Seconds, the worst of the entries. */
  jitter: number | null;
}

/** What one poll of getStats() says about one tile's connection. */
export interface QualitySample {
  /** Milliseconds (the stats' timestamp). */
  at: number;
  /** What a remote tile receives: its video, and its audio (judged when no video arrives). */
  video: ReceiveCounters | null;
  audio: ReceiveCounters | null;
  /** Our own tiles: the loss the server reports about what we send (remote-inbound-rtp fractionLost, 0..1). */
  reportedLoss: number | null;
  roundTripMs: number | null;
  /** Our own tiles: frames per second we send. */
  sentFps: number | null;
  /** Our own tiles: the browser sends less than it would because the network does not take more. */
  bandwidthLimited: boolean;
}

export interface QualityJudgement {
  level: QualityLevel;
  /** Loss fraction over the window (0..1); null when nothing was measured. */
  loss: number | null;
  rttMs: number | null;
  fps: number | null;
  jitterMs: number | null;
  froze: boolean;
  bandwidthLimited: boolean;
}

export const unmeasured: QualityJudgement = {
  level: "unknown",
  loss: null,
  rttMs: null,
  fps: null,
  jitterMs: null,
  froze: false,
  bandwidthLimited: false,
};

/**
 * The level of one tile's connection over the window between two samples. Loss counts from the deltas of the
 * counters (never their totals, which would let an old burst linger for the whole call); counters that went
 * backwards (new SSRCs after a renegotiation) measure nothing this window. Poor wins over everything; without a
 * loss measurement (no packets in the window) the level is unknown.
 */
export function judgeQuality(previous: QualitySample | null, current: QualitySample): QualityJudgement {
  const received = windowOf(previous, current);
  const loss = current.reportedLoss ?? received?.loss ?? null;
  const rttMs = current.roundTripMs;
  const jitterMs = received?.jitterMs ?? null;
  const froze = received?.froze ?? false;
  const fps = received?.fps ?? current.sentFps;
  const bandwidthLimited = current.bandwidthLimited;
  let level: QualityLevel;
  if (
    (loss !== null && loss >= LOSS_POOR_FROM) ||
    (rttMs !== null && rttMs >= RTT_POOR_FROM_MS) ||
    (jitterMs !== null && jitterMs >= JITTER_POOR_FROM_MS) ||
    froze
  ) {
    level = "poor";
  } else if (loss === null) {
    level = "unknown";
  } else if (
    loss >= LOSS_FAIR_FROM ||
    (rttMs !== null && rttMs >= RTT_FAIR_FROM_MS) ||
    (jitterMs !== null && jitterMs >= JITTER_FAIR_FROM_MS) ||
    bandwidthLimited
  ) {
    level = "fair";
  } else {
    level = "good";
  }
  return { level, loss, rttMs, fps, jitterMs, froze, bandwidthLimited };
}

/** What a remote tile received between two samples: its video when video arrived, else its audio. */
function windowOf(
  previous: QualitySample | null,
  current: QualitySample,
): { loss: number; jitterMs: number | null; froze: boolean; fps: number | null } | null {
  if (!previous) return null;
  const seconds = (current.at - previous.at) / 1000;
  for (const kind of ["video", "audio"] as const) {
    const before = previous[kind];
    const now = current[kind];
    if (!before || !now || before.entries !== now.entries) continue;
    const received = now.packetsReceived - before.packetsReceived;
    if (received <= 0) continue;
    // packetsLost may fall when late or duplicate packets arrive: no negative loss.
    const lost = Math.max(0, now.packetsLost - before.packetsLost);
    // The receiver counts a long stop (the server pausing a video nobody sees) as a pause, not a freeze.
    const freezes = now.freezeCount !== null && before.freezeCount !== null ? now.freezeCount - before.freezeCount : 0;
    const froze = kind === "video" && freezes > 0;
    let fps: number | null = null;
    if (kind === "video") {
      if (now.framesPerSecond !== null) fps = now.framesPerSecond;
      else if (now.framesDecoded !== null && before.framesDecoded !== null && seconds > 0) {
        fps = Math.max(0, now.framesDecoded - before.framesDecoded) / seconds;
      }
    }
    return { loss: lost / (lost + received), jitterMs: now.jitter === null ? null : now.jitter * 1000, froze, fps };
  }
  return null;
}

/**
 * The samples of the remote tiles, keyed by msid stream id: each stream's inbound-rtp entries, found through the
 * received track's id (`trackIdentifier`), with the round trip of the connection's selected candidate pair.
 */
export function remoteSamples(
  stats: Iterable<StatsEntry>,
  streamOfTrack: ReadonlyMap<string, string>,
): Map<string, QualitySample> {
  const entries = [...stats];
  const roundTripMs = selectedRoundTripMs(entries);
  const byStream = new Map<string, { video: StatsEntry[]; audio: StatsEntry[]; at: number }>();
  for (const entry of entries) {
    if (entry.type !== "inbound-rtp" || !entry.trackIdentifier) continue;
    if (entry.kind !== "video" && entry.kind !== "audio") continue;
    const streamId = streamOfTrack.get(entry.trackIdentifier);
    if (streamId === undefined) continue;
    const found = byStream.get(streamId) ?? { video: [], audio: [], at: 0 };
    found[entry.kind].push(entry);
    found.at = Math.max(found.at, finite(entry.timestamp) ?? 0);
    byStream.set(streamId, found);
  }
  const samples = new Map<string, QualitySample>();
  for (const [streamId, found] of byStream) {
    samples.set(streamId, {
      at: found.at,
      video: countersOf(found.video),
      audio: countersOf(found.audio),
      reportedLoss: null,
      roundTripMs,
      sentFps: null,
      bandwidthLimited: false,
    });
  }
  return samples;
}

/**
 * The sample of our own tiles, from the publish connection: the worst loss and round trip the server reports about
 * our streams (remote-inbound-rtp), and whether the browser holds our video back for bandwidth (outbound-rtp).
 * Layers we do not send (`active: false`) keep their last report, so they are left out.
 */
export function ownSample(stats: Iterable<StatsEntry>): QualitySample {
  const entries = [...stats];
  const inactive = new Set(entries.filter((e) => e.type === "outbound-rtp" && e.active === false).map((e) => e.id));
  let reportedLoss: number | null = null;
  let roundTripMs: number | null = null;
  let sentFps: number | null = null;
  let bandwidthLimited = false;
  let at = 0;
  for (const entry of entries) {
    at = Math.max(at, finite(entry.timestamp) ?? 0);
    if (entry.type === "remote-inbound-rtp" && !(entry.localId && inactive.has(entry.localId))) {
      const lost = finite(entry.fractionLost);
      if (lost !== null) reportedLoss = Math.max(reportedLoss ?? 0, Math.min(1, Math.max(0, lost)));
      const rtt = finite(entry.roundTripTime);
      if (rtt !== null) roundTripMs = Math.max(roundTripMs ?? 0, rtt * 1000);
    }
    if (entry.type === "outbound-rtp" && entry.kind === "video" && entry.active !== false) {
      if (entry.qualityLimitationReason === "bandwidth") bandwidthLimited = true;
      const fps = finite(entry.framesPerSecond);
      if (fps !== null) sentFps = Math.max(sentFps ?? 0, fps);
    }
  }
  roundTripMs ??= selectedRoundTripMs(entries);
  return { at, video: null, audio: null, reportedLoss, roundTripMs, sentFps, bandwidthLimited };
}

/** The current round trip (ms) of the candidate pair the connection uses, if it has one. */
function selectedRoundTripMs(entries: readonly StatsEntry[]): number | null {
  const selectedId = entries.find((e) => e.type === "transport" && e.selectedCandidatePairId)?.selectedCandidatePairId;
  const pair =
    entries.find((e) => e.type === "candidate-pair" && selectedId !== undefined && e.id === selectedId) ??
    entries.find((e) => e.type === "candidate-pair" && e.state === "succeeded" && e.nominated === true);
  const rtt = finite(pair?.currentRoundTripTime);
  return rtt === null ? null : rtt * 1000;
}

function countersOf(entries: readonly StatsEntry[]): ReceiveCounters | null {
  if (entries.length === 0) return null;
  const sum = (pick: (e: StatsEntry) => number | undefined): number | null => {
    let total: number | null = null;
    for (const e of entries) {
      const value = finite(pick(e));
      if (value !== null) total = (total ?? 0) + value;
    }
    return total;
  };
  const worst = (pick: (e: StatsEntry) => number | undefined): number | null => {
    let most: number | null = null;
    for (const e of entries) {
      const value = finite(pick(e));
      if (value !== null) most = Math.max(most ?? value, value);
    }
    return most;
  };
  const packetsReceived = sum((e) => e.packetsReceived);
  const packetsLost = sum((e) => e.packetsLost);
  if (packetsReceived === null || packetsLost === null) return null;
  return {
    entries: entries.map((e) => e.id ?? "").sort().join(" "),
    packetsReceived,
    packetsLost,
    freezeCount: sum((e) => e.freezeCount),
    framesDecoded: sum((e) => e.framesDecoded),
    framesPerSecond: worst((e) => e.framesPerSecond),
    jitter: worst((e) => e.jitter),
  };
}

function finite(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The level shown and the one that would replace it, with how many samples in a row judged it. */
export interface ShownQuality {
  shown: QualityLevel;
  candidate: QualityLevel;
  count: number;
  /** The latest judgement (its numbers go in the tile's title). */
  latest: QualityJudgement;
}

export const notShownYet: ShownQuality = { shown: "unknown", candidate: "unknown", count: 0, latest: unmeasured };

/**
 * Hysteresis: a new level replaces the shown one after SAMPLES_TO_CHANGE judgements in a row, except poor (shown at
 * once) and the first level after "measuring" (nothing shown yet that could flicker).
 */
export function settleQuality(state: ShownQuality, judged: QualityJudgement): ShownQuality {
  const level = judged.level;
  if (level === state.shown) return { shown: level, candidate: level, count: 0, latest: judged };
  if (level === "poor" || (state.shown === "unknown" && level !== "unknown")) {
    return { shown: level, candidate: level, count: 0, latest: judged };
  }
  const count = state.candidate === level ? state.count + 1 : 1;
  if (count >= SAMPLES_TO_CHANGE) return { shown: level, candidate: level, count: 0, latest: judged };
  // While the bars still show a level, the title keeps the numbers it was judged on rather than "Not measured yet".
  return { shown: state.shown, candidate: level, count, latest: level === "unknown" ? state.latest : judged };
}

const levelWords: Record<QualityLevel, string> = { good: "good", fair: "fair", poor: "poor", unknown: "measuring" };

/** The indicator's accessible name, e.g. "Connection: good". */
export function qualityLabel(level: QualityLevel): string {
  return `Connection: ${levelWords[level]}`;
}

/** The numbers a level was judged on, e.g. "2.1% loss, 38 ms round trip, 24 fps"; never "NaN". */
export function qualityDetail(judged: QualityJudgement): string {
  const parts: string[] = [];
  if (judged.loss !== null) parts.push(`${(judged.loss * 100).toFixed(1)}% loss`);
  if (judged.rttMs !== null) parts.push(`${Math.round(judged.rttMs)} ms round trip`);
  // Jitter only when it counted against the level: a few milliseconds of it mean nothing to people.
  if (judged.jitterMs !== null && judged.jitterMs >= JITTER_FAIR_FROM_MS) {
    parts.push(`${Math.round(judged.jitterMs)} ms jitter`);
  }
  if (judged.fps !== null) parts.push(`${Math.round(judged.fps)} fps`);
  if (judged.froze) parts.push("video froze");
  if (judged.bandwidthLimited) parts.push("video reduced for bandwidth");
  return parts.length > 0 ? parts.join(", ") : "Not measured yet";
}
