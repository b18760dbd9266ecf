// Shaped links for the bandwidth tests (e2e/bandwidth.scenarios.mjs, checked by e2e/shaping-harness.test.mjs): each person
// runs Chromium in a namespace of their own, behind a router namespace of their own, and every router hangs off a
// bridge in the server's namespace. Each person's downlink and uplink can be limited independently, and delayed, and
// the limits changed mid-test. Every address lives in namespaces this file creates; nothing touches the machine's own
// interfaces.
//
//   core    (10.88.0.1/24 on bridge br0): redis and the Parley server (gateway and media server, UDP on 10.88.0.1);
//           routes 10.89.N.0/24 via router N
//   rtr-N   (wan 10.88.0.(10+N) on br0, lan 10.89.N.1/24): forwards without NAT. Rate limits are tc tbf qdiscs on
//           its egress: on `lan` for the person's downlink, on `wan` for their uplink. Delay is a TUN device `dly`
//           read by e2e/delay-line.py: policy routing sends what arrives on `wan` (downlink), and with "both" what
//           arrives on `lan` (uplink), into `dly`; what the delay line writes back comes in on `dly` and is routed
//           normally (ip rule iif dly lookup main).
//   host-N  (10.89.N.2, default route via the router): one person's Chromium
//
// Namespaces are named parley-shape-<role>-<pid>-<random>; deleting one deletes its veths, bridge, TUN and qdiscs.
// The teardown deletes them all, also on failure; leftovers of a run that was killed are removed before a run.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import {
  Teardown,
  artifactsDir,
  chromiumExecutable,
  createNamespace,
  namespacesOfThisProcess,
  removeStaleNamespaces,
  httpGetInNamespace,
  launchBrowser,
  newUserContext,
  parleyJar,
  repoRoot,
  runArtifactsDir,
  startParley,
  startProcessInNamespace,
  startRedis,
  waitFor,
  webClientDir,
} from "./harness.mjs";

const execFileAsync = promisify(execFile);

export const NAMESPACE_PREFIX = "parley-shape";
export const CORE_ADDRESS = "10.88.0.1";
/** Where the routers' LANs (and so every client) live; the media server accepts media only from there. */
export const CLIENT_NETWORKS = "10.89.0.0/16";
export const delayLineScript = path.join(webClientDir, "e2e", "delay-line.py");
/**
 * Debian's python3 (which scripts/test installs) when present: a version manager's shim on PATH can take seconds to
 * start on a loaded machine.
 */
export const python3 = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
/** The delay line's queue: at most this many packets and bytes are held; beyond is dropped (and counted). */
export const DELAY_QUEUE_PACKETS = 2_000;
export const DELAY_QUEUE_BYTES = 2_000_000;
/** The most a tbf qdisc holds before dropping, as time at the limited rate (tbf's `latency`). */
export const TBF_LATENCY_MS = 200;

/** How much lower the browsers' CPU priority is than the server's (nice), see startShapedStack. */
export const BROWSER_NICENESS = 10;
/**
 * The noisy test pattern Ana's camera sends: noisy enough that each layer fills its cap (Chromium sends two layers of
 * 640x360: 160 px up to 150 kbit/s, 320 px up to 500). A 960x540 pattern gets a third layer at 1.5 Mbit/s, but
 * encoding it and decoding it twice took more CPU than two cores have beside the server (the unshaped receivers at
 * 3–10 fps, freezing a second in every five), so the browsers' own starvation swamped what the scenarios measure.
 */
export const NOISY_VIDEO = { width: 640, height: 360, fps: 15, seconds: 4, noise: true };
/**
 * A plain, small pattern for the other cameras: cheap to encode and decode (Chromium sends one simulcast layer of
 * it), so the two cores go to Ana's camera, the server and the links under test.
 */
export const PLAIN_VIDEO = { width: 320, height: 180, fps: 15, seconds: 4, noise: false };

// ------------------------------------------------------------------------------------------------------------
// Preconditions and leftovers

function onPath(tool) {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

/** Throws, saying what to install, when the shaped-link tests cannot run here. */
export function checkShapingPrerequisites({ needBrowser = true } = {}) {
  const problems = [];
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    problems.push("run as root: the tests create network namespaces, veths, a TUN device and tc qdiscs");
  }
  const tools = [
    ["ip", "iproute2"],
    ["tc", "iproute2"],
    ["curl", "curl"],
    ["python3", "python3"],
    ["ss", "iproute2"],
  ];
  if (needBrowser) {
    tools.push(["ffmpeg", "ffmpeg"], ["redis-server", "redis-server"], ["redis-cli", "redis-server"], ["java", "a JDK"], ["setpriv", "util-linux"]);
  }
  for (const [tool, pkg] of tools) {
    if (!onPath(tool)) problems.push(`${tool} is not on PATH (apt-get install -y ${pkg})`);
  }
  if (!existsSync("/dev/net/tun")) problems.push("/dev/net/tun is missing: the delay line needs the tun driver (modprobe tun)");
  if (needBrowser) {
    if (!existsSync(chromiumExecutable)) problems.push(`${chromiumExecutable} is missing (apt-get install -y chromium)`);
    if (!existsSync(parleyJar)) problems.push(`${parleyJar} is missing (mvn -B -q package -DskipTests at the repo root)`);
  }
  if (problems.length === 0 && spawnSync("ip", ["netns", "list"], { stdio: "ignore" }).status !== 0) {
    problems.push("`ip netns` does not work here");
  }
  if (problems.length > 0) throw new Error(`the shaped-link tests cannot run here:\n- ${problems.join("\n- ")}`);
}

/** Deletes namespaces (and whatever runs in them) left by an earlier run whose process is gone. */
export function removeLeftovers() {
  return removeStaleNamespaces(NAMESPACE_PREFIX, { withRole: true });
}

/** Names of this process's shaping namespaces that still exist (a test checks it is empty after teardown). */
export function namespacesOfThisRun() {
  return namespacesOfThisProcess(NAMESPACE_PREFIX);
}

// ------------------------------------------------------------------------------------------------------------
// Topology

async function namespace(teardown, role) {
  const ns = await createNamespace(teardown, { prefix: `${NAMESPACE_PREFIX}-${role}` });
  // IPv4 only; reverse-path filtering off (the delay line's packets come back in on `dly`, not where their source is).
  await ns.exec("sysctl", [
    "-q",
    "-w",
    "net.ipv6.conf.all.disable_ipv6=1",
    "net.ipv6.conf.default.disable_ipv6=1",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
  ]);
  return ns;
}

async function veth(a, aName, b, bName) {
  await a.exec("ip", ["link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.name]);
  await a.exec("ip", ["link", "set", aName, "up"]);
  await b.exec("ip", ["link", "set", bName, "up"]);
}

/** tbf on `dev` of `ns` at `kbit`, replacing whatever limit it had. */
async function limit(ns, dev, kbit) {
  if (!(kbit >= 8 && kbit <= 10_000_000)) throw new Error(`a rate between 8 kbit/s and 10 Gbit/s, not ${kbit}`);
  // The bucket holds 20 ms at the rate, at least 8 KiB (a few full packets, as the kernel needs at HZ 250).
  const burstBytes = Math.max(8 * 1024, Math.round((kbit * 1000 * 0.02) / 8));
  await ns.exec("tc", ["qdisc", "replace", "dev", dev, "root", "tbf", "rate", `${kbit}kbit`, "burst", String(burstBytes), "latency", `${TBF_LATENCY_MS}ms`]);
}

async function unlimit(ns, dev) {
  const { stdout } = await ns.exec("tc", ["qdisc", "show", "dev", dev]);
  if (stdout.includes("qdisc tbf")) await ns.exec("tc", ["qdisc", "del", "dev", dev, "root"]);
}

/**
 * One person's site: a router between the bridge and a LAN holding their host namespace. Returns the site with its
 * link controls (all may be called mid-test, in any order):
 *   limitDownlink(kbit) / limitUplink(kbit), unlimitDownlink() / unlimitUplink(),
 *   delay(ms, { both }) (downlink only unless both), undelay(), qdiscs() (what tc shows, for failure messages).
 */
async function createSite(teardown, core, index, name) {
  const router = await namespace(teardown, `rtr${index}`);
  const host = await namespace(teardown, `host${index}`);
  const wanAddress = `10.88.0.${10 + index}`;
  const lanPrefix = `10.89.${index}`;
  const address = `${lanPrefix}.2`;

  await veth(core, `p${index}`, router, "wan");
  await core.exec("ip", ["link", "set", `p${index}`, "master", "br0"]);
  await router.exec("ip", ["addr", "add", `${wanAddress}/24`, "dev", "wan"]);
  await router.exec("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
  await veth(router, "lan", host, "eth0");
  await router.exec("ip", ["addr", "add", `${lanPrefix}.1/24`, "dev", "lan"]);
  await router.exec("ip", ["route", "add", "default", "via", CORE_ADDRESS]);
  await host.exec("ip", ["addr", "add", `${address}/24`, "dev", "eth0"]);
  await host.exec("ip", ["route", "add", "default", "via", `${lanPrefix}.1`]);
  await core.exec("ip", ["route", "add", `${lanPrefix}.0/24`, "via", wanAddress]);

  // The delay line's device, persistent so that routes and rules can name it; packets it writes back go the normal way.
  await router.exec("ip", ["tuntap", "add", "dev", "dly", "mode", "tun"]);
  await router.exec("sysctl", ["-q", "-w", "net.ipv4.conf.dly.rp_filter=0"]);
  await router.exec("ip", ["link", "set", "dly", "up"]);
  await router.exec("ip", ["rule", "add", "pref", "90", "iif", "dly", "lookup", "main"]);

  let delayLine = null;
  const site = {
    name,
    index,
    router,
    host,
    address,
    wanAddress,
    delayMs: 0,
    limitDownlink: (kbit) => limit(router, "lan", kbit),
    limitUplink: (kbit) => limit(router, "wan", kbit),
    unlimitDownlink: () => unlimit(router, "lan"),
    unlimitUplink: () => unlimit(router, "wan"),
    async qdiscs() {
      const show = async (dev) => (await router.exec("tc", ["-s", "qdisc", "show", "dev", dev])).stdout.trim();
      return `lan: ${await show("lan")} | wan: ${await show("wan")}`;
    },
    /** Holds each packet to this person (with both, also from them) `ms` before passing it on. */
    async delay(ms, { both = false } = {}) {
      await site.undelay();
      const handle = startProcessInNamespace(router, teardown, {
        name: `delay-line-${name}-${ms}ms`,
        command: python3,
        args: [delayLineScript, "dly", String(ms), String(DELAY_QUEUE_PACKETS), String(DELAY_QUEUE_BYTES)],
        logDir: runArtifactsDir(),
      });
      await waitFor(
        `the delay line of ${name} to attach to its TUN device`,
        () => {
          if (!handle.isRunning()) throw new Error(`the delay line exited: ${handle.output()}`);
          return handle.output().includes("ready");
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      delayLine = handle;
      await router.exec("ip", ["route", "replace", "default", "dev", "dly", "table", "100"]);
      await router.exec("ip", ["rule", "add", "pref", "100", "iif", "wan", "lookup", "100"]);
      if (both) await router.exec("ip", ["rule", "add", "pref", "101", "iif", "lan", "lookup", "100"]);
      site.delayMs = ms;
    },
    /** Stops delaying; resolves with the delay line's counters ("received=… forwarded=… dropped_full=…"), or null. */
    async undelay() {
      for (const pref of ["100", "101"]) await router.exec("ip", ["rule", "del", "pref", pref]).catch(() => undefined);
      await router.exec("ip", ["route", "flush", "table", "100"]).catch(() => undefined);
      site.delayMs = 0;
      if (!delayLine) return null;
      const handle = delayLine;
      delayLine = null;
      await handle.stop();
      await handle.closed;
      return handle.output().split("\n").find((line) => line.startsWith("received=")) ?? null;
    },
  };
  return site;
}

/**
 * The server's namespace (bridge br0 at CORE_ADDRESS) and one site per name in `names` (site N for the Nth name,
 * from 1). Returns { core, sites: { name: site } }.
 */
export async function createShapedNetwork(teardown, names) {
  if (names.length < 1 || names.length > 9) throw new Error("between one and nine sites");
  await removeLeftovers();
  const core = await namespace(teardown, "core");
  await core.exec("ip", ["link", "add", "br0", "type", "bridge"]);
  await core.exec("ip", ["addr", "add", `${CORE_ADDRESS}/24`, "dev", "br0"]);
  await core.exec("ip", ["link", "set", "br0", "up"]);
  const sites = {};
  for (const [i, name] of names.entries()) sites[name] = await createSite(teardown, core, i + 1, name);
  return { core, sites };
}

// ------------------------------------------------------------------------------------------------------------
// The noisy camera

/**
 * A y4m test pattern (ffmpeg's testsrc2, with temporal noise on every frame when `noise`), made once and kept in
 * e2e/.artifacts/cache; Chromium loops it as its fake camera. Returns its path.
 */
export async function testPatternFile({ width, height, fps, seconds, noise } = NOISY_VIDEO) {
  const dir = path.join(artifactsDir, "cache");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${noise ? "noisy" : "plain"}-${width}x${height}-${fps}fps-${seconds}s.y4m`);
  const expectedBytes = width * height * 1.5 * fps * seconds;
  if (existsSync(file) && statSync(file).size >= expectedBytes) return file;
  if (!onPath("ffmpeg")) throw new Error("ffmpeg is not on PATH (apt-get install -y ffmpeg): it makes the test-pattern cameras");
  const partial = `${file}.${process.pid}.partial.y4m`;
  await execFileAsync(
    "ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error", "-nostdin", "-y"],
      ...["-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=${fps}`],
      ...(noise ? ["-vf", "noise=alls=30:allf=t+u"] : []),
      ...["-t", String(seconds), "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", partial],
    ],
    { timeout: 120_000 },
  ).catch(async (error) => {
    await rm(partial, { force: true });
    throw new Error(`ffmpeg could not make the test pattern: ${error.stderr || error.message}`);
  });
  await rename(partial, file);
  return file;
}

/** The noisy pattern (NOISY_VIDEO). */
export const noisyVideoFile = () => testPatternFile(NOISY_VIDEO);

// ------------------------------------------------------------------------------------------------------------
// The whole setup

/**
 * Server settings for the shaped network: the media server on CORE_ADDRESS, media accepted from the clients' LANs,
 * /stats on 127.0.0.1 of the core. `{ env, mediaHttpPort }`.
 */
export function shapedCallSettings() {
  const mediaHttpPort = 8081;
  return {
    mediaHttpPort,
    env: {
      PARLEY_CALLS_ENABLED: "true",
      PARLEY_MEDIA_UDP_PORT: "10000",
      PARLEY_MEDIA_HTTP_PORT: String(mediaHttpPort),
      PARLEY_MEDIA_HTTP_ENABLED: "true",
      PARLEY_MEDIA_ADDRESSES: CORE_ADDRESS,
      PARLEY_MEDIA_ALLOWED_REMOTE_NETWORKS: CLIENT_NETWORKS,
      // Every link estimated and shared out: what these scenarios are about. Set in the environment to compare (the
      // same runs with `publishers` or `off`, docs/benchmarks.md).
      PARLEY_MEDIA_BANDWIDTH_ESTIMATION: process.env.PARLEY_MEDIA_BANDWIDTH_ESTIMATION ?? "all",
    },
  };
}

/**
 * The shaped network, redis and Parley in the core, and a Chromium per person in their host namespace (`cameraFiles`:
 * name → y4m file that person's fake camera plays; the others use Chromium's built-in pattern; `browserArgs`: name →
 * more Chromium flags for that person). Returns a stack that
 * pages.mjs's meetingOfThree accepts: newUserContext() hands out the people's browsers in the order of `names`.
 * Also { core, sites, namespace (the core), baseUrl, mediaHttpPort, teardown, close() }.
 */
export async function startShapedStack({ names, cameraFiles = {}, browserArgs = {}, parleyEnv = {} }) {
  checkShapingPrerequisites();
  const teardown = new Teardown();
  try {
    const { core, sites } = await createShapedNetwork(teardown, names);
    const settings = shapedCallSettings();
    const redis = await startRedis(core, teardown);
    const parley = await startParley(core, teardown, { redisUri: redis.uri, env: { ...settings.env, ...parleyEnv } });
    const origin = `http://${CORE_ADDRESS}:${parley.port}`;
    const index = await httpGetInNamespace(sites[names[0]].host, `${origin}/`);
    if (index.status !== 200 || !index.body.includes('id="root"')) {
      throw new Error(`the server does not serve the web client to ${origin} (GET / answered ${index.status}): build the jar with the web client`);
    }
    const browsers = {};
    for (const name of names) {
      browsers[name] = await launchBrowser(sites[name].host, teardown, {
        // Each person's browser stands for a machine of their own: on this one it yields the CPU to the server and
        // the delay lines, or the server's late packets read as congestion on every link at once.
        niceness: BROWSER_NICENESS,
        args: [
          // The page comes from the core's address over plain HTTP: treated as secure (getUserMedia needs that) and
          // let through the resolver rules (replacing the harness's, Chromium keeps a flag's last value).
          `--unsafely-treat-insecure-origin-as-secure=${origin}`,
          `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE ${CORE_ADDRESS}`,
          ...(cameraFiles[name] ? [`--use-file-for-fake-video-capture=${cameraFiles[name]}`] : []),
          ...(browserArgs[name] ?? []),
        ],
      });
    }
    let next = 0;
    return {
      core,
      sites,
      namespace: core,
      redis,
      parley,
      baseUrl: origin,
      mediaHttpPort: settings.mediaHttpPort,
      teardown,
      browsers,
      newUserContext(options) {
        const name = names[next++];
        if (!name) throw new Error(`only ${names.length} people have a browser`);
        return newUserContext(browsers[name], origin, options);
      },
      close: () => teardown.close(),
    };
  } catch (error) {
    await teardown.close().catch(() => undefined);
    throw error;
  }
}

export { Teardown, repoRoot };
