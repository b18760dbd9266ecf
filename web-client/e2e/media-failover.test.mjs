// A call whose media node dies recovers without a reload: real Chromium, a gateway without media of its own, two
// standalone media nodes (scripts/media-node's MediaNodeMain) and real redis-server, all inside a namespace holding
// only `lo`. Two people see and hear each other through one node; it is killed with kill -9; both pages show
// "Reconnecting the call…", join again by themselves on the other node and decode each other's video again, in the
// same page (no reload), and the meeting's chat goes on.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort, httpGetInNamespace, parleyJar, startParleyStack, startProcessInNamespace, waitFor } from "./harness.mjs";
import {
  addMember,
  assertNoConsoleErrors,
  createMeeting,
  describeCall,
  joinCall,
  openMeeting,
  recordCallSignaling,
  recordPeerConnections,
  rtpOf,
  signUp,
} from "./pages.mjs";

const secret = "an-e2e-media-secret-of-at-least-thirty-two-bytes";
const loopbackMedia = {
  PARLEY_MEDIA_AUTH_SECRET: secret,
  PARLEY_MEDIA_ADDRESSES: "127.0.0.1",
  PARLEY_MEDIA_ALLOWED_REMOTE_NETWORKS: "127.0.0.0/8",
};

/** Video frames decoded and audio packets received over the page's open peer connections. */
async function received(page) {
  const rows = (await rtpOf(page)).filter((r) => r.direction !== "out");
  return {
    frames: rows.filter((r) => r.kind === "video").reduce((sum, r) => sum + r.framesDecoded, 0),
    audio: rows.filter((r) => r.kind === "audio").reduce((sum, r) => sum + r.packetsReceived, 0),
  };
}

/** Starts a media node in the namespace on free ports; resolves once it has registered. */
async function startNode(stack, id) {
  const httpPort = await freePort(stack.namespace);
  // UDP ports below freePort's range (20000–50000) are free in a fresh namespace.
  const udpPort = 10_000 + Math.floor(Math.random() * 8_000);
  const handle = startProcessInNamespace(stack.namespace, stack.teardown, {
    name: `media-node-${id}`,
    command: "java",
    args: ["-Xmx256m", "-cp", parleyJar, "dev.parley.signaling.medianode.MediaNodeMain"],
    env: {
      ...loopbackMedia,
      PARLEY_REDIS_URI: stack.redis.uri,
      PARLEY_MEDIA_NODE_ID: id,
      PARLEY_MEDIA_UDP_PORT: String(udpPort),
      PARLEY_MEDIA_HTTP_PORT: String(httpPort),
    },
  });
  await waitFor(`media node ${id} to register`, async () => {
    if (!handle.isRunning()) throw new Error(`media node ${id} exited: ${handle.output()}`);
    return handle.output().includes("Parley media node");
  }, { timeoutMs: 60_000, intervalMs: 200 });
  return { id, handle, httpPort };
}

/** How many endpoints the node holds, from its /metrics (no token needed there). */
async function endpointsOn(stack, node) {
  const { status, body } = await httpGetInNamespace(stack.namespace, `http://127.0.0.1:${node.httpPort}/metrics`);
  if (status !== 200) return -1;
  return Number(body.match(/^parley_media_endpoints (\d+)/m)?.[1] ?? -1);
}

describe("media node failover", () => {
  let stack;
  const nodes = [];

  before(async () => {
    stack = await startParleyStack({
      parleyEnv: {
        ...loopbackMedia,
        PARLEY_CALLS_ENABLED: "true",
        PARLEY_CALLS_EMBEDDED_MEDIA: "false",
        PARLEY_MEDIA_UDP_PORT: "0",
        PARLEY_MEDIA_HTTP_PORT: "0",
      },
    });
    nodes.push(await startNode(stack, "node-a"), await startNode(stack, "node-b"));
  });

  after(async () => {
    await stack?.close();
  });

  it("a call whose media node is killed moves to the other node and its people see each other again, without a reload", async () => {
    const ana = await stack.newUserContext();
    const bruno = await stack.newUserContext();
    for (const user of [ana, bruno]) {
      await recordPeerConnections(user.context);
      recordCallSignaling(user);
      // The call.moved messages the page receives, whole.
      user.moved = [];
      user.page.on("websocket", (socket) => socket.on("framereceived", ({ payload }) => {
        if (typeof payload === "string" && payload.includes('"call.moved"')) user.moved.push(JSON.parse(payload));
      }));
    }
    await signUp(ana, "Ana Lima", "ana");
    await signUp(bruno, "Bruno Costa", "bruno");
    await createMeeting(ana.page, "Failover");
    await addMember(ana.page, "bruno");
    await openMeeting(bruno.page, "Failover");
    await joinCall(ana.page);
    await joinCall(bruno.page);

    const seesTheOther = async (label) => {
      for (const [name, user] of [["Ana", ana], ["Bruno", bruno]]) {
        const start = await received(user.page);
        await waitFor(`${name} to decode video and receive audio ${label}`, async () => {
          const now = await received(user.page);
          return now.frames > start.frames + 10 && now.audio > start.audio + 10;
        }, { timeoutMs: 30_000, intervalMs: 250 }).catch(async (error) => {
          throw new Error(`${error.message}; ${await describeCall(user, name)}`);
        });
      }
    };
    await seesTheOther("through the first node");

    const hosting = [];
    for (const node of nodes) if ((await endpointsOn(stack, node)) > 0) hosting.push(node);
    assert.equal(hosting.length, 1, "the call is on one node");
    const [dead] = hosting;
    const other = nodes.find((n) => n !== dead);
    for (const user of [ana, bruno]) {
      await user.page.evaluate(() => {
        window.__samePage = true;
        // Notes whether the call stage ever says it is reconnecting the call, however briefly.
        window.__sawMoving = false;
        new MutationObserver(() => {
          if (document.querySelector(".call-stage")?.textContent?.includes("Reconnecting the call…")) window.__sawMoving = true;
        }).observe(document.body, { childList: true, subtree: true, characterData: true });
      });
    }

    const killedAt = Date.now();
    process.kill(dead.handle.pid, "SIGKILL");
    // Each page says it is reconnecting the call (or is already past it), then media flows again.
    await seesTheOther("again, through the node that is left");
    const recoveredMs = Date.now() - killedAt;
    console.log(`media node failover: both see each other again ${recoveredMs} ms after the kill`);
    assert.ok((await endpointsOn(stack, other)) >= 2, "both are on the node that is left");
    for (const user of [ana, bruno]) {
      assert.equal(await user.page.evaluate(() => window.__samePage === true), true, "no reload");
      assert.equal(await user.page.evaluate(() => window.__sawMoving), true, 'the page said "Reconnecting the call…"');
      await user.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 10_000 });
      assert.equal(user.moved.length, 1, `told once: ${JSON.stringify(user.moved)}`);
      assert.equal(user.moved[0].reason, "media-server-lost");
    }

    // The chat goes on, and records no end or second start of the call.
    const box = ana.page.getByLabel("Message", { exact: true });
    await box.fill("still here");
    await box.press("Enter");
    await bruno.page.locator(".messages .message:not([data-pending]) .message-text", { hasText: "still here" }).waitFor();
    assert.equal(await bruno.page.locator(".messages .message-text", { hasText: "The call ended" }).count(), 0);
    assertNoConsoleErrors(ana, bruno);
  });
});
