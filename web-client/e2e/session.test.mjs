// Issue 2 in the browser: accounts, who is online, and one live session per user.
// Real redis-server, the real Parley server (with a short session lock) and Chromium, inside a namespace.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { silenceOpenWebSockets, startParleyStack, waitFor } from "./harness.mjs";
import { createMeeting } from "./pages.mjs";

const activeSessionText =
  "Parley is already open for you in another tab or on another device. Close it there, or wait — " +
  "a session that stopped answering is released within 30 seconds.";

const password = "correct horse battery";

async function signUp(page, { displayName, username }) {
  await page.goto("/");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Your name").fill(displayName);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
}

async function signIn(page, username) {
  await page.goto("/signin");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function homeShows(page, displayName) {
  await page.getByRole("heading", { name: `Hello, ${displayName}` }).waitFor();
}

function personRow(page, username) {
  return page.locator(`li.person[data-username="${username}"]`);
}

async function seesAs(page, username, status) {
  await page.locator(`li.person[data-username="${username}"][data-status="${status}"]`).waitFor({ timeout: 15_000 });
}

function assertNoConsoleErrors(...users) {
  for (const user of users) assert.deepEqual(user.console.errors, [], "console errors in the browser");
}

// Records whether the active-session screen ever appeared in a page, across reloads.
async function recordActiveSessionScreen(context) {
  await context.addInitScript(() => {
    const check = () => {
      if (document.querySelector('[data-screen="active-session"]')) sessionStorage.setItem("e2e.sawActiveSession", "1");
    };
    new MutationObserver(check).observe(document, { childList: true, subtree: true });
  });
}

describe("accounts, presence and the single-session rule", () => {
  let stack;

  before(async () => {
    stack = await startParleyStack({
      parleyEnv: { PARLEY_SESSION_LOCK_TTL: "5s", PARLEY_SESSION_HEARTBEAT: "2s" },
    });
  });

  after(async () => {
    await stack?.close();
  });

  it("a new user signs up in the browser and lands on the home screen", async () => {
    const ana = await stack.newUserContext();
    await signUp(ana.page, { displayName: "Ana Lima", username: "ana" });

    await homeShows(ana.page, "Ana Lima");
    assert.equal(new URL(ana.page.url()).pathname, "/");
    assert.equal(await ana.page.locator("[data-self-name]").innerText(), "Ana Lima");
    await seesAs(ana.page, "ana", "online");
    assert.match(await personRow(ana.page, "ana").innerText(), /You/);
    assertNoConsoleErrors(ana);
    await ana.context.close();
  });

  it("two signed-in users each see the other online, and offline after signing out", async () => {
    const carla = await stack.newUserContext();
    await signUp(carla.page, { displayName: "Carla Mendes", username: "carla" });
    await homeShows(carla.page, "Carla Mendes");
    await carla.page.getByRole("button", { name: "Sign out", exact: true }).click();
    await carla.page.getByRole("heading", { name: "Sign in" }).waitFor();

    const bruno = await stack.newUserContext();
    await signUp(bruno.page, { displayName: "Bruno Costa", username: "bruno" });
    await homeShows(bruno.page, "Bruno Costa");
    // Presence is shared between people who share a meeting.
    await createMeeting(bruno.page, "Catch-up");
    await bruno.page.getByRole("button", { name: "Add member" }).click();
    await bruno.page.getByLabel("Add someone by username").fill("carla");
    await bruno.page.getByRole("button", { name: "Add", exact: true }).click();
    await bruno.page.getByText("@carla was added.").waitFor();
    await bruno.page.getByRole("link", { name: "People", exact: true }).click();
    await homeShows(bruno.page, "Bruno Costa");
    await seesAs(bruno.page, "carla", "offline");

    await signIn(carla.page, "carla");
    await homeShows(carla.page, "Carla Mendes");
    await seesAs(carla.page, "bruno", "online");
    await seesAs(bruno.page, "carla", "online");

    await carla.page.getByRole("button", { name: "Sign out", exact: true }).click();
    await seesAs(bruno.page, "carla", "offline");
    assertNoConsoleErrors(carla, bruno);
    await carla.context.close();
    await bruno.context.close();
  });

  it("a second tab of the same user is told Parley is open elsewhere, and gets in once the first tab is gone", async () => {
    const firstTab = await stack.newUserContext();
    await signUp(firstTab.page, { displayName: "Dora Reis", username: "dora" });
    await homeShows(firstTab.page, "Dora Reis");

    const secondTab = await stack.newUserContext();
    await signIn(secondTab.page, "dora");
    const notice = secondTab.page.locator('[data-screen="active-session"]');
    await notice.waitFor();
    assert.equal(await secondTab.page.locator("#session-notice-text").innerText(), activeSessionText);
    assert.equal(await secondTab.page.getByRole("button", { name: "Retry" }).isVisible(), true);

    // While the first tab is open, retrying is refused again and says so.
    await secondTab.page.getByRole("button", { name: "Retry" }).click();
    await secondTab.page.getByText("Still open elsewhere. Try again in a few seconds.").waitFor();
    await homeShows(firstTab.page, "Dora Reis");

    await firstTab.context.close();
    await waitFor(
      "the second tab to get in after the first closed",
      async () => {
        if (await secondTab.page.getByRole("heading", { name: "Hello, Dora Reis" }).isVisible()) return true;
        const retry = secondTab.page.getByRole("button", { name: "Retry" });
        if (await retry.isEnabled().catch(() => false)) await retry.click();
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    await seesAs(secondTab.page, "dora", "online");
    assertNoConsoleErrors(firstTab, secondTab);
    await secondTab.context.close();
  });

  it("reloading a tab resumes its session at once, without the active-session screen", async () => {
    const erin = await stack.newUserContext();
    await recordActiveSessionScreen(erin.context);
    await signUp(erin.page, { displayName: "Erin Sousa", username: "erin" });
    await homeShows(erin.page, "Erin Sousa");
    const firstSession = await erin.page.evaluate(() => sessionStorage.getItem("parley.sessionId"));
    assert.ok(firstSession, "the tab keeps its session id");

    for (let i = 0; i < 3; i++) {
      await erin.page.reload();
      await homeShows(erin.page, "Erin Sousa");
      await seesAs(erin.page, "erin", "online");
    }
    assert.equal(await erin.page.evaluate(() => sessionStorage.getItem("e2e.sawActiveSession")), null);
    assert.equal(await erin.page.locator('[data-screen="active-session"]').count(), 0);
    assertNoConsoleErrors(erin);
    await erin.context.close();
  });

  it("reloading a tab whose connection went silent takes its session back at once", async () => {
    const gil = await stack.newUserContext();
    await recordActiveSessionScreen(gil.context);
    await signUp(gil.page, { displayName: "Gil Matos", username: "gil" });
    await homeShows(gil.page, "Gil Matos");

    // The server never hears the old socket close, so it still holds the lock when the page comes back.
    const silence = await silenceOpenWebSockets(stack.namespace, stack.teardown, { port: stack.parley.port });
    await gil.page.reload();
    await homeShows(gil.page, "Gil Matos");
    await seesAs(gil.page, "gil", "online");
    assert.equal(await gil.page.evaluate(() => sessionStorage.getItem("e2e.sawActiveSession")), null);
    await silence.restore();
    assertNoConsoleErrors(gil);
    await gil.context.close();
  });

  it("a tab whose session is taken over by a copy of it says it was opened elsewhere", async () => {
    const original = await stack.newUserContext();
    await signUp(original.page, { displayName: "Hugo Pires", username: "hugo" });
    await homeShows(original.page, "Hugo Pires");

    // A duplicated tab carries the original's storage, session id included, and so resumes its session.
    const stored = await original.page.evaluate(() => ({
      auth: localStorage.getItem("parley.auth"),
      sessionId: sessionStorage.getItem("parley.sessionId"),
    }));
    const copy = await stack.newUserContext();
    await copy.context.addInitScript(({ auth, sessionId }) => {
      if (!sessionStorage.getItem("parley.sessionId")) sessionStorage.setItem("parley.sessionId", sessionId);
      localStorage.setItem("parley.auth", auth);
    }, stored);
    await copy.page.goto("/");
    await homeShows(copy.page, "Hugo Pires");

    await original.page.getByRole("heading", { name: "Parley was opened somewhere else" }).waitFor();
    await original.page.getByRole("button", { name: "Retry" }).click();
    await original.page.getByText("Still open elsewhere. Try again in a few seconds.").waitFor();
    await homeShows(copy.page, "Hugo Pires");
    assertNoConsoleErrors(original, copy);
    await original.context.close();
    await copy.context.close();
  });

  it("a second tab in the same browser shares the sign-in, meets the single-session rule, and signs out with the first", async () => {
    const browser = await stack.newUserContext();
    await signUp(browser.page, { displayName: "Ines Rocha", username: "ines" });
    await homeShows(browser.page, "Ines Rocha");

    const secondTab = await browser.context.newPage();
    await secondTab.goto("/");
    await secondTab.locator('[data-screen="active-session"]').waitFor();
    assert.equal(await secondTab.locator("#session-notice-text").innerText(), activeSessionText);

    await browser.page.getByRole("button", { name: "Sign out", exact: true }).click();
    await browser.page.getByRole("heading", { name: "Sign in" }).waitFor();
    await secondTab.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(new URL(secondTab.url()).pathname, "/signin");
    assertNoConsoleErrors(browser);
    await browser.context.close();
  });

  it("signing out everywhere, from another device or with the button, returns the open tab to sign-in and says why", async () => {
    const laptop = await stack.newUserContext();
    await signUp(laptop.page, { displayName: "Jon Alves", username: "jon" });
    await homeShows(laptop.page, "Jon Alves");

    // Another device signs in with the same account and signs out everywhere.
    const phone = await stack.newUserContext();
    await phone.page.goto("/signin");
    const status = await phone.page.evaluate(async (secret) => {
      const json = { "Content-Type": "application/json" };
      const login = await fetch("/api/auth/login", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ username: "jon", password: secret }),
      });
      const { token } = await login.json();
      const out = await fetch("/api/auth/logout-everywhere", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
      });
      return out.status;
    }, password);
    assert.equal(status, 204);
    await laptop.page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.match(await laptop.page.locator(".notice").innerText(), /signed out everywhere/);

    await signIn(laptop.page, "jon");
    await homeShows(laptop.page, "Jon Alves");
    laptop.page.once("dialog", (dialog) => dialog.accept());
    await laptop.page.getByRole("button", { name: "Sign out everywhere" }).click();
    await laptop.page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.match(await laptop.page.locator(".notice").innerText(), /every device/);
    assertNoConsoleErrors(laptop, phone);
    await laptop.context.close();
    await phone.context.close();
  });

  it("a search on People asks the server and finds someone by a word of their name, then the list is back", async () => {
    // (Signing in: this stack allows only so many sign-ups from one address.)
    const gil = await stack.newUserContext();
    await signIn(gil.page, "ana");
    await homeShows(gil.page, "Ana Lima");
    const searches = [];
    gil.page.on("request", (request) => {
      if (request.url().includes("/api/users?q=")) searches.push(new URL(request.url()).searchParams.get("q"));
    });
    await gil.page.getByLabel("Search people").fill("mend");
    // Carla Mendes matches by a word of her name; nobody else does.
    await personRow(gil.page, "carla").waitFor();
    await waitFor("only the match listed", async () => (await gil.page.locator("li.person").count()) === 1, { timeoutMs: 10_000 });
    assert.ok(searches.includes("mend"), `the server was asked: ${JSON.stringify(searches)}`);
    await gil.page.getByLabel("Search people").fill("nobody-by-this-name");
    await gil.page.getByText("Nobody matches “nobody-by-this-name”.").waitFor();
    await gil.page.getByLabel("Search people").fill("");
    await personRow(gil.page, "bruno").waitFor();
    assertNoConsoleErrors(gil);
    await gil.context.close();
  });

  it("shows a reconnecting banner while the server is away and resumes when it is back", async () => {
    const fay = await stack.newUserContext();
    await recordActiveSessionScreen(fay.context);
    await signUp(fay.page, { displayName: "Fay Nunes", username: "fay" });
    await homeShows(fay.page, "Fay Nunes");

    // While the server is down Chromium itself logs each refused reconnect; those are expected here.
    fay.console.ignore(/WebSocket connection to .* failed/);
    await stack.parley.stop();
    await fay.page.getByText("Connection lost. Reconnecting…").waitFor();
    await stack.restartParley();
    await fay.page.locator('[data-banner="reconnecting"]').waitFor({ state: "detached", timeout: 30_000 });
    await homeShows(fay.page, "Fay Nunes");
    await seesAs(fay.page, "fay", "online");
    assert.equal(await fay.page.evaluate(() => sessionStorage.getItem("e2e.sawActiveSession")), null);
    assertNoConsoleErrors(fay);
    await fay.context.close();
  });
});
