// What this browser shows of each remote video, told to the server (call.receive) so it forwards each tile the
// layer that fits it and nothing for tiles nobody sees. Tiles report their stream, whether they are on screen and
// their size in device pixels; the page's own visibility overrides (a hidden tab shows nothing), and a remote video
// without a tile is not visible. Reports settle for
// `receiveDebounceMs` before the full list goes out, and only when it differs from the last one the server took.
import type { CallParticipant, ClientMessage, ServerMessage, VideoReceive } from "../ws/messages";

/** How long tiles' reports settle before the list is sent (a resize or a scroll fires many). */
export const receiveDebounceMs = 250;
/** The most videos one call.receive may describe (the server refuses more). */
export const maxReceiveVideos = 100;
/** The largest width or height the server accepts, in device pixels. */
export const maxVideoDimension = 16_384;
/**
 * A list the server did not take (refused, or no answer) is sent again after this long, at most this many times in a
 * row: left alone, the server would keep the previous list, e.g. a tile hidden that is now shown.
 */
export const receiveRetryMs = 1_000;
export const maxReceiveRetries = 5;

/** One remote tile as it last reported itself. */
export interface TileReport {
  /** The msid stream id the tile shows (call.state participants[].tracks[].streamId). */
  streamId: string;
  onScreen: boolean;
  /** Device pixels (CSS pixels × devicePixelRatio). */
  width: number;
  height: number;
}

export interface ReceiveEnvironment {
  request(message: ClientMessage): Promise<ServerMessage>;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export class ReceiveReports {
  private readonly tiles = new Map<string, TileReport>();
  private participants: readonly CallParticipant[] = [];
  private pageVisible = true;
  private timer: unknown = null;
  /** The list the server last took (its JSON), or null when it must be sent again whatever it holds. */
  private lastSent: string | null = null;
  private sending = false;
  /** Lists in a row the server did not take. */
  private failures = 0;
  private ownEndpoint: string | null = null;
  /** The msid stream ids of the tiles the user pinned. */
  private pinnedStreams: ReadonlySet<string> = new Set();

  constructor(
    private readonly meetingId: string,
    private readonly env: ReceiveEnvironment,
    /** Whether the call holds a place the server would take the list for (and the socket is up). */
    private readonly canSend: () => boolean,
  ) {}

  /** A tile's latest report, under a key of its own; null when the tile is gone. */
  tile(key: string, report: TileReport | null): void {
    if (report) this.tiles.set(key, report);
    else if (!this.tiles.delete(key)) return;
    this.schedule();
  }

  /** The tiles the user pinned, by msid stream id: their videos are asked for beside the server's last-N. */
  pinned(streamIds: ReadonlySet<string>): void {
    this.pinnedStreams = streamIds;
    this.schedule();
  }

  /** The page became visible or hidden (document.visibilityState). */
  pageVisibility(visible: boolean): void {
    if (visible === this.pageVisible) return;
    this.pageVisible = visible;
    this.schedule();
  }

  /** A new call.state: stream ids map to track ids through it. */
  participantsChanged(participants: readonly CallParticipant[]): void {
    this.participants = participants;
    this.schedule();
  }

  /** The server's place for us is new or resumed: send the list again even if it did not change. */
  resend(): void {
    this.lastSent = null;
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) this.env.clearTimer(this.timer);
    this.timer = null;
  }

  /** Our own endpoint (call.joined): its tracks are never sent to us, so they are left out. */
  joinedAs(endpointId: string): void {
    this.ownEndpoint = endpointId;
  }

  /**
   * The list as the server should see it now: every remote video track of the call, as its tile shows it; a track
   * without a tile (not rendered, or the call stage is closed) is not visible, so the server sends no video for it.
   */
  videos(): VideoReceive[] {
    const shown = new Map<string, TileReport>();
    for (const tile of this.tiles.values()) {
      const other = shown.get(tile.streamId);
      // Two tiles of one stream: the larger visible one decides.
      if (!other || larger(tile, other)) shown.set(tile.streamId, tile);
    }
    const videos: VideoReceive[] = [];
    for (const participant of this.participants) {
      if (participant.endpointId === this.ownEndpoint) continue;
      for (const track of participant.tracks) {
        if (track.kind !== "video") continue;
        const tile = shown.get(track.streamId);
        videos.push({
          trackId: track.trackId,
          visible: this.pageVisible && (tile?.onScreen ?? false),
          width: dimension(tile?.width ?? 0),
          height: dimension(tile?.height ?? 0),
          ...(this.pinnedStreams.has(track.streamId) ? { pinned: true } : {}),
        });
      }
    }
    return videos
      .sort((a, b) => Number(b.visible) - Number(a.visible) || (a.trackId < b.trackId ? -1 : a.trackId > b.trackId ? 1 : 0))
      .slice(0, maxReceiveVideos);
  }

  private schedule(): void {
    if (this.timer !== null) this.env.clearTimer(this.timer);
    this.timer = this.env.setTimer(() => {
      this.timer = null;
      this.send();
    }, receiveDebounceMs);
  }

  private send(): void {
    if (!this.canSend() || this.sending) return;
    const videos = this.videos();
    const wire = JSON.stringify(videos);
    if (wire === this.lastSent) return;
    this.sending = true;
    this.env.request({ type: "call.receive", meetingId: this.meetingId, videos }).then(
      () => {
        this.sending = false;
        this.lastSent = wire;
        this.failures = 0;
        // Something changed while this list was on its way.
        if (JSON.stringify(this.videos()) !== wire) this.schedule();
      },
      () => {
        // Not taken (refused, no answer, the socket dropped): sent again in a while, a few times (a new join sends
        // it anyway), so the server does not keep an older list.
        this.sending = false;
        this.lastSent = null;
        if (this.failures >= maxReceiveRetries || this.timer !== null) return;
        this.failures++;
        this.timer = this.env.setTimer(() => {
          this.timer = null;
          this.send();
        }, receiveRetryMs);
      },
    );
  }
}

function dimension(pixels: number): number {
  if (!Number.isFinite(pixels) || pixels <= 0) return 0;
  return Math.min(maxVideoDimension, Math.round(pixels));
}

function larger(a: TileReport, b: TileReport): boolean {
  if (a.onScreen !== b.onScreen) return a.onScreen;
  return a.width * a.height > b.width * b.height;
}
