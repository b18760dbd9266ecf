// Benchmark (not a test): a direct call from pressing "Video call" to the callee's incoming-call card, and from the
// callee's Accept to both people decoding each other's video, over repeated calls on loopback. The two people take
// turns calling each other; every call is accepted, runs until both decode video, and is left by both. Everything
// runs inside the harness's namespace (only `lo`), with the real server jar and Debian's Chromium. Times are the
// pages' Date.now() (one machine, one clock).
//
//   cd web-client && node e2e/bench/ring-to-video.mjs [calls=20]     (as root; needs the built server jar)
import os from "node:os";
import { execFileSync } from "node:child_process";
import { chromiumExecutable, loopbackCallSettings, startParleyStack, waitFor } from "../harness.mjs";
import { signUp } from "../pages.mjs";

const calls = Number(process.argv[2] ?? 20);

// In each page: when "Video call" or "Accept" is clicked, when an incoming-call card appears, and when the peer
// connections made since the click first decode remote video.
function instrument() {
  const Native = window.RTCPeerConnection;
  const made = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      made.push(this);
    }
  };
  window.__marks = { call: null, accept: null, card: null, frame: null };
  const watchFrames = () => {
    const from = made.length;
    const started = Date.now();
    const poll = async () => {
      for (const pc of made.slice(from)) {
        const stats = await pc.getStats();
        stats.forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "video" && s.framesDecoded > 0 && window.__marks.frame === null) {
            window.__marks.frame = Date.now();
          }
        });
      }
      if (window.__marks.frame === null && Date.now() - started < 60_000) setTimeout(poll, 5);
    };
    setTimeout(poll, 5);
  };
  document.addEventListener(
    "click",
    (event) => {
      const action = event.target.closest?.("[data-action]")?.dataset.action;
      if (action === "video-call") {
        window.__marks = { call: Date.now(), accept: null, card: null, frame: null };
        watchFrames();
      } else if (action === "accept-video") {
        window.__marks.accept = Date.now();
        watchFrames();
      }
    },
    true,
  );
  new MutationObserver(() => {
    const card = document.querySelector('.ring-card[data-ring="incoming"]');
    if (card && !card.dataset.benchSeen) {
      card.dataset.benchSeen = "1";
      window.__marks = { call: null, accept: null, card: Date.now(), frame: null };
    }
  }).observe(document, { childList: true, subtree: true });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const marks = (user) => user.page.evaluate(() => window.__marks);

const loadBefore = os.loadavg();
const stack = await startParleyStack({
  // The two take turns, each ringing about every 8 s: under the default 10 rings a minute, but with no margin.
  parleyEnv: { ...loopbackCallSettings().env, PARLEY_MAX_RINGS_PER_MINUTE: "60" },
});
try {
  const ann = await stack.newUserContext();
  const bob = await stack.newUserContext();
  for (const user of [ann, bob]) await user.context.addInitScript(instrument);
  await signUp(ann, "Ann Bench", "annbench");
  await signUp(bob, "Bob Bench", "bobbench");
  await ann.page.locator('.person[data-username="bobbench"]').waitFor();
  await bob.page.locator('.person[data-username="annbench"]').waitFor();

  const toCard = [];
  const toVideo = [];
  const callerSees = [];
  const calleeSees = [];
  // One warm-up call (class loading in the server, codec start-up in the browsers), then the measured ones.
  for (let i = 0; i <= calls; i++) {
    const [caller, callee, calleeName] = i % 2 === 0 ? [ann, bob, "Bob Bench"] : [bob, ann, "Ann Bench"];
    await caller.page.getByRole("link", { name: "People", exact: true }).click();
    await caller.page.getByRole("button", { name: `Video call ${calleeName}` }).click();
    const card = callee.page.locator('.ring-card[data-ring="incoming"]');
    await card.waitFor({ timeout: 15_000 });
    await card.locator('[data-action="accept-video"]').click();
    await waitFor(
      "both to decode video",
      async () => (await marks(caller)).frame !== null && (await marks(callee)).frame !== null,
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    const [by, to] = [await marks(caller), await marks(callee)];
    if (i > 0) {
      toCard.push(to.card - by.call);
      toVideo.push(Math.max(by.frame, to.frame) - to.accept);
      callerSees.push(by.frame - to.accept);
      calleeSees.push(to.frame - to.accept);
    }
    for (const user of [caller, callee]) await user.page.locator('[data-action="leave-call"]').click();
    for (const user of [caller, callee]) await user.page.locator(".call-stage").waitFor({ state: "detached" });
    // Let the server close the call before the next ring.
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const fmt = (v) => `${Math.round(v)} ms`;
  const summary = (name, values) => {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `${name}: median ${fmt(percentile(sorted, 50))}  p90 ${fmt(percentile(sorted, 90))}  min ${fmt(sorted[0])}  ` +
        `max ${fmt(sorted[sorted.length - 1])}`,
    );
    console.log(`  all: ${values.map((v) => Math.round(v)).join(", ")}`);
  };
  const chromium = execFileSync(chromiumExecutable, ["--version"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  console.log(`direct calls on loopback, ${toCard.length} after 1 warm-up, callers taking turns`);
  summary("Video call pressed → callee's card shown", toCard);
  summary("Accept pressed → both decode the other's video", toVideo);
  summary("  of which: the callee decodes the caller's", calleeSees);
  summary("  of which: the caller decodes the callee's", callerSees);
  console.log(`load average before/after: ${loadBefore.map((v) => v.toFixed(1)).join(" ")} / ${os.loadavg().map((v) => v.toFixed(1)).join(" ")}`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${chromium}, node ${process.version}`);
} finally {
  await stack.close();
}
