// Throwaway network namespaces and the processes a test runs inside them, shared by the browser end-to-end tests
// (web-client/e2e) and the interop tests (interop/). Plain Node, no dependencies.
//
// Everything started is registered with a Teardown and stopped in reverse order, also on failure; a
// last-resort hook kills what is left (by PID) and deletes the namespaces if the process is interrupted.
import { execFile, spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------------
// Teardown

const liveNamespaces = new Set();
const livePids = new Set();

/** A stack of clean-up steps, run last-in first-out; every step runs even if an earlier one fails. */
export class Teardown {
  #steps = [];

  /** Registers `step` (async or not) to run at close(); returns `step`'s label for logs. */
  defer(label, step) {
    this.#steps.push({ label, step });
  }

  async close() {
    const failures = [];
    while (this.#steps.length > 0) {
      const { label, step } = this.#steps.pop();
      try {
        await step();
      } catch (error) {
        failures.push(`${label}: ${error?.message ?? error}`);
      }
    }
    if (failures.length > 0) throw new Error(`clean-up failed:\n${failures.join("\n")}`);
  }
}

// If the test process is interrupted, Teardown never runs: kill what is left by PID and drop namespaces.
function lastResortCleanup() {
  for (const pid of livePids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  livePids.clear();
  for (const name of liveNamespaces) {
    spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
  }
  liveNamespaces.clear();
}

process.once("exit", lastResortCleanup);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    lastResortCleanup();
    process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
  });
}

// ---------------------------------------------------------------------------------------------------
// Waiting

/** Polls `check` until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function waitFor(what, check, { timeoutMs = 30_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Whether `tool` is a command on PATH. */
export function onPath(tool) {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

// ---------------------------------------------------------------------------------------------------
// Network namespace

/**
 * Creates a network namespace holding only `lo` (up), registered for removal with `teardown`.
 * Returns { name, exec(command, args) → {stdout, stderr}, remove() }.
 */
export async function createNamespace(teardown, { prefix = "parley-e2e" } = {}) {
  await removeStaleNamespaces(prefix);
  const name = `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await execFileAsync("ip", ["netns", "add", name]);
  liveNamespaces.add(name);
  const namespace = {
    name,
    /** Runs a command inside the namespace and resolves with its output; rejects on a non-zero exit. */
    exec: (command, args = [], options = {}) =>
      execFileAsync("ip", ["netns", "exec", name, command, ...args], { timeout: 15_000, ...options }),
    remove: async () => {
      if (!liveNamespaces.has(name)) return;
      // Anything still running in it was started by this run: stop it by PID before removing.
      const { stdout } = await execFileAsync("ip", ["netns", "pids", name]).catch(() => ({ stdout: "" }));
      for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await execFileAsync("ip", ["netns", "del", name]);
      liveNamespaces.delete(name);
    },
  };
  teardown.defer(`remove namespace ${name}`, namespace.remove);
  await namespace.exec("ip", ["link", "set", "lo", "up"]);
  return namespace;
}

/**
 * Removes namespaces left by a run that was killed outright (its PID is gone), with what runs in them: those named
 * `${prefix}-<pid>-<random>`, or `${prefix}-<role>-<pid>-<random>` with `{ withRole: true }`.
 */
export async function removeStaleNamespaces(prefix, { withRole = false } = {}) {
  const pattern = new RegExp(`^${prefix}-${withRole ? "[a-z0-9]+-" : ""}(\\d+)-[a-z0-9]+$`);
  const { stdout } = await execFileAsync("ip", ["netns", "list"]).catch(() => ({ stdout: "" }));
  for (const line of stdout.split("\n")) {
    const name = line.split(" ")[0];
    const match = name?.match(pattern);
    if (!match || isAlive(Number(match[1]))) continue;
    const pids = await execFileAsync("ip", ["netns", "pids", name]).catch(() => ({ stdout: "" }));
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await execFileAsync("ip", ["netns", "del", name]).catch(() => undefined);
  }
}

/** Names of this process's namespaces with `prefix` that still exist (tests check none is left after teardown). */
export async function namespacesOfThisProcess(prefix) {
  const { stdout } = await execFileAsync("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter((name) => name?.startsWith(`${prefix}-`) && name.includes(`-${process.pid}-`));
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const handedOutPorts = new Set();

/** A TCP port nothing listens on inside the namespace (the namespace is fresh, so this is cheap). */
export async function freePort(namespace) {
  const { stdout } = await namespace.exec("ss", ["-Htlnu"]);
  const used = new Set([...stdout.matchAll(/:(\d+)\s/g)].map((m) => Number(m[1])));
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const key = `${namespace.name}:${port}`;
    if (!used.has(port) && !handedOutPorts.has(key)) {
      handedOutPorts.add(key);
      return port;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Processes

/**
 * Starts `command args` inside the namespace. `ip netns exec` execs the command, so the PID recorded is
 * the command's own. Output goes to <logDir>/<name>.log and is kept in memory for error messages;
 * `onOutput(stream, chunk)`, if given, also sees each chunk ("stdout" or "stderr").
 * Returns { name, pid, exited (promise of {code, signal}), closed (the same, once its output has all been
 * read), output(), stop({ timeoutMs }) }.
 */
export function startProcessInNamespace(namespace, teardown, { name, command, args = [], env = {}, cwd, logDir, onOutput }) {
  mkdirSync(logDir, { recursive: true });
  const logPath = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logPath, { flags: "a" });
  const child = spawn("ip", ["netns", "exec", namespace.name, command, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${command})`);
  livePids.add(pid);
  let output = "";
  const keep = (stream) => (chunk) => {
    log.write(chunk);
    output = (output + chunk.toString()).slice(-20_000);
    onOutput?.(stream, chunk);
  };
  child.stdout.on("data", keep("stdout"));
  child.stderr.on("data", keep("stderr"));
  let running = true;
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      running = false;
      livePids.delete(pid);
      resolve({ code, signal });
    });
  });
  // Output can still arrive after "exit": the log is closed once the pipes are.
  const closed = new Promise((resolve) =>
    child.once("close", (code, signal) => {
      log.end();
      resolve({ code, signal });
    }),
  );
  const handle = {
    name,
    pid,
    logPath,
    exited,
    closed,
    isRunning: () => running,
    output: () => output,
    /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
    stop: async ({ timeoutMs = 10_000 } = {}) => {
      if (!running) return exited;
      process.kill(pid, "SIGTERM");
      const timer = setTimeout(() => running && process.kill(pid, "SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  teardown.defer(`stop ${name} (pid ${pid})`, () => handle.stop());
  return handle;
}
