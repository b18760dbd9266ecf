// Benchmark (not a test): time from clicking "Join call" to the first decoded frame of a remote video, over
// repeated joins on loopback. One person stays in the call publishing their fake camera; a second person
// joins, waits for the first decoded frame, leaves, and joins again. Everything runs inside the harness's
// namespace (only `lo`), with the real server jar and Debian's Chromium.
//
//   cd web-client && node e2e/bench/join-to-frame.mjs [joins=20]     (as root; needs the built server jar)
import os from "node:os";
import { execFileSync } from "node:child_process";
import { chromiumExecutable, loopbackCallSettings, startParleyStack, waitFor } from "../harness.mjs";
import { signUp } from "../pages.mjs";

const joins = Number(process.argv[2] ?? 20);

// In the joining page: note when Join is clicked, then poll the peer connections made since for the first
// decoded remote video frame. Both times are the page's own performance.now().
function instrumentJoins() {
  const Native = window.RTCPeerConnection;
  const made = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      made.push(this);
    }
  };
  window.__joins = [];
  document.addEventListener(
    "click",
    (event) => {
      if (!event.target.closest?.('[data-action="join-call"]')) return;
      const join = { clickedAt: performance.now(), connectedAt: null, firstPacketAt: null, firstFrameAt: null };
      window.__joins.push(join);
      const from = made.length;
      const poll = async () => {
        // The client makes the subscribe connection first, on call.joined.
        if (made[from]?.connectionState === "connected" && join.connectedAt === null) join.connectedAt = performance.now();
        for (const pc of made.slice(from)) {
          const stats = await pc.getStats();
          stats.forEach((s) => {
            if (s.type !== "inbound-rtp" || s.kind !== "video") return;
            if (s.packetsReceived > 0 && join.firstPacketAt === null) join.firstPacketAt = performance.now();
            if (s.framesDecoded > 0 && join.firstFrameAt === null) join.firstFrameAt = performance.now();
          });
          if (join.firstFrameAt !== null) return;
        }
        setTimeout(poll, 5);
      };
      setTimeout(poll, 5);
    },
    true,
  );
}


function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const loadBefore = os.loadavg();
const stack = await startParleyStack({
  parleyEnv: loopbackCallSettings().env,
});
try {
  const host = await stack.newUserContext();
  const guest = await stack.newUserContext();
  await guest.context.addInitScript(instrumentJoins);
  await signUp(host, "Host", "host");
  await signUp(guest, "Guest", "guest");

  await host.page.goto("/meetings");
  await host.page.getByRole("button", { name: "New meeting" }).click();
  await host.page.getByLabel("Title").fill("Bench");
  await host.page.getByRole("button", { name: "Create", exact: true }).click();
  await host.page.locator("[data-meeting-title]").waitFor();
  await host.page.getByRole("button", { name: "Add member" }).click();
  await host.page.getByLabel("Add someone by username").fill("guest");
  await host.page.getByRole("button", { name: "Add", exact: true }).click();
  await host.page.getByText("@guest was added.").waitFor();
  await host.page.locator('[data-action="join-call"]').click();
  await host.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });

  await guest.page.goto(new URL(host.page.url()).pathname);
  await guest.page.locator("[data-meeting-title]").waitFor();

  const results = [];
  const phases = [];
  // One warm-up join (class loading in the server, codec start-up in the browser), then the measured ones.
  for (let i = 0; i <= joins; i++) {
    await guest.page.locator('[data-action="join-call"]').click();
    const ms = await waitFor(
      "the first decoded remote frame",
      () =>
        guest.page.evaluate(() => {
          const join = window.__joins[window.__joins.length - 1];
          if (!join?.firstFrameAt) return null;
          const since = (t) => (t === null ? NaN : t - join.clickedAt);
          return { frame: since(join.firstFrameAt), connected: since(join.connectedAt), packet: since(join.firstPacketAt) };
        }),
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    if (i > 0) results.push(ms.frame);
    if (i > 0) phases.push(ms);
    await guest.page.locator('[data-action="leave-call"]').click();
    await guest.page.locator('[data-action="join-call"]').waitFor();
    // Let the server close the previous endpoint before the next join.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  const sorted = [...results].sort((a, b) => a - b);
  const fmt = (v) => `${Math.round(v)} ms`;
  const chromium = execFileSync(chromiumExecutable, ["--version"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  console.log(`join → first decoded remote frame, ${results.length} joins after 1 warm-up, loopback`);
  console.log(`p50 ${fmt(percentile(sorted, 50))}  p90 ${fmt(percentile(sorted, 90))}  max ${fmt(sorted[sorted.length - 1])}  min ${fmt(sorted[0])}`);
  console.log(`all: ${results.map((v) => Math.round(v)).join(", ")}`);
  const median = (values) => percentile([...values].sort((a, b) => a - b), 50);
  console.log(
    `medians from the click: subscribe connection connected ${fmt(median(phases.map((p) => p.connected)))}, ` +
      `first video packet ${fmt(median(phases.map((p) => p.packet)))}, first decoded frame ${fmt(median(results))}`,
  );
  console.log(`load average before/after: ${loadBefore.map((v) => v.toFixed(1)).join(" ")} / ${os.loadavg().map((v) => v.toFixed(1)).join(" ")}`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${chromium}, node ${process.version}`);
} finally {
  await stack.close();
}
