"""The GStreamer stack client of the interop suite: WHIP publish and WHEP play over webrtcbin (GStreamer 1.22).

Debian bookworm ships no whipsink/whepsrc, so the WHIP/WHEP exchange is done here: webrtcbin gathers every
candidate, the complete offer is POSTed with urllib (Bearer token), the answer is applied, and the resource is
DELETEd at the end. Commands, options and the JSON lines on stdout follow interop/README.md; logs go to stderr.

Publish: videotestsrc (moving ball) -> vp8enc or x264enc -> RTP payloader -> webrtcbin, audiotestsrc -> opusenc.
Play: receive-only audio and video transceivers; RTP packets, payload bytes and keyframes are counted by a pad
probe on webrtcbin's decrypted RTP output, before depayloading; video is decoded and decoded frames are counted.

webrtcbin runs with bundle policy "max-bundle": the offer puts every m-line in one BUNDLE group and marks the later
ones `a=bundle-only` with port 0 (RFC 8843). Nothing reaches out: no STUN or TURN server is set and libnice's UPnP is
turned off.
"""

import argparse
import ctypes
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstSdp", "1.0")
    gi.require_version("GstWebRTC", "1.0")
    gi.require_version("Nice", "0.1")  # libnice's candidates arrive as Nice.Candidate in "new-selected-pair-full"
    from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Nice  # noqa: F401
    MISSING = None
except (ImportError, ValueError) as import_error:
    MISSING = str(import_error)

GOBJECT = ctypes.CDLL("libgobject-2.0.so.0")
GOBJECT.g_object_ref.argtypes = [ctypes.c_void_p]
GOBJECT.g_object_ref.restype = ctypes.c_void_p
capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
capsule_pointer.restype = ctypes.c_void_p

CAPABILITIES = {"publish": ["vp8", "h264"], "play": ["vp8", "h264"], "decodes": True}
# webrtcbin's own default ("none"; "balanced" is the same in 1.22) puts no BUNDLE group in the offer at all, each
# m-line with its own ICE credentials and candidates. "max-bundle" is what a WHIP client uses: one BUNDLE group,
# later m-lines `a=bundle-only` with port 0. The variable is there to try the others by hand.
BUNDLE_POLICY = os.environ.get("IOP_GST_BUNDLE_POLICY", "max-bundle")
CONNECT_TIMEOUT_S = 20
GATHER_TIMEOUT_S = 10
HTTP_TIMEOUT_S = 10
CLOSE_TIMEOUT_S = 5
MAX_SECONDS = 3600
# Past its --seconds, a client that is still running after this is stuck somewhere: it reports and exits.
OVERRUN_S = CONNECT_TIMEOUT_S + 2 * HTTP_TIMEOUT_S + CLOSE_TIMEOUT_S

VIDEO_RTP_CAPS = {
    "vp8": "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000,"
    "rtcp-fb-nack-pli=(boolean)true",
    "h264": "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
    "packetization-mode=(string)1,rtcp-fb-nack-pli=(boolean)true",
}
# A player offers constrained baseline 3.1; a publisher announces what x264 makes (its SPS: 42c01e at 640x480).
PLAY_PROFILE = {"vp8": "", "h264": ",profile-level-id=(string)42e01f"}
AUDIO_RTP_CAPS = ("application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
                  "encoding-params=(string)2")

# Publish: a moving ball at 640x480, 30 fps, and a 440 Hz tone. Key frames every 2 s (and on PLI: webrtcbin turns
# a PLI into a force-key-unit event that reaches the encoder).
VIDEO_SOURCE = ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ! "
                "videoconvert ! queue max-size-buffers=2 leaky=downstream ! ")
VIDEO_ENCODER = {
    "vp8": "vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=800000 keyframe-max-dist=60 "
           "error-resilient=partitions lag-in-frames=0 ! rtpvp8pay picture-id-mode=15-bit mtu=1200 ! ",
    "h264": "x264enc tune=zerolatency speed-preset=ultrafast bitrate=800 key-int-max=60 ! "
            "video/x-h264,profile=constrained-baseline ! h264parse ! "
            "rtph264pay config-interval=-1 aggregate-mode=zero-latency mtu=1200 ! ",
}
AUDIO_SOURCE = ("audiotestsrc is-live=true wave=sine freq=440 volume=0.3 ! audioconvert ! audioresample ! "
                "opusenc ! rtpopuspay mtu=1200 ! ")
DECODER = {
    "vp8": "rtpvp8depay ! vp8dec",
    "h264": "rtph264depay ! h264parse ! avdec_h264",
}


def emit(event, **fields):
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def log(message):
    now = time.time()
    stamp = f"{time.strftime('%H:%M:%S', time.gmtime(now))}.{int(now * 1000) % 1000:03d}"
    sys.stderr.write(f"{stamp} gstreamer: {message}\n")
    sys.stderr.flush()


class ClientError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """Usage errors become an "error" event and exit 1, like every other failure."""

    def error(self, message):
        raise ClientError(f"{message} (usage: client capabilities | client publish|play --url URL "
                          "[--token TOKEN] [--video vp8|h264] [--seconds N])")


def parse_args(argv):
    parser = Parser(prog="client", description="GStreamer webrtcbin WHIP/WHEP interop client")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("capabilities")
    for name in ("publish", "play"):
        p = sub.add_parser(name)
        p.add_argument("--url", required=True)
        p.add_argument("--token")
        p.add_argument("--video", choices=("vp8", "h264"), default="vp8")
        p.add_argument("--seconds", type=float, default=20)
    options = parser.parse_args(argv)
    if options.command != "capabilities":
        if not 0 < options.seconds <= MAX_SECONDS:
            raise ClientError(f"--seconds must be between 0 and {MAX_SECONDS} (got {options.seconds})")
        scheme = urllib.parse.urlsplit(options.url).scheme
        if scheme not in ("http", "https"):
            raise ClientError(f"--url must be an http(s) URL (got {options.url})")
    return options


def http(method, url, token, body=None, content_type=None):
    """One HTTP request with the token and a time limit; returns (status, headers, body text)."""
    request = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return response.status, response.headers, response.read(1 << 20).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(1 << 16).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        raise ClientError(f"{method} {url} failed: {getattr(error, 'reason', error)}") from error


def rtp_payload(data):
    """The payload of an RTP packet (header, CSRCs, extension and padding removed), or None if malformed."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(data[offset + 2:offset + 4], "big")
    end = len(data)
    if data[0] & 0x20:
        end -= data[-1]
    return data[offset:end] if offset <= end else None


def vp8_keyframe(payload):
    """Whether a VP8 RTP payload starts a key frame: S=1, PID=0, then the payload header's P bit is 0."""
    if not payload:
        return False
    first = payload[0]
    if not first & 0x10 or first & 0x07:
        return False
    offset = 1
    if first & 0x80:
        if len(payload) < 2:
            return False
        extension = payload[1]
        offset = 2
        if extension & 0x80:
            offset += 2 if len(payload) > offset and payload[offset] & 0x80 else 1
        if extension & 0x40:
            offset += 1
        if extension & 0x30:
            offset += 1
    return len(payload) > offset and payload[offset] & 0x01 == 0


def h264_keyframe(payload):
    """Whether an H.264 RTP payload carries an IDR slice: directly, in a STAP-A, or at the start of a FU-A."""
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type == 5:
        return True
    if nal_type == 24:
        offset = 1
        while offset + 2 < len(payload):
            size = int.from_bytes(payload[offset:offset + 2], "big")
            if size and payload[offset + 2] & 0x1F == 5:
                return True
            offset += 2 + size
        return False
    if nal_type == 28 and len(payload) > 1:
        return bool(payload[1] & 0x80) and payload[1] & 0x1F == 5
    return False


def ssrcs_by_kind(sdp):
    """SSRC -> "audio"/"video", from the a=ssrc lines of each m-line of an SDP."""
    kinds, kind = {}, None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif line.startswith("a=ssrc:") and kind:
            ssrc = line[7:].split(" ", 1)[0]
            if ssrc.isdigit():
                kinds[int(ssrc)] = kind
    return kinds


class Track:
    def __init__(self, codec):
        self.codec = codec
        self.packets = 0
        self.bytes = 0
        self.keyframes = 0
        self.frames = 0
        self.keyframe_timestamp = None

    def count(self, buffer):
        ok, info = buffer.map(Gst.MapFlags.READ)
        if not ok:
            return
        try:
            data = bytes(info.data)
        finally:
            buffer.unmap(info)
        payload = rtp_payload(data)
        if payload is None:
            return
        self.packets += 1
        self.bytes += len(payload)
        if (self.codec == "vp8" and vp8_keyframe(payload)) or (self.codec == "h264" and h264_keyframe(payload)):
            # Once per frame (its RTP timestamp): an encoder may cut a key frame into several IDR slices.
            timestamp = int.from_bytes(data[4:8], "big")
            if timestamp != self.keyframe_timestamp:
                self.keyframe_timestamp = timestamp
                self.keyframes += 1


class Client:
    def __init__(self, options):
        self.options = options
        self.loop = GLib.MainLoop()
        self.location = None
        self.connected = False
        self.outcome = None
        self.offer_sent = False
        self.pipeline = None
        self.webrtc = None
        self.audio = Track("opus")
        self.video = Track(options.video)
        self.sent_ssrcs = {}

    # ---- life cycle --------------------------------------------------------------------------------------

    def run(self):
        self.build()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_bus_message)
        for sig in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, self.finish_signal, sig)
        GLib.timeout_add(int(self.options.seconds * 1000), self.finish_reason, "time")
        GLib.timeout_add_seconds(CONNECT_TIMEOUT_S, self.check_connected)
        GLib.timeout_add_seconds(GATHER_TIMEOUT_S, self.check_gathered)
        GLib.timeout_add_seconds(1, self.tick)
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self.fail("the pipeline did not start")
        else:
            self.loop.run()
        return self.end()

    def finish(self, outcome):
        if self.outcome is None:
            self.outcome = outcome
            self.loop.quit()
        return False

    def finish_reason(self, reason):
        return self.finish({"reason": reason})

    def finish_signal(self, sig):
        return self.finish({"reason": signal.Signals(sig).name})

    def fail(self, message):
        return self.finish({"error": message})

    def fail_later(self, message):
        """From a streaming or webrtcbin thread: fail on the main loop."""
        GLib.idle_add(self.fail, message)

    def check_connected(self):
        if not self.connected:
            self.fail(f"not connected within {CONNECT_TIMEOUT_S} s")
        return False

    def check_gathered(self):
        if not self.offer_sent and self.outcome is None:
            self.fail(f"ICE gathering did not complete within {GATHER_TIMEOUT_S} s")
        return False

    def end(self):
        error = self.outcome.get("error")
        if error:
            log(f"failing: {error}")
        else:
            log(f"ending ({self.outcome['reason']})")
            self.print_stats()
        code = 1 if error else 0
        if self.location:
            try:
                status, _, body = http("DELETE", self.location, self.options.token)
                if not error:
                    emit("ended", status=status)
                if not 200 <= status <= 299:
                    log(f"DELETE {self.location} answered {status}: {body[:300]}")
                    code = 1
            except ClientError as delete_error:
                if not error:
                    emit("error", message=str(delete_error))
                code = 1
        elif not error:
            emit("error", message="ended before the server created a resource")
            code = 1
        if error:
            emit("error", message=error)
        self.stop_pipeline()
        return code

    def stop_pipeline(self):
        if self.pipeline is None:
            return
        self.pipeline.set_state(Gst.State.NULL)
        result, _, _ = self.pipeline.get_state(CLOSE_TIMEOUT_S * Gst.SECOND)
        if result != Gst.StateChangeReturn.SUCCESS:
            log(f"the pipeline did not stop within {CLOSE_TIMEOUT_S} s ({result.value_nick})")

    def on_bus_message(self, _bus, message):
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            self.fail(f"{message.src.get_name()}: {error.message} ({debug})")
        elif message.type == Gst.MessageType.WARNING:
            warning, debug = message.parse_warning()
            log(f"warning from {message.src.get_name()}: {warning.message} ({debug})")
        elif message.type == Gst.MessageType.EOS:
            self.fail("the pipeline ended early")
        return True

    # ---- the pipeline ------------------------------------------------------------------------------------

    def build(self):
        codec = self.options.video
        self.pipeline = Gst.Pipeline.new("client")
        self.webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
        if self.webrtc is None:
            raise ClientError("GStreamer has no webrtcbin: install gstreamer1.0-plugins-bad and gstreamer1.0-nice "
                              "(run interop/clients/gstreamer/prepare)")
        Gst.util_set_object_arg(self.webrtc, "bundle-policy", BUNDLE_POLICY)
        self.pipeline.add(self.webrtc)
        if self.options.command == "publish":
            # Video first, then audio: the m-lines come in the order the sink pads are requested.
            for branch, caps in ((f"{VIDEO_SOURCE}{VIDEO_ENCODER[codec]}", VIDEO_RTP_CAPS[codec]),
                                 (AUDIO_SOURCE, AUDIO_RTP_CAPS)):
                try:
                    source = Gst.parse_bin_from_description(branch + "capsfilter name=rtp", True)
                except GLib.Error as error:
                    raise ClientError(f"cannot build the pipeline ({error.message}): is every GStreamer plugin "
                                      "installed? (run interop/clients/gstreamer/prepare)") from error
                source.get_by_name("rtp").set_property("caps", Gst.Caps.from_string(caps))
                self.pipeline.add(source)
                if not source.link(self.webrtc):
                    raise ClientError(f"cannot link {branch} to webrtcbin")
            # Like any WHIP client: send only (webrtcbin makes transceivers for request pads sendrecv).
            for index in range(2):
                transceiver = self.webrtc.emit("get-transceiver", index)
                transceiver.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        self.configure_ice()
        if self.options.command == "play":
            for caps in (VIDEO_RTP_CAPS[codec] + PLAY_PROFILE[codec], AUDIO_RTP_CAPS):
                self.webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                                 Gst.Caps.from_string(caps))
            self.webrtc.connect("pad-added", self.on_pad_added)
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering_state)
        self.webrtc.connect("notify::connection-state", self.on_connection_state)
        self.webrtc.connect("notify::ice-connection-state", self.on_ice_connection_state)

    def configure_ice(self):
        """Nothing that reaches out: no STUN/TURN (none is set) and no UPnP port mapping in libnice."""
        ice = self.webrtc.get_property("ice-agent")
        # webrtcbin 1.22 never sinks its ICE object's floating reference, so the one reference it holds is the
        # one PyGObject takes over (and drops with the Python wrapper, freeing the agent under webrtcbin's feet).
        # Give webrtcbin a reference of its own first.
        GOBJECT.g_object_ref(capsule_pointer(ice.__gpointer__, None))
        agent = ice.get_property("agent") if ice.find_property("agent") else None
        if agent is None or agent.find_property("upnp") is None:
            raise ClientError("cannot reach libnice's agent through webrtcbin's ice-agent to turn UPnP off")
        agent.set_property("upnp", False)
        agent.connect("new-selected-pair-full", self.on_selected_pair)
        if self.webrtc.get_property("stun-server") or self.webrtc.get_property("turn-server"):
            raise ClientError("webrtcbin has a STUN or TURN server set")

    # ---- offer/answer --------------------------------------------------------------------------------------

    def on_negotiation_needed(self, _webrtc):
        if self.offer_sent:
            return
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        self.webrtc.emit("create-offer", None, promise)

    def on_offer_created(self, promise, _data):
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply is not None and reply.has_field("offer") else None
        if offer is None:
            self.fail_later(f"webrtcbin could not create an offer: {reply.to_string() if reply else 'no reply'}")
            return
        self.webrtc.emit("set-local-description", offer, None)

    def on_gathering_state(self, webrtc, _pspec):
        state = webrtc.get_property("ice-gathering-state")
        log(f"ICE gathering {state.value_nick}")
        if state == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(self.send_offer)

    def send_offer(self):
        if self.offer_sent or self.outcome is not None:
            return False
        description = self.webrtc.get_property("local-description")
        if description is None:  # gathering finished before set-local-description did: look again shortly
            GLib.timeout_add(50, self.send_offer)
            return False
        self.offer_sent = True
        offer = description.sdp.as_text()
        self.sent_ssrcs = ssrcs_by_kind(offer)
        log("offer:\n" + offer)
        if "a=candidate:" not in offer:
            return self.fail("webrtcbin gathered no ICE candidate (libnice skips lo: is a non-loopback interface "
                             "such as a veth with 127.0.0.2 up?)")
        try:
            status, headers, body = http("POST", self.options.url, self.options.token, offer, "application/sdp")
        except ClientError as error:
            return self.fail(str(error))
        if status != 201:
            return self.fail(f"POST {self.options.url} answered {status}: {body[:500]}")
        location = headers.get("Location")
        if not location:
            return self.fail(f"POST {self.options.url} answered 201 without a Location header")
        if not body.startswith("v=0"):
            return self.fail(f"POST {self.options.url} answered 201 without an SDP answer: {body[:200]}")
        self.location = urllib.parse.urljoin(self.options.url, location)
        emit("resource", location=self.location)
        log("answer:\n" + body)
        result, sdp = GstSdp.SDPMessage.new_from_text(body)
        if result != GstSdp.SDPResult.OK:
            return self.fail(f"the answer is not SDP that GStreamer parses ({result.value_nick})")
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        promise = Gst.Promise.new_with_change_func(self.on_answer_set, None)
        self.webrtc.emit("set-remote-description", answer, promise)
        return False

    def on_answer_set(self, promise, _data):
        promise.wait()
        reply = promise.get_reply()
        if reply is not None and reply.has_field("error"):
            self.fail_later(f"webrtcbin rejected the answer: {reply.get_value('error')}")

    def on_ice_connection_state(self, webrtc, _pspec):
        state = webrtc.get_property("ice-connection-state")
        log(f"ICE {state.value_nick}")
        if state == GstWebRTC.WebRTCICEConnectionState.FAILED:
            self.fail_later("ICE failed")

    @staticmethod
    def on_selected_pair(_agent, stream, component, local, remote):
        """Which of its own and the server's candidates libnice chose."""
        log(f"ICE pair (stream {stream}, component {component}): {local.addr.dup_string()}:{local.addr.get_port()}"
            f" -> {remote.addr.dup_string()}:{remote.addr.get_port()}")

    def on_connection_state(self, webrtc, _pspec):
        state = webrtc.get_property("connection-state")
        log(f"connection {state.value_nick}")
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            GLib.idle_add(self.on_connected)
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            self.fail_later("the connection failed (ICE or DTLS)")

    def on_connected(self):
        if not self.connected and self.outcome is None:
            self.connected = True
            emit("connected")
        return False

    # ---- play: counting what arrives ----------------------------------------------------------------------

    def on_pad_added(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        media = caps.get_structure(0).get_string("media") if caps and caps.get_size() else None
        log(f"receiving {media}: {caps.to_string() if caps else '?'}")
        if media == "video":
            track, chain = self.video, f"{DECODER[self.options.video]} ! fakesink name=frames sync=false"
        elif media == "audio":
            track, chain = self.audio, "rtpopusdepay ! opusdec ! fakesink sync=false"
        else:
            track, chain = None, "fakesink sync=false"
        sink = Gst.parse_bin_from_description(chain, True)
        self.pipeline.add(sink)
        sink.sync_state_with_parent()
        if track is not None:
            pad.add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, self.on_rtp, track)
        if media == "video":
            frames = sink.get_by_name("frames").get_static_pad("sink")
            frames.add_probe(Gst.PadProbeType.BUFFER, self.on_frame, None)
        if pad.link(sink.get_static_pad("sink")) != Gst.PadLinkReturn.OK:
            self.fail_later(f"cannot link webrtcbin's {media} output")

    def on_rtp(self, _pad, info, track):
        if info.type & Gst.PadProbeType.BUFFER_LIST:
            buffers = info.get_buffer_list()
            for i in range(buffers.length()):
                track.count(buffers.get(i))
        else:
            track.count(info.get_buffer())
        return Gst.PadProbeReturn.OK

    def on_frame(self, _pad, _info, _data):
        self.video.frames += 1
        return Gst.PadProbeReturn.OK

    # ---- stats ---------------------------------------------------------------------------------------------

    def tick(self):
        if self.outcome is not None:
            return False
        self.print_stats()
        return True

    def print_stats(self):
        if self.options.command == "play":
            emit("stats",
                 audio={"packets": self.audio.packets, "bytes": self.audio.bytes, "codec": "opus"},
                 video={"packets": self.video.packets, "bytes": self.video.bytes, "codec": self.video.codec,
                        "keyframes": self.video.keyframes, "frames": self.video.frames})
        else:
            emit("stats", **self.sent_packets())

    def sent_packets(self):
        """Packets sent per kind, from webrtcbin's outbound-rtp statistics (empty until it has some). Their kind
        is taken from the SSRC's m-line in the offer: webrtcbin 1.22 labels every bundled stream with the kind of
        the first one."""
        promise = Gst.Promise.new()
        self.webrtc.emit("get-stats", None, promise)
        if promise.wait() != Gst.PromiseResult.REPLIED:
            return {}
        reply = promise.get_reply()
        if reply is None:
            return {}
        counts = {}

        def visit(_field, value):
            if isinstance(value, Gst.Structure) and value.has_field("type"):
                ok, kind = value.get_enum("type", GstWebRTC.WebRTCStatsType.__gtype__)
                ok_ssrc, ssrc = value.get_uint("ssrc")
                ok_packets, packets = value.get_uint64("packets-sent")
                media = self.sent_ssrcs.get(ssrc) if ok_ssrc else None
                if ok and kind == GstWebRTC.WebRTCStatsType.OUTBOUND_RTP and ok_packets and media:
                    counts.setdefault(media, {"packets": 0})["packets"] += packets
            return True

        reply.foreach(visit)
        return counts


def overran(limit):
    """Never hang: a stuck GStreamer call (a state change, a promise) must not keep the process alive."""
    emit("error", message=f"still running {limit:.0f} s after start: stuck, giving up")
    os._exit(1)


def main(argv):
    try:
        options = parse_args(argv)
    except ClientError as error:
        emit("error", message=str(error))
        return 1
    if options.command == "capabilities":
        print(json.dumps(CAPABILITIES), flush=True)
        return 0
    if MISSING:
        emit("error", message=f"GStreamer's Python bindings do not load ({MISSING}): run "
                              "interop/clients/gstreamer/prepare (Debian: python3-gi python3-gst-1.0 "
                              "gir1.2-gst-plugins-bad-1.0 gir1.2-nice-0.1)")
        return 1
    Gst.init(None)
    watchdog = threading.Timer(options.seconds + OVERRUN_S, overran, (options.seconds + OVERRUN_S,))
    watchdog.daemon = True
    watchdog.start()
    try:
        return Client(options).run()
    except ClientError as error:
        emit("error", message=str(error))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
