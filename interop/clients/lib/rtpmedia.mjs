// Media for the Node stack clients that have no encoder of their own (werift, node-datachannel): Debian's ffmpeg
// encodes a moving test pattern and a tone and sends them as RTP to two UDP sockets on 127.0.0.1 that the client
// reads and hands to its stack; and, for players, counting what arrives: packets, bytes, keyframes (by parsing the
// VP8 payload descriptor or the H.264 NAL units) and frames (marker bits).

import { spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import os from "node:os";
import { log } from "./whip.mjs";

/** Payload types ffmpeg writes; the clients rewrite them to the negotiated ones. */
export const FFMPEG_VIDEO_PT = 96;
export const FFMPEG_AUDIO_PT = 111;
/** RTP packets (UDP payloads) from ffmpeg stay below the SRTP-protected MTU. */
const RTP_PACKET_SIZE = 1200;
/** A keyframe every second (30 frames) so a player that joins late, or a lost start, recovers quickly. */
const FRAME_RATE = 30;
const KEYFRAME_INTERVAL = 30;
/** How long ffmpeg gets to send its first packet before the source counts as failed. */
export const FFMPEG_START_TIMEOUT_MS = 10_000;
/** How much longer than its client's --seconds ffmpeg's sources run at most. */
const FFMPEG_EXTRA_SECONDS = 60;
/** What is kept of ffmpeg's stderr for the error message. */
const STDERR_TAIL_CHARS = 2_000;

/** Checks that ffmpeg exists and has the encoders the clients use; throws a message saying what to install. */
export function checkFfmpeg() {
  const result = spawnSync("ffmpeg", ["-hide_banner", "-encoders"], { encoding: "utf8", timeout: 10_000 });
  if (result.error || result.status !== 0) {
    throw new Error("ffmpeg is missing: install the Debian package ffmpeg (interop/clients/<stack>/prepare does)");
  }
  for (const encoder of ["libvpx", "libx264", "libopus"]) {
    if (!new RegExp(`\\s${encoder}\\s`).test(result.stdout)) {
      throw new Error(`ffmpeg has no ${encoder} encoder: install Debian's ffmpeg package (not a minimal build)`);
    }
  }
}

function videoEncoderArgs(video) {
  const common = ["-g", String(KEYFRAME_INTERVAL), "-keyint_min", String(KEYFRAME_INTERVAL), "-b:v", "600k"];
  if (video === "vp8") {
    return ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0", "-lag-in-frames", "0",
      "-error-resilient", "1", ...common];
  }
  if (video === "h264") {
    // Constrained baseline (profile-level-id 42e01f); ffmpeg's RTP muxer packetizes in mode 1 (single NAL units
    // and FU-A); x264 repeats SPS and PPS before every IDR because the RTP muxer asks for no global header.
    return ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline", "-level:v",
      "3.1", "-pix_fmt", "yuv420p", "-bf", "0", "-sc_threshold", "0", ...common];
  }
  throw new Error(`unknown video codec ${video}`);
}

/**
 * Starts ffmpeg encoding a 320x240, 30 fps test pattern (VP8 or H.264) and a 440 Hz Opus tone in real time for
 * at most `seconds` plus a margin, and
 * calls onVideo(buffer) / onAudio(buffer) with every RTP packet it sends. Returns {stop(), failed} where
 * `failed` is a promise that rejects when ffmpeg ends on its own or sends nothing in time (it never resolves).
 */
export async function startFfmpegSource({ video, seconds, onVideo, onAudio }) {
  // ffmpeg never outlives its client by much: its sources end after the client's lifetime plus a margin, and it
  // is killed when the client exits.
  const limit = String(Math.ceil(seconds + FFMPEG_EXTRA_SECONDS));
  const sockets = await Promise.all([bindLoopback(onVideo), bindLoopback(onAudio)]);
  const [videoPort, audioPort] = sockets.map((socket) => socket.address().port);
  const args = [
    "-hide_banner", "-nostdin", "-loglevel", "warning",
    "-re", "-t", limit, "-f", "lavfi", "-i", `testsrc2=size=320x240:rate=${FRAME_RATE}`,
    "-re", "-t", limit, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
    "-map", "0:v", ...videoEncoderArgs(video),
    "-payload_type", String(FFMPEG_VIDEO_PT), "-rtpflags", "skip_rtcp",
    "-f", "rtp", `rtp://127.0.0.1:${videoPort}?pkt_size=${RTP_PACKET_SIZE}`,
    "-map", "1:a", "-c:a", "libopus", "-b:a", "48k", "-frame_duration", "20", "-application", "lowdelay",
    "-payload_type", String(FFMPEG_AUDIO_PT), "-rtpflags", "skip_rtcp",
    "-f", "rtp", `rtp://127.0.0.1:${audioPort}?pkt_size=${RTP_PACKET_SIZE}`,
  ];
  log(`ffmpeg ${args.join(" ")}`);
  const child = spawn("ffmpeg", args, { stdio: ["ignore", "ignore", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  let stderrTail = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    log(`ffmpeg: ${chunk.trimEnd()}`);
  });
  let stopped = false;
  let firstPacket = false;
  sockets.forEach((socket) => socket.once("message", () => { firstPacket = true; }));
  const failed = new Promise((_, reject) => {
    const timer = setTimeout(() => {
      if (!firstPacket && !stopped) {
        reject(new Error(`ffmpeg sent no RTP within ${FFMPEG_START_TIMEOUT_MS} ms: ${stderrTail}`));
      }
    }, FFMPEG_START_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      if (!stopped) reject(new Error(`ffmpeg could not start (${error.message}): install the Debian package ffmpeg`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      process.off("exit", killOnExit);
      if (!stopped) reject(new Error(`ffmpeg ended (${signal ?? `exit ${code}`}): ${stderrTail}`));
    });
  });
  failed.catch(() => undefined);
  return {
    failed,
    stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      sockets.forEach((socket) => socket.close());
    },
  };
}

function bindLoopback(onPacket) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", reject);
    socket.on("message", (message) => onPacket(message));
    socket.bind(0, "127.0.0.1", () => {
      socket.off("error", reject);
      socket.on("error", () => undefined);
      resolve(socket);
    });
  });
}

/** Whether a datagram on a muxed RTP/RTCP stream is RTCP (RFC 5761: payload type 64-95 with the marker bit). */
export function isRtcp(packet) {
  if (packet.length < 2) return false;
  const type = packet[1];
  return type >= 192 && type <= 223;
}

/** The fields of an RTP packet the clients need, or null when it is not one. */
export function parseRtp(packet) {
  if (packet.length < 12 || packet[0] >> 6 !== 2) return null;
  const csrcCount = packet[0] & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (packet[0] & 0x10) {
    if (packet.length < offset + 4) return null;
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  let end = packet.length;
  if (packet[0] & 0x20) end -= packet[packet.length - 1];
  if (offset > end) return null;
  return {
    marker: (packet[1] & 0x80) !== 0,
    payloadType: packet[1] & 0x7f,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

/** Sets the payload type (keeping the marker bit) and SSRC of an RTP packet in place. */
export function rewriteRtp(packet, payloadType, ssrc) {
  packet[1] = (packet[1] & 0x80) | (payloadType & 0x7f);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  return packet;
}

/**
 * Whether an RTP payload starts a VP8 keyframe: the first packet of a frame (S=1, PID=0) whose VP8 payload
 * header has P=0 (RFC 7741 sections 4.2 and 4.3).
 */
export function isVp8Keyframe(payload) {
  if (payload.length < 1) return false;
  const start = (payload[0] & 0x10) !== 0;
  const partition = payload[0] & 0x07;
  if (!start || partition !== 0) return false;
  let offset = 1;
  if (payload[0] & 0x80) {
    if (payload.length < 2) return false;
    const extension = payload[1];
    offset = 2;
    if (extension & 0x80) {
      if (payload.length <= offset) return false;
      offset += payload[offset] & 0x80 ? 2 : 1;
    }
    if (extension & 0x40) offset += 1;
    if (extension & 0x30) offset += 1;
  }
  if (payload.length <= offset) return false;
  return (payload[offset] & 0x01) === 0;
}

/** Whether an RTP payload carries an H.264 IDR slice: NAL type 5 directly, inside a STAP-A, or a FU-A start. */
export function isH264Keyframe(payload) {
  if (payload.length < 1) return false;
  const type = payload[0] & 0x1f;
  if (type === 5) return true;
  if (type === 24) {
    let offset = 1;
    while (offset + 2 < payload.length) {
      const size = payload.readUInt16BE(offset);
      if (size === 0 || offset + 2 + size > payload.length) return false;
      if ((payload[offset + 2] & 0x1f) === 5) return true;
      offset += 2 + size;
    }
    return false;
  }
  if (type === 28) {
    return payload.length >= 2 && (payload[1] & 0x80) !== 0 && (payload[1] & 0x1f) === 5;
  }
  return false;
}

/**
 * Counts what a player receives on one track. `codecOf(payloadType)` names the negotiated codec of a payload
 * type ("opus", "vp8", "h264", or undefined); `fallbackCodec` is reported before anything arrived.
 */
export class ReceiveCounter {
  constructor(kind, codecOf, fallbackCodec) {
    this.kind = kind;
    this.codecOf = codecOf;
    this.codec = fallbackCodec;
    this.packets = 0;
    this.bytes = 0;
    this.keyframes = 0;
    this.frames = 0;
    this.lastKeyframeTimestamp = undefined;
  }

  /** One RTP packet: `size` its length in bytes, the rest from parseRtp (or the stack's own parse). */
  add({ size, payloadType, marker, timestamp, payload }) {
    this.packets += 1;
    this.bytes += size;
    const codec = this.codecOf(payloadType);
    if (codec) this.codec = codec;
    if (this.kind !== "video") return;
    if (marker) this.frames += 1;
    const keyframe = codec === "vp8" ? isVp8Keyframe(payload) : codec === "h264" ? isH264Keyframe(payload) : false;
    // A keyframe spans several packets (and H.264 several slices): count it once, by its RTP timestamp.
    if (keyframe && timestamp !== this.lastKeyframeTimestamp) {
      this.keyframes += 1;
      this.lastKeyframeTimestamp = timestamp;
    }
  }

  stats() {
    const base = { packets: this.packets, bytes: this.bytes, codec: this.codec };
    return this.kind === "video" ? { ...base, keyframes: this.keyframes, frames: this.frames } : base;
  }
}

/**
 * The payload types of each m-line of an SDP, in order: [{kind, mid, codecs: Map(payloadType → lower-case codec
 * name)}].
 */
export function sdpMediaCodecs(sdp) {
  const sections = [];
  for (const line of sdp.split(/\r?\n/)) {
    const media = /^m=(\w+) \d+ \S+ (.*)$/.exec(line);
    if (media) {
      sections.push({ kind: media[1], mid: undefined, codecs: new Map() });
      continue;
    }
    const section = sections[sections.length - 1];
    if (!section) continue;
    const rtpmap = /^a=rtpmap:(\d+) ([^/\s]+)\//.exec(line);
    if (rtpmap) section.codecs.set(Number(rtpmap[1]), rtpmap[2].toLowerCase());
    const mid = /^a=mid:(\S+)/.exec(line);
    if (mid) section.mid = mid[1];
  }
  return sections;
}

/**
 * The IPv4 loopback-range (127.0.0.0/8) addresses of this network namespace that sit on an interface other than
 * `lo` (the veth the interop namespace puts 127.0.0.2 on): the host candidates a client offers. Never an address
 * that leaves the machine.
 */
export function loopbackHostAddresses() {
  const addresses = [];
  for (const [name, entries] of Object.entries(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === "IPv4" && entry.address.startsWith("127.") && name !== "lo") addresses.push(entry.address);
    }
  }
  return addresses;
}

/**
 * The offer to send: `sdp` without any a=candidate line whose address is not in 127.0.0.0/8. Throws when no
 * candidate is left, naming `stack`.
 */
export function loopbackOffer(sdp, stack) {
  const offer = sdp.split("\r\n").filter((line) => {
    const candidate = /^a=candidate:\S+ \d+ \S+ \d+ (\S+) /.exec(line);
    return !candidate || candidate[1].startsWith("127.");
  }).join("\r\n");
  if (!hasCandidates(offer)) {
    throw new Error(`${stack} gathered no loopback-range candidate (run it in a namespace with 127.0.0.2 on a veth)`);
  }
  log(`offer candidates: ${offer.match(/^a=candidate:.*$/gm).join(" | ")}`);
  return offer;
}

/** Whether an SDP has at least one a=candidate line. */
export function hasCandidates(sdp) {
  return /^a=candidate:/m.test(sdp);
}
