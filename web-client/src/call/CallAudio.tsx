import { useEffect, useRef } from "react";
import type { CallSnapshot } from "./session";

/**
 * Plays everyone's audio while the call lasts, wherever the user is in the app: the tiles' videos are muted and
 * unmounted when the user looks at another meeting, so sound lives here.
 */
export function CallAudio({ snapshot }: { snapshot: CallSnapshot | null }) {
  if (!snapshot || snapshot.phase === "left") return null;
  return (
    <div hidden>
      {[...snapshot.remoteStreams.entries()].map(([streamId, stream]) => (
        <StreamAudio key={streamId} stream={stream as MediaStream} />
      ))}
    </div>
  );
}

function StreamAudio({ stream }: { stream: MediaStream }) {
  const audio = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const el = audio.current;
    if (!el) return;
    el.srcObject = stream;
    el.play().catch(() => undefined);
  }, [stream]);
  return <audio ref={audio} autoPlay data-call-audio />;
}
