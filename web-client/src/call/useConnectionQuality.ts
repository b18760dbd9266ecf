import { useEffect, useState } from "react";
import type { PeerLike } from "./peers";
import {
  type QualitySample,
  type ShownQuality,
  type StatsEntry,
  judgeQuality,
  notShownYet,
  ownSample,
  qualityDetail,
  remoteSamples,
  settleQuality,
} from "./quality";
import type { CallSession } from "./session";

/** How often the call's connections are measured: one timer for the whole call, however many tiles. */
export const qualityPollMs = 2000;
/** The key of our own tiles in the map of levels (remote tiles are keyed by their msid stream id). */
export const ownQualityKey = "";

type StatsSource = Pick<PeerLike, "getStats">;

/** What the watch reads of a call (CallSession has both). */
export interface QualitySource {
  readonly peerConnections: { publisher: StatsSource | null; subscriber: StatsSource | null };
  readonly streamOfTrack: ReadonlyMap<string, string>;
}

/**
 * Measures a call's connections until the returned function stops it: one timer for the call polls each peer
 * connection's getStats() once per tick (none while there is no connection; a tick is skipped while the last one's
 * statistics are still coming) and reports the levels to show whenever a tile's level or numbers change. Remote
 * tiles are keyed by msid stream id, ours by `ownQualityKey`. Nothing is reported after the stop.
 */
export function watchConnectionQuality(
  source: QualitySource,
  report: (quality: ReadonlyMap<string, ShownQuality>) => void,
): () => void {
  let live = true;
  let polling = false;
  let samples = new Map<string, QualitySample>();
  let shown = new Map<string, ShownQuality>();
  const tick = async () => {
    const { publisher, subscriber } = source.peerConnections;
    if (polling || (!publisher && !subscriber)) return;
    polling = true;
    try {
      const [received, sent] = await Promise.all([entriesOf(subscriber), entriesOf(publisher)]);
      if (!live) return;
      const now = remoteSamples(received, source.streamOfTrack);
      if (publisher) now.set(ownQualityKey, ownSample(sent));
      // Only the streams measured now are kept, so the state stays as small as the call.
      const next = new Map<string, ShownQuality>();
      for (const [key, sample] of now) {
        next.set(key, settleQuality(shown.get(key) ?? notShownYet, judgeQuality(samples.get(key) ?? null, sample)));
      }
      samples = now;
      const changed = next.size !== shown.size || [...next].some(([key, q]) => !sameShown(q, shown.get(key)));
      shown = next;
      if (changed) report(next);
    } finally {
      polling = false;
    }
  };
  // A first sample now, so the first levels show one interval after the call connects, not two.
  void tick();
  const timer = setInterval(tick, qualityPollMs);
  return () => {
    live = false;
    clearInterval(timer);
  };
}

/** The connection quality each tile shows while the call is `active` (see watchConnectionQuality). */
export function useConnectionQuality(session: CallSession, active: boolean): ReadonlyMap<string, ShownQuality> {
  const [quality, setQuality] = useState<ReadonlyMap<string, ShownQuality>>(noQuality);
  useEffect(() => {
    if (!active) return;
    // Levels of an earlier stretch of the call (before a rejoin) say nothing about the connections now.
    setQuality((current) => (current.size === 0 ? current : noQuality));
    return watchConnectionQuality(session, setQuality);
  }, [session, active]);
  return active ? quality : noQuality;
}

const noQuality: ReadonlyMap<string, ShownQuality> = new Map();

async function entriesOf(pc: StatsSource | null): Promise<StatsEntry[]> {
  if (!pc) return [];
  const entries: StatsEntry[] = [];
  try {
    (await pc.getStats()).forEach((value: unknown) => entries.push(value as StatsEntry));
  } catch {
    // a closed connection has no statistics
  }
  return entries;
}

/** Whether a tile would show the same: its level and the numbers in its title. */
function sameShown(a: ShownQuality, b: ShownQuality | undefined): boolean {
  return b !== undefined && a.shown === b.shown && qualityDetail(a.latest) === qualityDetail(b.latest);
}
