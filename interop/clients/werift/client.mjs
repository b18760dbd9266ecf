// The werift stack: a WebRTC implementation in TypeScript (ICE, DTLS, SRTP, RTP all in JavaScript). werift has no
// encoder: publishing runs Debian's ffmpeg (lavfi test pattern and tone, libvpx or libx264 and libopus) with RTP
// output to a local socket, and writes each packet to a werift track, which sets the negotiated SSRC, payload
// type, sequence numbers and timestamps itself. Playing counts the RTP werift hands up (packets, bytes, keyframes
// from the VP8 payload descriptor or H.264 NAL units, frames as marker bits); nothing is decoded.
//
// werift falls back to a public STUN server when none is configured, and gathers a host candidate on every
// non-internal interface: the client clears the STUN server, binds to the namespace's loopback-range address
// (127.0.0.2 on a veth, else 127.0.0.1) and offers only 127.0.0.0/8 candidates.
import { createRequire } from "node:module";
import { log, runClient, withTimeout } from "../lib/whip.mjs";
import {
  ReceiveCounter, checkFfmpeg, loopbackHostAddresses, loopbackOffer, startFfmpegSource,
} from "../lib/rtpmedia.mjs";

const werift = createRequire(import.meta.url)("werift");
const { RTCPeerConnection, MediaStreamTrack, RTCRtpCodecParameters, Connection } = werift;

const GATHER_TIMEOUT_MS = 10_000;
/** How often a player without a keyframe asks for one. */
const KEYFRAME_REQUEST_INTERVAL_MS = 1_000;
const OPUS_PT = 111;
const VIDEO_PT = { vp8: 96, h264: 102 };
const VIDEO_FEEDBACK = [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "ccm", parameter: "fir" }];

// werift's ICE agent uses stun.l.google.com:19302 when it has no STUN server: there is none here, ever.
const gatherCandidates = Connection.prototype.gatherCandidates;
Connection.prototype.gatherCandidates = function gatherWithoutStun(...args) {
  this.stunServer = undefined;
  this.turnServer = undefined;
  return gatherCandidates.apply(this, args);
};

function codecs(video) {
  const opus = new RTCRtpCodecParameters({
    mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: OPUS_PT,
  });
  const vp8 = new RTCRtpCodecParameters({
    mimeType: "video/VP8", clockRate: 90000, payloadType: VIDEO_PT.vp8, rtcpFeedback: VIDEO_FEEDBACK,
  });
  const h264 = new RTCRtpCodecParameters({
    mimeType: "video/H264", clockRate: 90000, payloadType: VIDEO_PT.h264, rtcpFeedback: VIDEO_FEEDBACK,
    parameters: "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1",
  });
  return { audio: [opus], video: [video === "h264" ? h264 : vp8] };
}

function newPeerConnection(video, session) {
  // werift finds an address on a veth itself; 127.0.0.1 (on `lo`, which it skips) must be added.
  const [onVeth] = loopbackHostAddresses();
  const address = onVeth ?? "127.0.0.1";
  log(`host candidate address ${address}`);
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: address },
    iceAdditionalHostAddresses: onVeth ? undefined : [address],
    bundlePolicy: "max-bundle",
    codecs: codecs(video),
    headerExtensions: { audio: [], video: [] },
  });
  pc.connectionStateChange.subscribe((state) => session.connectionState(state));
  return pc;
}

/** Creates the offer, waits for every candidate, exchanges it with the server and applies the answer. */
async function negotiate(pc, session) {
  const gathered = new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") resolve();
    pc.iceGatheringStateChange.subscribe((state) => state === "complete" && resolve());
  });
  await pc.setLocalDescription(await pc.createOffer());
  await withTimeout(gathered, GATHER_TIMEOUT_MS, "ICE gathering");
  const offer = loopbackOffer(pc.localDescription.sdp, "werift");
  const answer = await session.exchange(offer);
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
}

async function publish(options, session) {
  checkFfmpeg();
  const pc = newPeerConnection(options.video, session);
  const audioTrack = new MediaStreamTrack({ kind: "audio" });
  const videoTrack = new MediaStreamTrack({ kind: "video" });
  pc.addTransceiver(audioTrack, { direction: "sendonly" });
  pc.addTransceiver(videoTrack, { direction: "sendonly" });
  await negotiate(pc, session);

  const sent = { audio: 0, video: 0 };
  let source;
  // ffmpeg starts once DTLS is up, so its first frame (a keyframe) reaches the server; werift drops RTP before.
  const connected = new Promise((resolve) => {
    if (pc.connectionState === "connected") resolve();
    pc.connectionStateChange.subscribe((state) => state === "connected" && resolve());
  });
  connected.then(async () => {
    if (session.stopping) return;
    source = await startFfmpegSource({
      video: options.video,
      seconds: options.seconds,
      onVideo: (packet) => {
        videoTrack.writeRtp(packet);
        sent.video += 1;
      },
      onAudio: (packet) => {
        audioTrack.writeRtp(packet);
        sent.audio += 1;
      },
    });
    if (session.stopping) source.stop();
    source.failed.catch((error) => session.fail(error));
  }).catch((error) => session.fail(error));

  return {
    stats: () => ({ audio: { packets: sent.audio }, video: { packets: sent.video } }),
    close: async () => {
      source?.stop();
      await pc.close();
    },
  };
}

async function play(options, session) {
  const pc = newPeerConnection(options.video, session);
  const audio = pc.addTransceiver("audio", { direction: "recvonly" });
  const video = pc.addTransceiver("video", { direction: "recvonly" });
  // The negotiated codec of a payload type, from what werift took from the answer.
  const codecOf = (transceiver) => (payloadType) => {
    const codec = transceiver.codecs.find((c) => c.payloadType === payloadType);
    return codec?.mimeType.split("/")[1].toLowerCase();
  };
  const counters = {
    audio: new ReceiveCounter("audio", codecOf(audio), "opus"),
    video: new ReceiveCounter("video", codecOf(video), options.video),
  };
  for (const [kind, transceiver] of [["audio", audio], ["video", video]]) {
    transceiver.onTrack.subscribe((track) => {
      log(`${kind} track arrived`);
      track.onReceiveRtp.subscribe((rtp) => {
        counters[kind].add({
          size: rtp.serializeSize,
          payloadType: rtp.header.payloadType,
          marker: rtp.header.marker,
          timestamp: rtp.header.timestamp,
          payload: rtp.payload,
        });
      });
    });
  }
  // A decoder starts from a keyframe: while video arrives without one, ask for one (PLI) every second, as a
  // browser would.
  const keyframeRequests = setInterval(() => {
    const ssrc = video.receiver.tracks[0]?.ssrc;
    if (counters.video.packets > 0 && counters.video.keyframes === 0 && ssrc !== undefined) {
      log("no keyframe yet: PLI");
      video.receiver.sendRtcpPLI(ssrc).catch((error) => log(`PLI: ${error.message}`));
    }
  }, KEYFRAME_REQUEST_INTERVAL_MS);
  await negotiate(pc, session);
  return {
    stats: () => ({ audio: counters.audio.stats(), video: counters.video.stats() }),
    close: () => {
      clearInterval(keyframeRequests);
      return pc.close();
    },
  };
}

runClient({
  capabilities: { publish: ["vp8", "h264"], play: ["vp8", "h264"], decodes: false },
  publish,
  play,
});
