// Which person each incoming stream belongs to. The subscribe offer carries each publisher's msid stream
// id; call.state lists every participant's tracks with the same stream ids. A participant's camera is the
// stream that carries their microphone (or their first stream); any other stream with video is a screen.
import type { CallParticipant } from "../ws/messages";

export interface Feed<S> {
  /** Stable React key: userId plus "camera" or "screen:<streamId>". */
  key: string;
  userId: string;
  displayName: string;
  kind: "camera" | "screen";
  streamId: string | null;
  stream: S | null;
  hasVideo: boolean;
  audioMuted: boolean;
  videoMuted: boolean;
  isSelf: boolean;
}

/** The tiles of a call: one camera tile per participant (also without media), plus one per shared screen. */
export function callFeeds<S>(
  participants: readonly CallParticipant[],
  selfId: string,
  remoteStreams: ReadonlyMap<string, S>,
  local: { camera: S | null; screen: S | null; hasVideo: boolean } = { camera: null, screen: null, hasVideo: false },
): Feed<S>[] {
  const feeds: Feed<S>[] = [];
  for (const p of participants) {
    const isSelf = p.userId === selfId;
    const byStream = new Map<string, Set<string>>();
    for (const t of p.tracks) {
      const kinds = byStream.get(t.streamId) ?? new Set<string>();
      kinds.add(t.kind);
      byStream.set(t.streamId, kinds);
    }
    const streamIds = [...byStream.keys()];
    const cameraId = streamIds.find((id) => byStream.get(id)?.has("audio")) ?? streamIds[0] ?? null;
    const base = { userId: p.userId, displayName: p.displayName, audioMuted: p.audioMuted, isSelf };
    feeds.push({
      ...base,
      key: `${p.userId}:camera`,
      kind: "camera",
      streamId: cameraId,
      stream: isSelf ? local.camera : cameraId ? (remoteStreams.get(cameraId) ?? null) : null,
      hasVideo: isSelf ? local.hasVideo : cameraId !== null && (byStream.get(cameraId)?.has("video") ?? false),
      videoMuted: p.videoMuted,
    });
    for (const id of streamIds) {
      if (id === cameraId || !byStream.get(id)?.has("video")) continue;
      feeds.push({
        ...base,
        key: `${p.userId}:screen:${id}`,
        kind: "screen",
        streamId: id,
        stream: isSelf ? local.screen : (remoteStreams.get(id) ?? null),
        hasVideo: true,
        videoMuted: false,
      });
    }
  }
  // Screens first (they need the room), then people in the order they joined.
  return [...feeds.filter((f) => f.kind === "screen"), ...feeds.filter((f) => f.kind === "camera")];
}

/** The participant who publishes the stream with this msid, if any. */
export function participantOfStream(
  participants: readonly CallParticipant[],
  streamId: string,
): CallParticipant | undefined {
  return participants.find((p) => p.tracks.some((t) => t.streamId === streamId));
}

/** The video track ids (call.state trackId) of a feed's stream; none for our own tiles. */
export function videoTrackIds(participants: readonly CallParticipant[], feed: Feed<unknown>): string[] {
  if (feed.isSelf || feed.streamId === null) return [];
  const participant = participants.find((p) => p.userId === feed.userId);
  return (participant?.tracks ?? []).filter((t) => t.kind === "video" && t.streamId === feed.streamId).map((t) => t.trackId);
}

/** Columns for a grid of `count` tiles: as square as possible, wider than tall. */
export function gridColumns(count: number): number {
  if (count <= 1) return 1;
  if (count <= 4) return 2;
  if (count <= 9) return 3;
  if (count <= 16) return 4;
  return 5;
}

/**
 * The speaker layout: one large tile and the rest beside it. A tile the user pinned takes the large tile; else a
 * shared screen (it needs the room); else the dominant speaker's camera (as the server hears it), unless that is us;
 * else the first other person.
 */
export function speakerLayout<S>(
  feeds: readonly Feed<S>[],
  dominantUserId: string | null,
  pinnedStreams: ReadonlySet<string> = new Set(),
): { main: Feed<S> | null; others: Feed<S>[] } {
  const main =
    feeds.find((f) => !f.isSelf && f.streamId !== null && pinnedStreams.has(f.streamId)) ??
    feeds.find((f) => f.kind === "screen") ??
    feeds.find((f) => f.kind === "camera" && f.userId === dominantUserId && !f.isSelf) ??
    feeds.find((f) => f.kind === "camera" && !f.isSelf) ??
    feeds[0] ??
    null;
  return { main, others: feeds.filter((f) => f !== main) };
}
