// The libwebrtc stack: Google's native WebRTC as packaged by @roamhq/wrtc. Publishing feeds libwebrtc raw
// frames (a moving I420 test pattern through RTCVideoSource) and raw audio (10 ms chunks of a tone through
// RTCAudioSource), so libwebrtc's own VP8 and Opus encoders do the encoding. Playing counts decoded frames with
// RTCVideoSink and reads packets, bytes, codecs and keyframes from getStats(). This build has no H.264.
//
// libwebrtc ignores the `lo` interface when it gathers: it needs an address on another interface (the suite
// puts 127.0.0.2 on a veth) for a host candidate. No ICE servers, so nothing is contacted but the server.
import { createRequire } from "node:module";
import { log, runClient, withTimeout } from "../lib/whip.mjs";

const wrtc = createRequire(import.meta.url)("@roamhq/wrtc");
const { RTCPeerConnection, MediaStream } = wrtc;
const { RTCVideoSource, RTCAudioSource, RTCVideoSink } = wrtc.nonstandard;

const WIDTH = 320;
const HEIGHT = 240;
const FPS = 20;
const SAMPLE_RATE = 48_000;
const CHUNK_MS = 10;
const TONE_HZ = 440;
const GATHER_TIMEOUT_MS = 10_000;

function newPeerConnection(session) {
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
  pc.onconnectionstatechange = () => {
    log(`connection ${pc.connectionState}`);
    if (pc.connectionState === "connected") session.connected();
    if ((pc.connectionState === "failed" || pc.connectionState === "closed") && !session.stopping) {
      session.fail(new Error(`the peer connection is ${pc.connectionState}`));
    }
  };
  return pc;
}

/** Creates the offer, waits for every candidate, exchanges it with the server and applies the answer. */
async function negotiate(pc, session) {
  const gathered = new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
    pc.onicecandidate = (event) => event.candidate === null && resolve();
  });
  await pc.setLocalDescription(await pc.createOffer());
  await withTimeout(gathered, GATHER_TIMEOUT_MS, "ICE gathering");
  const offer = pc.localDescription.sdp;
  if (!/^a=candidate:/m.test(offer)) {
    throw new Error("libwebrtc gathered no candidate (it skips `lo`: put an address such as 127.0.0.2 on another interface)");
  }
  log(`offer candidates: ${offer.match(/^a=candidate:.*$/gm).join(" | ")}`);
  const answer = await session.exchange(offer);
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
}

/** A frame of the test pattern: a diagonal gradient that scrolls, with a bright bar sweeping across. */
function drawPattern(frame, n) {
  const { data } = frame;
  const ySize = WIDTH * HEIGHT;
  const bar = (n * 4) % WIDTH;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      data[y * WIDTH + x] = Math.abs(x - bar) < 12 ? 235 : (x + y + n * 3) & 0xff;
    }
  }
  const chroma = ySize / 4;
  for (let i = 0; i < chroma; i++) {
    data[ySize + i] = (128 + n) & 0xff;
    data[ySize + chroma + i] = (128 - n) & 0xff;
  }
}

async function publish(options, session) {
  const pc = newPeerConnection(session);
  const videoSource = new RTCVideoSource();
  const audioSource = new RTCAudioSource();
  const videoTrack = videoSource.createTrack();
  const audioTrack = audioSource.createTrack();
  const stream = new MediaStream([audioTrack, videoTrack]);
  pc.addTransceiver(audioTrack, { direction: "sendonly", streams: [stream] });
  pc.addTransceiver(videoTrack, { direction: "sendonly", streams: [stream] });

  // Sources run from before the offer so the encoders have input the moment the connection is up.
  const frame = { width: WIDTH, height: HEIGHT, data: new Uint8Array((WIDTH * HEIGHT * 3) / 2) };
  let frameNumber = 0;
  const video = setInterval(() => {
    drawPattern(frame, frameNumber++);
    videoSource.onFrame(frame);
  }, 1000 / FPS);
  // Audio by the clock: however late a timer fires, send every 10 ms chunk that is due.
  const samplesPerChunk = (SAMPLE_RATE * CHUNK_MS) / 1000;
  const started = Date.now();
  let chunksSent = 0;
  let phase = 0;
  const audio = setInterval(() => {
    const due = Math.floor((Date.now() - started) / CHUNK_MS);
    for (; chunksSent < due; chunksSent++) {
      const samples = new Int16Array(samplesPerChunk);
      for (let i = 0; i < samplesPerChunk; i++) {
        samples[i] = Math.round(Math.sin(phase) * 8000);
        phase += (2 * Math.PI * TONE_HZ) / SAMPLE_RATE;
      }
      audioSource.onData({ samples, sampleRate: SAMPLE_RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: samplesPerChunk });
    }
  }, CHUNK_MS);

  const close = () => {
    clearInterval(video);
    clearInterval(audio);
    videoTrack.stop();
    audioTrack.stop();
    pc.close();
  };
  try {
    await negotiate(pc, session);
  } catch (error) {
    close();
    throw error;
  }
  return {
    async stats() {
      const sent = { audio: {}, video: {} };
      for (const report of (await pc.getStats()).values()) {
        if (report.type === "outbound-rtp" && sent[report.kind ?? report.mediaType]) {
          sent[report.kind ?? report.mediaType] = { packets: report.packetsSent ?? 0 };
        }
      }
      return sent;
    },
    close,
  };
}

async function play(options, session) {
  const pc = newPeerConnection(session);
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.addTransceiver("video", { direction: "recvonly" });
  let framesDecoded = 0;
  const sinks = [];
  pc.ontrack = (event) => {
    log(`track ${event.track.kind}`);
    if (event.track.kind !== "video") return;
    const sink = new RTCVideoSink(event.track);
    sink.onframe = () => framesDecoded++;
    sinks.push(sink);
  };
  try {
    await negotiate(pc, session);
  } catch (error) {
    pc.close();
    throw error;
  }
  return {
    async stats() {
      const reports = await pc.getStats();
      const codecs = new Map();
      const inbound = [];
      for (const report of reports.values()) {
        if (report.type === "codec") codecs.set(report.id, report.mimeType?.split("/")[1]?.toLowerCase());
        if (report.type === "inbound-rtp") inbound.push(report);
      }
      const result = {
        audio: { packets: 0, bytes: 0, codec: null },
        video: { packets: 0, bytes: 0, codec: null, keyframes: 0, frames: framesDecoded },
      };
      for (const report of inbound) {
        const kind = report.kind ?? report.mediaType;
        const entry = result[kind];
        if (!entry) continue;
        entry.packets += report.packetsReceived ?? 0;
        entry.bytes += report.bytesReceived ?? 0;
        entry.codec = codecs.get(report.codecId) ?? entry.codec;
        if (kind === "video") entry.keyframes += report.keyFramesDecoded ?? 0;
      }
      return result;
    },
    close() {
      for (const sink of sinks) sink.stop();
      pc.close();
    },
  };
}

runClient({
  capabilities: { publish: ["vp8"], play: ["vp8"], decodes: true },
  publish,
  play,
});
