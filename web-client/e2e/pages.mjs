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

/** Joins the open meeting's call and waits until its media is connected. */
export async function joinCall(page) {
  await page.locator('[data-action="join-call"]').click();
  await page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
}

export function assertNoConsoleErrors(...users) {
  for (const user of users) assert.deepEqual(user.console.errors, [], "console errors in the browser");
}
