// Direct calls that ring, in real Chromium against the real server and media server inside a namespace holding only
// `lo`: a person calls another from People, the callee's incoming-call card rings, and what they answer (accept with
// video or voice only, decline, nothing) reaches the caller; a person already in a call is busy; the direct chat
// records each call.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loopbackCallSettings, startParleyStack, waitFor } from "./harness.mjs";
import { assertNoConsoleErrors, createMeeting, joinCall, recordPeerConnections, rtpOf, signUp } from "./pages.mjs";

const { env: callSettings } = loopbackCallSettings();
const ringSeconds = 5;

/** Two people signed up and on People, each recording their peer connections. */
async function twoPeople(stack, [callerName, callerUsername], [calleeName, calleeUsername]) {
  const caller = await stack.newUserContext();
  const callee = await stack.newUserContext();
  for (const user of [caller, callee]) await recordPeerConnections(user.context);
  await signUp(caller, callerName, callerUsername);
  await signUp(callee, calleeName, calleeUsername);
  await caller.page.locator(`.person[data-username="${calleeUsername}"]`).waitFor();
  return { caller, callee };
}

function incomingCard(page) {
  return page.locator('.ring-card[data-ring="incoming"]');
}

function outgoingPanel(page, phase) {
  return page.locator(`.ring-card[data-ring="outgoing"][data-phase="${phase}"]`);
}

/** Waits until the page decodes video and receives audio from someone else (or only audio, `{ video: false }`). */
async function receives(page, who, { video = true } = {}) {
  let rows = [];
  await waitFor(
    `${who} to receive ${video ? "video and audio" : "audio"}`,
    async () => {
      rows = await rtpOf(page);
      const audio = rows.some((r) => r.direction !== "out" && r.kind === "audio" && r.packetsReceived > 0);
      const frames = rows.some((r) => r.direction !== "out" && r.kind === "video" && r.framesDecoded > 0);
      return audio && (!video || frames);
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  ).catch((error) => {
    throw new Error(`${error.message}; RTP ${JSON.stringify(rows)}`);
  });
}

function systemMessage(page, text) {
  return page.locator(".messages .message .message-text", { hasText: text });
}

describe("direct calls that ring", () => {
  let stack;

  before(async () => {
    stack = await startParleyStack({ parleyEnv: { ...callSettings, PARLEY_RING_TIMEOUT: `${ringSeconds}s` } });
  });

  after(async () => {
    await stack?.close();
  });

  it("Ann calls Bob from People: his card rings, he accepts, both decode each other's video, the chat keeps the call", async () => {
    const { caller: ann, callee: bob } = await twoPeople(stack, ["Ann Silva", "ann"], ["Bob Souza", "bob"]);
    await ann.page.getByRole("button", { name: "Video call Bob Souza" }).click();
    await outgoingPanel(ann.page, "ringing").waitFor();
    assert.match(await outgoingPanel(ann.page, "ringing").innerText(), /Ringing Bob Souza…/);

    const card = incomingCard(bob.page);
    await card.waitFor();
    assert.match(await card.innerText(), /Ann Silva[\s\S]*Incoming video call/);
    // The page was used (signing up), so the browser lets the ringtone sound.
    await waitFor("the ringtone to play", async () => (await card.getAttribute("data-ringtone")) === "playing");
    await card.locator('[data-action="accept-video"]').click();

    for (const [user, who, other] of [[ann, "Ann", "Bob Souza"], [bob, "Bob", "Ann Silva"]]) {
      await user.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
      await user.page.locator("[data-meeting-title]", { hasText: other }).waitFor();
      await receives(user.page, who);
    }
    assert.equal(await ann.page.locator(".ring-card").count(), 0, "the caller's panel went");
    assert.equal(await bob.page.locator(".ring-card").count(), 0, "the card went");
    assert.equal(await bob.page.locator(".call-notice").count(), 0, "a direct call rings; it gets no meeting notice");

    await ann.page.locator('[data-action="leave-call"]').click();
    await bob.page.locator('[data-action="leave-call"]').click();
    await systemMessage(bob.page, "The call ended after").waitFor({ timeout: 15_000 });
    await systemMessage(ann.page, "The call ended after").waitFor({ timeout: 15_000 });
    assertNoConsoleErrors(ann, bob);
    await ann.context.close();
    await bob.context.close();
  });

  it("Adding a third person moves the call to a new meeting of the three, rings them into it, and all three see each other", async () => {
    const { caller: ann, callee: bob } = await twoPeople(stack, ["Alba Nery", "alba"], ["Bruno Lima", "brunol"]);
    const cid = await stack.newUserContext();
    await recordPeerConnections(cid.context);
    await signUp(cid, "Cid Moura", "cidm");
    await ann.page.getByRole("button", { name: "Video call Bruno Lima" }).click();
    await incomingCard(bob.page).locator('[data-action="accept-video"]').click();
    await ann.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });

    await ann.page.getByRole("button", { name: "Add person" }).click();
    await ann.page.getByLabel("Add someone to this call by username").fill("cidm");
    await ann.page.getByRole("button", { name: "Add to call" }).click();
    const group = "Alba Nery, Bruno Lima and Cid Moura";
    const card = incomingCard(cid.page);
    await card.waitFor({ timeout: 15_000 });
    assert.match(await card.innerText(), /Alba Nery/);
    await card.locator('[data-action="accept-video"]').click();
    for (const [user, who] of [[ann, "Ann"], [bob, "Bob"], [cid, "Cid"]]) {
      await user.page.locator("[data-meeting-title]", { hasText: group }).waitFor({ timeout: 15_000 });
      await user.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
      await waitFor(`${who} to show the three in the call`, async () => (await user.page.locator(".call-stage .tile[data-kind=camera]").count()) === 3, {
        timeoutMs: 30_000,
      });
    }
    // Both keep their direct chat, which records the move, and the new meeting.
    await bob.page.locator('[data-list="chats"] a.meeting-row[data-title="Alba Nery"]').click();
    await systemMessage(bob.page, "Alba Nery added Cid Moura").waitFor();
    await bob.page.locator(`a.meeting-row[data-title="${group}"]`).waitFor();
    for (const user of [ann, bob, cid]) {
      if (await user.page.locator('[data-action="leave-call"]').count()) await user.page.locator('[data-action="leave-call"]').click();
    }
    assertNoConsoleErrors(ann, bob, cid);
    for (const user of [ann, bob, cid]) await user.context.close();
  });

  it("Bob declines: Ann sees Declined and their chat records it", async () => {
    const { caller: ann, callee: bob } = await twoPeople(stack, ["Ada Reis", "ada"], ["Ben Cruz", "ben"]);
    await ann.page.getByRole("button", { name: "Audio call Ben Cruz" }).click();
    const card = incomingCard(bob.page);
    await card.waitFor();
    assert.match(await card.innerText(), /Incoming audio call/);
    await card.locator('[data-action="decline"]').click();
    await outgoingPanel(ann.page, "declined").waitFor();
    assert.match(await outgoingPanel(ann.page, "declined").innerText(), /Declined[\s\S]*Ben Cruz declined the call/);
    assert.equal(await card.count(), 0);
    assert.equal(await ann.page.locator(".call-stage").count(), 0, "nobody joined a call");

    await ann.page.locator('[data-action="close-ring"]').click();
    await ann.page.getByRole("button", { name: "Chat with Ben Cruz" }).click();
    await systemMessage(ann.page, "Ben Cruz declined an audio call from Ada Reis").waitFor();
    assertNoConsoleErrors(ann, bob);
    await ann.context.close();
    await bob.context.close();
  });

  it("nobody answers: Ann sees No answer at the ring timeout, Bob's card goes and he finds a missed call", async () => {
    const { caller: ann, callee: bob } = await twoPeople(stack, ["Alma Dias", "alma"], ["Bia Lopes", "bia"]);
    const pressed = Date.now();
    await ann.page.getByRole("button", { name: "Video call Bia Lopes" }).click();
    await incomingCard(bob.page).waitFor();
    await outgoingPanel(ann.page, "missed").waitFor({ timeout: (ringSeconds + 10) * 1000 });
    const took = Date.now() - pressed;
    assert.ok(took >= ringSeconds * 1000 - 500, `No answer only after the ring timeout (${took} ms)`);
    assert.match(await outgoingPanel(ann.page, "missed").innerText(), /No answer from Bia Lopes/);
    await waitFor("Bob's card to go", async () => (await incomingCard(bob.page).count()) === 0);
    await bob.page.getByRole("button", { name: "Chat with Alma Dias" }).click();
    await systemMessage(bob.page, "Missed video call from Alma Dias").waitFor();
    assertNoConsoleErrors(ann, bob);
    await ann.context.close();
    await bob.context.close();
  });

  it("Bob in a meeting call is Busy; a call Ann cancels leaves Bob's screen", async () => {
    const { caller: ann, callee: bob } = await twoPeople(stack, ["Ari Melo", "ari"], ["Bel Rosa", "bel"]);
    // Sharing a chat, each sees the other's status.
    await ann.page.getByRole("button", { name: "Chat with Bel Rosa" }).click();
    await ann.page.locator("[data-meeting-title]", { hasText: "Bel Rosa" }).waitFor();
    await ann.page.getByRole("link", { name: "People", exact: true }).click();
    await createMeeting(bob.page, "Focus time");
    await joinCall(bob.page);
    await ann.page.locator('.person[data-username="bel"][data-status="in-call"]').waitFor({ timeout: 15_000 });
    await ann.page.getByRole("button", { name: "Video call Bel Rosa" }).click();
    await outgoingPanel(ann.page, "busy").waitFor();
    assert.match(await outgoingPanel(ann.page, "busy").innerText(), /Bel Rosa is busy in another call/);
    assert.equal(await incomingCard(bob.page).count(), 0, "a busy person is not rung");
    await ann.page.locator('[data-action="close-ring"]').click();

    await bob.page.locator('[data-action="leave-call"]').click();
    await ann.page.locator('.person[data-username="bel"][data-status="online"]').waitFor({ timeout: 15_000 });
    await ann.page.getByRole("button", { name: "Video call Bel Rosa" }).click();
    await incomingCard(bob.page).waitFor();
    await ann.page.locator('[data-action="cancel-ring"]').click();
    await waitFor("Bob's card to go when Ann cancels", async () => (await incomingCard(bob.page).count()) === 0);
    assert.equal(await ann.page.locator(".ring-card").count(), 0);
    assertNoConsoleErrors(ann, bob);
    await ann.context.close();
    await bob.context.close();
  });

  it("Do not disturb is Bob's own choice, kept after a reload: Ann's call is Unavailable and does not ring; hidden, he is Away", async () => {
    const { caller: ann, callee: bob } = await twoPeople(stack, ["Ava Leal", "ava"], ["Bruno Vaz", "brunov"]);
    await ann.page.getByRole("button", { name: "Chat with Bruno Vaz" }).click();
    await ann.page.locator("[data-meeting-title]", { hasText: "Bruno Vaz" }).waitFor();
    await ann.page.getByRole("link", { name: "People", exact: true }).click();
    const bobOnAnnsPage = (status) => ann.page.locator(`.person[data-username="brunov"][data-status="${status}"]`);
    await bobOnAnnsPage("online").waitFor({ timeout: 15_000 });

    await bob.page.getByLabel("Your status").selectOption("dnd");
    await bobOnAnnsPage("dnd").waitFor({ timeout: 15_000 });
    assert.equal(await bobOnAnnsPage("dnd").locator(".person-status").innerText(), "Do not disturb");
    await ann.page.getByRole("button", { name: "Video call Bruno Vaz" }).click();
    await outgoingPanel(ann.page, "unavailable").waitFor();
    assert.match(await outgoingPanel(ann.page, "unavailable").innerText(), /Bruno Vaz is unavailable/);
    assert.equal(await incomingCard(bob.page).count(), 0, "Do not disturb: not rung");
    await ann.page.locator('[data-action="close-ring"]').click();

    // A new session (a reload) keeps the choice.
    await bob.page.reload();
    await bob.page.getByRole("heading", { name: "Hello, Bruno Vaz" }).waitFor();
    await waitFor("Bob's status menu to show his choice", async () => (await bob.page.getByLabel("Your status").inputValue()) === "dnd");
    await bobOnAnnsPage("dnd").waitFor({ timeout: 15_000 });
    await bob.page.getByLabel("Your status").selectOption("available");
    await bobOnAnnsPage("online").waitFor({ timeout: 15_000 });

    // Bob's tab is hidden: Away; shown again: Available.
    const setHidden = (hidden) =>
      bob.page.evaluate((value) => {
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (value ? "hidden" : "visible") });
        document.dispatchEvent(new Event("visibilitychange"));
      }, hidden);
    await setHidden(true);
    await bobOnAnnsPage("away").waitFor({ timeout: 15_000 });
    assert.equal(await bobOnAnnsPage("away").locator(".person-status").innerText(), "Away");
    await setHidden(false);
    await bobOnAnnsPage("online").waitFor({ timeout: 15_000 });
    assertNoConsoleErrors(ann, bob);
    await ann.context.close();
    await bob.context.close();
  });

  it("Bob blocks Ann: she sees him offline, her call is Unavailable and never rings, her message is refused; Unblock undoes it", async () => {
    const { caller: ann, callee: bob } = await twoPeople(stack, ["Aida Luz", "aida"], ["Bento Gil", "bento"]);
    await ann.page.getByRole("button", { name: "Chat with Bento Gil" }).click();
    await ann.page.locator("[data-meeting-title]", { hasText: "Bento Gil" }).waitFor();
    await ann.page.getByRole("link", { name: "People", exact: true }).click();
    const bobOnAnnsPage = (status) => ann.page.locator(`.person[data-username="bento"][data-status="${status}"]`);
    await bobOnAnnsPage("online").waitFor({ timeout: 15_000 });

    await bob.page.getByRole("button", { name: "Block Aida Luz" }).click();
    await bob.page.locator('.person[data-username="aida"] .tag-blocked').waitFor();
    assert.equal(await bob.page.getByRole("button", { name: "Video call Aida Luz" }).count(), 0, "no call button for someone blocked");
    await bobOnAnnsPage("offline").waitFor({ timeout: 15_000 });
    await ann.page.getByRole("button", { name: "Video call Bento Gil" }).click();
    await outgoingPanel(ann.page, "unavailable").waitFor();
    assert.equal(await incomingCard(bob.page).count(), 0, "a blocked caller never rings");
    await ann.page.locator('[data-action="close-ring"]').click();
    await ann.page.getByRole("button", { name: "Chat with Bento Gil" }).click();
    const box = ann.page.getByLabel("Message", { exact: true });
    await box.fill("are you there?");
    await box.press("Enter");
    await ann.page.locator(".message[data-pending]", { hasText: "not taking chats or calls from you" }).waitFor();

    await bob.page.getByRole("button", { name: "Unblock Aida Luz" }).click();
    await bob.page.getByRole("button", { name: "Video call Aida Luz" }).waitFor();
    await ann.page.getByRole("link", { name: "People", exact: true }).click();
    await bobOnAnnsPage("online").waitFor({ timeout: 15_000 });
    assertNoConsoleErrors(ann, bob);
    await ann.context.close();
    await bob.context.close();
  });

  it("accepting with audio only sends no video, and still receives the caller's", async () => {
    const { caller: ann, callee: bob } = await twoPeople(stack, ["Ana Paz", "anapaz"], ["Beto Sa", "beto"]);
    await ann.page.getByRole("button", { name: "Video call Beto Sa" }).click();
    await incomingCard(bob.page).locator('[data-action="accept-audio"]').click();
    await bob.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
    await receives(bob.page, "Bob");
    await receives(ann.page, "Ann", { video: false });
    // Give video every chance to show up: it must not.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const bobSends = (await rtpOf(bob.page)).filter((r) => r.direction === "out" && r.kind === "video" && r.packetsSent > 0);
    assert.deepEqual(bobSends, [], "Bob sends no video");
    const annDecodes = (await rtpOf(ann.page)).filter((r) => r.direction !== "out" && r.kind === "video" && r.framesDecoded > 0);
    assert.deepEqual(annDecodes, [], "Ann decodes no video from Bob");
    assert.equal(await bob.page.getByRole("button", { name: "Turn camera off" }).count(), 0, "no camera control");
    await ann.page.locator('[data-action="leave-call"]').click();
    await bob.page.locator('[data-action="leave-call"]').click();
    assertNoConsoleErrors(ann, bob);
    await ann.context.close();
    await bob.context.close();
  });
});
