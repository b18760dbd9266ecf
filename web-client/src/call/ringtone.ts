// Ringing sounds made with Web Audio, so no audio file ships with the app: the callee hears a bright two-note ring,
// the caller a soft ringback, each repeating until stopped.

type Kind = "incoming" | "ringback";

/** Notes (Hz) of one ring, each 0.35 s, and the length of one ring with its pause. */
const patterns: Record<Kind, { notes: number[][]; cycleMs: number; volume: number }> = {
  incoming: { notes: [[784, 988], [659, 784]], cycleMs: 2_000, volume: 0.18 },
  ringback: { notes: [[440, 480], [440, 480]], cycleMs: 4_000, volume: 0.06 },
};
const noteSeconds = 0.35;

export class Ringtone {
  private context: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  /**
   * Starts ringing; completes with whether sound plays (a browser may keep audio suspended until the page was
   * touched, in which case the card is all there is).
   */
  async start(kind: Kind): Promise<boolean> {
    this.stop();
    if (typeof AudioContext === "undefined") return false;
    const context = new AudioContext();
    this.context = context;
    const pattern = patterns[kind];
    const ring = () => {
      if (context.state !== "running") return;
      let at = context.currentTime + 0.02;
      for (const chord of pattern.notes) {
        const gain = context.createGain();
        gain.gain.setValueAtTime(0, at);
        gain.gain.linearRampToValueAtTime(pattern.volume, at + 0.02);
        gain.gain.setValueAtTime(pattern.volume, at + noteSeconds - 0.05);
        gain.gain.linearRampToValueAtTime(0, at + noteSeconds);
        gain.connect(context.destination);
        for (const frequency of chord) {
          const tone = context.createOscillator();
          tone.frequency.value = frequency;
          tone.connect(gain);
          tone.start(at);
          tone.stop(at + noteSeconds);
        }
        at += noteSeconds + 0.05;
      }
    };
    try {
      await context.resume();
    } catch {
      // Not allowed yet: stays silent.
    }
    if (this.context !== context) return false;
    ring();
    this.timer = setInterval(ring, pattern.cycleMs);
    return context.state === "running";
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const context = this.context;
    this.context = null;
    if (context) void context.close().catch(() => undefined);
  }
}
