// Changing the password in the browser: the tab that changes it stays signed in on its open socket, every other
// sign-in of the user ends, and only the new password signs in afterwards.
// Real redis-server, the real Parley server and Chromium, inside a namespace holding only `lo`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startParleyStack } from "./harness.mjs";
import { assertNoConsoleErrors, createMeeting, signUp, testPassword } from "./pages.mjs";

const newPassword = "purple staple engine";

async function send(page, text) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
}

function acknowledged(page, text) {
  return page.locator(".messages .message:not([data-pending]) .message-text", { hasText: text });
}

/** Signs in over the REST API from the page's origin; the answer's status and error code. */
async function loginStatus(page, username, password) {
  return page.evaluate(
    async ({ username, password }) => {
      const response = await fetch("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      const body = await response.json().catch(() => ({}));
      return { status: response.status, code: body.error?.code ?? null };
    },
    { username, password },
  );
}

describe("changing the password", () => {
  let stack;

  before(async () => {
    stack = await startParleyStack();
  });

  after(async () => {
    await stack?.close();
  });

  it("keeps this tab signed in and working, ends the other sign-ins, and only the new password signs in", async () => {
    const laptop = await stack.newUserContext();
    await signUp(laptop, "Kim Sousa", "kim");
    await createMeeting(laptop.page, "Planning");
    await send(laptop.page, "Before the change");
    await acknowledged(laptop.page, "Before the change").waitFor();

    // A second browser signed in as the same user: while the laptop's tab is open it meets the single-session rule,
    // holding a sign-in of its own.
    const phone = await stack.newUserContext();
    await phone.page.goto("/signin");
    await phone.page.getByLabel("Username").fill("kim");
    await phone.page.getByLabel("Password").fill(testPassword);
    await phone.page.getByRole("button", { name: "Sign in" }).click();
    await phone.page.locator('[data-screen="active-session"]').waitFor();
    const phoneToken = await phone.page.evaluate(() => JSON.parse(localStorage.getItem("parley.auth")).token);

    const before = await laptop.page.evaluate(() => ({
      token: JSON.parse(localStorage.getItem("parley.auth")).token,
      sessionId: sessionStorage.getItem("parley.sessionId"),
    }));

    // Mistakes are explained next to their field, and nothing changes. (Chromium logs the refused request.)
    laptop.console.ignore(/status of 403/);
    await laptop.page.getByRole("button", { name: "Change password" }).click();
    const dialog = laptop.page.locator("[data-change-password]");
    await dialog.getByLabel("Current password").fill("not my password");
    await dialog.getByLabel("New password", { exact: true }).fill(newPassword);
    await dialog.getByLabel("New password again").fill("purple staple engin");
    await dialog.getByRole("button", { name: "Change password" }).click();
    await dialog.getByText("The two new passwords don't match.").waitFor();
    await dialog.getByLabel("New password again").fill(newPassword);
    await dialog.getByRole("button", { name: "Change password" }).click();
    await dialog.getByText("That isn't your current password.").waitFor();

    await dialog.getByLabel("Current password").fill(testPassword);
    await dialog.getByRole("button", { name: "Change password" }).click();
    await dialog.getByText("Your password was changed.").waitFor();
    await dialog.getByRole("button", { name: "Done" }).click();

    // This tab stores the fresh token, keeps its session, and goes on working on the same socket.
    const afterChange = await laptop.page.evaluate(() => ({
      token: JSON.parse(localStorage.getItem("parley.auth")).token,
      sessionId: sessionStorage.getItem("parley.sessionId"),
    }));
    assert.notEqual(afterChange.token, before.token, "the fresh token is stored");
    assert.equal(afterChange.sessionId, before.sessionId, "the same session goes on");
    await send(laptop.page, "After the change");
    await acknowledged(laptop.page, "After the change").waitFor();
    assert.equal(await laptop.page.locator('[data-banner="reconnecting"]').count(), 0);
    assert.equal(new URL(laptop.page.url()).pathname.startsWith("/meetings"), true);

    // Every other sign-in ended: the phone's token is refused, and trying again returns it to sign-in.
    const phoneMe = await phone.page.evaluate(
      async (token) => (await fetch("/api/me", { headers: { Authorization: `Bearer ${token}` } })).status,
      phoneToken,
    );
    assert.equal(phoneMe, 401, "the other browser's token is revoked");
    await phone.page.getByRole("button", { name: "Retry" }).click();
    await phone.page.getByRole("heading", { name: "Sign in" }).waitFor();

    // The old password no longer signs in; the new one does.
    assert.deepEqual(await loginStatus(phone.page, "kim", testPassword), { status: 401, code: "auth.invalid" });
    assert.equal((await loginStatus(phone.page, "kim", newPassword)).status, 200);

    // After signing out here, the phone signs in with the new password and reads the chat.
    await laptop.page.getByRole("button", { name: "Sign out", exact: true }).click();
    await laptop.page.getByRole("heading", { name: "Sign in" }).waitFor();
    await phone.page.getByLabel("Username").fill("kim");
    await phone.page.getByLabel("Password").fill(newPassword);
    await phone.page.getByRole("button", { name: "Sign in" }).click();
    await phone.page.getByRole("heading", { name: "Hello, Kim Sousa" }).waitFor({ timeout: 45_000 });

    assertNoConsoleErrors(laptop);
    await laptop.context.close();
    await phone.context.close();
  });
});
