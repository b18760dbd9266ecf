// What every Node stack client of the interop suite shares (see interop/README.md for the contract): the
// command line, the JSON-lines events on stdout, the WHIP/WHEP HTTP exchange (POST the complete offer with the
// token, resolve Location, DELETE at the end) and the lifetime (--seconds, SIGTERM, timeouts).
//
// A client calls runClient() with its capabilities and two handlers; a handler sets up its peer connection,
// gathers every candidate, hands the offer to `session.exchange(sdp)` (which answers with the server's SDP),
// applies the answer and calls `session.connected()` once ICE and DTLS are up. runClient does the rest.

/** Where a session must be connected (ICE and DTLS up) or fail. */
export const CONNECT_TIMEOUT_MS = 20_000;
/** Each HTTP request to the server. */
export const HTTP_TIMEOUT_MS = 10_000;
/** Closing the stack's peer connection at the end. */
export const CLOSE_TIMEOUT_MS = 5_000;
export const DEFAULT_SECONDS = 20;
export const VIDEO_CODECS = ["vp8", "h264"];

/** fetch() with a time limit, and the network's own reason in the message (fetch's says only "fetch failed"). */
async function request(url, init) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`${init.method} ${url} failed: ${error.cause?.message ?? error.message}`);
  }
}

/** Writes one event as a JSON line on stdout; logs go to stderr. */
export function emit(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

export function log(...parts) {
  process.stderr.write(`${new Date().toISOString()} ${parts.join(" ")}\n`);
}

/**
 * Parses `capabilities` or `publish|play --url URL [--token T] [--video vp8|h264] [--seconds N]`.
 * Throws a usage message on anything else.
 */
export function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === "capabilities") {
    if (rest.length > 0) throw new Error(`capabilities takes no options (got ${rest.join(" ")})`);
    return { command };
  }
  if (command !== "publish" && command !== "play") {
    throw new Error(`usage: client capabilities | client publish|play --url URL [--token TOKEN] [--video vp8|h264] [--seconds N] (got ${command ?? "nothing"})`);
  }
  const options = { command, url: undefined, token: undefined, video: "vp8", seconds: DEFAULT_SECONDS };
  for (let i = 0; i < rest.length; i += 2) {
    const [name, value] = [rest[i], rest[i + 1]];
    if (value === undefined) throw new Error(`${name} needs a value`);
    switch (name) {
      case "--url":
        options.url = new URL(value).href;
        break;
      case "--token":
        options.token = value;
        break;
      case "--video":
        if (!VIDEO_CODECS.includes(value)) throw new Error(`--video must be one of ${VIDEO_CODECS.join(", ")} (got ${value})`);
        options.video = value;
        break;
      case "--seconds":
        options.seconds = Number(value);
        if (!Number.isFinite(options.seconds) || options.seconds <= 0 || options.seconds > 3600) {
          throw new Error(`--seconds must be a number of seconds between 0 and 3600 (got ${value})`);
        }
        break;
      default:
        throw new Error(`unknown option ${name}`);
    }
  }
  if (!options.url) throw new Error("--url is required");
  return options;
}

function authorization(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * POSTs a complete SDP offer to a WHIP or WHEP endpoint. Expects 201 with an SDP answer and a Location,
 * which is resolved against `url` (it may be relative). Returns {location, answer, etag}.
 */
export async function postOffer(url, token, offerSdp) {
  const response = await request(url, {
    method: "POST",
    headers: { "Content-Type": "application/sdp", ...authorization(token) },
    body: offerSdp,
  });
  const body = await response.text();
  if (response.status !== 201) {
    throw new Error(`POST ${url} answered ${response.status}: ${body.slice(0, 500)}`);
  }
  const location = response.headers.get("location");
  if (!location) throw new Error(`POST ${url} answered 201 without a Location header`);
  if (!body.startsWith("v=0")) throw new Error(`POST ${url} answered 201 without an SDP answer: ${body.slice(0, 200)}`);
  return { location: new URL(location, url).href, answer: body, etag: response.headers.get("etag") };
}

/** DELETEs a WHIP/WHEP resource; returns the status. */
export async function deleteResource(location, token) {
  const response = await request(location, { method: "DELETE", headers: authorization(token) });
  await response.arrayBuffer().catch(() => undefined);
  return response.status;
}

/** Rejects after `ms` with a message naming `what`, unless `promise` settles first. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The whole life of a client process. `capabilities`: {publish: [...], play: [...], decodes}. `publish` and
 * `play`: async (options, session) => ({ stats?: () => object, close?: async () => void }), where options is
 * {url, token, video, seconds} and session is
 *   exchange(offerSdp) → answer SDP (POSTs, emits the "resource" event),
 *   connected()        (emits "connected" once; the session fails if it is not called within 20 s),
 *   fail(error)        (ends the client with an "error" event, e.g. when the connection fails),
 *   connectionState(s) (the peer connection's state: "connected" → connected(), "failed"/"closed" → fail()),
 *   stopping           (true once the client is ending).
 * stats() is polled every second and once more at the end; its object is printed as a "stats" event.
 * Never returns: the process exits 0 after a clean end, 1 after an error.
 */
export async function runClient({ capabilities, publish, play }) {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    emit("error", { message: error.message });
    process.exit(1);
  }
  if (options.command === "capabilities") {
    process.stdout.write(`${JSON.stringify(capabilities)}\n`, () => process.exit(0));
    return;
  }
  const supported = capabilities[options.command] ?? [];
  if (!supported.includes(options.video)) {
    emit("error", { message: `this stack cannot ${options.command} ${options.video} (it can: ${supported.join(", ") || "nothing"})` });
    process.exit(1);
  }

  let location;
  let handle = {};
  let isConnected = false;
  let stopping = false;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  const session = {
    async exchange(offerSdp) {
      const result = await postOffer(options.url, options.token, offerSdp);
      location = result.location;
      emit("resource", { location });
      return result.answer;
    },
    connected() {
      if (isConnected) return;
      isConnected = true;
      emit("connected");
    },
    fail(error) {
      finish({ error: error instanceof Error ? error : new Error(String(error)) });
    },
    /** The stack's peer connection state: "connected" counts as connected, "failed" or "closed" before the end fail. */
    connectionState(state) {
      log(`connection ${state}`);
      if (state === "connected") session.connected();
      if ((state === "failed" || state === "closed") && !stopping) session.fail(new Error(`the peer connection is ${state}`));
    },
    get stopping() {
      return stopping;
    },
  };

  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => finish({ reason: signal }));
  const lifetime = setTimeout(() => finish({ reason: "time" }), options.seconds * 1000);
  const connectDeadline = setTimeout(() => {
    if (!isConnected) finish({ error: new Error(`not connected within ${CONNECT_TIMEOUT_MS} ms`) });
  }, CONNECT_TIMEOUT_MS);
  const printStats = async () => {
    if (!handle.stats) return;
    try {
      emit("stats", await handle.stats());
    } catch (error) {
      log(`stats failed: ${error.message}`);
    }
  };
  const ticker = setInterval(printStats, 1000);

  const handler = options.command === "publish" ? publish : play;
  Promise.resolve()
    .then(() => handler(options, session))
    .then((h) => {
      handle = h ?? {};
    })
    .catch((error) => finish({ error }));

  const outcome = await finished;
  stopping = true;
  clearTimeout(lifetime);
  clearTimeout(connectDeadline);
  clearInterval(ticker);
  if (outcome.error) log(`failing: ${outcome.error.stack ?? outcome.error.message}`);
  else log(`ending (${outcome.reason})`);
  if (!outcome.error) await printStats();

  let exitCode = outcome.error ? 1 : 0;
  if (location) {
    try {
      const status = await deleteResource(location, options.token);
      if (!outcome.error) emit("ended", { status });
      if (status < 200 || status > 299) exitCode = 1;
    } catch (error) {
      if (!outcome.error) emit("error", { message: error.message });
      exitCode = 1;
    }
  } else if (!outcome.error) {
    emit("error", { message: "ended before the server created a resource" });
    exitCode = 1;
  }
  if (outcome.error) emit("error", { message: outcome.error.message });
  if (handle.close) {
    await withTimeout(Promise.resolve().then(() => handle.close()), CLOSE_TIMEOUT_MS, "the peer connection to close").catch(
      (error) => log(`close: ${error.message}`),
    );
  }
  // Native stacks may keep the event loop alive: exit explicitly once stdout is flushed.
  process.stdout.write("", () => process.exit(exitCode));
}
