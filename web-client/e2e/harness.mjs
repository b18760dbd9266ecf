// Browser end-to-end harness: real redis-server, the real Parley server and Debian's Chromium, all inside
// a throwaway network namespace that holds only `lo`, so nothing a test starts can reach or offer any
// other interface. Node stays outside and drives Chromium over Playwright's pipe.
//
// Needs root (ip netns), /usr/bin/chromium, redis-server, curl, java and the built server jar
// (signaling/target/parley-signaling.jar, from `mvn -B -q install -DskipTests` at the repo root).
//
// Everything started is registered with a Teardown and stopped in reverse order, also on failure; a
// last-resort hook kills what is left (by PID) and deletes the namespace if the process is interrupted
// (scripts/netns.mjs, shared with the interop tests).
import { existsSync, mkdirSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import {
  Teardown,
  createNamespace,
  freePort,
  namespacesOfThisProcess,
  onPath,
  removeStaleNamespaces,
  startProcessInNamespace as startInNamespace,
  waitFor,
} from "../../scripts/netns.mjs";

export { Teardown, createNamespace, freePort, namespacesOfThisProcess, removeStaleNamespaces, waitFor };

export const webClientDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = path.resolve(webClientDir, "..");
export const parleyJar = process.env.PARLEY_E2E_JAR ?? path.join(repoRoot, "signaling", "target", "parley-signaling.jar");
export const chromiumExecutable = process.env.PARLEY_E2E_CHROMIUM ?? "/usr/bin/chromium";
/** Logs of every process a run starts, one folder per run (git-ignored). */
export const artifactsDir = path.join(webClientDir, "e2e", ".artifacts");

/** The flags Chromium runs with: fake media devices, loopback ICE, no traffic beyond 127.0.0.1. */
export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // 15 fps: three Chromiums encoding simulcast at 30 fps saturate two cores, and the CPU jitter that causes looks
  // like congestion to every bandwidth estimator in the call.
  "--use-fake-device-for-media-stream=fps=15",
  "--use-fake-ui-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

/** Added to Playwright's own --disable-features list (a second --disable-features flag would replace it). */
export const extraDisabledFeatures = ["WebRtcHideLocalIpsWithMdns"];

// ---------------------------------------------------------------------------------------------------
// Preconditions

/** Throws a message that says what to do when the machine cannot run the browser tests. */
export function checkPrerequisites({ needJar = true } = {}) {
  const problems = [];
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    problems.push("run as root: the tests create network namespaces with `ip netns`");
  }
  if (!existsSync(chromiumExecutable)) problems.push(`${chromiumExecutable} is missing (apt-get install -y chromium)`);
  for (const tool of ["redis-server", "redis-cli", "curl", "java", "ip", "ss"]) {
    if (!onPath(tool)) problems.push(`${tool} is not on PATH`);
  }
  if (needJar && !existsSync(parleyJar)) {
    problems.push(`${path.relative(repoRoot, parleyJar)} is missing: run \`mvn -B -q install -DskipTests\` at the repo root`);
  }
  if (problems.length > 0) throw new Error(`the browser tests cannot run here:\n- ${problems.join("\n- ")}`);
}

// ---------------------------------------------------------------------------------------------------
// Processes

/** A folder for this run's logs. */
export function runArtifactsDir() {
  const dir = path.join(artifactsDir, `run-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Starts `command args` inside the namespace, from the repo root, logging to this run's artifacts folder.
 * Returns { name, pid, exited (promise of {code, signal}), output(), stop({ timeoutMs }) }.
 */
export function startProcessInNamespace(namespace, teardown, { cwd = repoRoot, logDir = runArtifactsDir(), ...options }) {
  return startInNamespace(namespace, teardown, { cwd, logDir, ...options });
}

/** Fails fast with the process's output if it exits while we wait for it to become ready. */
async function waitUntilReady(handle, what, check, timeoutMs) {
  await waitFor(
    what,
    async () => {
      if (!handle.isRunning()) {
        throw new Error(`${handle.name} exited early; its output:\n${handle.output()}`);
      }
      return check();
    },
    { timeoutMs, intervalMs: 200 },
  ).catch((error) => {
    if (!handle.isRunning()) throw new Error(`${handle.name} exited before ${what}; its output:\n${handle.output()}`);
    throw new Error(`${error.message}\n${handle.name} output:\n${handle.output()}`);
  });
}

/** redis-server on a free port inside the namespace, without persistence. Returns the process plus {port, uri}. */
export async function startRedis(namespace, teardown, { port } = {}) {
  const redisPort = port ?? (await freePort(namespace));
  const handle = startProcessInNamespace(namespace, teardown, {
    name: `redis-${redisPort}`,
    command: "redis-server",
    args: ["--bind", "127.0.0.1", "--port", String(redisPort), "--save", "", "--appendonly", "no"],
  });
  await waitUntilReady(
    handle,
    `redis on port ${redisPort} to answer PING`,
    async () => (await namespace.exec("redis-cli", ["-p", String(redisPort), "ping"])).stdout.trim() === "PONG",
    15_000,
  );
  return { ...handle, port: redisPort, uri: `redis://127.0.0.1:${redisPort}` };
}

/** GET `url` from inside the namespace; resolves with {status, body}. */
export async function httpGetInNamespace(namespace, url) {
  const { stdout } = await namespace.exec("curl", ["-sS", "-m", "3", "-w", "\n%{http_code}", url]);
  const cut = stdout.lastIndexOf("\n");
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

/**
 * The built Parley server inside the namespace on a free (or given) port, ready once GET /healthz answers
 * 200. `env` adds to and overrides PARLEY_HTTP_PORT, PARLEY_METRICS_PORT and PARLEY_REDIS_URI. Returns the process plus
 * {port, baseUrl}.
 */
export async function startParley(namespace, teardown, { redisUri, port, env = {}, jar = parleyJar, javaOptions = [] }) {
  if (!existsSync(jar)) throw new Error(`${jar} is missing: run \`mvn -B -q install -DskipTests\` at the repo root`);
  const httpPort = port ?? (await freePort(namespace));
  const handle = startProcessInNamespace(namespace, teardown, {
    name: `parley-${httpPort}`,
    command: "java",
    args: [...javaOptions, "-jar", jar],
    env: {
      PARLEY_HTTP_PORT: String(httpPort),
      // Several servers may share a namespace: each /metrics listener on a free port.
      PARLEY_METRICS_PORT: "0",
      ...(redisUri ? { PARLEY_REDIS_URI: redisUri } : {}),
      ...env,
    },
  });
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  await waitUntilReady(
    handle,
    `${baseUrl}/healthz to answer 200`,
    async () => (await httpGetInNamespace(namespace, `${baseUrl}/healthz`)).status === 200,
    60_000,
  );
  return { ...handle, port: httpPort, baseUrl };
}

/**
 * Makes every WebSocket now open to `port` go silent without closing, as a frozen laptop or a dead
 * network would: from the next server ping on, each packet of those connections is dropped both ways, so
 * neither end sees a close. Connections opened afterwards are untouched. Needs nft (package nftables).
 * Resolves once at least one connection is silenced; restore() lets packets through again.
 */
export async function silenceOpenWebSockets(namespace, teardown, { port, timeoutMs = 30_000 }) {
  if (!onPath("nft")) throw new Error("nft is not on PATH (apt-get install -y nftables)");
  const table = `parley_e2e_silence_${port}`;
  // A WebSocket ping from the server starts with 0x89 0x08 (a final ping frame with its 8-byte random payload): it
  // adds its client's port to the set.
  await namespace.exec("nft", [
    [
      `add table inet ${table}`,
      `add set inet ${table} silenced { type inet_service ; flags dynamic ; }`,
      `add chain inet ${table} pings`,
      `add chain inet ${table} out { type filter hook output priority 0 ; policy accept ; }`,
      `add rule inet ${table} pings tcp sport ${port} @ih,0,16 0x8908 update @silenced { tcp dport } counter`,
      `add rule inet ${table} out jump pings`,
      `add rule inet ${table} out tcp sport ${port} tcp dport @silenced drop`,
      `add rule inet ${table} out tcp dport ${port} tcp sport @silenced drop`,
    ].join(" ; "),
  ]);
  const restore = async () => {
    await namespace.exec("nft", ["delete", "table", "inet", table]).catch(() => undefined);
  };
  teardown.defer(`delete nft table ${table}`, restore);
  await waitFor(
    `a WebSocket on port ${port} to be silenced`,
    async () => {
      const { stdout } = await namespace.exec("nft", ["list", "chain", "inet", table, "pings"]);
      return Number(stdout.match(/counter packets (\d+)/)?.[1] ?? 0) > 0;
    },
    { timeoutMs, intervalMs: 100 },
  );
  // Stop marking, so that connections opened from now on are left alone.
  await namespace.exec("nft", ["flush", "chain", "inet", table, "pings"]);
  return { restore };
}

// ---------------------------------------------------------------------------------------------------
// Browser

/**
 * Headless Chromium inside the namespace, launched through a wrapper script (`ip netns exec NS chromium`)
 * that also appends extraDisabledFeatures to Playwright's --disable-features list. Each user gets their
 * own context from browser.newContext(), i.e. their own cookies and storage. `niceness` (0..19) runs it at a
 * lower CPU priority than the server and the links: each browser stands for another person's machine. Chromium run
 * as root raises its own processes' priority (the browser and GPU processes to nice -8, renderers back to 0), so the
 * wrapper also drops CAP_SYS_NICE (setpriv, util-linux): without it no process can go below the niceness it started at.
 */
export async function launchBrowser(namespace, teardown, { args = [], headless = true, niceness = 0 } = {}) {
  if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) throw new Error(`niceness must be 0..19, got ${niceness}`);
  const dir = await mkdtemp(path.join(tmpdir(), "parley-chromium-"));
  teardown.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const wrapper = path.join(dir, "chromium-in-namespace");
  const features = extraDisabledFeatures.join(",");
  await writeFile(
    wrapper,
    `#!/bin/sh
# Generated by the Parley e2e harness: runs Chromium inside ${namespace.name}.
seen=
for arg in "$@"; do
  shift
  case "$arg" in
    --disable-features=*) arg="$arg,${features}"; seen=1 ;;
  esac
  set -- "$@" "$arg"
done
[ -n "$seen" ] || set -- "$@" "--disable-features=${features}"
exec ${niceness > 0 ? `setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice nice -n ${niceness} ` : ""}ip netns exec ${namespace.name} ${chromiumExecutable} "$@"
`,
  );
  await chmod(wrapper, 0o755);
  const browser = await chromium.launch({
    executablePath: wrapper,
    headless,
    args: [...chromiumArgs, ...args],
  });
  teardown.defer("close Chromium", () => browser.close());
  return browser;
}

/**
 * Collects console errors and uncaught page errors from every page of `context`. `ignore` lists patterns
 * of messages a test expects (e.g. Chromium's own line for a refused WebSocket while the server is down).
 */
export function watchConsole(context) {
  const errors = [];
  const ignored = [];
  const attach = (page) => {
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      const text = `${message.text()} (${message.location().url || page.url()})`;
      (ignored.some((pattern) => pattern.test(text)) ? [] : errors).push(text);
    });
    page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  };
  context.pages().forEach(attach);
  context.on("page", attach);
  return {
    errors,
    /** Messages matching `pattern` from now on are not errors. */
    ignore: (pattern) => ignored.push(pattern),
  };
}

/** A fresh browser context (one user) with its console watched and relative URLs resolved against baseUrl. */
export async function newUserContext(browser, baseUrl, options = {}) {
  const context = await browser.newContext({ baseURL: baseUrl, ...options });
  const consoleWatch = watchConsole(context);
  const page = await context.newPage();
  return { context, page, console: consoleWatch };
}

// ---------------------------------------------------------------------------------------------------
// Everything at once

/**
 * The usual stack for a browser test: namespace, redis, Parley (with `parleyEnv`) and Chromium.
 * Returns { namespace, redis, parley, browser, baseUrl, teardown, restartParley(), close() }.
 */
/**
 * Server settings for calls with the embedded media server on loopback only, on ports outside the range
 * freePort hands out (20000–50000); in a fresh namespace they are free. `{env, mediaUdpPort, mediaHttpPort}`.
 */
export function loopbackCallSettings() {
  const mediaUdpPort = 10_000 + Math.floor(Math.random() * 5_000);
  const mediaHttpPort = 15_000 + Math.floor(Math.random() * 5_000);
  return {
    mediaUdpPort,
    mediaHttpPort,
    env: {
      PARLEY_CALLS_ENABLED: "true",
      PARLEY_MEDIA_UDP_PORT: String(mediaUdpPort),
      PARLEY_MEDIA_HTTP_PORT: String(mediaHttpPort),
      // The tests read the embedded media server's /stats; embedded, its HTTP API is off unless enabled.
      PARLEY_MEDIA_HTTP_ENABLED: "true",
      PARLEY_MEDIA_ADDRESSES: "127.0.0.1",
      PARLEY_MEDIA_ALLOWED_REMOTE_NETWORKS: "127.0.0.0/8",
    },
  };
}

export async function startParleyStack({ parleyEnv = {}, browserArgs = [], javaOptions = [] } = {}) {
  checkPrerequisites();
  const teardown = new Teardown();
  try {
    const namespace = await createNamespace(teardown);
    const redis = await startRedis(namespace, teardown);
    let parley = await startParley(namespace, teardown, { redisUri: redis.uri, env: parleyEnv, javaOptions });
    const index = await httpGetInNamespace(namespace, `${parley.baseUrl}/`);
    if (index.status !== 200 || !index.body.includes('id="root"')) {
      throw new Error(
        `the server does not serve the web client (GET / answered ${index.status}): its jar was built without ` +
          "web-client's build; run `mvn -B -q install -DskipTests` at the repo root",
      );
    }
    const browser = await launchBrowser(namespace, teardown, { args: browserArgs });
    const stack = {
      namespace,
      redis,
      browser,
      teardown,
      baseUrl: parley.baseUrl,
      get parley() {
        return parley;
      },
      /** Stops the server (SIGTERM, a graceful shutdown) and starts it again on the same port. */
      restartParley: async () => {
        await parley.stop();
        parley = await startParley(namespace, teardown, { redisUri: redis.uri, port: parley.port, env: parleyEnv, javaOptions });
        return parley;
      },
      newUserContext: (options) => newUserContext(browser, parley.baseUrl, options),
      close: () => teardown.close(),
    };
    return stack;
  } catch (error) {
    await teardown.close().catch(() => undefined);
    throw error;
  }
}
