// TURN credentials expire (TURN REST API: the username is "<expiry seconds>:<userId>"). coturn checks the expiry only
// when a relay is allocated, so running peer connections keep theirs; a peer connection opened later asks the
// server for fresh credentials first (call.turn) when the ones it holds are about to expire.
import type { ClientMessage, ServerMessage } from "../ws/messages";

/** Credentials that expire sooner than this are renewed before a peer connection gathers candidates. */
export const turnRefreshMarginMs = 5 * 60_000;

/** When the earliest of these credentials expires (ms since the epoch); null when none carries an expiry. */
export function credentialsExpireAt(servers: readonly RTCIceServer[]): number | null {
  let earliest: number | null = null;
  for (const server of servers) {
    const match = typeof server.username === "string" ? /^(\d+):/.exec(server.username) : null;
    if (!match) continue;
    const expiry = Number(match[1]) * 1000;
    if (earliest === null || expiry < earliest) earliest = expiry;
  }
  return earliest;
}

export function needsFreshCredentials(servers: readonly RTCIceServer[], nowMs: number, marginMs = turnRefreshMarginMs): boolean {
  const expiry = credentialsExpireAt(servers);
  return expiry !== null && expiry - nowMs < marginMs;
}

/**
 * These servers, or fresh ones from call.turn when they expire within the margin. A refusal keeps the old ones: the
 * peer connection then connects directly if it can, as it would without TURN.
 */
export async function freshIceServers(
  servers: RTCIceServer[],
  meetingId: string,
  request: (message: ClientMessage) => Promise<ServerMessage>,
  nowMs: number,
): Promise<RTCIceServer[]> {
  if (!needsFreshCredentials(servers, nowMs)) return servers;
  try {
    const answer = await request({ type: "call.turn", meetingId });
    return answer.type === "call.turn" && answer.meetingId === meetingId ? answer.iceServers : servers;
  } catch {
    return servers;
  }
}
