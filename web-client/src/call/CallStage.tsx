import { type ReactNode, type RefObject, useEffect, useRef, useState } from "react";
import type { User } from "../api/client";
import { Avatar } from "../ui/Avatar";
import { CameraIcon, MicIcon, PhoneIcon, PinIcon, ScreenIcon, SpeakerIcon } from "../ui/icons";
import type { CallState } from "../ws/messages";
import { type Feed, callFeeds, gridColumns, speakerLayout, videoTrackIds } from "./feeds";
import { type ShownQuality, notShownYet, qualityDetail, qualityLabel } from "./quality";
import type { CallSession, CallSnapshot, StreamLike } from "./session";
import { ownQualityKey, useConnectionQuality } from "./useConnectionQuality";
import { useSpeaking } from "./useSpeaking";
import { useWeakConnectionNotice } from "./weakConnection";
import { callNotices, failureMessage, problemMessage, tileNotes } from "./wording";

interface Props {
  self: User;
  session: CallSession;
  snapshot: CallSnapshot;
  callState: CallState | null;
  onLeave: () => void;
}

/** The call: a grid of people (and shared screens), the controls, and clear words when something is wrong. */
export function CallStage({ self, session, snapshot, callState, onLeave }: Props) {
  const [shareError, setShareError] = useState<string | null>(null);
  const heard = useSpeaking(session, snapshot, self.userId);
  // The server's view of who speaks (its audio-level detection) once it has said anything; the browser's own
  // levels until then.
  const speaking = snapshot.speakers ? new Set(snapshot.speakers.speaking) : heard;
  const [layout, setLayout] = useState<"grid" | "speaker">("grid");
  const state = snapshot.state ?? callState;
  const participants = state?.participants ?? [];
  const joined = snapshot.phase === "connecting" || snapshot.phase === "connected";
  const quality = useConnectionQuality(session, joined);
  const weakConnection = useWeakConnectionNotice(snapshot.linkLimited, joined || snapshot.reconnecting);
  const everyone = participants.some((p) => p.userId === self.userId) || !joined
    ? participants
    : [...participants, { userId: self.userId, displayName: self.displayName, endpointId: "", audioMuted: snapshot.audioMuted, videoMuted: snapshot.videoMuted, screenSharing: false, tracks: [] }];
  const feeds = callFeeds(everyone, self.userId, snapshot.remoteStreams as ReadonlyMap<string, StreamLike>, {
    camera: snapshot.local,
    screen: snapshot.screen,
    hasVideo: session.hasCamera,
  });
  const speakerView =
    layout === "speaker" && feeds.length > 1 ? speakerLayout(feeds, snapshot.speakers?.dominant ?? null, snapshot.pinned) : null;
  const shown = speakerView?.main ? [speakerView.main, ...speakerView.others] : feeds;
  const columns = speakerView ? Math.max(1, Math.min(4, feeds.length - 1)) : gridColumns(feeds.length);
  usePageVisibility(session);

  return (
    <section className="call-stage" aria-label="Call" data-call-phase={snapshot.phase}>
      {snapshot.reconnecting && (
        <p className="call-notice" role="status">
          {callNotices.reconnecting}
        </p>
      )}
      {snapshot.phase === "preparing" && (
        <p className="call-notice" role="status">
          {callNotices.preparing}
        </p>
      )}
      {snapshot.moving && (snapshot.phase === "joining" || snapshot.phase === "connecting") && (
        <p className="call-notice" role="status">
          {callNotices.moving}
        </p>
      )}
      {snapshot.phase === "joining" && !snapshot.moving && (
        <p className="call-notice" role="status">
          {callNotices.joining}
        </p>
      )}
      {snapshot.phase === "connecting" && !snapshot.moving && (
        <p className="call-notice" role="status">
          {callNotices.connecting}
        </p>
      )}
      {snapshot.phase === "media-problem" && snapshot.problem && (
        <div className="call-problem" role="alert" data-call-problem={snapshot.problem.kind}>
          <p>{problemMessage(snapshot.problem)}</p>
          <div className="button-row">
            {snapshot.problem.audioAvailable && (
              <button className="button button-primary" type="button" onClick={() => session.continueWith("audio-only")}>
                Join with microphone only
              </button>
            )}
            <button className="button button-secondary" type="button" onClick={() => session.continueWith("receive-only")}>
              Join without camera or microphone
            </button>
            <button className="button button-secondary" type="button" onClick={() => session.retry()}>
              Try again
            </button>
            <button className="button button-ghost" type="button" onClick={onLeave}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {snapshot.phase === "failed" && snapshot.failure && (
        <div className="call-problem" role="alert" data-call-failure={snapshot.failure.kind}>
          <p>{failureMessage(snapshot.failure)}</p>
          <div className="button-row">
            {snapshot.failure.kind !== "ended" && (
              <button className="button button-primary" type="button" onClick={() => session.retry()}>
                Retry
              </button>
            )}
            <button className="button button-secondary" type="button" onClick={onLeave}>
              Close
            </button>
          </div>
        </div>
      )}
      {(joined || snapshot.reconnecting) && (
        <>
          {weakConnection && (
            <p className="call-notice call-notice-weak" role="status" data-testid="weak-connection">
              {callNotices.weakConnection}
            </p>
          )}
          <ul
            className={speakerView ? "tiles tiles-speaker" : "tiles"}
            style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}
            aria-label="People in the call"
            data-layout={speakerView ? "speaker" : "grid"}
          >
            {shown.map((feed) => (
              <Tile
                key={feed.key}
                session={session}
                feed={feed}
                main={speakerView?.main === feed}
                dominant={snapshot.speakers?.dominant === feed.userId && feed.kind === "camera"}
                speaking={speaking.has(feed.userId) && feed.kind === "camera"}
                paused={pauseOf(snapshot, videoTrackIds(everyone, feed))}
                pinned={feed.streamId !== null && snapshot.pinned.has(feed.streamId)}
                quality={qualityOfFeed(quality, feed)}
              />
            ))}
          </ul>
          {snapshot.mode === "receive-only" && (
            <p className="call-notice">{callNotices.receiveOnly}</p>
          )}
          {shareError && (
            <p className="call-notice" role="alert">
              {shareError}
            </p>
          )}
        </>
      )}
      <div className="call-controls" role="toolbar" aria-label="Call controls">
        {session.hasMicrophone && (
          <ToggleControl
            off={snapshot.audioMuted}
            label={snapshot.audioMuted ? "Unmute microphone" : "Mute microphone"}
            onClick={() => session.setAudioMuted(!snapshot.audioMuted)}
          >
            <MicIcon off={snapshot.audioMuted} />
          </ToggleControl>
        )}
        {session.hasCamera && (
          <ToggleControl
            off={snapshot.videoMuted}
            label={snapshot.videoMuted ? "Turn camera on" : "Turn camera off"}
            onClick={() => session.setVideoMuted(!snapshot.videoMuted)}
          >
            <CameraIcon off={snapshot.videoMuted} />
          </ToggleControl>
        )}
        {joined && typeof navigator !== "undefined" && navigator.mediaDevices && "getDisplayMedia" in navigator.mediaDevices && (
          <button
            className={`control${snapshot.screen ? " control-on" : ""}`}
            type="button"
            aria-pressed={snapshot.screen !== null}
            aria-label={snapshot.screen ? "Stop sharing your screen" : "Share your screen"}
            title={snapshot.screen ? "Stop sharing your screen" : "Share your screen"}
            onClick={async () => {
              setShareError(null);
              if (snapshot.screen) await session.stopScreen();
              else setShareError(await session.shareScreen());
            }}
          >
            <ScreenIcon />
          </button>
        )}
        {joined && (
          <button
            className={`control${layout === "speaker" ? " control-on" : ""}`}
            type="button"
            aria-pressed={layout === "speaker"}
            aria-label={layout === "speaker" ? "Show everyone alike" : "Show the speaker large"}
            title={layout === "speaker" ? "Show everyone alike" : "Show the speaker large"}
            onClick={() => setLayout(layout === "speaker" ? "grid" : "speaker")}
          >
            <SpeakerIcon />
          </button>
        )}
        <button className="control control-leave" type="button" aria-label="Leave call" title="Leave call" onClick={onLeave} data-action="leave-call">
          <PhoneIcon />
          <span>Leave</span>
        </button>
      </div>
    </section>
  );
}

/** Why the server sends none of a tile's video: last-N, or our downlink does not carry it. */
type Pause = "last-n" | "bandwidth";

/** Why the server sends none of a tile's video, if it sends none: last-N first, as pinning would bring it. */
function pauseOf(snapshot: CallSnapshot, videoTrackIds: readonly string[]): Pause | null {
  if (videoTrackIds.some((id) => snapshot.withheld.has(id))) return "last-n";
  if (videoTrackIds.some((id) => snapshot.lowBandwidth.has(id))) return "bandwidth";
  return null;
}

/** A round call control that is pressed while its device is off. */
function ToggleControl({ off, label, onClick, children }: { off: boolean; label: string; onClick: () => void; children: ReactNode }) {
  return (
    <button className={`control${off ? " control-off" : ""}`} type="button" aria-pressed={off} aria-label={label} title={label} onClick={onClick}>
      {children}
    </button>
  );
}

/** Tells the call whether the page is visible: a hidden tab shows no video, so the server sends none. */
function usePageVisibility(session: CallSession) {
  useEffect(() => {
    if (typeof document === "undefined") return;
    const report = () => session.pageVisibility(document.visibilityState !== "hidden");
    report();
    document.addEventListener("visibilitychange", report);
    return () => document.removeEventListener("visibilitychange", report);
  }, [session]);
}

/**
 * A remote video tile reports whether it is on screen and its size in device pixels, so the server sends the layer
 * that fits it (and nothing while it is out of sight); the call debounces and sends the reports.
 */
function useTileReport(session: CallSession, feed: Feed<StreamLike>, tile: RefObject<HTMLLIElement | null>) {
  const streamId = !feed.isSelf && feed.hasVideo ? feed.streamId : null;
  const key = feed.key;
  useEffect(() => {
    const el = tile.current;
    if (!el || streamId === null) return;
    // Without the observers (old browsers) the tile counts as shown, at a size not known (0).
    let onScreen = typeof IntersectionObserver === "undefined";
    let width = 0;
    let height = 0;
    const report = () => session.reportTile(key, { streamId, onScreen, width, height });
    const intersection = typeof IntersectionObserver === "undefined" ? null : new IntersectionObserver((entries) => {
      for (const entry of entries) onScreen = entry.isIntersecting;
      report();
    });
    const resize = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((entries) => {
      // CSS pixels × devicePixelRatio (devicePixelContentBoxSize ignores an emulated ratio in Chromium 156).
      const ratio = window.devicePixelRatio || 1;
      for (const entry of entries) {
        width = entry.contentRect.width * ratio;
        height = entry.contentRect.height * ratio;
      }
      report();
    });
    intersection?.observe(el);
    resize?.observe(el);
    report();
    return () => {
      intersection?.disconnect();
      resize?.disconnect();
      session.reportTile(key, null);
    };
  }, [session, key, streamId, tile]);
}

/** The quality a tile shows: the publish connection's on our own tiles, else its stream's. */
function qualityOfFeed(quality: ReadonlyMap<string, ShownQuality>, feed: Feed<StreamLike>): ShownQuality {
  const key = feed.isSelf ? ownQualityKey : feed.streamId;
  return (key !== null ? quality.get(key) : undefined) ?? notShownYet;
}

/** Signal bars: how well this tile's media arrives (or, on our own tiles, how well ours reaches the server). */
function QualityBars({ quality }: { quality: ShownQuality }) {
  return (
    <span
      className="tile-quality"
      role="img"
      data-quality={quality.shown}
      aria-label={qualityLabel(quality.shown)}
      title={qualityDetail(quality.latest)}
    >
      <span className="tile-quality-bar" />
      <span className="tile-quality-bar" />
      <span className="tile-quality-bar" />
    </span>
  );
}

interface TileProps {
  session: CallSession;
  feed: Feed<StreamLike>;
  speaking: boolean;
  dominant: boolean;
  main: boolean;
  /**
   * Why the server withholds this tile's video, if it does: more people send video than its last-N, or our downlink
   * does not carry it.
   */
  paused: Pause | null;
  pinned: boolean;
  quality: ShownQuality;
}

function Tile({ session, feed, speaking, dominant, main, paused, pinned, quality }: TileProps) {
  const video = useRef<HTMLVideoElement>(null);
  const tile = useRef<HTMLLIElement>(null);
  useTileReport(session, feed, tile);
  useEffect(() => {
    const el = video.current;
    if (!el) return;
    const stream = (feed.stream as unknown as MediaStream | null) ?? null;
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) el.play().catch(() => undefined);
  }, [feed.stream]);
  const showVideo = feed.stream !== null && feed.hasVideo && !feed.videoMuted && paused === null;
  const pinnable = !feed.isSelf && feed.hasVideo && feed.streamId !== null;
  const label = feed.kind === "screen" ? `${feed.displayName}'s screen` : feed.isSelf ? `${feed.displayName} (you)` : feed.displayName;
  return (
    <li
      ref={tile}
      className={`tile${speaking ? " tile-speaking" : ""}${feed.kind === "screen" ? " tile-screen" : ""}${feed.isSelf ? " tile-self" : ""}${main ? " tile-main" : ""}`}
      data-user-id={feed.userId}
      data-kind={feed.kind}
      data-speaking={speaking || undefined}
      data-dominant={dominant || undefined}
      data-withheld={paused === "last-n" || undefined}
      data-paused-for-bandwidth={paused === "bandwidth" || undefined}
      data-pinned={pinned || undefined}
      aria-label={label}
    >
      <video
        ref={video}
        autoPlay
        playsInline
        muted
        className={showVideo ? "tile-video" : "tile-video tile-video-hidden"}
      />
      {!showVideo && (
        <div className="tile-avatar">
          <Avatar id={feed.userId} name={feed.displayName} size="lg" />
          {paused !== null && !feed.videoMuted && (
            <p className="tile-note">{paused === "last-n" ? tileNotes.withheld : tileNotes.weakConnection}</p>
          )}
        </div>
      )}
      {pinnable && (
        <button
          className={`tile-pin${pinned ? " tile-pin-on" : ""}`}
          type="button"
          aria-pressed={pinned}
          aria-label={pinned ? `Unpin ${label}` : `Pin ${label}`}
          title={pinned ? "Unpin: back to the speakers' order" : "Pin: always get this video, shown large in the speaker layout"}
          onClick={() => feed.streamId !== null && session.setPinned(feed.streamId, !pinned)}
        >
          <PinIcon />
        </button>
      )}
      <div className="tile-label">
        <QualityBars quality={quality} />
        {feed.audioMuted && feed.kind === "camera" && (
          <span className="tile-muted" title="Microphone off" aria-label="Microphone off">
            <MicIcon off />
          </span>
        )}
        <span>{label}</span>
      </div>
    </li>
  );
}
