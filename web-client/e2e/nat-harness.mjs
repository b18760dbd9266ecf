// Strict NATs, a UDP-blocking firewall and a TURN relay on one machine, for e2e/nat.test.mjs. Every address
// lives in network namespaces this file creates; nothing touches the machine's own interfaces.
//
//   core   (10.77.0.1/24 on bridge br0, the stand-in for the internet): redis, the Parley server (gateway and
//          media server, UDP 10000 on 10.77.0.1), and serves the test page (e2e/nat-page) over HTTP
//   turn   (10.77.0.3): coturn with config/turnserver.conf — TURN on 3478 (UDP/TCP) and 443 (TCP/TLS)
//   rtr-X  (WAN 10.77.0.1N on br0, LAN 10.78.N.1/24): a router; "symmetric" is a symmetric NAT (masquerade
//          random,fully-random; nothing unsolicited gets in), "udp-blocking" a firewall that lets only TCP to
//          port 443 (and the gateway's HTTP port, standing in for HTTPS) out
//   host-X (10.78.N.2, default route via the router): one Chromium
//
// Namespaces are named parley-nat-<role>-<pid>-<random>; deleting one deletes its veths, bridge and nft tables.
// The teardown deletes them all, also on failure; leftovers of a run that was killed are removed before a run.
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  chromiumExecutable,
  createNamespace,
  namespacesOfThisProcess,
  removeStaleNamespaces,
  launchBrowser,
  parleyJar,
  repoRoot,
  startParley,
  startProcessInNamespace,
  startRedis,
  waitFor,
  webClientDir,
} from "./harness.mjs";

const execFileAsync = promisify(execFile);

export const NAMESPACE_PREFIX = "parley-nat";
export const CORE_ADDRESS = "10.77.0.1";
export const TURN_ADDRESS = "10.77.0.3";
export const PUBLIC_NETWORK = "10.77.0.0/24";
export const MEDIA_UDP_PORT = 10_000;
export const TURN_TLS_PORT = 443;
export const TURN_PORT = 3478;
export const turnServerConf = path.join(repoRoot, "config", "turnserver.conf");
export const natPageDir = path.join(webClientDir, "e2e", "nat-page");

// ------------------------------------------------------------------------------------------------------------
// Preconditions and leftovers

/** Why the NAT tests cannot run on this machine, or null when they can. */
export function natTestsUnavailable() {
  const problems = [];
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    problems.push("not root: the NAT tests create network namespaces, veths and nft tables");
  }
  for (const [tool, pkg] of [
    ["ip", "iproute2"],
    ["nft", "nftables"],
    ["turnserver", "coturn"],
    ["openssl", "openssl"],
    ["redis-server", "redis-server"],
    ["redis-cli", "redis-server"],
    ["curl", "curl"],
    ["ss", "iproute2"],
    ["java", "a JDK"],
  ]) {
    if (!onPath(tool)) problems.push(`${tool} is not on PATH (install ${pkg})`);
  }
  if (!existsSync(chromiumExecutable)) problems.push(`${chromiumExecutable} is missing (apt-get install -y chromium)`);
  if (!existsSync(parleyJar)) problems.push(`${parleyJar} is missing (mvn -B -q install -DskipTests at the repo root)`);
  if (problems.length === 0 && spawnSync("ip", ["netns", "list"], { stdio: "ignore" }).status !== 0) {
    problems.push("`ip netns` does not work here");
  }
  return problems.length > 0 ? problems.join("; ") : null;
}

function onPath(tool) {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

/** Deletes namespaces (and whatever runs in them) left by an earlier run whose process is gone. */
export function removeLeftovers() {
  return removeStaleNamespaces(NAMESPACE_PREFIX, { withRole: true });
}

/** Names of this process's namespaces that still exist (the test checks it is empty after teardown). */
export function namespacesOfThisRun() {
  return namespacesOfThisProcess(NAMESPACE_PREFIX);
}

// ------------------------------------------------------------------------------------------------------------
// Topology

async function namespace(teardown, role) {
  const ns = await createNamespace(teardown, { prefix: `${NAMESPACE_PREFIX}-${role}` });
  // IPv4 only: no link-local IPv6 candidates to muddy what the tests show.
  await ns.exec("sysctl", ["-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
  return ns;
}

/** A veth pair from `a` (named aName) to `b` (named bName), both up. */
async function veth(a, aName, b, bName) {
  await a.exec("ip", ["link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.name]);
  await a.exec("ip", ["link", "set", aName, "up"]);
  await b.exec("ip", ["link", "set", bName, "up"]);
}

async function nft(ns, ruleset) {
  const dir = await mkdtemp(path.join(tmpdir(), "parley-nat-nft-"));
  try {
    const file = path.join(dir, "rules.nft");
    await writeFile(file, ruleset);
    await ns.exec("nft", ["-f", file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The "internet": a namespace with bridge br0 at 10.77.0.1/24, where the server runs. */
export async function createCore(teardown) {
  const core = await namespace(teardown, "core");
  await core.exec("ip", ["link", "add", "br0", "type", "bridge"]);
  await core.exec("ip", ["addr", "add", `${CORE_ADDRESS}/24`, "dev", "br0"]);
  await core.exec("ip", ["link", "set", "br0", "up"]);
  core.ports = 0;
  return core;
}

/** A namespace on the bridge with `address`/24 on its interface `ifName`. */
export async function attachToCore(teardown, core, role, address, ifName = "eth0") {
  const ns = await namespace(teardown, role);
  const port = `p${++core.ports}`;
  await veth(core, port, ns, ifName);
  await core.exec("ip", ["link", "set", port, "master", "br0"]);
  await ns.exec("ip", ["addr", "add", `${address}/24`, "dev", ifName]);
  return ns;
}

/**
 * A router between the bridge (WAN `wanAddress`) and a LAN 10.78.`lan`.0/24 holding one host namespace at .2.
 * kind "symmetric": symmetric NAT (a new random port for every destination; unsolicited packets dropped).
 * kind "udp-blocking": a firewall that lets out only TCP to `allowedTcpPorts` (and NATs it).
 * Returns { router, host, hostAddress, wanAddress }.
 */
export async function createSite(teardown, core, { role, wanAddress, lan, kind, allowedTcpPorts = [] }) {
  const router = await attachToCore(teardown, core, `rtr${role}`, wanAddress, "wan");
  const host = await namespace(teardown, `host${role}`);
  await veth(router, "lan", host, "eth0");
  await router.exec("ip", ["addr", "add", `10.78.${lan}.1/24`, "dev", "lan"]);
  await router.exec("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
  const hostAddress = `10.78.${lan}.2`;
  await host.exec("ip", ["addr", "add", `${hostAddress}/24`, "dev", "eth0"]);
  await host.exec("ip", ["route", "add", "default", "via", `10.78.${lan}.1`]);

  const outbound =
    kind === "symmetric"
      ? `iifname "lan" oifname "wan" accept`
      : `iifname "lan" oifname "wan" meta l4proto tcp tcp dport { ${allowedTcpPorts.join(", ")} } accept
    meta l4proto udp counter drop`;
  const masquerade = kind === "symmetric" ? "masquerade random,fully-random" : "masquerade";
  await nft(
    router,
    `table ip parley_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" ${masquerade}
  }
}
table inet parley_filter {
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    ct state established,related accept
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ${outbound}
  }
}
`,
  );
  return { router, host, hostAddress, wanAddress };
}

/** Cuts every packet in and out of `ns` (but its loopback) until the returned restore() is called. */
export async function cutNetwork(ns) {
  await nft(
    ns,
    `table inet parley_outage {
  chain input { type filter hook input priority -10; policy drop; iifname "lo" accept; }
  chain output { type filter hook output priority -10; policy drop; oifname "lo" accept; }
}
`,
  );
  return { restore: () => ns.exec("nft", ["delete", "table", "inet", "parley_outage"]) };
}

/**
 * Makes the site's router drop every UDP packet it would forward, both ways (TCP, e.g. TURN over TCP/TLS on 443,
 * still passes), until the returned restore() is called: a network that starts blocking UDP mid-call. With `to`
 * ({ address, port }), only UDP to and from that address and port.
 */
export async function blockUdp(site, { to } = {}) {
  const match = to ? `ip daddr ${to.address} udp dport ${to.port} counter drop; ip saddr ${to.address} udp sport ${to.port} counter drop;` : "meta l4proto udp counter drop;";
  await nft(
    site.router,
    `table inet parley_udp_block {
  chain forward { type filter hook forward priority -10; policy accept; ${match} }
}
`,
  );
  return { restore: () => site.router.exec("nft", ["delete", "table", "inet", "parley_udp_block"]) };
}

/**
 * Gives the site's router a new WAN address, as when a home router gets a new address or a laptop moves to another
 * network: the kernel forgets the NAT's mappings, so every flow continues from a new public address and port.
 */
export async function changeWanAddress(site, newAddress) {
  await site.router.exec("ip", ["addr", "del", `${site.wanAddress}/24`, "dev", "wan"]);
  await site.router.exec("ip", ["addr", "add", `${newAddress}/24`, "dev", "wan"]);
  site.wanAddress = newAddress;
}

// ------------------------------------------------------------------------------------------------------------
// coturn

/**
 * config/turnserver.conf as shipped, with its site-specific lines (secret, realm, certificate, the media
 * server's address, logging) replaced for this run. Returns the file's text.
 */
export function turnConfigForTest(base, { secret, certFile, keyFile, pidFile, dbFile }) {
  const overrides = {
    "static-auth-secret": secret,
    realm: "parley.test",
    cert: certFile,
    pkey: keyFile,
    "allowed-peer-ip": CORE_ADDRESS,
    "log-file": "stdout",
    "listening-ip": TURN_ADDRESS,
    "relay-ip": TURN_ADDRESS,
    pidfile: pidFile,
    userdb: dbFile,
    verbose: "",
  };
  const dropped = new Set(["syslog"]); // the test reads coturn's log from stdout
  const kept = base.split("\n").filter((line) => {
    const key = line.trim().split("=")[0];
    return !(key in overrides) && !dropped.has(key);
  });
  return [...kept, "# --- this test run", ...Object.entries(overrides).map(([k, v]) => (v === "" ? k : `${k}=${v}`)), ""].join("\n");
}

/** coturn in `ns`, listening on TURN_ADDRESS:3478 (UDP, TCP) and :443 (TLS and plain TCP). */
export async function startCoturn(ns, teardown, { secret }) {
  const dir = await mkdtemp(path.join(tmpdir(), "parley-nat-turn-"));
  teardown.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  await execFileAsync("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", `/CN=${TURN_ADDRESS}`],
  ]);
  const confFile = path.join(dir, "turnserver.conf");
  const text = turnConfigForTest(await readFile(turnServerConf, "utf8"), {
    secret,
    certFile,
    keyFile,
    pidFile: path.join(dir, "turnserver.pid"),
    dbFile: path.join(dir, "turndb"),
  });
  await writeFile(confFile, text);
  // The certificate is self-signed: browsers are told to trust exactly its key (see openNatPage).
  const { stdout: spki } = await execFileAsync("sh", [
    "-c",
    `openssl x509 -in '${certFile}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
  ]);
  const handle = startProcessInNamespace(ns, teardown, { name: "coturn", command: "turnserver", args: ["-c", confFile] });
  handle.certificateKeyHash = spki.trim();
  await waitFor(
    `coturn to listen on ${TURN_ADDRESS}:${TURN_PORT} and :${TURN_TLS_PORT}`,
    async () => {
      if (!handle.isRunning()) throw new Error(`coturn exited; its output:\n${handle.output()}`);
      const { stdout } = await ns.exec("ss", ["-Hltn"]);
      return stdout.includes(`${TURN_ADDRESS}:${TURN_PORT} `) && stdout.includes(`${TURN_ADDRESS}:${TURN_TLS_PORT} `);
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  );
  return handle;
}

// ------------------------------------------------------------------------------------------------------------
// The whole setup

/**
 * Core, coturn, redis and the Parley server (serving the NAT test page). Returns
 * { core, turn, parley, origin, turnSecret, turnUris }.
 */
export async function startPublicSide(teardown) {
  await removeLeftovers();
  const core = await createCore(teardown);
  const turn = await attachToCore(teardown, core, "turn", TURN_ADDRESS);
  const turnSecret = `test-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const coturn = await startCoturn(turn, teardown, { secret: turnSecret });
  const redis = await startRedis(core, teardown);
  const turnUris = [
    `turn:${TURN_ADDRESS}:${TURN_PORT}?transport=udp`,
    `turn:${TURN_ADDRESS}:${TURN_TLS_PORT}?transport=tcp`,
    `turns:${TURN_ADDRESS}:${TURN_TLS_PORT}?transport=tcp`,
  ];
  const parley = await startParley(core, teardown, {
    redisUri: redis.uri,
    env: {
      PARLEY_STATIC_DIR: natPageDir,
      PARLEY_CALLS_ENABLED: "true",
      PARLEY_MEDIA_UDP_PORT: String(MEDIA_UDP_PORT),
      PARLEY_MEDIA_HTTP_PORT: "8081",
      PARLEY_MEDIA_HTTP_ENABLED: "true", // the tests read /stats and /metrics of the embedded media server
      PARLEY_MEDIA_ADDRESSES: CORE_ADDRESS,
      PARLEY_MEDIA_ALLOWED_REMOTE_NETWORKS: PUBLIC_NETWORK,
      PARLEY_TURN_URIS: turnUris.join(","),
      PARLEY_TURN_SECRET: turnSecret,
    },
  });
  return { core, turn, coturn, redis, parley, origin: `http://${CORE_ADDRESS}:${parley.port}`, turnSecret, turnUris };
}

/**
 * Chromium inside `host`, treating the server's plain-HTTP origin as secure (getUserMedia needs that) and trusting
 * the TURN server's self-signed certificate by its key (`side.coturn.certificateKeyHash`) for TURN over TLS.
 */
export async function openNatPage(host, teardown, side) {
  const origin = side.origin;
  const browser = await launchBrowser(host, teardown, {
    args: [
      `--unsafely-treat-insecure-origin-as-secure=${origin}`,
      `--ignore-certificate-errors-spki-list=${side.coturn.certificateKeyHash}`,
      // Replaces the harness's rule (Chromium keeps a flag's last value): the public side (server and TURN) is
      // reachable too; TURN over TCP goes through the resolver even for an address.
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE 10.77.0.*`,
    ],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.goto(`${origin}/`, { timeout: 15_000 });
  await page.waitForFunction(() => window.natPage !== undefined, null, { timeout: 10_000 });
  return { browser, context, page, errors };
}
