// What a person does in the web app, shared by the browser tests: sign up, make and open meetings, join a call.
import assert from "node:assert/strict";

export const testPassword = "correct horse battery";

/** Creates an account from the sign-up page and waits for the signed-in home screen. */
export async function signUp(user, displayName, username, password = testPassword) {
  const { page } = user;
  await page.goto("/signup");
  await page.getByLabel("Your name").fill(displayName);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: `Hello, ${displayName}` }).waitFor();
}

export async function createMeeting(page, title) {
  await page.getByRole("link", { name: "Meetings", exact: true }).click();
  await page.getByRole("button", { name: "New meeting" }).click();
  await page.getByLabel("Title").fill(title);
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.locator("[data-meeting-title]", { hasText: title }).waitFor();
}

export async function openMeeting(page, title) {
  await page.getByRole("link", { name: "Meetings", exact: true }).click();
  await page.locator(`a.meeting-row[data-title="${title}"]`).click();
  await page.locator("[data-meeting-title]", { hasText: title }).waitFor();
}

/** Adds `username` to the open meeting from its member list and waits for the confirmation. */
export async function addMember(page, username) {
  const input = page.getByLabel("Add someone by username");
  if (!(await input.isVisible())) await page.getByRole("button", { name: "Add member" }).click();
  await input.fill(username);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByText(`@${username} was added.`).waitFor();
}

/**
 * Ana Lima, Bruno Costa and Cid Nunes each get a browser context (`contextOptions`, then `prepare(user)` before their
 * first page load, e.g. to record peer connections) and sign up; Ana makes the meeting `title` with the other two in
 * it, and they open it. Returns { ana, bruno, cid }.
 */
export async function meetingOfThree(stack, title, { contextOptions, prepare = async () => {} } = {}) {
  const people = [
    ["ana", "Ana Lima"],
    ["bruno", "Bruno Costa"],
    ["cid", "Cid Nunes"],
  ];
  const users = {};
  for (const [username] of people) {
    users[username] = await stack.newUserContext(contextOptions);
    await prepare(users[username]);
  }
  for (const [username, name] of people) await signUp(users[username], name, username);
  await createMeeting(users.ana.page, title);
  for (const username of ["bruno", "cid"]) await addMember(users.ana.page, username);
  for (const username of ["bruno", "cid"]) await openMeeting(users[username].page, title);
  return users;
}

/** Joins the open meeting's call and waits until its media is connected. */
export async function joinCall(page) {
  await page.locator('[data-action="join-call"]').click();
  await page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
}

export function assertNoConsoleErrors(...users) {
  for (const user of users) assert.deepEqual(user.console.errors, [], "console errors in the browser");
}

/** Keeps every RTCPeerConnection a page creates in window.__peerConnections, so a test can read getStats(). */
export async function recordPeerConnections(context) {
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.__peerConnections = [];
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        window.__peerConnections.push(this);
      }
    };
  });
}

/**
 * RTP of the page's open peer connections (recorded by recordPeerConnections): inbound rows
 * {kind, framesDecoded, packetsReceived} and outbound rows {direction: "out", kind, packetsSent}.
 */
export async function rtpOf(page) {
  return page.evaluate(async () => {
    const rows = [];
    for (const pc of window.__peerConnections ?? []) {
      if (pc.connectionState === "closed") continue;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp") rows.push({ kind: s.kind, framesDecoded: s.framesDecoded ?? 0, packetsReceived: s.packetsReceived ?? 0 });
        if (s.type === "outbound-rtp") rows.push({ direction: "out", kind: s.kind, packetsSent: s.packetsSent ?? 0 });
      });
    }
    return rows;
  });
}

/** How many call messages `recordCallSignaling` keeps per page (the latest). */
const signalingLogLimit = 80;

/**
 * Keeps in user.callSignaling the latest call messages the page sent and received ("+1.234s > call.publish",
 * "< call.subscribe.offer v3", "< error call.not_joined"; not call.speakers), to say on a failure which side of the signaling stopped.
 */
export function recordCallSignaling(user) {
  const started = Date.now();
  user.callSignaling = [];
  const note = (direction, payload) => {
    if (typeof payload !== "string" || !payload.includes('"call.') && !payload.includes('"error"')) return;
    let message;
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    // Speaker updates come five times a second and say nothing about the connection.
    if (message.type === "call.speakers") return;
    const detail = message.type === "error" ? ` ${message.code}` : message.version !== undefined ? ` v${message.version}` : "";
    user.callSignaling.push(`+${((Date.now() - started) / 1000).toFixed(3)}s ${direction} ${message.type}${detail}`);
    if (user.callSignaling.length > signalingLogLimit) user.callSignaling.shift();
  };
  user.page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => note(">", payload));
    socket.on("framereceived", ({ payload }) => note("<", payload));
  });
}

/**
 * What a page's call looks like, for a failure message: its phase, its peer connections (states, transceivers) and
 * its recent call signaling (when recorded).
 */
export async function describeCall(user, who) {
  const view = await user.page
    .evaluate(() => ({
      phase: document.querySelector(".call-stage")?.dataset.callPhase ?? null,
      connections: (window.__peerConnections ?? []).map((pc) => ({
        connection: pc.connectionState,
        ice: pc.iceConnectionState,
        signaling: pc.signalingState,
        transceivers: pc.getTransceivers().map((t) => `${t.mid}:${t.receiver.track.kind}:${t.currentDirection}`),
      })),
    }))
    .catch((error) => ({ unavailable: error.message }));
  return `${who}: ${JSON.stringify(view)} signaling [${(user.callSignaling ?? []).join(", ")}]`;
}
