// Meetings and chat in the browser, before any call: a meeting is created, another user joins it through
// its invite link, they chat both ways, unread badges show and clear, and the history survives a reload.
// Real redis-server, the real Parley server and Chromium, inside a namespace holding only `lo`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startParleyStack, waitFor } from "./harness.mjs";

const password = "correct horse battery";

async function signUpHere(page, { displayName, username }) {
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Your name").fill(displayName);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
}

function meetingRow(page, title) {
  return page.locator(`a.meeting-row[data-title="${title}"]`);
}

function messageText(page, text) {
  return page.locator(".messages .message:not([data-pending]) .message-text", { hasText: text });
}

async function send(page, text) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
}

function assertNoConsoleErrors(...users) {
  for (const user of users) assert.deepEqual(user.console.errors, [], "console errors in the browser");
}

describe("meetings and chat", () => {
  let stack;

  before(async () => {
    stack = await startParleyStack();
  });

  after(async () => {
    await stack?.close();
  });

  it("a meeting's invite link brings a second user in; they chat both ways; unread badges clear; history survives a reload", async () => {
    const ana = await stack.newUserContext();
    await ana.page.goto("/");
    await signUpHere(ana.page, { displayName: "Ana Lima", username: "ana" });
    await ana.page.getByRole("heading", { name: "Hello, Ana Lima" }).waitFor();

    // Ana starts a meeting from the meetings section.
    await ana.page.getByRole("link", { name: "Meetings", exact: true }).click();
    await ana.page.getByRole("button", { name: "New meeting" }).click();
    await ana.page.getByLabel("Title").fill("Launch plan");
    await ana.page.getByRole("button", { name: "Create", exact: true }).click();
    await ana.page.locator("[data-meeting-title]", { hasText: "Launch plan" }).waitFor();
    assert.match(new URL(ana.page.url()).pathname, /^\/meetings\/[^/]+$/);
    await ana.page.locator(".message[data-system] .message-text", { hasText: "created" }).first().waitFor();

    // The invite link, shown for copying.
    await ana.page.getByRole("button", { name: "Invite link" }).click();
    const linkBox = ana.page.locator("[data-invite-link]");
    await waitFor("the invite link", async () => (await linkBox.inputValue()).includes("/invite/"));
    const invite = new URL(await linkBox.inputValue());
    assert.match(invite.pathname, /^\/invite\/[^/]+$/);

    // Bruno opens the link while signed out, creates an account, and lands in the meeting.
    const bruno = await stack.newUserContext();
    await bruno.page.goto(invite.pathname);
    await bruno.page.getByRole("heading", { name: "Sign in" }).waitFor();
    await signUpHere(bruno.page, { displayName: "Bruno Costa", username: "bruno" });
    await bruno.page.locator("[data-meeting-title]", { hasText: "Launch plan" }).waitFor();
    assert.equal(new URL(bruno.page.url()).pathname, new URL(ana.page.url()).pathname);

    // Ana sees Bruno join (a system message, and a new member online).
    await ana.page.locator(".message[data-system] .message-text", { hasText: "Bruno Costa" }).first().waitFor();
    await ana.page.locator('.member-chip[data-username="bruno"][data-status="online"]').waitFor();

    // Chat both ways, with typing shown to the other side.
    await ana.page.getByLabel("Message", { exact: true }).fill("Hello Bru");
    await bruno.page.getByText("Ana Lima is typing…").waitFor();
    await send(ana.page, "Hello Bruno, welcome aboard");
    await messageText(bruno.page, "Hello Bruno, welcome aboard").waitFor();
    await send(bruno.page, "Thanks Ana!");
    await messageText(ana.page, "Thanks Ana!").waitFor();
    await messageText(bruno.page, "Thanks Ana!").waitFor();
    assert.equal(await ana.page.locator(".message[data-pending]").count(), 0, "every message was acknowledged");

    // Bruno looks elsewhere; Ana's next messages make an unread badge on his list.
    await bruno.page.getByRole("link", { name: "Meetings", exact: true }).click();
    await bruno.page.getByText("Pick a meeting on the left").waitFor();
    await send(ana.page, "Agenda: scope, dates, owners");
    await send(ana.page, "Please read before Friday");
    const badge = meetingRow(bruno.page, "Launch plan").locator("[data-unread-badge]");
    await waitFor("Bruno's unread badge to show 2", async () => (await badge.textContent())?.trim() === "2");
    assert.match(await meetingRow(bruno.page, "Launch plan").innerText(), /Please read before Friday/);
    assert.equal(await meetingRow(ana.page, "Launch plan").locator("[data-unread-badge]").count(), 0);

    // Opening the meeting reads it; the badge stays gone after a reload (the server has the read pointer).
    await meetingRow(bruno.page, "Launch plan").click();
    await messageText(bruno.page, "Please read before Friday").waitFor();
    await waitFor("the badge to clear", async () => (await badge.count()) === 0);
    await bruno.page.getByRole("link", { name: "Meetings", exact: true }).click();
    await waitFor("the read pointer to reach the server", async () => {
      await bruno.page.reload();
      await meetingRow(bruno.page, "Launch plan").waitFor();
      return (await meetingRow(bruno.page, "Launch plan").getAttribute("data-unread")) === "0";
    }, { timeoutMs: 10_000, intervalMs: 500 });

    // History survives a reload, in order.
    await ana.page.reload();
    await messageText(ana.page, "Please read before Friday").waitFor();
    const texts = await ana.page.locator(".messages .message:not([data-system]) .message-text").allInnerTexts();
    assert.deepEqual(texts, [
      "Hello Bruno, welcome aboard",
      "Thanks Ana!",
      "Agenda: scope, dates, owners",
      "Please read before Friday",
    ]);

    // The owner renames and archives the meeting; the other member's screen follows.
    await meetingRow(bruno.page, "Launch plan").click();
    await ana.page.getByRole("button", { name: "Rename" }).click();
    await ana.page.getByLabel("Meeting title").fill("Launch plan (done)");
    await ana.page.getByRole("button", { name: "Save" }).click();
    await bruno.page.locator("[data-meeting-title]", { hasText: "Launch plan (done)" }).waitFor();
    await meetingRow(bruno.page, "Launch plan (done)").waitFor();
    assert.equal(await bruno.page.getByRole("button", { name: "Rename" }).count(), 0, "only the owner renames");
    await ana.page.getByRole("button", { name: "Archive" }).click();
    await bruno.page.getByPlaceholder("This meeting is archived").waitFor();
    assert.equal(await bruno.page.locator('[data-action="join-call"]').isDisabled(), true);

    // Bruno leaves the meeting: it leaves his list, and Ana sees him go.
    await bruno.page.getByRole("button", { name: "Leave meeting" }).click();
    await bruno.page.getByText("Pick a meeting on the left").waitFor();
    assert.equal(await meetingRow(bruno.page, "Launch plan (done)").count(), 0);
    await waitFor("Ana to see one member", async () => (await ana.page.locator(".member-chip").count()) === 1);

    assertNoConsoleErrors(ana, bruno);
    await ana.context.close();
    await bruno.context.close();
  });

  it("scrolling back loads older messages, and a message sent while the server is away arrives once", async () => {
    const cid = await stack.newUserContext();
    await cid.page.goto("/");
    await signUpHere(cid.page, { displayName: "Cid Nunes", username: "cid" });
    await cid.page.getByRole("heading", { name: "Hello, Cid Nunes" }).waitFor();
    await cid.page.goto("/meetings");
    await cid.page.getByRole("button", { name: "New meeting" }).click();
    await cid.page.getByLabel("Title").fill("Long thread");
    await cid.page.getByRole("button", { name: "Create", exact: true }).click();
    await cid.page.locator("[data-meeting-title]", { hasText: "Long thread" }).waitFor();

    // More than one page of history (the client asks for 50 at a time).
    for (let i = 1; i <= 60; i++) await send(cid.page, `note ${i}`);
    await messageText(cid.page, "note 60").waitFor();
    await waitFor("every note acknowledged", async () => (await cid.page.locator(".message[data-pending]").count()) === 0);
    await cid.page.reload();
    await messageText(cid.page, "note 60").waitFor();
    assert.equal(await messageText(cid.page, /^note 5$/).count(), 0, "only the newest page at first");
    await cid.page.locator(".chat-scroll").evaluate((el) => {
      el.scrollTop = 0;
    });
    await messageText(cid.page, /^note 1$/).waitFor();
    assert.equal(await cid.page.locator(".messages .message:not([data-system])").count(), 60);

    // The server goes away: the message waits as pending and is sent once the session is back.
    cid.console.ignore(/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/);
    const restarted = stack.restartParley();
    await cid.page.locator('[data-banner="reconnecting"]').waitFor();
    await send(cid.page, "written while offline");
    await cid.page.locator('.message[data-pending="sending"]', { hasText: "written while offline" }).waitFor();
    await restarted;
    await messageText(cid.page, "written while offline").waitFor({ timeout: 30_000 });
    await waitFor("the pending message to resolve", async () => (await cid.page.locator(".message[data-pending]").count()) === 0);
    await cid.page.reload();
    await messageText(cid.page, "written while offline").waitFor();
    assert.equal(await messageText(cid.page, "written while offline").count(), 1);
    assertNoConsoleErrors(cid);
    await cid.context.close();
  });
  it("Chat on a person opens the one direct chat; the other finds it under Chats with an unread badge and answers", async () => {
    const dina = await stack.newUserContext();
    await dina.page.goto("/");
    await signUpHere(dina.page, { displayName: "Dina Reis", username: "dina" });
    await dina.page.getByRole("heading", { name: "Hello, Dina Reis" }).waitFor();
    const eli = await stack.newUserContext();
    await eli.page.goto("/");
    await signUpHere(eli.page, { displayName: "Eli Nunes", username: "eli" });
    await eli.page.getByRole("heading", { name: "Hello, Eli Nunes" }).waitFor();

    // Dina finds Eli on People and opens a chat with him: titled with his name, without a meeting's controls.
    await dina.page.getByLabel("Search people").fill("nunes");
    await dina.page.getByRole("button", { name: "Chat with Eli Nunes" }).click();
    await dina.page.locator("[data-meeting-title]", { hasText: "Eli Nunes" }).waitFor();
    assert.equal(await dina.page.getByRole("button", { name: "Invite link" }).count(), 0);
    assert.equal(await dina.page.getByRole("button", { name: "Leave meeting" }).count(), 0);
    await send(dina.page, "hi Eli, a quick question");
    await messageText(dina.page, "hi Eli, a quick question").waitFor();

    // Eli sees it under Chats, unread, and answers.
    await eli.page.getByRole("link", { name: "Meetings", exact: true }).click();
    const row = eli.page.locator('[data-list="chats"] a.meeting-row[data-title="Dina Reis"][data-kind="direct"]');
    await row.waitFor();
    await waitFor("Eli's unread badge", async () => (await row.getAttribute("data-unread")) === "1");
    await row.click();
    await messageText(eli.page, "hi Eli, a quick question").waitFor();
    await send(eli.page, "sure, go ahead");
    await messageText(dina.page, "sure, go ahead").waitFor();

    // Opening it again from People, on either side, lands in the same chat.
    const chatPath = new URL(dina.page.url()).pathname;
    assert.equal(new URL(eli.page.url()).pathname, chatPath);
    await eli.page.getByRole("link", { name: "People", exact: true }).click();
    await eli.page.getByLabel("Search people").fill("dina");
    await eli.page.getByRole("button", { name: "Chat with Dina Reis" }).click();
    await eli.page.locator("[data-meeting-title]", { hasText: "Dina Reis" }).waitFor();
    assert.equal(new URL(eli.page.url()).pathname, chatPath);
    assert.equal(await eli.page.locator('[data-list="chats"] a.meeting-row').count(), 1);
    assertNoConsoleErrors(dina, eli);
    await dina.context.close();
    await eli.context.close();
  });
});
