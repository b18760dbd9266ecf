// The libdatachannel stack (C++, ICE by libjuice, DTLS and SRTP by OpenSSL and libsrtp) through node-datachannel.
// libdatachannel has no encoder: publishing runs Debian's ffmpeg (lavfi test pattern and tone, libvpx or libx264
// and libopus) with RTP output to a local socket; the client rewrites each packet's SSRC and payload type to the
// ones it offered and sends it with Track.sendMessageBinary (libdatachannel protects it with SRTP); a NACK
// responder answers retransmission requests. Playing counts the RTP libdatachannel hands up (packets, bytes,
// keyframes from the VP8 payload descriptor or H.264 NAL units, frames as marker bits); nothing is decoded, and
// an RTCP receiving session sends receiver reports.
//
// No ICE servers (libdatachannel has no default one), bound to the namespace's loopback-range address (127.0.0.2
// on a veth, else 127.0.0.1) so libjuice offers only that host candidate.
import { createRequire } from "node:module";
import { log, runClient, withTimeout } from "../lib/whip.mjs";
import {
  FFMPEG_AUDIO_PT, FFMPEG_VIDEO_PT, ReceiveCounter, checkFfmpeg, hasCandidates, isRtcp, loopbackOffer,
  loopbackHostAddresses, parseRtp, rewriteRtp, sdpMediaCodecs, startFfmpegSource,
} from "../lib/rtpmedia.mjs";

const ndc = createRequire(import.meta.url)("node-datachannel");

const GATHER_TIMEOUT_MS = 10_000;
const OPUS_PT = 111;
const VIDEO_PT = { vp8: 96, h264: 102 };
const AUDIO_SSRC = 0x5a11_0001;
const VIDEO_SSRC = 0x5a11_0002;
const CNAME = "parley-interop";
/** How often a player without a keyframe asks for one. */
const KEYFRAME_REQUEST_INTERVAL_MS = 1_000;
/** Packets the NACK responder keeps for retransmission. */
const NACK_HISTORY = 512;

// libdatachannel closes a track whose JavaScript object is collected: everything native stays referenced here.
const keepAlive = [];

function newPeerConnection(name, session) {
  const [address = "127.0.0.1"] = loopbackHostAddresses();
  log(`host candidate address ${address}`);
  const pc = new ndc.PeerConnection(name, {
    iceServers: [],
    bindAddress: address,
    enableIceTcp: false,
    enableIceUdpMux: false,
    disableAutoNegotiation: true,
  });
  keepAlive.push(pc);
  pc.boundAddress = address;
  pc.onStateChange((state) => session.connectionState(state));
  return pc;
}

/** Creates the offer, waits for every candidate, exchanges it with the server and applies the answer. */
async function negotiate(pc, session) {
  const gathered = new Promise((resolve) => {
    pc.onGatheringStateChange((state) => state === "complete" && resolve());
    if (pc.gatheringState() === "complete") resolve();
  });
  pc.setLocalDescription("offer");
  await withTimeout(gathered, GATHER_TIMEOUT_MS, "ICE gathering");
  const offer = loopbackOffer(pc.localDescription().sdp, "libdatachannel");
  const answer = await session.exchange(offer);
  log(`answer:\n${answer.trim()}`);
  if (!hasCandidates(answer)) throw new Error(`the answer has no candidate: ${answer}`);
  pc.setRemoteDescription(answer, "answer");
  return answer;
}

function addVideoCodec(media, video) {
  if (video === "h264") {
    media.addH264Codec(VIDEO_PT.h264, "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1");
  } else {
    media.addVP8Codec(VIDEO_PT.vp8);
  }
}

async function publish(options, session) {
  checkFfmpeg();
  const pc = newPeerConnection("publish", session);
  const audio = new ndc.Audio("0", "SendOnly");
  audio.addOpusCodec(OPUS_PT);
  audio.addSSRC(AUDIO_SSRC, CNAME, "parley-interop", "audio");
  const video = new ndc.Video("1", "SendOnly");
  addVideoCodec(video, options.video);
  video.addSSRC(VIDEO_SSRC, CNAME, "parley-interop", "video");
  const audioTrack = pc.addTrack(audio);
  const videoTrack = pc.addTrack(video);
  const handlers = [new ndc.RtcpNackResponder(NACK_HISTORY), new ndc.RtcpNackResponder(NACK_HISTORY)];
  audioTrack.setMediaHandler(handlers[0]);
  videoTrack.setMediaHandler(handlers[1]);
  keepAlive.push(audio, video, audioTrack, videoTrack, ...handlers);
  await negotiate(pc, session);

  const sent = { audio: 0, video: 0 };
  const forward = (track, kind, payloadType, ssrc) => (packet) => {
    if (!track.isOpen()) return;
    if (packet.length < 12 || (packet[1] & 0x7f) !== (kind === "audio" ? FFMPEG_AUDIO_PT : FFMPEG_VIDEO_PT)) return;
    if (track.sendMessageBinary(rewriteRtp(packet, payloadType, ssrc))) sent[kind] += 1;
  };
  let source;
  // ffmpeg starts once DTLS is up, so its first frame (a keyframe) reaches the server.
  const started = new Promise((resolve) => {
    const poll = setInterval(() => {
      if (session.stopping || (audioTrack.isOpen() && videoTrack.isOpen())) {
        clearInterval(poll);
        resolve();
      }
    }, 50);
  });
  started.then(async () => {
    if (session.stopping) return;
    source = await startFfmpegSource({
      video: options.video,
      seconds: options.seconds,
      onVideo: forward(videoTrack, "video", VIDEO_PT[options.video], VIDEO_SSRC),
      onAudio: forward(audioTrack, "audio", OPUS_PT, AUDIO_SSRC),
    });
    if (session.stopping) source.stop();
    source.failed.catch((error) => session.fail(error));
  }).catch((error) => session.fail(error));

  return {
    stats: () => ({ audio: { packets: sent.audio }, video: { packets: sent.video } }),
    close: () => {
      source?.stop();
      pc.close();
    },
  };
}

async function play(options, session) {
  const pc = newPeerConnection("play", session);
  const audio = new ndc.Audio("0", "RecvOnly");
  audio.addOpusCodec(OPUS_PT);
  const video = new ndc.Video("1", "RecvOnly");
  addVideoCodec(video, options.video);
  const audioTrack = pc.addTrack(audio);
  const videoTrack = pc.addTrack(video);
  const handlers = [new ndc.RtcpReceivingSession(), new ndc.RtcpReceivingSession()];
  audioTrack.setMediaHandler(handlers[0]);
  videoTrack.setMediaHandler(handlers[1]);
  keepAlive.push(audio, video, audioTrack, videoTrack, ...handlers);

  // The negotiated codecs, by payload type, from the answer's m-line with the track's mid.
  const negotiated = { audio: new Map(), video: new Map() };
  const counters = {
    audio: new ReceiveCounter("audio", (pt) => negotiated.audio.get(pt), "opus"),
    video: new ReceiveCounter("video", (pt) => negotiated.video.get(pt), options.video),
  };
  for (const [kind, track] of [["audio", audioTrack], ["video", videoTrack]]) {
    track.onMessage((message) => {
      const packet = Buffer.isBuffer(message) ? message : Buffer.from(message);
      if (isRtcp(packet)) return;
      const rtp = parseRtp(packet);
      if (rtp) counters[kind].add({ size: packet.length, ...rtp });
    });
  }
  // A decoder starts from a keyframe: while video arrives without one, ask for one (PLI) every second, as a
  // browser would. (The server asks the publisher when the player connects, but libdatachannel may drop what
  // arrives before its track is open.)
  const keyframeRequests = setInterval(() => {
    if (counters.video.packets > 0 && counters.video.keyframes === 0 && videoTrack.isOpen()) {
      log(`no keyframe yet: PLI (${videoTrack.requestKeyframe() ? "sent" : "not sent"})`);
    }
  }, KEYFRAME_REQUEST_INTERVAL_MS);
  keepAlive.push(keyframeRequests);
  const answer = await negotiate(pc, session);
  for (const section of sdpMediaCodecs(answer)) {
    if (section.mid === "0") negotiated.audio = section.codecs;
    if (section.mid === "1") negotiated.video = section.codecs;
  }
  return {
    stats: () => ({ audio: counters.audio.stats(), video: counters.video.stats() }),
    close: () => {
      clearInterval(keyframeRequests);
      pc.close();
    },
  };
}

runClient({
  capabilities: { publish: ["vp8", "h264"], play: ["vp8", "h264"], decodes: false },
  publish,
  play,
});
