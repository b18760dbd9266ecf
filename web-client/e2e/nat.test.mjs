// Calls across strict NATs and firewalls, on one machine: network namespaces (see nat-harness.mjs) put two
// Chromiums behind symmetric NATs and a third behind a firewall that lets only TCP to port 443 out; the real
// Parley server (gateway + media server) and coturn (config/turnserver.conf) sit on a "public" bridge.
//  1. The two NATed browsers cannot reach each other peer to peer, even with STUN.
//  2. In a Parley call through the media server they decode each other's video, on a direct (non-relayed) path.
//  3. The firewalled browser joins through coturn over TCP 443 (relayed to the media server over UDP), and the
//     others decode its video; then again through TURN over TLS on 443.
//  4. One NATed browser loses its network for 10 s mid-call; the call recovers without a page reload (ICE's own
//     consent checks bring it back).
//  5. Another's NAT gets a new public address during a short outage (a router's new address, a move to another
//     network): the old connections cannot recover, so the page re-joins the call by itself, still without a reload.
// Needs root, nftables, coturn, Chromium, redis and the built server jar; otherwise the tests are skipped with
// the reason. Every namespace (with its veths, bridge and nft tables) is deleted at the end, also on failure.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Teardown, httpGetInNamespace, waitFor } from "./harness.mjs";
import {
  CORE_ADDRESS,
  MEDIA_UDP_PORT,
  TURN_ADDRESS,
  TURN_PORT,
  TURN_TLS_PORT,
  changeWanAddress,
  createSite,
  cutNetwork,
  namespacesOfThisRun,
  natTestsUnavailable,
  openNatPage,
  startPublicSide,
} from "./nat-harness.mjs";

const unavailable = natTestsUnavailable();
if (unavailable) console.log(`# NAT tests skipped: ${unavailable}`);

const password = "correct horse battery";
const P2P_BOUND_MS = 20_000;
const OUTAGE_MS = 10_000;

const stats = (user) => user.page.evaluate(() => window.natPage.callStats());

/** Resolves once `user` decodes at least `frames` more video frames from `fromUserId` within ~2 s. */
async function keepsDecoding(user, fromUserId, { frames = 15, timeoutMs = 30_000, what }) {
  let last;
  await waitFor(
    what,
    async () => {
      const first = (await stats(user)).framesFrom[fromUserId] ?? 0;
      await sleep(2_000);
      last = await stats(user);
      return (last.framesFrom[fromUserId] ?? 0) - first >= frames;
    },
    { timeoutMs, intervalMs: 0 },
  ).catch((error) => {
    throw new Error(`${error.message}\nlast stats: ${JSON.stringify(last, null, 1)}`);
  });
  return last;
}

function describePath(selected) {
  return selected ? `${selected.localType}/${selected.relayProtocol ?? selected.localProtocol} → ${selected.remoteAddress}` : "none";
}

describe("calls across symmetric NATs and a UDP-blocking firewall", { skip: unavailable ?? false }, () => {
  const teardown = new Teardown();
  let side;
  let siteA;
  let siteB;
  let siteC;
  let ana;
  let bea;
  let cy;
  let meetingId;

  before(async () => {
    const started = Date.now();
    side = await startPublicSide(teardown);
    siteA = await createSite(teardown, side.core, { role: "a", wanAddress: "10.77.0.11", lan: 1, kind: "symmetric" });
    siteB = await createSite(teardown, side.core, { role: "b", wanAddress: "10.77.0.12", lan: 2, kind: "symmetric" });
    siteC = await createSite(teardown, side.core, {
      role: "c",
      wanAddress: "10.77.0.13",
      lan: 3,
      kind: "udp-blocking",
      // TURN over TCP/TLS on 443; the gateway's HTTP port stands in for the HTTPS reverse proxy on 443.
      allowedTcpPorts: [TURN_TLS_PORT, side.parley.port],
    });
    ana = await openNatPage(siteA.host, teardown, side);
    bea = await openNatPage(siteB.host, teardown, side);
    console.log(`# set-up (namespaces, coturn, redis, server, two browsers): ${Date.now() - started} ms`);
  });

  after(async () => {
    await teardown.close();
    assert.deepEqual(await namespacesOfThisRun(), [], "namespaces left behind");
  });

  it("two browsers behind symmetric NATs cannot connect to each other peer to peer", async () => {
    const started = Date.now();
    // STUN (coturn) gives each browser its NAT's address, as on the internet; with symmetric NATs that address
    // is useless to the other side, and without TURN nothing else can carry the connection.
    const iceServers = [{ urls: `stun:${TURN_ADDRESS}:${TURN_PORT}` }];
    const offer = await ana.page.evaluate((servers) => window.natPage.p2pOffer(servers), iceServers);
    const answer = await bea.page.evaluate(([servers, sdp]) => window.natPage.p2pAnswer(servers, sdp), [iceServers, offer]);
    assert.match(answer, new RegExp(`a=candidate:.* ${siteB.wanAddress.replaceAll(".", "\\.")} \\d+ typ srflx`), "B found its NAT's address");
    assert.match(offer, new RegExp(`a=candidate:.* ${siteA.wanAddress.replaceAll(".", "\\.")} \\d+ typ srflx`), "A found its NAT's address");
    await ana.page.evaluate((sdp) => window.natPage.p2pAccept(sdp), answer);

    let states;
    const deadline = Date.now() + P2P_BOUND_MS;
    for (;;) {
      states = await Promise.all([ana, bea].map((u) => u.page.evaluate(() => window.natPage.p2pState())));
      const everConnected = states.some((s) => s.history.some((h) => h === "connected" || h === "completed"));
      assert.ok(!everConnected, `peer to peer connected through symmetric NATs: ${JSON.stringify(states)}`);
      if (states.every((s) => s.iceConnectionState === "failed") || Date.now() > deadline) break;
      await sleep(500);
    }
    console.log(`# peer to peer: ${states.map((s) => s.history.join("→")).join(" | ")} after ${Date.now() - started} ms`);
    await Promise.all([ana, bea].map((u) => u.page.evaluate(() => window.natPage.p2pClose())));
  });

  it("the same two browsers call each other through the media server and decode each other's video", async () => {
    const started = Date.now();
    const a = await ana.page.evaluate((p) => window.natPage.register("ana", "Ana", p), password);
    const b = await bea.page.evaluate((p) => window.natPage.register("bea", "Bea", p), password);
    ana.userId = a.userId;
    bea.userId = b.userId;
    meetingId = await ana.page.evaluate(() => window.natPage.createMeeting("Across NATs"));
    await ana.page.evaluate((id) => window.natPage.addMember(id, "bea"), meetingId);
    // Without the TURN servers the gateway offers: the media server's own UDP port must carry them.
    for (const user of [ana, bea]) {
      await user.page.evaluate(() => window.natPage.connect());
      await user.page.evaluate((id) => window.natPage.joinCall(id, { useTurn: false }), meetingId);
    }
    const forAna = await keepsDecoding(ana, bea.userId, { what: "Ana to decode Bea's video" });
    const forBea = await keepsDecoding(bea, ana.userId, { what: "Bea to decode Ana's video" });
    console.log(`# NAT call: both decoding ${Date.now() - started} ms after sign-up`);
    for (const [name, s] of [["Ana", forAna], ["Bea", forBea]]) {
      console.log(`# ${name}: publish ${describePath(s.publisher.selected)}, subscribe ${describePath(s.subscriber.selected)}`);
      assert.ok(s.subscriber.inbound.some((r) => r.kind === "audio" && r.packetsReceived > 0), `${name} receives audio`);
      // The media server's one UDP port carries them directly: no TURN relay needed behind a symmetric NAT.
      for (const selected of [s.publisher.selected, s.subscriber.selected]) {
        assert.ok(selected, `${name} has a selected candidate pair`);
        assert.notEqual(selected.localType, "relay", `${name} connected without a relay`);
        assert.equal(selected.remoteAddress, `${CORE_ADDRESS}:${MEDIA_UDP_PORT}`);
      }
    }
    const media = JSON.parse((await httpGetInNamespace(side.core, "http://127.0.0.1:8081/stats")).body);
    assert.ok(media.packetsIn > 0 && media.packetsOut > 0, `the media server forwarded packets: ${JSON.stringify(media)}`);
  });

  it("a browser behind a firewall that drops UDP joins through coturn over TCP 443", async () => {
    const started = Date.now();
    cy = await openNatPage(siteC.host, teardown, side);
    const c = await cy.page.evaluate((p) => window.natPage.register("cyd", "Cyd", p), password);
    cy.userId = c.userId;
    await ana.page.evaluate((id) => window.natPage.addMember(id, "cyd"), meetingId);
    await cy.page.evaluate(() => window.natPage.connect());
    // The plain TURN-over-TCP URI on 443 (turn:…:443?transport=tcp); TLS follows in the next test.
    await cy.page.evaluate((id) => window.natPage.joinCall(id, { turnScheme: "turn" }), meetingId);
    await keepsDecoding(ana, cy.userId, { what: "Ana to decode Cy's video", timeoutMs: 45_000 }).catch(async (error) => {
      throw new Error(`${error.message}\nCy's stats: ${JSON.stringify(await stats(cy), null, 1)}`);
    });
    await keepsDecoding(bea, cy.userId, { what: "Bea to decode Cy's video" });
    const forCy = await keepsDecoding(cy, ana.userId, { what: "Cy to decode Ana's video" });
    console.log(`# firewalled browser: decoded both ways ${Date.now() - started} ms after opening the page`);
    console.log(`# Cy: publish ${describePath(forCy.publisher.selected)}, subscribe ${describePath(forCy.subscriber.selected)}`);
    for (const selected of [forCy.publisher.selected, forCy.subscriber.selected]) {
      assert.equal(selected?.localType, "relay", "Cy's media goes through TURN");
      assert.equal(selected.relayProtocol, "tcp", "Cy reaches TURN over TCP");
      assert.equal(selected.remoteAddress, `${CORE_ADDRESS}:${MEDIA_UDP_PORT}`, "coturn relays to the media server");
    }
    // Cy's browser did try UDP (STUN to the media server and to coturn): the firewall dropped it.
    const { stdout } = await siteC.router.exec("nft", ["list", "chain", "inet", "parley_filter", "forward"]);
    const droppedUdp = Number(stdout.match(/meta l4proto udp counter packets (\d+)/)?.[1] ?? 0);
    assert.ok(droppedUdp > 0, `the firewall dropped Cy's UDP:\n${stdout}`);
  });

  it("the firewalled browser also joins through TURN over TLS on 443", async () => {
    const started = Date.now();
    const before = await stats(ana);
    await cy.page.evaluate(() => window.natPage.leaveCall());
    await cy.page.evaluate((id) => window.natPage.joinCall(id, { turnScheme: "turns" }), meetingId);
    const forCy = await keepsDecoding(cy, ana.userId, { what: "Cy to decode Ana's video over TURN/TLS" });
    await keepsDecoding(ana, cy.userId, { what: "Ana to decode Cy's video sent over TURN/TLS" });
    console.log(`# Cy over TLS: publish ${describePath(forCy.publisher.selected)} after ${Date.now() - started} ms`);
    for (const selected of [forCy.publisher.selected, forCy.subscriber.selected]) {
      assert.equal(selected?.localType, "relay", "Cy's media goes through TURN");
      assert.equal(selected.relayProtocol, "tls", "Cy reaches TURN over TLS");
      assert.equal(selected.remoteAddress, `${CORE_ADDRESS}:${MEDIA_UDP_PORT}`, "coturn relays to the media server");
    }
    assert.equal((await stats(ana)).loadId, before.loadId);
  });

  it("a participant whose network drops for 10 seconds mid-call recovers without a reload", async () => {
    const before = await stats(ana);
    await keepsDecoding(bea, ana.userId, { what: "Bea to decode Ana's video before the outage" });
    const outage = await cutNetwork(siteA.host);
    const cutAt = Date.now();
    await ana.page.evaluate(() => window.natPage.note("network cut"));
    let restored = false;
    try {
      // The outage is real: Bea stops receiving Ana's video.
      await waitFor(
        "Ana's video to stall at Bea",
        async () => {
          const first = (await stats(bea)).framesFrom[ana.userId] ?? 0;
          await sleep(1_000);
          return ((await stats(bea)).framesFrom[ana.userId] ?? 0) === first;
        },
        { timeoutMs: OUTAGE_MS - 2_000, intervalMs: 0 },
      );
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - cutAt)));
      await outage.restore();
      restored = true;
      await ana.page.evaluate(() => window.natPage.note("network back"));
    } finally {
      if (!restored) await outage.restore();
    }
    const restoredAt = Date.now();
    await keepsDecoding(bea, ana.userId, { what: "Bea to decode Ana's video again", timeoutMs: 45_000 });
    const bRecovered = Date.now() - restoredAt;
    const after = await keepsDecoding(ana, bea.userId, { what: "Ana to decode Bea's video again", timeoutMs: 30_000 });
    await keepsDecoding(cy, ana.userId, { what: "Cy to decode Ana's video again", timeoutMs: 30_000 });
    assert.equal(after.loadId, before.loadId, "Ana's page was not reloaded");
    assert.ok(after.socketOpen, "Ana's signaling socket is open");
    console.log(
      `# outage ${OUTAGE_MS} ms: Bea decodes Ana again ${bRecovered} ms after the network returned; ` +
        `Ana re-joined ${after.rejoins - before.rejoins} time(s); Ana's events: ${after.events.filter((e) => !e.includes(" candidate ")).slice(-10).join(" / ")}`,
    );
  });

  it("a participant whose network changes (new public address) mid-call recovers without a reload", async () => {
    const before = await stats(bea);
    const outage = await cutNetwork(siteB.host);
    await bea.page.evaluate(() => window.natPage.note("network cut"));
    try {
      await changeWanAddress(siteB, "10.77.0.22");
      await sleep(3_000);
    } finally {
      await outage.restore();
    }
    await bea.page.evaluate(() => window.natPage.note("network back, new address"));
    const restoredAt = Date.now();
    await keepsDecoding(ana, bea.userId, { what: "Ana to decode Bea's video again", timeoutMs: 60_000 });
    const aRecovered = Date.now() - restoredAt;
    const after = await keepsDecoding(bea, ana.userId, { what: "Bea to decode Ana's video again", timeoutMs: 30_000 });
    assert.equal(after.loadId, before.loadId, "Bea's page was not reloaded");
    console.log(
      `# new address: Ana decodes Bea again ${aRecovered} ms after the network returned; Bea re-joined ` +
        `${after.rejoins - before.rejoins} time(s); Bea: publish ${describePath(after.publisher.selected)}; events: ` +
        `${after.events.filter((e) => !e.includes(" candidate ")).slice(-14).join(" / ")}`,
    );
  });
});
