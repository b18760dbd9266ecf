// The NAT test page: a participant in a Parley call with nothing but the browser's own APIs. It signs up and
// manages meetings over REST, speaks the WebSocket protocol (docs/protocol.md), and holds the two peer
// connections of a call (publish: the page offers; subscribe: the server offers), both max-bundle with the ICE
// servers the gateway hands out in call.joined. When either connection fails, stays disconnected for a few
// seconds, or the server drops the participant, the page re-joins the call by itself (call.leave, call.join, new
// peer connections) without a reload. It also runs a plain peer-to-peer RTCPeerConnection whose SDP the test
// carries between two pages. Everything is driven through window.natPage by the test.

// ICE itself recovers from short outages (consent checks go on while disconnected); re-join only past this.
const REJOIN_AFTER_DISCONNECTED_MS = 15_000;
const CONNECT_TIMEOUT_MS = 20_000;
const REPLY_TIMEOUT_MS = 10_000;

const state = {
  loadId: Math.random().toString(36).slice(2),
  token: null,
  userId: null,
  ws: null,
  sessionId: null,
  waiters: [],
  events: [],
  media: null,
  // The call: what the page wants, and the current attempt's peer connections.
  meetingId: null,
  wantCall: false,
  useTurn: true,
  rejoining: false,
  joins: 0,
  rejoins: 0,
  // Times a call peer connection went to "disconnected" or "failed" (what a user sees as a broken call).
  connectionProblems: 0,
  attemptStartedAt: 0,
  disconnectedSince: 0,
  iceServers: [],
  publisher: null,
  subscriber: null,
  subscribeQueue: Promise.resolve(),
  trackOwners: new Map(),
  participants: [],
  p2p: null,
};

function log(text) {
  state.events.push(`${(performance.now() / 1000).toFixed(1)}s ${text}`);
  if (state.events.length > 400) state.events.shift();
  document.getElementById("status").textContent = text;
}

// ------------------------------------------------------------------------------------------------------------
// REST

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      "content-type": "application/json",
      ...(state.token ? { authorization: `Bearer ${state.token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REPLY_TIMEOUT_MS),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return json;
}

async function register(username, displayName, password) {
  const me = await api("POST", "/api/auth/register", { username, password, displayName });
  state.token = me.token;
  state.userId = me.userId;
  log(`registered ${username} (${me.userId})`);
  return { userId: me.userId, username: me.username };
}

async function createMeeting(title) {
  return (await api("POST", "/api/meetings", { title })).meetingId;
}

async function addMember(meetingId, username) {
  await api("POST", `/api/meetings/${meetingId}/members`, { username });
}

// ------------------------------------------------------------------------------------------------------------
// WebSocket

function send(message) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) throw new Error(`socket not open for ${message.type}`);
  state.ws.send(JSON.stringify(message));
}

/** Resolves with the first message (from now on) that `match` accepts; rejects after `timeoutMs`. */
function nextMessage(what, match, timeoutMs = REPLY_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const waiter = { match, resolve, reject };
    waiter.timer = setTimeout(() => {
      state.waiters = state.waiters.filter((w) => w !== waiter);
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    state.waiters.push(waiter);
  });
}

async function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  state.ws = ws;
  ws.onmessage = (event) => dispatch(JSON.parse(event.data));
  ws.onclose = (event) => {
    log(`socket closed ${event.code} ${event.reason}`);
    if (state.ws === ws) {
      // Nothing more will arrive on this socket: fail whatever waits for a reply at once.
      for (const waiter of state.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error("the socket closed"));
      }
      state.ws = null;
      setTimeout(reconnect, 1_000);
    }
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("WebSocket failed to open"));
    setTimeout(() => reject(new Error("WebSocket did not open in time")), REPLY_TIMEOUT_MS);
  });
  const welcome = nextMessage("welcome", (m) => m.type === "welcome");
  send({ type: "hello", token: state.token, ...(state.sessionId ? { resume: state.sessionId } : {}) });
  state.sessionId = (await welcome).sessionId;
  log(`welcome ${state.sessionId}`);
}

async function reconnect() {
  if (state.ws) return;
  try {
    await connect();
    if (state.wantCall) await rejoin("socket reconnected");
  } catch (error) {
    log(`reconnect failed: ${error.message}`);
    state.ws = null;
    setTimeout(reconnect, 1_000);
  }
}

function dispatch(message) {
  for (const waiter of [...state.waiters]) {
    if (waiter.match(message)) {
      clearTimeout(waiter.timer);
      state.waiters = state.waiters.filter((w) => w !== waiter);
      waiter.resolve(message);
    }
  }
  switch (message.type) {
    case "call.subscribe.offer":
      if (message.meetingId !== state.meetingId) return;
      log(`subscribe offer v${message.version}`);
      state.subscribeQueue = state.subscribeQueue.then(() => answerSubscribeOffer(message)).catch((error) =>
        log(`subscribe offer ${message.version} failed: ${error.message}`),
      );
      return;
    case "call.state":
      if (message.meetingId !== state.meetingId) return;
      state.participants = message.participants ?? [];
      for (const participant of state.participants) {
        for (const track of participant.tracks ?? []) {
          state.trackOwners.set(track.mediaStreamTrackId, participant.userId);
          state.trackOwners.set(track.streamId, participant.userId);
        }
      }
      return;
    case "call.left":
      log(`call.left: ${message.reason}`);
      if (state.wantCall && !state.rejoining && message.meetingId === state.meetingId) rejoin(`server: ${message.reason}`);
      return;
    case "error":
      log(`error ${message.code}: ${message.message}`);
      return;
    default:
  }
}

// ------------------------------------------------------------------------------------------------------------
// The call

async function localMedia() {
  if (!state.media) {
    state.media = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 320, height: 240, frameRate: 15 },
    });
  }
  return state.media;
}

function peerConnection(role) {
  const pc = new RTCPeerConnection({ iceServers: state.iceServers, bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
  pc.addEventListener("connectionstatechange", () => {
    log(`${role} ${pc.connectionState}`);
    if (pc.connectionState === "disconnected" || pc.connectionState === "failed") state.connectionProblems++;
  });
  pc.addEventListener("icecandidate", (event) => {
    const c = event.candidate;
    if (c?.candidate) log(`${role} candidate ${c.type} ${c.protocol} ${c.address}:${c.port}${c.relayProtocol ? ` via ${c.relayProtocol}` : ""}`);
  });
  pc.addEventListener("icecandidateerror", (event) => log(`${role} candidate error ${event.url}: ${event.errorCode} ${event.errorText}`));
  return pc;
}

/**
 * Joins the meeting's call. `useTurn: false` ignores the TURN servers the gateway offers (direct path only);
 * `turnScheme: "turns"` keeps only its URIs of that scheme.
 */
async function joinCall(meetingId, { useTurn = true, turnScheme = null } = {}) {
  state.meetingId = meetingId;
  state.wantCall = true;
  state.useTurn = useTurn;
  state.turnScheme = turnScheme;
  await startAttempt();
}

async function startAttempt() {
  state.attemptStartedAt = performance.now();
  state.disconnectedSince = 0;
  let reply = await join();
  if (reply.resumed) {
    // The server kept our place from before a dropped socket and expects the old peer connections to carry on;
    // they are gone, so leave (this time on a live socket) and join afresh.
    log("joined the kept place; leaving it to start afresh");
    const left = nextMessage("call.left", (m) => m.type === "call.left" && m.meetingId === state.meetingId);
    send({ type: "call.leave", meetingId: state.meetingId });
    await left;
    reply = await join();
  }
  state.joins++;
  state.iceServers = !state.useTurn
    ? []
    : (reply.iceServers ?? []).map((server) => {
        const urls = [server.urls].flat();
        return { ...server, urls: state.turnScheme ? urls.filter((u) => u.startsWith(`${state.turnScheme}:`)) : urls };
      });
  // Created at once, before any subscribe offer of this attempt can be handled.
  state.subscriber = peerConnection("subscribe");
  state.publisher = peerConnection("publish");
  log(`joined as ${reply.endpointId} with ${state.iceServers.length} ICE server(s)`);
  const media = await localMedia();
  for (const track of media.getTracks()) {
    state.publisher.addTransceiver(track, { direction: "sendonly", streams: [media] });
  }
  const publisher = state.publisher;
  await publisher.setLocalDescription(await publisher.createOffer());
  const answer = nextMessage("call.publish.answer", (m) => m.type === "call.publish.answer" && m.meetingId === state.meetingId);
  send({ type: "call.publish", meetingId: state.meetingId, sdp: publisher.localDescription.sdp });
  const { sdp } = await answer;
  if (state.publisher !== publisher) return;
  await publisher.setRemoteDescription({ type: "answer", sdp });
}

async function join() {
  const joined = nextMessage("call.joined", (m) => m.type === "call.joined" && m.meetingId === state.meetingId);
  send({ type: "call.join", meetingId: state.meetingId });
  return joined;
}

async function answerSubscribeOffer(message) {
  const pc = state.subscriber;
  if (!pc) {
    log(`subscribe offer v${message.version} dropped: no subscribe connection`);
    return;
  }
  await pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  if (state.subscriber !== pc) return;
  send({ type: "call.subscribe.answer", meetingId: state.meetingId, sdp: pc.localDescription.sdp, version: message.version });
}

function closePeerConnections() {
  for (const pc of [state.publisher, state.subscriber]) pc?.close();
  state.publisher = null;
  state.subscriber = null;
  // An offer being applied to the closed connection never settles (closed peer connections leave their promises
  // pending): the next attempt's offers must not wait behind it.
  state.subscribeQueue = Promise.resolve();
}

async function rejoin(reason) {
  if (state.rejoining) return;
  state.rejoining = true;
  state.rejoins++;
  log(`re-joining the call: ${reason}`);
  try {
    closePeerConnections();
    if (state.ws?.readyState === WebSocket.OPEN) {
      // call.not_joined: a new socket whose session has not joined yet (the server may still keep our place).
      const left = nextMessage(
        "call.left",
        (m) => (m.type === "call.left" && m.meetingId === state.meetingId) || (m.type === "error" && m.code === "call.not_joined"),
        5_000,
      );
      send({ type: "call.leave", meetingId: state.meetingId });
      await left.catch(() => undefined);
    }
    // Without a socket the attempt waits for the reconnect (the watchdog retries until there is one).
    await startAttempt();
  } catch (error) {
    log(`re-join failed: ${error.message}`);
    closePeerConnections();
  } finally {
    state.attemptStartedAt = performance.now();
    state.rejoining = false;
  }
}

async function leaveCall() {
  state.wantCall = false;
  closePeerConnections();
  const left = nextMessage("call.left", (m) => m.type === "call.left" && m.meetingId === state.meetingId, 5_000);
  send({ type: "call.leave", meetingId: state.meetingId });
  await left;
}

// Watches the call: re-joins when a connection failed, stayed disconnected, never connected, or is gone.
setInterval(() => {
  if (!state.wantCall || state.rejoining || !state.ws) return;
  const now = performance.now();
  if (!state.publisher) {
    if (now - state.attemptStartedAt > 2_000) rejoin("not in the call");
    return;
  }
  const connections = [state.publisher];
  if (state.subscriber?.remoteDescription) connections.push(state.subscriber);
  const states = connections.map((pc) => pc.connectionState);
  if (states.includes("failed")) {
    rejoin(`a peer connection failed (${states.join(", ")})`);
  } else if (states.includes("disconnected")) {
    state.disconnectedSince ||= now;
    if (now - state.disconnectedSince > REJOIN_AFTER_DISCONNECTED_MS) rejoin(`disconnected for ${REJOIN_AFTER_DISCONNECTED_MS} ms`);
  } else {
    state.disconnectedSince = 0;
    if (state.publisher.connectionState !== "connected" && now - state.attemptStartedAt > CONNECT_TIMEOUT_MS) {
      rejoin(`not connected after ${CONNECT_TIMEOUT_MS} ms`);
    }
  }
}, 500);

// ------------------------------------------------------------------------------------------------------------
// Statistics

async function peerInfo(pc) {
  if (!pc) return null;
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  let selected = null;
  const inbound = [];
  const outbound = [];
  const pairs = [];
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) {
      const pair = byId.get(s.selectedCandidatePairId);
      const local = pair && byId.get(pair.localCandidateId);
      const remote = pair && byId.get(pair.remoteCandidateId);
      if (local && remote) {
        selected = {
          localType: local.candidateType,
          localProtocol: local.protocol,
          relayProtocol: local.relayProtocol ?? null,
          localAddress: `${local.address}:${local.port}`,
          remoteType: remote.candidateType,
          remoteAddress: `${remote.address}:${remote.port}`,
        };
      }
    } else if (s.type === "candidate-pair") {
      const local = byId.get(s.localCandidateId);
      pairs.push(
        `${local?.candidateType}/${local?.relayProtocol ?? local?.protocol} ${s.state}${s.nominated ? " nominated" : ""} ` +
          `req ${s.requestsSent} resp ${s.responsesReceived} reqIn ${s.requestsReceived ?? 0}`,
      );
    } else if (s.type === "inbound-rtp") {
      inbound.push({
        kind: s.kind,
        trackIdentifier: s.trackIdentifier,
        from: state.trackOwners.get(s.trackIdentifier) ?? null,
        framesDecoded: s.framesDecoded ?? 0,
        packetsReceived: s.packetsReceived ?? 0,
      });
    } else if (s.type === "outbound-rtp") {
      outbound.push({ kind: s.kind, framesEncoded: s.framesEncoded ?? 0, packetsSent: s.packetsSent ?? 0 });
    }
  });
  return { connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState, selected, pairs, inbound, outbound };
}

async function callStats() {
  const publisher = await peerInfo(state.publisher);
  const subscriber = await peerInfo(state.subscriber);
  // Video frames decoded per remote participant (userId) on the current subscribe connection.
  const framesFrom = {};
  for (const row of subscriber?.inbound ?? []) {
    if (row.kind === "video" && row.from) framesFrom[row.from] = (framesFrom[row.from] ?? 0) + row.framesDecoded;
  }
  return {
    loadId: state.loadId,
    userId: state.userId,
    joins: state.joins,
    rejoins: state.rejoins,
    connectionProblems: state.connectionProblems,
    socketOpen: state.ws?.readyState === WebSocket.OPEN,
    participants: state.participants.map((p) => p.userId),
    publisher,
    subscriber,
    framesFrom,
    events: state.events.slice(-60),
  };
}

// ------------------------------------------------------------------------------------------------------------
// Plain peer to peer (no media server): the test carries the SDP between two pages.

function gatheringComplete(pc, timeoutMs = 10_000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function p2pStart(iceServers) {
  const pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
  const p2p = { pc, history: [pc.iceConnectionState] };
  pc.addEventListener("iceconnectionstatechange", () => p2p.history.push(pc.iceConnectionState));
  const media = await localMedia();
  for (const track of media.getTracks()) pc.addTrack(track, media);
  state.p2p = p2p;
  return pc;
}

async function p2pOffer(iceServers) {
  const pc = await p2pStart(iceServers);
  await pc.setLocalDescription(await pc.createOffer());
  await gatheringComplete(pc);
  return pc.localDescription.sdp;
}

async function p2pAnswer(iceServers, offer) {
  const pc = await p2pStart(iceServers);
  await pc.setRemoteDescription({ type: "offer", sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  await gatheringComplete(pc);
  return pc.localDescription.sdp;
}

async function p2pAccept(answer) {
  await state.p2p.pc.setRemoteDescription({ type: "answer", sdp: answer });
}

function p2pState() {
  const { pc, history } = state.p2p;
  return { iceConnectionState: pc.iceConnectionState, connectionState: pc.connectionState, history };
}

function p2pClose() {
  state.p2p?.pc.close();
  state.p2p = null;
}

window.natPage = {
  loadId: state.loadId,
  register,
  createMeeting,
  addMember,
  connect,
  joinCall,
  leaveCall,
  callStats,
  p2pOffer,
  p2pAnswer,
  p2pAccept,
  p2pState,
  p2pClose,
  events: () => state.events,
  note: (text) => log(`note: ${text}`),
};
log("ready");
