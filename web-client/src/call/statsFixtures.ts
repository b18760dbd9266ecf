// Stats entries as Chromium's RTCPeerConnection.getStats() gives them, for the quality tests: the same `type`s,
// field names, units (jitter and round trips in seconds, counters cumulative) and id shapes ("IT01V…" inbound,
// "OT01V…" outbound, "RIV…" remote-inbound, "CP…" candidate pair). Only the fields the judging reads plus a few
// neighbours are filled in; a real report has many more.
import type { StatsEntry } from "./quality";

/** An inbound-rtp entry of a received track (framesPerSecond, framesDecoded and freezeCount are video's only). */
export function inboundRtp(fields: {
  kind: "audio" | "video";
  trackIdentifier: string;
  ssrc?: number;
  timestamp: number;
  packetsReceived: number;
  packetsLost: number;
  jitter?: number;
  framesPerSecond?: number;
  framesDecoded?: number;
  freezeCount?: number;
}): StatsEntry & { ssrc: number; mid: string; transportId: string } {
  const ssrc = fields.ssrc ?? (fields.kind === "video" ? 2563281953 : 1173625012);
  const { kind } = fields;
  return {
    id: `IT01${kind === "video" ? "V" : "A"}${ssrc}`,
    type: "inbound-rtp",
    timestamp: fields.timestamp,
    ssrc,
    kind,
    mid: kind === "video" ? "1" : "0",
    transportId: "T01",
    trackIdentifier: fields.trackIdentifier,
    packetsReceived: fields.packetsReceived,
    packetsLost: fields.packetsLost,
    jitter: fields.jitter ?? 0.004,
    ...(kind === "video"
      ? {
          framesPerSecond: fields.framesPerSecond,
          framesDecoded: fields.framesDecoded ?? 0,
          freezeCount: fields.freezeCount ?? 0,
        }
      : {}),
  };
}

/** The transport and its selected candidate pair (succeeded, nominated), with the pair's current round trip. */
export function selectedPair(timestamp: number, currentRoundTripTime: number): StatsEntry[] {
  return [
    { id: "T01", type: "transport", timestamp, selectedCandidatePairId: "CPx5Ftbbwq_Gl1kLoyY" },
    {
      id: "CPx5Ftbbwq_Gl1kLoyY",
      type: "candidate-pair",
      timestamp,
      state: "succeeded",
      nominated: true,
      currentRoundTripTime,
    },
  ];
}

/** A candidate pair that was tried and not chosen (Chromium lists every pair). */
export function failedPair(timestamp: number): StatsEntry {
  return {
    id: "CPaaaa_bbbb",
    type: "candidate-pair",
    timestamp,
    state: "failed",
    nominated: false,
    currentRoundTripTime: 3,
  };
}

/** An outbound-rtp entry of one simulcast layer of our camera. */
export function outboundRtp(fields: {
  rid: string;
  ssrc: number;
  timestamp: number;
  active?: boolean;
  qualityLimitationReason?: "none" | "bandwidth" | "cpu" | "other";
  framesPerSecond?: number;
}): StatsEntry {
  return {
    id: `OT01V${fields.ssrc}`,
    type: "outbound-rtp",
    timestamp: fields.timestamp,
    kind: "video",
    rid: fields.rid,
    active: fields.active ?? true,
    qualityLimitationReason: fields.qualityLimitationReason ?? "none",
    framesPerSecond: fields.framesPerSecond,
  };
}

/** What the server's receiver reports about one of our streams (from its RTCP receiver reports). */
export function remoteInboundRtp(fields: {
  kind: "audio" | "video";
  ssrc: number;
  timestamp: number;
  fractionLost: number;
  roundTripTime: number;
}): StatsEntry {
  return {
    id: `RI${fields.kind === "video" ? "V" : "A"}${fields.ssrc}`,
    type: "remote-inbound-rtp",
    timestamp: fields.timestamp,
    kind: fields.kind,
    localId: `OT01${fields.kind === "video" ? "V" : "A"}${fields.ssrc}`,
    fractionLost: fields.fractionLost,
    roundTripTime: fields.roundTripTime,
  };
}
