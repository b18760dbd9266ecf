import { useEffect, useRef, useState } from "react";
import { participantOfStream } from "./feeds";
import type { CallSession, CallSnapshot } from "./session";

const pollMs = 400;
/** audioLevel (0..1) above which a person counts as speaking. */
export const speakingThreshold = 0.03;

interface AudioLevelStat {
  type?: string;
  kind?: string;
  audioLevel?: number;
  trackIdentifier?: string;
}

/**
 * Who is speaking, from the peer connections' statistics: inbound audio levels of received tracks (mapped
 * to people through their msid stream) and the microphone's own level on the publish connection.
 */
export function speakersFrom(
  inbound: Iterable<AudioLevelStat>,
  outbound: Iterable<AudioLevelStat>,
  streamOfTrack: ReadonlyMap<string, string>,
  snapshot: Pick<CallSnapshot, "state" | "audioMuted">,
  selfId: string,
): Set<string> {
  const speaking = new Set<string>();
  const participants = snapshot.state?.participants ?? [];
  for (const stat of inbound) {
    if (stat.type !== "inbound-rtp" || stat.kind !== "audio" || (stat.audioLevel ?? 0) < speakingThreshold) continue;
    const streamId = stat.trackIdentifier ? streamOfTrack.get(stat.trackIdentifier) : undefined;
    const person = streamId ? participantOfStream(participants, streamId) : undefined;
    if (person && !person.audioMuted) speaking.add(person.userId);
  }
  if (!snapshot.audioMuted) {
    for (const stat of outbound) {
      if (stat.type === "media-source" && stat.kind === "audio" && (stat.audioLevel ?? 0) >= speakingThreshold) speaking.add(selfId);
    }
  }
  return speaking;
}

export function useSpeaking(session: CallSession, snapshot: CallSnapshot, selfId: string): ReadonlySet<string> {
  const [speaking, setSpeaking] = useState<ReadonlySet<string>>(new Set());
  const active = snapshot.phase === "connected" || snapshot.phase === "connecting";
  const latest = useRef(snapshot);
  latest.current = snapshot;

  useEffect(() => {
    if (!active) return;
    let live = true;
    const timer = setInterval(async () => {
      const { publisher, subscriber } = session.peerConnections;
      const collect = async (pc: typeof publisher): Promise<AudioLevelStat[]> => {
        if (!pc) return [];
        const values: AudioLevelStat[] = [];
        try {
          (await pc.getStats()).forEach((value: unknown) => values.push(value as AudioLevelStat));
        } catch {
          // a closed connection has no statistics
        }
        return values;
      };
      const [inbound, outbound] = await Promise.all([collect(subscriber), collect(publisher)]);
      if (!live) return;
      const next = speakersFrom(inbound, outbound, session.streamOfTrack, latest.current, selfId);
      setSpeaking((current) => (sameSet(current, next) ? current : next));
    }, pollMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [session, active, selfId]);

  return speaking;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
