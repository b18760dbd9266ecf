// Issue 3 in the browser: headless Chromium publishes its fake camera and microphone to the media server
// over WHIP (VP8, then H.264), and a second page plays that publication over WHEP; then two participant pages
// see each other through publish and subscribe transports (the flow the gateway relays); a viewer plays a room by its
// stream and restarts ICE over PATCH. Everything runs inside
// a throwaway network namespace holding only `lo`; Node drives Chromium from outside over Playwright's pipe.
//
// Needs root, /usr/bin/chromium, java, curl, ip, and the media server built with its dependencies
// (`mvn -B -q -pl media-server package` at the repo root: target/parley-media-server-*.jar and target/lib/).
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  Teardown,
  chromiumExecutable,
  createNamespace,
  freePort,
  httpGetInNamespace,
  launchBrowser,
  repoRoot,
  startProcessInNamespace,
  waitFor,
  watchConsole,
} from "./harness.mjs";

const mediaTarget = path.join(repoRoot, "media-server", "target");

function mediaServerClasspath() {
  const jar = existsSync(mediaTarget)
    ? readdirSync(mediaTarget).find((name) => /^parley-media-server-.*\.jar$/.test(name) && !name.includes("sources"))
    : undefined;
  if (!jar || !existsSync(path.join(mediaTarget, "lib"))) {
    throw new Error("the media server is not built: run `mvn -B -q -pl media-server package` at the repo root");
  }
  return `${path.join(mediaTarget, jar)}:${path.join(mediaTarget, "lib", "*")}`;
}

function checkMachine() {
  const problems = [];
  if (typeof process.getuid === "function" && process.getuid() !== 0) problems.push("run as root (ip netns)");
  if (!existsSync(chromiumExecutable)) problems.push(`${chromiumExecutable} is missing`);
  if (problems.length > 0) throw new Error(`the browser tests cannot run here:\n- ${problems.join("\n- ")}`);
}

// The publishing page: camera and microphone out over WHIP, with complete (non-trickle) ICE.
const publishPage = `<!doctype html><meta charset="utf-8"><title>WHIP publish</title>
<script>
async function gathered(pc) {
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => pc.addEventListener("icegatheringstatechange",
    () => pc.iceGatheringState === "complete" && resolve()));
}
window.publish = async (url, videoCodec) => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  window.pc = pc;
  for (const track of stream.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    if (videoCodec && track.kind === "video") {
      const codecs = RTCRtpSender.getCapabilities("video").codecs;
      transceiver.setCodecPreferences([
        ...codecs.filter((c) => c.mimeType === "video/" + videoCodec),
        ...codecs.filter((c) => c.mimeType === "video/rtx"),
      ]);
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp" },
    body: pc.localDescription.sdp });
  if (response.status !== 201) throw new Error("WHIP answered " + response.status + ": " + await response.text());
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  return response.headers.get("Location");
};
</script>`;

// The playing page: receive-only audio and video over WHEP.
const playPage = `<!doctype html><meta charset="utf-8"><title>WHEP play</title>
<video id="v" autoplay muted playsinline></video>
<script>
async function gathered(pc) {
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => pc.addEventListener("icegatheringstatechange",
    () => pc.iceGatheringState === "complete" && resolve()));
}
window.play = async (url) => {
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  window.pc = pc;
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.ontrack = (event) => { document.getElementById("v").srcObject = event.streams[0] ?? new MediaStream([event.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp" },
    body: pc.localDescription.sdp });
  if (response.status !== 201) throw new Error("WHEP answered " + response.status + ": " + await response.text());
  const answer = await response.text();
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  window.session = { location: response.headers.get("Location"), etag: response.headers.get("ETag"), answer };
  return window.session.location;
};
// ICE restart as RFC 9725 describes it: new local credentials offered in a PATCH with If-Match: *, the server's new
// credentials applied to the answer already held (nothing else is renegotiated).
window.restartIce = async () => {
  const pc = window.pc;
  pc.restartIce();
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const sdp = pc.localDescription.sdp;
  const lines = sdp.split("\\r\\n");
  const firstMedia = lines.findIndex((line) => line.startsWith("m="));
  const section = lines.slice(firstMedia, lines.findIndex((line, i) => i > firstMedia && line.startsWith("m=")));
  const pick = (prefix) => section.filter((line) => line.startsWith(prefix));
  const fragment = ["a=group:BUNDLE 0 1", section[0], ...pick("a=mid:"), ...pick("a=ice-ufrag:"),
    ...pick("a=ice-pwd:"), ...pick("a=candidate:"), "a=end-of-candidates", ""].join("\\r\\n");
  const response = await fetch(window.session.location, { method: "PATCH",
    headers: { "Content-Type": "application/trickle-ice-sdpfrag", "If-Match": "*" }, body: fragment });
  if (response.status !== 200) throw new Error("PATCH answered " + response.status + ": " + await response.text());
  const answerFragment = await response.text();
  const ufrag = answerFragment.match(/a=ice-ufrag:(\\S+)/)[1];
  const pwd = answerFragment.match(/a=ice-pwd:(\\S+)/)[1];
  const answer = window.session.answer.replace(/a=ice-ufrag:\\S+/g, "a=ice-ufrag:" + ufrag)
    .replace(/a=ice-pwd:\\S+/g, "a=ice-pwd:" + pwd);
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  const etag = response.headers.get("ETag");
  const previousEtag = window.session.etag;
  window.session = { location: window.session.location, etag, answer };
  return { previousEtag, etag, ufrag, localUfrag: pick("a=ice-ufrag:")[0].slice("a=ice-ufrag:".length) };
};
// The candidate pair the transport uses: after a restart it is a pair of the new generation (new local
// candidates), selected only once the server has answered checks carrying its new credentials.
window.selectedPair = async () => {
  const stats = await window.pc.getStats();
  let result;
  stats.forEach((report) => {
    if (report.type === "transport" && report.selectedCandidatePairId) {
      const pair = stats.get(report.selectedCandidatePairId);
      result = { id: pair.id, state: pair.state, responsesReceived: pair.responsesReceived,
        ufrag: report.iceLocalUsernameFragment, iceState: report.iceState };
    }
  });
  return result;
};
window.inbound = async () => {
  const result = {};
  const stats = await window.pc.getStats();
  stats.forEach((report) => {
    if (report.type === "inbound-rtp") {
      result[report.kind] = { packetsReceived: report.packetsReceived, framesDecoded: report.framesDecoded ?? 0,
        codec: stats.get(report.codecId)?.mimeType };
    }
  });
  return result;
};
</script>`;

// A participant page: publishes over the control API (it offers) and subscribes with the server's offer.
const participantPage = `<!doctype html><meta charset="utf-8"><title>participant</title>
<script>
async function gathered(pc) {
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => pc.addEventListener("icegatheringstatechange",
    () => pc.iceGatheringState === "complete" && resolve()));
}
async function api(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status >= 300) throw new Error(path + " answered " + response.status + ": " + await response.text());
  return response.status === 204 ? undefined : response.json();
}
window.join = async (conference, endpoint, create) => {
  if (create) await api("/v1/conferences", { id: conference });
  await api("/v1/conferences/" + conference + "/endpoints", { id: endpoint });
  const base = "/v1/conferences/" + conference + "/endpoints/" + endpoint;
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
  const publish = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  for (const track of stream.getTracks()) publish.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  await publish.setLocalDescription(await publish.createOffer());
  await gathered(publish);
  const answer = await api(base + "/publish", { type: "offer", sdp: publish.localDescription.sdp });
  await publish.setRemoteDescription(answer);
  window.publishPc = publish;
  window.subscribePc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  window.base = base;
};
// Takes the server's latest subscribe offer, if any, and answers it.
window.renegotiate = async () => {
  const offer = await api(window.base + "/subscribe/offer");
  if (!offer) return false;
  const pc = window.subscribePc;
  await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  await api(window.base + "/subscribe/answer", { type: "answer", sdp: pc.localDescription.sdp });
  return true;
};
window.inbound = async () => {
  const result = {};
  (await window.subscribePc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp") {
      result[report.kind] = { packetsReceived: report.packetsReceived, framesDecoded: report.framesDecoded ?? 0 };
    }
  });
  return result;
};
</script>`;

describe("WHIP publish and WHEP play between two Chromium pages through the media server", () => {
  const teardown = new Teardown();
  let namespace;
  let baseUrl;
  let browser;
  let media;

  before(async () => {
    checkMachine();
    const classpath = mediaServerClasspath();
    namespace = await createNamespace(teardown);
    const httpPort = await freePort(namespace);
    const udpPort = await freePort(namespace);
    media = startProcessInNamespace(namespace, teardown, {
      name: `media-server-${httpPort}`,
      command: "java",
      args: ["-cp", classpath, "dev.parley.media.MediaServerMain"],
      env: {
        PARLEY_MEDIA_HTTP_PORT: String(httpPort),
        PARLEY_MEDIA_UDP_PORT: String(udpPort),
        PARLEY_MEDIA_ADDRESSES: "127.0.0.1",
        PARLEY_MEDIA_ALLOWED_REMOTE_NETWORKS: "127.0.0.0/8",
      },
    });
    baseUrl = `http://127.0.0.1:${httpPort}`;
    await waitFor(`${baseUrl}/healthz`, async () => {
      if (!media.isRunning()) throw new Error(`media server exited:\n${media.output()}`);
      return (await httpGetInNamespace(namespace, `${baseUrl}/healthz`)).status === 200;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    browser = await launchBrowser(namespace, teardown);
  });

  after(async () => {
    await teardown.close();
  });

  async function publishAndPlay(room, videoCodec) {
    const publisherContext = await browser.newContext();
    const viewerContext = await browser.newContext();
    const publisherConsole = watchConsole(publisherContext);
    const viewerConsole = watchConsole(viewerContext);
    // The pages are served by the test through Playwright's routing, with the media server's origin, so their
    // fetches to /whip and /whep go to the real server inside the namespace.
    await publisherContext.route(`${baseUrl}/test/publish.html`, (route) =>
      route.fulfill({ contentType: "text/html", body: publishPage }));
    await viewerContext.route(`${baseUrl}/test/play.html`, (route) =>
      route.fulfill({ contentType: "text/html", body: playPage }));
    const publisher = await publisherContext.newPage();
    const viewer = await viewerContext.newPage();
    await publisher.goto(`${baseUrl}/test/publish.html`);
    await viewer.goto(`${baseUrl}/test/play.html`);

    const whipLocation = await publisher.evaluate(
      ([url, codec]) => window.publish(url, codec),
      [`/whip/${room}`, videoCodec],
    );
    assert.match(whipLocation, new RegExp(`^/whip/${room}/[A-Za-z0-9]+$`));
    const resource = whipLocation.split("/").pop();
    const whepLocation = await viewer.evaluate((url) => window.play(url), `/whep/${room}/${resource}`);
    assert.ok(whepLocation.startsWith(`/whep/${room}/`));

    const stats = await waitFor(
      "decoded video frames and received audio packets",
      async () => {
        const inbound = await viewer.evaluate(() => window.inbound());
        return inbound.video?.framesDecoded > 0 && inbound.audio?.packetsReceived > 0 ? inbound : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.ok(stats.video.framesDecoded > 0);
    assert.ok(stats.audio.packetsReceived > 0);

    // The viewer's receiver reports on the forwarded sender reports give the server its round-trip time. Its WHEP
    // resource id is not its endpoint id: it is the room's one endpoint that subscribes.
    const serverStats = await waitFor(
      "the server to know the viewer's RTT",
      async () => {
        const stats = JSON.parse((await httpGetInNamespace(namespace, `${baseUrl}/stats`)).body);
        const viewerStats = stats.endpointStats.find(
          (endpoint) => endpoint.conferenceId === room && endpoint.subscribeConnected);
        return viewerStats?.rttMs !== null && viewerStats?.rttMs !== undefined ? stats : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    assert.equal(serverStats.drops.srtp_auth_fail, 0, "no SRTP authentication failures");
    assert.ok(serverStats.packetsOut > 0);
    const ended = await publisher.evaluate(async (url) => (await fetch(url, { method: "DELETE" })).status, whipLocation);
    assert.equal(ended, 200);
    assert.deepEqual(publisherConsole.errors, []);
    assert.deepEqual(viewerConsole.errors, []);
    await publisherContext.close();
    await viewerContext.close();
    return stats;
  }

  it("decodes the published video and receives its audio", async () => {
    const stats = await publishAndPlay("e2e-room");
    assert.equal(stats.video.codec, "video/VP8");
  });

  it("forwards H.264 when the publisher sends it", async () => {
    const stats = await publishAndPlay("e2e-h264", "H264");
    assert.equal(stats.video.codec, "video/H264");
  });

  it("plays the room by its stream, and by the stream's name, and keeps playing through an ICE restart over PATCH",
    async () => {
      const publisherContext = await browser.newContext();
      const viewerContext = await browser.newContext();
      const viewerConsole = watchConsole(viewerContext);
      await publisherContext.route(`${baseUrl}/test/publish.html`, (route) =>
        route.fulfill({ contentType: "text/html", body: publishPage }));
      await viewerContext.route(`${baseUrl}/test/play.html`, (route) =>
        route.fulfill({ contentType: "text/html", body: playPage }));
      const publisher = await publisherContext.newPage();
      await publisher.goto(`${baseUrl}/test/publish.html`);
      const whipLocation = await publisher.evaluate((url) => window.publish(url), "/whip/e2e-stream?stream=main");

      const decodedFrames = async (page) => (await page.evaluate(() => window.inbound())).video?.framesDecoded ?? 0;
      const viewers = [];
      for (const url of ["/whep/e2e-stream", "/whep/e2e-stream/main"]) {
        const viewer = await viewerContext.newPage();
        await viewer.goto(`${baseUrl}/test/play.html`);
        await viewer.evaluate((whep) => window.play(whep), url);
        await waitFor(`${url} to decode video`, async () => (await decodedFrames(viewer)) > 0,
          { timeoutMs: 30_000, intervalMs: 250 });
        viewers.push(viewer);
      }

      const viewer = viewers[0];
      const initialPair = await viewer.evaluate(() => window.selectedPair());
      const restart = await viewer.evaluate(() => window.restartIce());
      assert.notEqual(restart.etag, restart.previousEtag, "a restart changes the entity tag");
      assert.equal(restart.etag, `"${restart.ufrag}"`);
      assert.notEqual(initialPair.ufrag, restart.localUfrag);
      await waitFor("the browser to select a pair of the restarted ICE session", async () => {
        const pair = await viewer.evaluate(() => window.selectedPair());
        return pair && pair.id !== initialPair.id && pair.state === "succeeded" && pair.responsesReceived > 0
          && pair.ufrag === restart.localUfrag && pair.iceState === "connected";
      }, { timeoutMs: 20_000, intervalMs: 250 });
      const before = await decodedFrames(viewer);
      await waitFor("video to keep decoding after the restart", async () => (await decodedFrames(viewer)) > before + 30,
        { timeoutMs: 20_000, intervalMs: 250 });
      const stats = JSON.parse((await httpGetInNamespace(namespace, `${baseUrl}/stats`)).body);
      assert.equal(stats.drops.srtp_auth_fail, 0);
      assert.equal(await publisher.evaluate(async (url) => (await fetch(url, { method: "DELETE" })).status,
        whipLocation), 200);
      assert.deepEqual(viewerConsole.errors, []);
      await publisherContext.close();
      await viewerContext.close();
    });

  it("two participants see and hear each other through publish and subscribe transports", async () => {
    const pages = [];
    for (const name of ["alice", "bob"]) {
      const context = await browser.newContext();
      const consoleWatch = watchConsole(context);
      await context.route(`${baseUrl}/test/participant.html`, (route) =>
        route.fulfill({ contentType: "text/html", body: participantPage }));
      const page = await context.newPage();
      await page.goto(`${baseUrl}/test/participant.html`);
      await page.evaluate(([who, create]) => window.join("e2e-call", who, create), [name, pages.length === 0]);
      pages.push({ name, context, page, console: consoleWatch });
    }
    // Each subscribes with the server's offer; alice's first offer may predate bob's tracks, so ask again.
    for (const { page } of pages) await page.evaluate(() => window.renegotiate());
    await pages[0].page.evaluate(() => window.renegotiate());
    for (const { name, page } of pages) {
      await waitFor(
        `${name} to decode the other's video and receive their audio`,
        async () => {
          const inbound = await page.evaluate(() => window.inbound());
          return inbound.video?.framesDecoded > 0 && inbound.audio?.packetsReceived > 0;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    }
    for (const { context, console: consoleWatch } of pages) {
      assert.deepEqual(consoleWatch.errors, []);
      await context.close();
    }
  });
});
