// A join the server refuses, in the browser: the media server holds one conference at most, one meeting's call
// takes it, and someone joining another meeting's call is told why at once and offered Retry (never left on
// "joining"), then gets in with Retry once the first call has ended. Real Chromium, the real Parley server with
// its embedded media server and real redis-server, inside a namespace holding only `lo`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loopbackCallSettings, startParleyStack } from "./harness.mjs";
import { assertNoConsoleErrors, createMeeting, joinCall, signUp } from "./pages.mjs";

describe("a refused join", () => {
  let stack;

  before(async () => {
    stack = await startParleyStack({
      parleyEnv: loopbackCallSettings().env,
      javaOptions: ["-Dparley.media.max-conferences=1"],
    });
  });

  after(async () => {
    await stack?.close();
  });

  it("says why the media server refused, offers Retry, and Retry joins once there is room", async () => {
    const ann = await stack.newUserContext();
    const ben = await stack.newUserContext();
    await signUp(ann, "Ann Lima", "ann");
    await signUp(ben, "Ben Rosa", "ben");
    await createMeeting(ann.page, "First call");
    await joinCall(ann.page);

    await createMeeting(ben.page, "Second call");
    await ben.page.locator('[data-action="join-call"]').click();
    const failure = ben.page.locator('[data-call-failure="server"]');
    await failure.waitFor({ timeout: 15_000 });
    assert.match(await failure.innerText(), /The media server is full; try again later/);
    assert.equal(await ben.page.locator('.call-stage[data-call-phase="joining"]').count(), 0, "not left joining");
    const retry = ben.page.getByRole("button", { name: "Retry" });
    assert.equal(await retry.count(), 1);

    // Still full: Retry is refused again, with the same words.
    await retry.click();
    await ben.page.locator('.call-stage[data-call-phase="failed"]').waitFor({ timeout: 15_000 });
    assert.match(await failure.innerText(), /media server is full/);

    await ann.page.locator('[data-action="leave-call"]').click();
    await ann.page.locator(".call-stage").waitFor({ state: "detached" });
    await retry.click();
    await ben.page.locator('.call-stage[data-call-phase="connected"]').waitFor({ timeout: 30_000 });
    await ben.page.locator('[data-action="leave-call"]').click();
    assertNoConsoleErrors(ann, ben);
    await ann.context.close();
    await ben.context.close();
  });
});
