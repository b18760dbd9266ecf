// Calls in the browser: real Chromium with fake camera and microphone, the real Parley server with its
// embedded media server, real redis-server, all inside a namespace holding only `lo`. Two people join a
// meeting's call and each decodes the other's video and receives their audio, they chat during the call, a
// third joins and all three see each other, one leaves, the chat outlives the call, and the media server's
// own counters confirm the media went through it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { httpGetInNamespace, launchBrowser, loopbackCallSettings, newUserContext, startParleyStack, waitFor } from "./harness.mjs";
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

const { env: callSettings, mediaUdpPort, mediaHttpPort } = loopbackCallSettings();

/** Keeps every WebSocket a page opens in window.__sockets, so the test can drop the connection. */
async function recordSockets(context) {
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.__sockets.push(this);
      }
    };
  });
}

async function framesDecoded(page) {
  return (await inbound(page)).filter((r) => r.kind === "video").reduce((sum, r) => sum + r.framesDecoded, 0);
}

/** Inbound RTP of the page's open peer connections: [{kind, framesDecoded, packetsReceived}]. */
async function inbound(page) {
  return (await rtpOf(page)).filter((r) => r.direction !== "out");
}

/** The stack under test, for the media server's own view when a wait fails. */
let currentStack = null;
/** The people of the running test by name, whose calls a failed wait describes. */
let watched = {};

/** Records the users' peer connections and call signaling, and names them for failure messages. */
async function watch(users) {
  watched = users;
  for (const user of Object.values(users)) {
    await recordPeerConnections(user.context);
    recordCallSignaling(user);
  }
}

/** Waits until the page decodes video from `count` remote streams and receives audio from as many. */
async function receivesFrom(page, count, who) {
  let rows = [];
  await waitFor(
    `${who} to decode video and receive audio from ${count} other(s)`,
    async () => {
      rows = await inbound(page);
      const video = rows.filter((r) => r.kind === "video" && r.framesDecoded > 0).length;
      const audio = rows.filter((r) => r.kind === "audio" && r.packetsReceived > 0).length;
      return video >= count && audio >= count;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  ).catch(async (error) => {
    // What the media server forwards to each endpoint (its videos: layer, paused, packets sent), to tell a server
    // that does not send from a browser that does not show; and each person's call, to tell which side stopped.
    const server = currentStack
      ? await httpGetInNamespace(currentStack.namespace, `http://127.0.0.1:${mediaHttpPort}/stats`)
          .then((r) => JSON.stringify(JSON.parse(r.body).endpointStats), (e) => `unavailable: ${e.message}`)
      : "no stack";
    const calls = [];
    for (const [name, user] of Object.entries(watched)) calls.push(await describeCall(user, name));
    throw new Error(`${error.message}; inbound RTP ${JSON.stringify(rows)}; media server endpoints ${server}; ${calls.join("; ")}`);
  });
}

async function send(page, text) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
}

function messageText(page, text) {
  return page.locator(".messages .message:not([data-pending]) .message-text", { hasText: text });
}

/** Waits until the call stage shows `count` people; on a timeout, says whom it shows. */
async function showsPeople(page, count, who) {
  await waitFor(`${who} to show ${count} people in the call`, async () => (await tiles(page).count()) === count).catch(
    async (error) => {
      const labels = await tiles(page).evaluateAll((els) => els.map((el) => el.getAttribute("aria-label")));
      const stage = await page.locator(".call-stage").evaluateAll((els) => els.map((el) => [el.dataset.callPhase, el.innerText]));
      throw new Error(`${error.message}; it shows ${JSON.stringify(labels)}, call stage: ${JSON.stringify(stage)}`);
    },
  );
}

function tiles(page) {
  return page.locator(".call-stage .tile[data-kind=camera]");
}

describe("calls", () => {
  let stack;

  before(async () => {
    stack = await startParleyStack({
      parleyEnv: callSettings,
    });
    currentStack = stack;
  });

  after(async () => {
    await stack?.close();
  });

  it("people in a meeting call each other through the media server, chat during and after the call", async () => {
    const ana = await stack.newUserContext();
    const bruno = await stack.newUserContext();
    const cid = await stack.newUserContext();
    await watch({ Ana: ana, Bruno: bruno, Cid: cid });
    await signUp(ana, "Ana Lima", "ana");
    await signUp(bruno, "Bruno Costa", "bruno");
    await signUp(cid, "Cid Nunes", "cid");

    await createMeeting(ana.page, "Standup");
    await addMember(ana.page, "bruno");
    await openMeeting(bruno.page, "Standup");

    // Ana starts the call; Bruno's list and header show it, and he joins.
    await joinCall(ana.page);
    await bruno.page.locator('a.meeting-row[data-title="Standup"] [data-call-active]').waitFor();
    await bruno.page.getByRole("button", { name: "Join call (1)" }).waitFor();
    await joinCall(bruno.page);
    await receivesFrom(ana.page, 1, "Ana");
    await receivesFrom(bruno.page, 1, "Bruno");
    await ana.page.locator('.member-chip[data-username="bruno"][data-status="in-call"]').waitFor();
    await showsPeople(ana.page, 2, "Ana");
    // Each tile shows its connection quality, judged from the browser's own statistics: on loopback, Ana's tile on
    // Bruno's page (what arrives from her) and Bruno's own tile (what the server reports back) read good or fair,
    // with the numbers in the title.
    for (const [selector, what] of [
      [".tile[data-kind=camera]:not(.tile-self) [data-quality]", "Ana's tile on Bruno's page"],
      [".tile-self [data-quality]", "Bruno's own tile"],
    ]) {
      const bars = bruno.page.locator(selector).first();
      let shown = null;
      await waitFor(
        `${what} to show its connection quality`,
        async () => {
          shown = { quality: await bars.getAttribute("data-quality"), title: await bars.getAttribute("title") };
          return (shown.quality === "good" || shown.quality === "fair") && /% loss/.test(shown.title ?? "");
        },
        { timeoutMs: 20_000, intervalMs: 500 },
      ).catch((error) => {
        throw new Error(`${error.message}; it shows ${JSON.stringify(shown)}`);
      });
      assert.match(await bars.getAttribute("aria-label"), /^Connection: (good|fair)$/);
    }
    // Bruno sees Ana's camera in her tile (the stream was mapped to her through call.state).
    await waitFor("Ana's video playing in Bruno's tile", () =>
      bruno.page.locator(`.tile[data-kind=camera]:not(.tile-self) video`).evaluate((v) => v.videoWidth > 0 && v.readyState >= 2),
    );

    // The fake microphone beeps: Bruno sees Ana's tile light up while it sounds.
    await bruno.page.locator(".tile[data-kind=camera]:not(.tile-self)[data-speaking]").waitFor({ timeout: 15_000 });

    // Muting shows on the other side.
    await ana.page.getByRole("button", { name: "Mute microphone" }).click();
    await bruno.page.locator('.tile:not(.tile-self) [aria-label="Microphone off"]').waitFor();
    await ana.page.getByRole("button", { name: "Unmute microphone" }).click();
    await waitFor("the muted icon to go", async () => (await bruno.page.locator('.tile:not(.tile-self) [aria-label="Microphone off"]').count()) === 0);

    // A shared screen gets its own tile on the other side, and goes away when sharing stops.
    await ana.page.getByRole("button", { name: "Share your screen" }).click();
    await waitFor("Ana's screen playing in Bruno's screen tile", () =>
      bruno.page.locator(".tile[data-kind=screen] video").evaluate((v) => v.videoWidth > 0 && v.readyState >= 2),
    );
    await ana.page.getByRole("button", { name: "Stop sharing your screen" }).click();
    await waitFor("the screen tile to go", async () => (await bruno.page.locator(".tile[data-kind=screen]").count()) === 0);

    // Chat beside the call.
    await send(ana.page, "Can you see me, Bruno?");
    await messageText(bruno.page, "Can you see me, Bruno?").waitFor();
    await send(bruno.page, "Loud and clear");
    await messageText(ana.page, "Loud and clear").waitFor();

    // A third person joins: everyone decodes everyone else.
    await addMember(ana.page, "cid");
    await openMeeting(cid.page, "Standup");
    await joinCall(cid.page);
    await receivesFrom(cid.page, 2, "Cid");
    await receivesFrom(ana.page, 2, "Ana");
    await receivesFrom(bruno.page, 2, "Bruno");
    for (const user of [ana, bruno, cid]) {
      await showsPeople(user.page, 3, "everyone");
    }

    // The media went through the media server: it received and forwarded packets.
    const stats = JSON.parse((await httpGetInNamespace(stack.namespace, `http://127.0.0.1:${mediaHttpPort}/stats`)).body);
    assert.ok(stats.packetsIn > 0, `media server received packets: ${JSON.stringify(stats)}`);
    assert.ok(stats.packetsOut > 0, `media server forwarded packets: ${JSON.stringify(stats)}`);
    assert.equal(stats.endpoints, 3);

    // Looking at another screen keeps the call, and its sound, going; the banner leads back to it.
    await bruno.page.getByRole("link", { name: "Meetings", exact: true }).click();
    await bruno.page.getByText("You are in a call in Standup.").waitFor();
    await waitFor("Bruno's page to play both others' audio", () =>
      bruno.page.evaluate(() => {
        const audio = [...document.querySelectorAll("audio[data-call-audio]")];
        return audio.length === 2 && audio.every((a) => !a.paused && a.srcObject);
      }),
    );
    await bruno.page.getByRole("link", { name: "Return to the call" }).click();
    await showsPeople(bruno.page, 3, "Bruno");

    // Bruno leaves; the others see two people.
    await bruno.page.locator('[data-action="leave-call"]').click();
    await bruno.page.locator('[data-action="join-call"]').waitFor();
    for (const user of [ana, cid]) {
      await showsPeople(user.page, 2, "the others after Bruno left");
    }
    await ana.page.locator('.member-chip[data-username="bruno"][data-status="online"]').waitFor();

    // The call ends with the last one out; the chat is still there after a reload.
    await ana.page.locator('[data-action="leave-call"]').click();
    await cid.page.locator('[data-action="leave-call"]').click();
    await messageText(ana.page, "The call ended").waitFor();
    await send(ana.page, "Notes from the call are in the doc");
    await bruno.page.reload();
    await messageText(bruno.page, "Notes from the call are in the doc").waitFor();
    for (const text of ["Can you see me, Bruno?", "Loud and clear", "started a call", "The call ended"]) {
      assert.equal(await messageText(bruno.page, text).count(), 1, `"${text}" after the reload`);
    }
    assert.equal(await bruno.page.locator('a.meeting-row[data-title="Standup"] [data-call-active]').count(), 0);

    // A second tab of the same user meets the single-session rule.
    const secondTab = await ana.context.newPage();
    await secondTab.goto("/meetings");
    await secondTab.locator('[data-screen="active-session"]').waitFor();
    await secondTab.close();

    assertNoConsoleErrors(ana, bruno, cid);
    for (const user of [ana, bruno, cid]) await user.context.close();
  });

  it("a dropped connection resumes the call without reloading: the same peer connections carry on", async () => {
    const dora = await stack.newUserContext();
    const eli = await stack.newUserContext();
    await watch({ Dora: dora, Eli: eli });
    await recordSockets(dora.context);
    await signUp(dora, "Dora Reis", "dora");
    await signUp(eli, "Eli Souza", "eli");
    await createMeeting(dora.page, "Resume");
    await addMember(dora.page, "eli");
    await openMeeting(eli.page, "Resume");
    await joinCall(dora.page);
    await joinCall(eli.page);
    await receivesFrom(dora.page, 1, "Dora");
    await receivesFrom(eli.page, 1, "Eli");
    const peerConnections = await dora.page.evaluate(() => window.__peerConnections.length);

    await dora.page.evaluate(() => window.__sockets[window.__sockets.length - 1].close());
    await dora.page.getByText("Reconnecting… your call continues").waitFor();
    await waitFor("Dora's socket to be back", async () => (await dora.page.locator('[data-banner="reconnecting"]').count()) === 0);
    await waitFor("the reconnecting notice to go", async () => (await dora.page.getByText("Reconnecting… your call continues").count()) === 0);

    // Same peer connections, still open, frames still arriving on both sides; still one call.
    const before = { dora: await framesDecoded(dora.page), eli: await framesDecoded(eli.page) };
    await waitFor("frames to keep coming", async () =>
      (await framesDecoded(dora.page)) > before.dora + 10 && (await framesDecoded(eli.page)) > before.eli + 10,
    );
    assert.equal(await dora.page.evaluate(() => window.__peerConnections.length), peerConnections, "no new peer connections");
    assert.deepEqual(
      await dora.page.evaluate(() => window.__peerConnections.map((pc) => pc.connectionState)),
      ["connected", "connected"],
    );
    assert.equal(await dora.page.locator('.call-stage[data-call-phase="connected"]').count(), 1);
    // The server knows this socket as the participant again: media state from it reaches the others.
    await dora.page.getByRole("button", { name: "Mute microphone" }).click();
    await eli.page.locator('.tile:not(.tile-self) [aria-label="Microphone off"]').waitFor();
    assert.equal(await dora.page.evaluate(() => window.__peerConnections.length), peerConnections, "no new peer connections");
    await send(eli.page, "still here?");
    await messageText(dora.page, "still here?").waitFor();
    assert.equal(await messageText(dora.page, "started a call").count(), 1, "the call was not started twice");

    assertNoConsoleErrors(dora, eli);
    for (const user of [dora, eli]) await user.context.close();
  });

  it("when UDP to the media server is blocked, the call says why and Retry connects once it is open", async () => {
    const fay = await stack.newUserContext();
    await signUp(fay, "Fay Rocha", "fay");
    await createMeeting(fay.page, "Firewalled");
    const table = "parley_e2e_block_media";
    await stack.namespace.exec("nft", [
      [
        `add table inet ${table}`,
        `add chain inet ${table} out { type filter hook output priority 0 ; policy accept ; }`,
        `add rule inet ${table} out udp dport ${mediaUdpPort} drop`,
      ].join(" ; "),
    ]);
    const unblock = () => stack.namespace.exec("nft", ["delete", "table", "inet", table]).catch(() => undefined);
    stack.teardown.defer(`delete nft table ${table}`, unblock);

    await fay.page.locator('[data-action="join-call"]').click();
    const failure = fay.page.locator('[data-call-failure="ice"]');
    await failure.waitFor({ timeout: 45_000 });
    assert.match(await failure.innerText(), /UDP traffic is probably blocked/);
    assert.match(await failure.innerText(), /TURN server/);

    await unblock();
    await fay.page.getByRole("button", { name: "Retry" }).click();
    await fay.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
    await fay.page.locator('[data-action="leave-call"]').click();
    assertNoConsoleErrors(fay);
    await fay.context.close();
  });

  it("without a camera, the call offers microphone only, and the others hear them on a tile without video", async () => {
    // A second browser whose fake devices include no camera.
    const cameraless = await launchBrowser(stack.namespace, stack.teardown, { args: ["--use-fake-device-for-media-stream=device-count=0"] });
    const gil = await newUserContext(cameraless, stack.baseUrl);
    const hana = await stack.newUserContext();
    await watch({ Hana: hana, Gil: gil });
    await signUp(gil, "Gil Prado", "gil");
    await signUp(hana, "Hana Dias", "hana");
    await createMeeting(hana.page, "No camera");
    await addMember(hana.page, "gil");
    await joinCall(hana.page);
    await openMeeting(gil.page, "No camera");

    await gil.page.locator('[data-action="join-call"]').click();
    const problem = gil.page.locator('[data-call-problem="missing"]');
    await problem.waitFor();
    assert.match(await problem.innerText(), /^No camera was found on this device\./);
    await gil.page.getByRole("button", { name: "Join with microphone only" }).click();
    await gil.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
    assert.equal(await gil.page.getByRole("button", { name: "Turn camera off" }).count(), 0, "no camera control");
    await waitFor("Hana to receive Gil's audio", async () =>
      (await inbound(hana.page)).some((r) => r.kind === "audio" && r.packetsReceived > 0),
    );
    const gilTile = hana.page.locator(".tile[data-kind=camera]:not(.tile-self)");
    await gilTile.waitFor();
    assert.equal(await gilTile.locator(".tile-avatar").count(), 1, "an avatar instead of video");
    await gil.page.locator('[data-action="leave-call"]').click();
    await hana.page.locator('[data-action="leave-call"]').click();
    assertNoConsoleErrors(gil, hana);
    await gil.context.close();
    await hana.context.close();
  });
  it("a call starting in a meeting shows its other members a notice naming who started it, and Join takes them in", async () => {
    const ines = await stack.newUserContext();
    const joao = await stack.newUserContext();
    await watch({ Ines: ines, Joao: joao });
    await signUp(ines, "Ines Rocha", "ines");
    await signUp(joao, "Joao Pires", "joao");
    await createMeeting(ines.page, "Roadmap");
    await addMember(ines.page, "joao");
    // Joao is on People, away from the meeting, when Ines starts its call.
    await joao.page.getByRole("link", { name: "People", exact: true }).click();
    await joinCall(ines.page);
    const notice = joao.page.locator(".call-notice", { hasText: "Ines Rocha started a call in Roadmap" });
    await notice.waitFor({ timeout: 15_000 });
    await notice.getByRole("button", { name: "Join", exact: true }).click();
    await joao.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
    await joao.page.locator("[data-meeting-title]", { hasText: "Roadmap" }).waitFor();
    assert.equal(await joao.page.locator(".call-notice").count(), 0, "the notice goes once he is in the call");
    // Ines, who started it, never got a notice.
    assert.equal(await ines.page.locator(".call-notice").count(), 0);
    assertNoConsoleErrors(ines, joao);
    await ines.context.close();
    await joao.context.close();
  });
});
