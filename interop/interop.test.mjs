// Interop: six independently written WebRTC stacks publish into the media server over WHIP and play from it over
// WHEP. Each stack's client (interop/clients/<stack>/, see interop/README.md) publishes once and plays once: in a
// ring in a fixed order, every stack's VP8+Opus publication is played by the next stack; then the same with H.264
// over the stacks that have it. Everything runs in one throwaway network namespace with no route out: `lo`, plus
// 127.0.0.2 on a veth pair inside it (libnice and libwebrtc skip `lo`), and the standalone media server in it.
//
// Needs root, ip, curl, java and the built media server (`mvn -B -q -pl media-server package -DskipTests`);
// each stack's `prepare` installs the rest. `scripts/interop` does all of that, then runs this file.
//
// INTEROP_STACKS=libwebrtc,pion (a debugging aid) restricts the rings to those stacks; by default all six run
// and a stack that is missing or cannot be prepared fails its pairs. INTEROP_WHEP=stream makes every player use
// /whep/<conference>; INTEROP_PLAY_AFTER_CONNECTED=1 starts each player only once its publisher is connected.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { Teardown, createNamespace, freePort, onPath, startProcessInNamespace, waitFor } from "../scripts/netns.mjs";

const execFileAsync = promisify(execFile);

const interopDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(interopDir, "..");
const mediaTarget = path.join(repoRoot, "media-server", "target");
/** Logs of every process a run starts, one folder per run (git-ignored). */
const runDir = path.join(interopDir, ".artifacts", `run-${process.pid}`);

/** The ring's fixed order: each stack's publication is played by the next one. */
export const ALL_STACKS = ["gstreamer", "aiortc", "pion", "libwebrtc", "werift", "node-datachannel"];

/**
 * How players find the publication. The VP8 ring plays the publisher's WHIP resource
 * (`/whep/<conference>/<resource id>`, a player that read the publisher's Location); the H.264 ring's publishers
 * name their stream (`/whip/<conference>?stream=camera`) and its players alternate between the conference's
 * stream (`/whep/<conference>`, what a generic player knows) and the stream's name (`/whep/<conference>/camera`).
 * INTEROP_WHEP=stream makes every player use `/whep/<conference>`.
 */
export const STREAM_NAME = "camera";

/**
 * Each player starts as soon as its publisher has its resource, so both run ICE and DTLS at once, as a viewer
 * joining a stream that has just started would. INTEROP_PLAY_AFTER_CONNECTED=1 waits for the publisher's
 * "connected" first (a debugging aid, to tell a publisher's failure from a player's).
 */
export const PLAY_AFTER_PUBLISHER_CONNECTED = process.env.INTEROP_PLAY_AFTER_CONNECTED === "1";

const SERVER_ADDRESS = "127.0.0.2";
const CLIENT_SECONDS = 40;
/** Bounds: each pair, the whole suite, and each wait inside a pair (the waits add up to well under a pair's). */
const PAIR_TIMEOUT_MS = 150_000;
const SUITE_TIMEOUT_MS = 40 * 60_000;
const PREPARE_TIMEOUT_MS = 10 * 60_000;
const RESOURCE_TIMEOUT_MS = 25_000;
const MEDIA_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const SERVER_START_TIMEOUT_MS = 60_000;

/** What a player must have received before a pair passes. */
const ENOUGH = { videoPackets: 100, keyframes: 1, frames: 10, audioPackets: 50 };

const selectedStacks = (() => {
  const filter = process.env.INTEROP_STACKS?.split(",").map((s) => s.trim()).filter(Boolean);
  if (!filter || filter.length === 0) return ALL_STACKS;
  const unknown = filter.filter((s) => !ALL_STACKS.includes(s));
  if (unknown.length > 0) throw new Error(`INTEROP_STACKS names unknown stacks: ${unknown.join(", ")} (known: ${ALL_STACKS.join(", ")})`);
  return ALL_STACKS.filter((s) => filter.includes(s));
})();
const playByStreamForAll = process.env.INTEROP_WHEP === "stream";

function mediaServerClasspath() {
  const jar = existsSync(mediaTarget)
    ? readdirSync(mediaTarget).find((name) => /^parley-media-server-.*\.jar$/.test(name) && !name.includes("sources"))
    : undefined;
  if (!jar || !existsSync(path.join(mediaTarget, "lib"))) return undefined;
  return `${path.join(mediaTarget, jar)}:${path.join(mediaTarget, "lib", "*")}`;
}

/** Throws a message saying what to install or build when the machine cannot run the suite. */
function checkPrerequisites() {
  const problems = [];
  if (typeof process.getuid === "function" && process.getuid() !== 0) problems.push("run as root: the suite creates a network namespace");
  for (const [tool, pkg] of [["ip", "iproute2"], ["ss", "iproute2"], ["curl", "curl"], ["java", "openjdk-17-jdk-headless"]]) {
    if (!onPath(tool)) problems.push(`${tool} is not on PATH (apt-get install -y ${pkg})`);
  }
  if (!mediaServerClasspath()) {
    problems.push("the media server is not built: run `mvn -B -q -pl media-server package -DskipTests` at the repo root");
  }
  if (problems.length > 0) throw new Error(`the interop tests cannot run here:\n- ${problems.join("\n- ")}`);
}

/** A media token from the real minting tool. */
async function mintToken(secret, conference, grant) {
  const args = ["-cp", mediaServerClasspath(), "dev.parley.media.api.MediaTokenMain", "--conference", conference, "--grant", grant, "--ttl", "1h"];
  const { stdout } = await execFileAsync("java", args, { env: { ...process.env, PARLEY_MEDIA_AUTH_SECRET: secret }, timeout: 30_000 });
  return stdout.trim();
}

/** A stack client started in the namespace, its JSON-line events parsed as they arrive. */
function startClient(namespace, teardown, { name, stack, args }) {
  const events = [];
  let stderr = "";
  let pending = "";
  const handle = startProcessInNamespace(namespace, teardown, {
    name,
    command: path.join(interopDir, "clients", stack, "client"),
    args,
    cwd: repoRoot,
    logDir: runDir,
    onOutput: (stream, chunk) => {
      if (stream === "stderr") {
        stderr = (stderr + chunk.toString()).slice(-4_000);
        return;
      }
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) {
        try {
          events.push(JSON.parse(line));
        } catch {
          events.push({ event: "unparsable", line });
        }
      }
    },
  });
  return {
    ...handle,
    events,
    stderrTail: () => stderr,
    find: (event) => events.find((e) => e.event === event),
    lastStats: (count) => events.filter((e) => e.event === "stats").slice(-count),
  };
}

/**
 * Polls `check` until it returns a truthy value; fails at once when one of `clients` ([client, stack] pairs)
 * reports an error or exits, and after `timeoutMs` with the last reason `check` threw.
 */
async function until(what, clients, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastReason = "";
  for (;;) {
    for (const [client, stack] of clients) {
      const failed = client.find("error");
      if (failed || !client.isRunning()) throw new Error(`${stack} failed while waiting for ${what}: ${failed?.message ?? "it exited"}`);
    }
    try {
      const value = check();
      if (value) return value;
    } catch (error) {
      lastReason = error.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastReason ? `: ${lastReason}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Which of a player's stats fall short of ENOUGH for `video` (empty when none). */
function shortfalls(stats, video, decodes) {
  if (!stats) return ["no stats yet"];
  const missing = [];
  const v = stats.video ?? {};
  const a = stats.audio ?? {};
  if (v.codec !== video) missing.push(`video codec ${v.codec} (want ${video})`);
  if (!(v.packets >= ENOUGH.videoPackets)) missing.push(`video packets ${v.packets} (want ${ENOUGH.videoPackets})`);
  if (!(v.keyframes >= ENOUGH.keyframes)) missing.push(`keyframes ${v.keyframes} (want ${ENOUGH.keyframes})`);
  if (!(v.frames >= ENOUGH.frames)) missing.push(`${decodes ? "decoded " : ""}frames ${v.frames} (want ${ENOUGH.frames})`);
  if (a.codec !== "opus") missing.push(`audio codec ${a.codec} (want opus)`);
  if (!(a.packets >= ENOUGH.audioPackets)) missing.push(`audio packets ${a.packets} (want ${ENOUGH.audioPackets})`);
  return missing;
}

describe("independent WebRTC stacks publish over WHIP and play over WHEP through the media server", { timeout: SUITE_TIMEOUT_MS }, () => {
  const teardown = new Teardown();
  /** stack → {capabilities} or {problem}. */
  const stacks = new Map();
  let namespace;
  let baseUrl;
  let secret;
  let adminToken;

  async function serverStats() {
    const { stdout } = await namespace.exec("curl", ["-sS", "-m", "5", "-H", `Authorization: Bearer ${adminToken}`, `${baseUrl}/stats`]);
    return JSON.parse(stdout);
  }

  before(async () => {
    checkPrerequisites();
    namespace = await createNamespace(teardown, { prefix: "parley-iop" });
    // libnice and libwebrtc gather no candidate on `lo`: a veth pair made inside the namespace carries 127.0.0.2.
    await namespace.exec("ip", ["link", "add", "ia", "type", "veth", "peer", "name", "ib"]);
    await namespace.exec("ip", ["addr", "add", `${SERVER_ADDRESS}/32`, "dev", "ia"]);
    await namespace.exec("ip", ["link", "set", "ia", "up"]);
    await namespace.exec("ip", ["link", "set", "ib", "up"]);

    secret = randomBytes(24).toString("hex");
    const httpPort = await freePort(namespace);
    const udpPort = await freePort(namespace);
    baseUrl = `http://${SERVER_ADDRESS}:${httpPort}`;
    const server = startProcessInNamespace(namespace, teardown, {
      name: "media-server",
      command: "java",
      args: ["-cp", mediaServerClasspath(), "dev.parley.media.MediaServerMain"],
      cwd: repoRoot,
      logDir: runDir,
      env: {
        PARLEY_MEDIA_HTTP_HOST: SERVER_ADDRESS,
        PARLEY_MEDIA_HTTP_PORT: String(httpPort),
        PARLEY_MEDIA_UDP_PORT: String(udpPort),
        PARLEY_MEDIA_ADDRESSES: `127.0.0.1,${SERVER_ADDRESS}`,
        PARLEY_MEDIA_ALLOWED_REMOTE_NETWORKS: "127.0.0.0/8",
        PARLEY_MEDIA_AUTH_SECRET: secret,
      },
    });
    await waitFor(
      `the media server to answer ${baseUrl}/healthz`,
      async () => {
        if (!server.isRunning()) throw new Error(`the media server exited; its output:\n${server.output()}`);
        const { stdout } = await namespace.exec("curl", ["-sS", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", `${baseUrl}/healthz`]);
        return stdout === "200";
      },
      { timeoutMs: SERVER_START_TIMEOUT_MS, intervalMs: 250 },
    );
    adminToken = await mintToken(secret, "*", "admin");
  });

  after(async () => {
    await teardown.close();
  });

  describe("each stack prepares and tells what it can do", () => {
    for (const stack of selectedStacks) {
      it(`${stack}: prepare, then client capabilities`, { timeout: PREPARE_TIMEOUT_MS + 60_000 }, async () => {
        try {
          stacks.set(stack, { capabilities: await prepareStack(stack) });
        } catch (error) {
          stacks.set(stack, { problem: error.message });
          throw error;
        }
      });
    }
  });

  async function prepareStack(stack) {
    const dir = path.join(interopDir, "clients", stack);
    for (const file of ["prepare", "client"]) {
      if (!existsSync(path.join(dir, file))) {
        throw new Error(`interop/clients/${stack}/${file} is missing (each stack needs prepare and client: see interop/README.md)`);
      }
      try {
        accessSync(path.join(dir, file), constants.X_OK);
      } catch {
        throw new Error(`interop/clients/${stack}/${file} is not executable (chmod +x)`);
      }
    }
    // prepare installs packages, so it runs outside the namespace (which has no route to the registries).
    const keepLog = ({ stdout = "", stderr = "" }) => {
      mkdirSync(runDir, { recursive: true });
      writeFileSync(path.join(runDir, `prepare-${stack}.log`), `${stdout}${stderr}`);
    };
    await execFileAsync(path.join(dir, "prepare"), [], { cwd: repoRoot, timeout: PREPARE_TIMEOUT_MS, maxBuffer: 16 << 20 }).then(keepLog, (error) => {
      keepLog(error);
      throw new Error(`interop/clients/${stack}/prepare failed (${error.killed ? "timed out" : `exit ${error.code}`}):\n${tail(error.stderr || error.stdout, 3_000)}`);
    });
    const { stdout } = await namespace.exec(path.join(dir, "client"), ["capabilities"], { timeout: 30_000 }).catch((error) => {
      throw new Error(`interop/clients/${stack}/client capabilities failed: ${tail(error.stderr || error.message, 2_000)}`);
    });
    const capabilities = JSON.parse(stdout.trim().split("\n").pop());
    assert.ok(Array.isArray(capabilities.publish) && Array.isArray(capabilities.play), `${stack} capabilities lack publish/play lists: ${stdout}`);
    return capabilities;
  }

  /** One pair: `publisher` publishes `video`+Opus, `player` plays it; both end cleanly; the server is left clean. */
  async function runPair({ publisher, player, video, whep, conference }) {
    for (const [stack, role] of [[publisher, "publish"], [player, "play"]]) {
      const state = stacks.get(stack);
      if (!state) throw new Error(`${stack} was not prepared (its prepare test did not run)`);
      if (state.problem) throw new Error(`${stack} is not available: ${state.problem}`);
      if (!state.capabilities[role].includes(video)) {
        throw new Error(`${stack} cannot ${role} ${video} (its capabilities: ${JSON.stringify(state.capabilities)})`);
      }
    }
    const decodes = stacks.get(player).capabilities.decodes === true;
    const pair = new Teardown();
    const before = await serverStats();
    const [publishToken, playToken] = await Promise.all([mintToken(secret, conference, "publish"), mintToken(secret, conference, "play")]);
    let pub;
    let play;
    const evidence = () =>
      [
        `${player}'s last stats:`,
        ...(play?.lastStats(3).map((s) => JSON.stringify(s)) ?? ["(not started)"]),
        `${publisher} (publisher) stderr, last lines:`,
        tail(pub?.stderrTail() ?? "(not started)", 2_000),
        `${player} (player) stderr, last lines:`,
        tail(play?.stderrTail() ?? "(not started)", 2_000),
        `logs: ${path.relative(repoRoot, runDir)}/${conference}-*.log`,
      ].join("\n");
    try {
      pub = startClient(namespace, pair, {
        name: `${conference}-publish-${publisher}`,
        stack: publisher,
        args: ["publish", "--url", whep === "resource" ? `${baseUrl}/whip/${conference}` : `${baseUrl}/whip/${conference}?stream=${STREAM_NAME}`, "--token", publishToken, "--video", video, "--seconds", String(CLIENT_SECONDS)],
      });
      const resource = await until(`${publisher}'s "resource" event`, [[pub, publisher]], () => pub.find("resource"), RESOURCE_TIMEOUT_MS);
      if (PLAY_AFTER_PUBLISHER_CONNECTED) {
        await until(`${publisher}'s "connected" event`, [[pub, publisher]], () => pub.find("connected"), RESOURCE_TIMEOUT_MS);
      }
      const publisherId = new URL(resource.location).pathname.split("/").filter(Boolean).pop();
      const playUrl = playByStreamForAll || whep === "stream"
        ? `${baseUrl}/whep/${conference}`
        : whep === "name" ? `${baseUrl}/whep/${conference}/${STREAM_NAME}` : `${baseUrl}/whep/${conference}/${publisherId}`;
      play = startClient(namespace, pair, {
        name: `${conference}-play-${player}`,
        stack: player,
        args: ["play", "--url", playUrl, "--token", playToken, "--video", video, "--seconds", String(CLIENT_SECONDS)],
      });
      await until(
        `${player} to receive enough (${JSON.stringify(ENOUGH)})`,
        [[pub, publisher], [play, player]],
        () => {
          const missing = shortfalls(play.lastStats(1)[0], video, decodes);
          if (missing.length > 0) throw new Error(missing.join(", "));
          return true;
        },
        MEDIA_TIMEOUT_MS,
      );
      // Both end on SIGTERM: DELETE their resource (200) and exit 0. The player first: once its publication is
      // gone, the server ends the players' resources itself.
      const ends = [];
      for (const client of [play, pub]) {
        ends.push(await client.stop({ timeoutMs: STOP_TIMEOUT_MS }));
        await client.closed;
      }
      ends.reverse();
      for (const [client, stack, { code, signal }] of [[pub, publisher, ends[0]], [play, player, ends[1]]]) {
        const ended = client.find("ended");
        assert.equal(ended?.status, 200, `${stack} did not end with DELETE 200 (its ended event: ${JSON.stringify(ended)})`);
        assert.equal(code, 0, `${stack} exited with ${code ?? signal} after SIGTERM`);
      }
    } catch (error) {
      error.message = `${publisher} → ${player} (${video}): ${error.message}\n${evidence()}`;
      throw error;
    } finally {
      await pair.close();
    }
    // The server forgets both endpoints and saw no SRTP authentication failure.
    const leftOver = await waitFor(
      `the server to drop ${conference}'s endpoints`,
      async () => {
        const stats = await serverStats();
        return stats.endpointStats.some((e) => e.conferenceId === conference) ? false : stats;
      },
      { timeoutMs: 5_000, intervalMs: 200 },
    );
    assert.equal(typeof before.drops?.srtp_auth_fail, "number", `the server's /stats has no drops.srtp_auth_fail: ${JSON.stringify(before.drops)}`);
    assert.equal(
      leftOver.drops.srtp_auth_fail,
      before.drops.srtp_auth_fail,
      `SRTP authentication failures grew during ${publisher} → ${player}`,
    );
  }

  describe("VP8 and Opus: each stack's publication is played by the next stack", () => {
    selectedStacks.forEach((publisher, i) => {
      const player = selectedStacks[(i + 1) % selectedStacks.length];
      it(`${publisher} publishes VP8+Opus, ${player} plays it`, { timeout: PAIR_TIMEOUT_MS }, () =>
        runPair({ publisher, player, video: "vp8", whep: "resource", conference: `vp8-${i + 1}-${publisher}-${player}` }),
      );
    });
  });

  // Which stacks have H.264 is known only once they have told their capabilities: one test holds the pairs.
  it("H.264 and Opus: the same ring over the stacks that publish and play H.264", { timeout: SUITE_TIMEOUT_MS }, async (t) => {
    const ring = selectedStacks.filter((stack) => {
      const capabilities = stacks.get(stack)?.capabilities;
      return capabilities?.publish.includes("h264") && capabilities?.play.includes("h264");
    });
    const without = selectedStacks.filter((stack) => !ring.includes(stack));
    t.diagnostic(`H.264 ring: ${ring.join(", ") || "none"}; without H.264 (or not prepared): ${without.join(", ") || "none"}`);
    for (const [i, publisher] of ring.entries()) {
      const player = ring[(i + 1) % ring.length];
      const whep = i % 2 === 0 ? "stream" : "name";
      const how = whep === "stream" ? "the conference's stream" : `the stream named ${STREAM_NAME}`;
      await t.test(`${publisher} publishes H.264+Opus, ${player} plays it as ${how}`, { timeout: PAIR_TIMEOUT_MS }, () =>
        runPair({ publisher, player, video: "h264", whep, conference: `h264-${i + 1}-${publisher}-${player}` }),
      );
    }
  });
});

function tail(text, chars) {
  const s = String(text ?? "");
  return s.length > chars ? `…${s.slice(-chars)}` : s;
}
