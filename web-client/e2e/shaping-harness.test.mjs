// The shaped links of e2e/shaping.mjs do what they claim, measured with curl against a small HTTP server in the
// server's namespace (no browser): the delay line adds its delay to TCP's connect time, tbf caps the download and
// upload rates near the configured rates, taking the limits off restores full speed, a changed limit
// takes hold for the next transfer, and the teardown leaves no namespace behind. Needs root, iproute2 (ip, tc), python3 and curl; without
// them the test fails and says what to install.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Teardown, runArtifactsDir, startProcessInNamespace, waitFor } from "./harness.mjs";
import { CORE_ADDRESS, checkShapingPrerequisites, createShapedNetwork, namespacesOfThisRun, python3 } from "./shaping.mjs";

const HTTP_PORT = 8090;
const origin = `http://${CORE_ADDRESS}:${HTTP_PORT}`;

/** GET /bytes/N answers N bytes; a POST's body is read and its length answered. */
const httpServer = `
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_GET(self):
        n = min(int(self.path.rsplit("/", 1)[-1]), 50_000_000)
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        chunk = bytes(65536)
        while n > 0:
            self.wfile.write(chunk[: min(n, 65536)])
            n -= 65536
    def do_POST(self):
        left = min(int(self.headers.get("Content-Length", "0")), 50_000_000)
        while left > 0:
            got = self.rfile.read(min(left, 65536))
            if not got: break
            left -= len(got)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
print("listening", flush=True)
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
`;

/** curl from `site`'s host: { connectMs, totalMs, downKbit, upKbit }. */
async function curl(site, args) {
  const { stdout } = await site.host.exec(
    "curl",
    ["-sS", "-o", "/dev/null", "-m", "30", "-w", "%{time_connect} %{time_total} %{speed_download} %{speed_upload}", ...args],
    { timeout: 40_000 },
  );
  const [connect, total, down, up] = stdout.trim().split(" ").map(Number);
  return { connectMs: connect * 1000, totalMs: total * 1000, downKbit: (down * 8) / 1000, upKbit: (up * 8) / 1000 };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function connectMs(site) {
  const times = [];
  for (let i = 0; i < 5; i++) times.push((await curl(site, [`${origin}/bytes/1`])).connectMs);
  return median(times);
}

const download = (site, bytes) => curl(site, [`${origin}/bytes/${bytes}`]);
/** Uploads `bytes` zero bytes from `site`'s host (from a file made once per size in `dir`). */
async function upload(site, dir, bytes) {
  const file = path.join(dir, `upload-${bytes}`);
  if (!existsSync(file)) await writeFile(file, Buffer.alloc(bytes));
  return curl(site, ["-X", "POST", "-H", "Content-Type: application/octet-stream", "--data-binary", `@${file}`, `${origin}/upload`]);
}

describe("shaped links between namespaces", () => {
  let teardown;
  let network;
  let dir;

  before(async () => {
    checkShapingPrerequisites({ needBrowser: false });
    teardown = new Teardown();
    dir = await mkdtemp(path.join(tmpdir(), "parley-shape-"));
    teardown.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
    network = await createShapedNetwork(teardown, ["one", "two"]);
    const server = startProcessInNamespace(network.core, teardown, {
      name: "http-server",
      command: python3,
      args: ["-c", httpServer, CORE_ADDRESS, String(HTTP_PORT)],
      logDir: runArtifactsDir(),
    });
    await waitFor("the HTTP server to listen", () => server.output().includes("listening") && server.isRunning(), { timeoutMs: 10_000 });
  });

  after(async () => {
    await teardown?.close();
  });

  it("adds the delay line's delay, caps rates with tbf, and restores them when the limits come off", async () => {
    const { one, two } = network.sites;

    // Baseline: loopback-fast.
    const baseConnect = await connectMs(one);
    const baseDown = await download(one, 20_000_000);
    console.log(`unshaped: TCP connect ${baseConnect.toFixed(2)} ms, download ${Math.round(baseDown.downKbit)} kbit/s`);
    assert.ok(baseConnect < 20, `unshaped connect time ${baseConnect} ms`);
    assert.ok(baseDown.downKbit > 50_000, `unshaped download ${baseDown.downKbit} kbit/s`);

    // 100 ms on the downlink: the SYN-ACK waits in the delay line, so connecting takes about 100 ms more.
    await one.delay(100);
    const delayedConnect = await connectMs(one);
    const otherConnect = await connectMs(two);
    console.log(`delay line 100 ms: TCP connect ${delayedConnect.toFixed(1)} ms (the other site ${otherConnect.toFixed(2)} ms)`);
    assert.ok(delayedConnect >= 100 && delayedConnect < 160, `connect time with a 100 ms delay line: ${delayedConnect} ms`);
    assert.ok(otherConnect < 20, `the other site is not delayed: ${otherConnect} ms`);
    // Both ways: 100 ms each way, about 200 ms.
    await one.delay(100, { both: true });
    const bothConnect = await connectMs(one);
    console.log(`delay line 100 ms both ways: TCP connect ${bothConnect.toFixed(1)} ms`);
    assert.ok(bothConnect >= 200 && bothConnect < 280, `connect time with 100 ms each way: ${bothConnect} ms`);
    const counters = await one.undelay();
    console.log(`delay line counters: ${counters}`);
    assert.match(counters ?? "", /forwarded=[1-9]\d* dropped_full=0 write_errors=0/);
    const undelayedConnect = await connectMs(one);
    assert.ok(undelayedConnect < 20, `connect time once the delay line is gone: ${undelayedConnect} ms`);

    // tbf at 2 Mbit/s on the downlink: a 1 MB download takes about 4 s.
    await one.limitDownlink(2_000);
    const limitedDown = await download(one, 1_000_000);
    const otherDown = await download(two, 20_000_000);
    console.log(
      `downlink tbf 2000 kbit/s: download ${Math.round(limitedDown.downKbit)} kbit/s ` +
        `(the other site ${Math.round(otherDown.downKbit)} kbit/s)`,
    );
    assert.ok(limitedDown.downKbit > 1_700 && limitedDown.downKbit < 2_150, `download at 2000 kbit/s: ${limitedDown.downKbit} kbit/s`);
    assert.ok(otherDown.downKbit > 50_000, `the other site's download is not limited: ${otherDown.downKbit} kbit/s`);

    // Changed to 500 kbit/s: a 250 kB download takes about 4 s. With 40 ms of delay on top, the rate holds.
    await one.limitDownlink(500);
    await one.delay(40);
    const stepDown = await download(one, 250_000);
    console.log(`downlink tbf 500 kbit/s + 40 ms delay: download ${Math.round(stepDown.downKbit)} kbit/s, connect ${stepDown.connectMs.toFixed(1)} ms`);
    assert.ok(stepDown.downKbit > 400 && stepDown.downKbit < 540, `download at 500 kbit/s: ${stepDown.downKbit} kbit/s`);
    assert.ok(stepDown.connectMs >= 40, `connect time with 40 ms of delay: ${stepDown.connectMs} ms`);
    await one.undelay();

    // The uplink is limited on its own: uploads slow, downloads don't.
    await one.unlimitDownlink();
    await one.limitUplink(1_000);
    const limitedUp = await upload(one, dir, 500_000);
    const freeDown = await download(one, 20_000_000);
    console.log(`uplink tbf 1000 kbit/s: upload ${Math.round(limitedUp.upKbit)} kbit/s, download ${Math.round(freeDown.downKbit)} kbit/s`);
    assert.ok(limitedUp.upKbit > 850 && limitedUp.upKbit < 1_080, `upload at 1000 kbit/s: ${limitedUp.upKbit} kbit/s`);
    assert.ok(freeDown.downKbit > 50_000, `download with only the uplink limited: ${freeDown.downKbit} kbit/s`);

    // Limits off: full speed again.
    await one.unlimitUplink();
    const restoredDown = await download(one, 20_000_000);
    const restoredUp = await upload(one, dir, 20_000_000);
    console.log(`limits removed: download ${Math.round(restoredDown.downKbit)} kbit/s, upload ${Math.round(restoredUp.upKbit)} kbit/s`);
    assert.ok(restoredDown.downKbit > 50_000, `download once the limit is off: ${restoredDown.downKbit} kbit/s`);
    assert.ok(restoredUp.upKbit > 50_000, `upload once the limit is off: ${restoredUp.upKbit} kbit/s`);
    assert.doesNotMatch(await one.qdiscs(), /tbf/, "no tbf qdisc left");
  });

  it("leaves no namespace behind", async () => {
    assert.ok((await namespacesOfThisRun()).length >= 5, "the network's namespaces exist while it runs");
    await teardown.close();
    assert.deepEqual(await namespacesOfThisRun(), [], "namespaces left after the teardown");
  });
});
