// Issue 8 in the browser: signing in with Firebase. The real Firebase Auth emulator (firebase-tools, installed by
// scripts/test into signaling/src/test/emulator), redis-server, the real Parley server and Chromium all run inside
// one throwaway network namespace, so the Firebase SDK in the page can only ever reach the emulator.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  Teardown,
  checkPrerequisites,
  createNamespace,
  freePort,
  httpGetInNamespace,
  launchBrowser,
  newUserContext,
  repoRoot,
  startParley,
  startProcessInNamespace,
  startRedis,
  waitFor,
} from "./harness.mjs";

const emulatorCli = path.join(
  repoRoot,
  "signaling/src/test/emulator/node_modules/firebase-tools/lib/bin/firebase.js",
);
const project = "demo-parley";
const apiKey = "fake-api-key";

const grace = { email: "grace@example.com", password: "correct horse battery", displayName: "Grace Hopper" };

/**
 * The Firebase Auth emulator on free ports inside the namespace, ready once its config endpoint answers.
 * Returns the process plus {host, url, signUp(), disable()}; the teardown stops it (SIGTERM, then SIGKILL).
 */
async function startFirebaseAuthEmulator(namespace, teardown) {
  if (!existsSync(emulatorCli)) {
    const install = "npm ci --prefix signaling/src/test/emulator";
    throw new Error(`${path.relative(repoRoot, emulatorCli)} is missing: run \`${install}\``);
  }
  const dir = await mkdtemp(path.join(tmpdir(), "parley-firebase-"));
  teardown.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const port = await freePort(namespace);
  const host = "127.0.0.1";
  await writeFile(
    path.join(dir, "firebase.json"),
    JSON.stringify({
      emulators: {
        auth: { host, port },
        ui: { enabled: false },
        hub: { host, port: await freePort(namespace) },
        logging: { host, port: await freePort(namespace) },
      },
    }),
  );
  const handle = startProcessInNamespace(namespace, teardown, {
    name: `firebase-auth-emulator-${port}`,
    command: "node",
    args: [emulatorCli, "emulators:start", "--only", "auth", "--project", project],
    env: { FIREBASE_CLI_DISABLE_UPDATE_CHECK: "true", CI: "true", NO_UPDATE_NOTIFIER: "1", HOME: dir },
    cwd: dir,
  });
  const url = `http://${host}:${port}`;
  await waitFor(
    `the Firebase Auth emulator on ${url}`,
    async () => {
      if (!handle.isRunning()) throw new Error(`the emulator exited; its output:\n${handle.output()}`);
      return (await httpGetInNamespace(namespace, `${url}/emulator/v1/projects/${project}/config`)).status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  ).catch((error) => {
    throw new Error(`${error.message}\nemulator output:\n${handle.output()}`);
  });

  const identityToolkit = `${url}/identitytoolkit.googleapis.com/v1`;
  return {
    ...handle,
    host: `${host}:${port}`,
    url,
    /** Creates an email/password user, as a site's existing Firebase users would be; returns its localId. */
    signUp: async ({ email, password, displayName }) =>
      (await postInNamespace(namespace, `${identityToolkit}/accounts:signUp?key=${apiKey}`, {
        email,
        password,
        displayName,
        returnSecureToken: true,
      })).localId,
    /** Disables a user, as an administrator would in the Firebase console. */
    disable: (localId) =>
      postInNamespace(
        namespace,
        `${identityToolkit}/projects/${project}/accounts:update`,
        { localId, disableUser: true },
        { Authorization: "Bearer owner" },
      ),
  };
}

/** POSTs JSON from inside the namespace with curl; resolves with the JSON answer, rejects on a non-200. */
async function postInNamespace(namespace, url, body, headers = {}) {
  const headerArgs = Object.entries({ "Content-Type": "application/json", ...headers })
    .flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const { stdout } = await namespace.exec("curl", [
    "-sS", "-m", "5", "-w", "\n%{http_code}", ...headerArgs, "--data-binary", JSON.stringify(body), url,
  ]);
  const cut = stdout.lastIndexOf("\n");
  const status = Number(stdout.slice(cut + 1));
  if (status !== 200) throw new Error(`POST ${url} answered ${status}: ${stdout.slice(0, cut)}`);
  return JSON.parse(stdout.slice(0, cut));
}

/** Every URL the pages of a context request, to check where the page talked. */
function recordRequests(context) {
  const urls = [];
  context.on("request", (request) => urls.push(request.url()));
  return urls;
}

async function signInWithEmail(page, { email, password }) {
  await page.goto("/signin");
  const form = page.getByRole("form", { name: "Sign in with email" });
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Sign in with email" }).click();
}

async function homeShows(page, displayName) {
  await page.getByRole("heading", { name: `Hello, ${displayName}` }).waitFor();
}

async function formError(page, formName) {
  const alert = page.getByRole("form", { name: formName }).getByRole("alert");
  await alert.waitFor();
  return alert.innerText();
}

describe("signing in with Firebase", () => {
  const teardown = new Teardown();
  let namespace;
  let emulator;
  let redis;
  let parley;
  let browser;

  before(async () => {
    checkPrerequisites();
    try {
      namespace = await createNamespace(teardown);
      emulator = await startFirebaseAuthEmulator(namespace, teardown);
      redis = await startRedis(namespace, teardown);
      parley = await startParley(namespace, teardown, { redisUri: redis.uri, env: firebaseEnv("local,firebase") });
      browser = await launchBrowser(namespace, teardown);
      await emulator.signUp(grace);
    } catch (error) {
      await teardown.close().catch(() => undefined);
      throw error;
    }
  });

  after(async () => {
    await teardown.close();
    assert.equal(emulator?.isRunning() ?? false, false, "the emulator is still running");
  });

  function firebaseEnv(providers) {
    return {
      PARLEY_AUTH_PROVIDERS: providers,
      PARLEY_FIREBASE_PROJECT_ID: project,
      PARLEY_FIREBASE_WEB_API_KEY: apiKey,
      FIREBASE_AUTH_EMULATOR_HOST: emulator.host,
    };
  }

  it("offers Google, email and username sign-in when the server has both providers on", async () => {
    const user = await newUserContext(browser, parley.baseUrl);
    await user.page.goto("/signin");

    await user.page.getByRole("button", { name: "Sign in with Google" }).waitFor();
    await user.page.getByRole("form", { name: "Sign in with email" }).waitFor();
    await user.page.getByRole("form", { name: "Sign in", exact: true }).getByLabel("Username").waitFor();
    assert.deepEqual(user.console.errors, []);
    await user.context.close();
  });

  it("signs in with email and password through Firebase and reaches the home screen", async () => {
    const user = await newUserContext(browser, parley.baseUrl);
    const requests = recordRequests(user.context);

    await signInWithEmail(user.page, grace);

    await homeShows(user.page, grace.displayName);
    assert.equal(new URL(user.page.url()).pathname, "/");
    assert.equal(await user.page.locator("[data-self-name]").innerText(), grace.displayName);
    // Kept like a local sign-in's, so a reload stays signed in without Firebase.
    const stored = JSON.parse(await user.page.evaluate(() => localStorage.getItem("parley.auth")));
    assert.equal(stored.user.displayName, grace.displayName);
    await user.page.reload();
    await homeShows(user.page, grace.displayName);

    const askedEmulator = requests.some((url) => url.startsWith(`${emulator.url}/identitytoolkit.googleapis.com/`));
    assert.ok(askedEmulator, "asked the emulator");
    assert.ok(requests.includes(`${parley.baseUrl}/api/auth/firebase`), "exchanged the ID token with Parley");
    const elsewhere = requests.filter(
      (url) => !url.startsWith(`${parley.baseUrl}/`) && !url.startsWith(`${emulator.url}/`),
    );
    assert.deepEqual(elsewhere, [], "requests to neither Parley nor the emulator");
    assert.deepEqual(user.console.errors, []);
    await user.context.close();
  });

  it("says so when the password is wrong, and stays on the sign-in page", async () => {
    const user = await newUserContext(browser, parley.baseUrl);

    await signInWithEmail(user.page, { email: grace.email, password: "not the password" });

    assert.equal(await formError(user.page, "Sign in with email"), "That email and password don't match an account.");
    assert.equal(new URL(user.page.url()).pathname, "/signin");
    assert.equal(await user.page.evaluate(() => localStorage.getItem("parley.auth")), null);
    await user.context.close();
  });

  it("tells a person whose Firebase account is disabled", async () => {
    const alan = { email: "alan@example.com", password: "enigma machine", displayName: "Alan Turing" };
    await emulator.disable(await emulator.signUp(alan));
    const user = await newUserContext(browser, parley.baseUrl);

    await signInWithEmail(user.page, alan);

    assert.match(await formError(user.page, "Sign in with email"), /account has been disabled/);
    await user.context.close();
  });

  it("creates an account with email through Firebase, named as the person asked", async () => {
    const user = await newUserContext(browser, parley.baseUrl);
    await user.page.goto("/signup");
    const form = user.page.getByRole("form", { name: "Create account with email" });

    await form.getByLabel("Your name").fill("Ada Lovelace");
    await form.getByLabel("Email").fill("ada@example.com");
    await form.getByLabel("Password").fill("analytical engine");
    await form.getByRole("button", { name: "Create account with email" }).click();

    await homeShows(user.page, "Ada Lovelace");
    assert.deepEqual(user.console.errors, []);
    await user.context.close();
  });

  it("offers only what the server has on: no username form with Firebase alone, no SDK without it", async () => {
    // Two more servers beside the first: their embedded media servers need ports of their own.
    const ownPorts = { PARLEY_MEDIA_UDP_PORT: "0", PARLEY_MEDIA_HTTP_PORT: "0" };
    const firebaseOnly = await startParley(namespace, teardown, {
      redisUri: redis.uri,
      env: { ...firebaseEnv("firebase"), ...ownPorts },
    });
    const localOnly = await startParley(namespace, teardown, {
      redisUri: redis.uri,
      env: { PARLEY_AUTH_PROVIDERS: "local", ...ownPorts },
    });

    const onFirebase = await newUserContext(browser, firebaseOnly.baseUrl);
    const firebaseRequests = recordRequests(onFirebase.context);
    await onFirebase.page.goto("/signin");
    await onFirebase.page.getByRole("form", { name: "Sign in with email" }).waitFor();
    assert.equal(await onFirebase.page.getByLabel("Username").count(), 0);
    await waitFor("the Firebase SDK to be fetched", () => firebaseRequests.some(isFirebaseChunk), {
      timeoutMs: 10_000,
    });

    const onLocal = await newUserContext(browser, localOnly.baseUrl);
    const localRequests = recordRequests(onLocal.context);
    await onLocal.page.goto("/signin");
    await onLocal.page.getByRole("form", { name: "Sign in", exact: true }).waitFor();
    await onLocal.page.waitForLoadState("networkidle");
    assert.equal(await onLocal.page.getByRole("button", { name: "Sign in with Google" }).count(), 0);
    assert.equal(await onLocal.page.getByRole("form", { name: "Sign in with email" }).count(), 0);
    assert.deepEqual(localRequests.filter(isFirebaseChunk), []);

    assert.deepEqual([...onFirebase.console.errors, ...onLocal.console.errors], []);
    await onFirebase.context.close();
    await onLocal.context.close();
    await localOnly.stop();
    await firebaseOnly.stop();
  });
});

// Vite names a dynamically imported chunk after its module: auth/firebaseSdk.ts becomes assets/firebaseSdk-HASH.js.
function isFirebaseChunk(url) {
  return /\/assets\/firebaseSdk-[^/]+\.js$/.test(new URL(url).pathname);
}
