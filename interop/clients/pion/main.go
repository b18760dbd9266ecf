// Command pion-client is a WHIP/WHEP interop client built on pion/webrtc v3 (Debian's
// golang-github-pion-webrtc.v3-dev).
//
// publish: pion has no encoders, so a moving test pattern and a tone are encoded by Debian's ffmpeg into a
// temporary directory at start (VP8 in IVF or H.264 Annex-B, Opus in Ogg), read back with pion's readers and
// written to sample tracks at the media's own pace, looping. play: receive-only audio and video; every RTP packet
// is counted, keyframes are found by parsing the VP8 payload descriptor or the H.264 NAL units, frames are the
// packets with the marker bit (pion does not decode). Commands and output follow interop/clients' common contract.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	"github.com/pion/webrtc/v3/pkg/media"
	"github.com/pion/webrtc/v3/pkg/media/h264reader"
	"github.com/pion/webrtc/v3/pkg/media/ivfreader"
	"github.com/pion/webrtc/v3/pkg/media/oggreader"
)

const (
	connectTimeout = 20 * time.Second
	httpTimeout    = 10 * time.Second
	maxAnswerBytes = 256 * 1024
	// The encoded clip loops; players that join late still get a keyframe every second.
	clipSeconds = 10
	width       = 320
	height      = 240
	fps         = 30
	h264Fmtp    = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
)

var stdout = json.NewEncoder(os.Stdout)
var stdoutMu sync.Mutex

func emit(event string, fields map[string]interface{}) {
	line := map[string]interface{}{"event": event}
	for k, v := range fields {
		line[k] = v
	}
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	_ = stdout.Encode(line)
}

type options struct {
	command string
	url     string
	token   string
	video   string
	seconds float64
}

func main() {
	log.SetOutput(os.Stderr)
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if len(os.Args) < 2 {
		usage()
	}
	opts := options{command: os.Args[1]}
	switch opts.command {
	case "capabilities":
		fmt.Println(`{"publish":["vp8","h264"],"play":["vp8","h264"],"decodes":false}`)
		return
	case "publish", "play":
	default:
		usage()
	}
	flags := flag.NewFlagSet(opts.command, flag.ExitOnError)
	flags.StringVar(&opts.url, "url", "", "WHIP (publish) or WHEP (play) endpoint URL")
	flags.StringVar(&opts.token, "token", "", "bearer token sent on every request")
	flags.StringVar(&opts.video, "video", "vp8", "video codec: vp8 or h264")
	flags.Float64Var(&opts.seconds, "seconds", 20, "how long to run")
	_ = flags.Parse(os.Args[2:])
	if opts.url == "" || (opts.video != "vp8" && opts.video != "h264") || opts.seconds <= 0 || flags.NArg() != 0 {
		usage()
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if err := run(opts, stop); err != nil {
		emit("error", map[string]interface{}{"message": err.Error()})
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: client capabilities | client publish|play --url URL [--token T] [--video vp8|h264] [--seconds N]")
	os.Exit(2)
}

// --- HTTP (WHIP/WHEP) ---

// The server is always addressed directly: no proxy from the environment.
var httpClient = &http.Client{Timeout: httpTimeout, Transport: &http.Transport{Proxy: nil}}

func request(method, target, token, contentType string, body []byte) (int, http.Header, []byte, error) {
	var reader io.Reader
	if body != nil {
		reader = strings.NewReader(string(body))
	}
	req, err := http.NewRequest(method, target, reader)
	if err != nil {
		return 0, nil, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// --- the peer connection ---

var videoFeedback = []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"},
	{Type: "nack", Parameter: "pli"}}

// videoCodec is the one video codec this run offers (so the server can only pick it) and writes.
func videoCodec(name string) webrtc.RTPCodecParameters {
	if name == "h264" {
		return webrtc.RTPCodecParameters{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp, RTCPFeedback: videoFeedback}}
	}
	return webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback}}
}

var opusCodec = webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
	MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}}

// sentCounter counts the RTP packets pion writes per kind (an interceptor sees every packet sent).
type sentCounter struct {
	interceptor.NoOp
	audio, video int64
}

func (c *sentCounter) NewInterceptor(string) (interceptor.Interceptor, error) { return c, nil }

func (c *sentCounter) BindLocalStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	count := &c.video
	if strings.HasPrefix(strings.ToLower(info.MimeType), "audio/") {
		count = &c.audio
	}
	return interceptor.RTPWriterFunc(func(header *rtp.Header, payload []byte, attrs interceptor.Attributes) (int, error) {
		n, err := writer.Write(header, payload, attrs)
		if err == nil {
			atomic.AddInt64(count, 1)
		}
		return n, err
	})
}

func newPeerConnection(video string, sent *sentCounter) (*webrtc.PeerConnection, error) {
	engine := &webrtc.MediaEngine{}
	if err := engine.RegisterCodec(opusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := engine.RegisterCodec(videoCodec(video), webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	registry := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(engine, registry); err != nil {
		return nil, err
	}
	registry.Add(sent)

	settings := webrtc.SettingEngine{}
	// pion logs to stdout by default; stdout carries only the JSON events. PION_LOG_DEBUG=ice,dtls,pc etc. still work.
	logs := logging.NewDefaultLoggerFactory()
	logs.Writer = os.Stderr
	settings.LoggerFactory = logs
	// Nothing leaves the host: no mDNS, IPv4 UDP on loopback-range addresses only. pion skips loopback addresses
	// unless told to include them.
	settings.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	settings.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	settings.SetIncludeLoopbackCandidate(true)
	settings.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })

	api := webrtc.NewAPI(webrtc.WithMediaEngine(engine), webrtc.WithInterceptorRegistry(registry),
		webrtc.WithSettingEngine(settings))
	return api.NewPeerConnection(webrtc.Configuration{ICEServers: []webrtc.ICEServer{}}) // no STUN/TURN
}

func run(opts options, stop <-chan os.Signal) (err error) {
	sent := &sentCounter{}
	pc, err := newPeerConnection(opts.video, sent)
	if err != nil {
		return fmt.Errorf("creating the peer connection: %w", err)
	}
	defer pc.Close()

	connected := make(chan struct{})
	failed := make(chan struct{})
	var stateOnce, failOnce sync.Once
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		log.Printf("connection state %s", state)
		switch state {
		case webrtc.PeerConnectionStateConnected:
			stateOnce.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			failOnce.Do(func() { close(failed) })
		}
	})

	var received *receivedCounts
	var publisher *mediaSource
	if opts.command == "publish" {
		publisher, err = prepareMedia(opts.video)
		if err != nil {
			return err
		}
		defer publisher.cleanup()
		if err := publisher.addTracks(pc); err != nil {
			return err
		}
	} else {
		received = &receivedCounts{}
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
			if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{
				Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				return err
			}
		}
		pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { received.read(track) })
	}

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("creating the offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("applying the offer: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(connectTimeout):
		return fmt.Errorf("ICE gathering did not complete within %s", connectTimeout)
	}

	status, headers, body, err := request(http.MethodPost, opts.url, opts.token, "application/sdp",
		[]byte(pc.LocalDescription().SDP))
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("POST %s: %d %s", opts.url, status, truncate(string(body), 500))
	}
	base, _ := url.Parse(opts.url)
	loc, err := url.Parse(headers.Get("Location"))
	if headers.Get("Location") == "" || err != nil {
		return fmt.Errorf("201 without a usable Location header (%q)", headers.Get("Location"))
	}
	location := base.ResolveReference(loc).String()
	emit("resource", map[string]interface{}{"location": location})
	deleted := false
	defer func() {
		if !deleted { // failed after the resource was made: end it anyway
			_, _, _, _ = request(http.MethodDelete, location, opts.token, "", nil)
		}
	}()

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return fmt.Errorf("applying the answer: %w", err)
	}

	stopped := false
	select {
	case <-connected:
		emit("connected", nil)
	case <-failed:
		return fmt.Errorf("connection %s before it was up", pc.ConnectionState())
	case <-stop:
		stopped = true
	case <-time.After(connectTimeout):
		return fmt.Errorf("not connected within %s (state %s)", connectTimeout, pc.ConnectionState())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if publisher != nil && !stopped {
		go publisher.pace(ctx)
	}

	deadline := time.After(time.Duration(opts.seconds * float64(time.Second)))
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for !stopped {
		select {
		case <-ticker.C:
			report(received, sent)
		case <-failed:
			return fmt.Errorf("connection %s", pc.ConnectionState())
		case err := <-publisherErrors(publisher):
			return err
		case <-deadline:
			stopped = true
		case <-stop:
			stopped = true
		}
	}
	cancel()
	if received != nil {
		report(received, sent)
	}

	status, _, _, err = request(http.MethodDelete, location, opts.token, "", nil)
	if err != nil {
		return err
	}
	deleted = true
	emit("ended", map[string]interface{}{"status": status})
	if status >= 300 {
		return fmt.Errorf("DELETE answered %d", status)
	}
	return nil
}

func report(received *receivedCounts, sent *sentCounter) {
	if received != nil {
		audio, video := received.snapshot()
		emit("stats", map[string]interface{}{"audio": audio, "video": video})
		return
	}
	emit("stats", map[string]interface{}{
		"audio": map[string]int64{"packets": atomic.LoadInt64(&sent.audio)},
		"video": map[string]int64{"packets": atomic.LoadInt64(&sent.video)},
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// --- playing: counting what arrives ---

type kindCounts struct {
	packets, bytes, keyframes, frames int64
	codec                             string
	lastKeyTimestamp                  uint32
	sawKey                            bool
}

type receivedCounts struct {
	mu           sync.Mutex
	audio, video kindCounts
}

func (r *receivedCounts) read(track *webrtc.TrackRemote) {
	codec := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(track.Codec().MimeType, "video/"), "audio/"))
	isVideo := track.Kind() == webrtc.RTPCodecTypeVideo
	log.Printf("track %s %s ssrc %d", track.Kind(), codec, track.SSRC())
	go func() {
		for {
			packet, _, err := track.ReadRTP()
			if err != nil {
				log.Printf("%s track ended: %v", track.Kind(), err)
				return
			}
			r.mu.Lock()
			counts := &r.audio
			if isVideo {
				counts = &r.video
			}
			counts.codec = codec
			counts.packets++
			counts.bytes += int64(len(packet.Payload))
			if isVideo {
				if packet.Marker {
					counts.frames++
				}
				key := false
				if codec == "vp8" {
					key = vp8Keyframe(packet.Payload)
				} else if codec == "h264" {
					key = h264Keyframe(packet.Payload)
				}
				if key && (!counts.sawKey || packet.Timestamp != counts.lastKeyTimestamp) {
					counts.keyframes++
					counts.sawKey = true
					counts.lastKeyTimestamp = packet.Timestamp
				}
			}
			r.mu.Unlock()
		}
	}()
}

func (r *receivedCounts) snapshot() (map[string]interface{}, map[string]interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	codecOrNil := func(c string) interface{} {
		if c == "" {
			return nil
		}
		return c
	}
	return map[string]interface{}{"packets": r.audio.packets, "bytes": r.audio.bytes, "codec": codecOrNil(r.audio.codec)},
		map[string]interface{}{"packets": r.video.packets, "bytes": r.video.bytes, "codec": codecOrNil(r.video.codec),
			"keyframes": r.video.keyframes, "frames": r.video.frames}
}

// vp8Keyframe: the first packet of a keyframe (payload descriptor S=1 and PID=0, then the payload header's P bit 0).
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte
		if len(p) <= i {
			return false
		}
		ext := p[i]
		i++
		if ext&0x80 != 0 { // I: picture id of 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/KEYIDX
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// h264Keyframe: an IDR NAL unit directly, inside a STAP-A, or as the start of a FU-A.
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch p[0] & 0x1f {
	case 5:
		return true
	case 24:
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			if size == 0 {
				return false
			}
			if p[i+2]&0x1f == 5 {
				return true
			}
			i += 2 + size
		}
	case 28:
		return len(p) >= 2 && p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}

// --- publishing: media encoded by ffmpeg, written at its own pace ---

type mediaSource struct {
	dir        string
	video      string
	videoTrack *webrtc.TrackLocalStaticSample
	audioTrack *webrtc.TrackLocalStaticSample
	errors     chan error
}

func publisherErrors(m *mediaSource) <-chan error {
	if m == nil {
		return nil
	}
	return m.errors
}

// prepareMedia encodes a clipSeconds-long moving test pattern and tone with ffmpeg into a temporary directory.
func prepareMedia(video string) (*mediaSource, error) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, errors.New("ffmpeg not found: install Debian's ffmpeg (interop/clients/pion/prepare does)")
	}
	dir, err := os.MkdirTemp("", "pion-client-")
	if err != nil {
		return nil, err
	}
	m := &mediaSource{dir: dir, video: video, errors: make(chan error, 2)}
	pattern := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", width, height, fps)
	videoArgs := []string{"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k",
		"-g", fmt.Sprint(fps), "-keyint_min", fmt.Sprint(fps), "-f", "ivf", filepath.Join(dir, "video.ivf")}
	if video == "h264" {
		// One slice per frame (one thread), SPS/PPS before every keyframe so late players can start.
		videoArgs = []string{"-c:v", "libx264", "-profile:v", "baseline", "-level", "3.1", "-pix_fmt", "yuv420p",
			"-preset", "veryfast", "-threads", "1", "-b:v", "600k",
			"-x264-params", fmt.Sprintf("keyint=%d:min-keyint=%d:scenecut=0:repeat-headers=1", fps, fps),
			"-bsf:v", "h264_mp4toannexb", "-f", "h264", filepath.Join(dir, "video.h264")}
	}
	args := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("%s,format=yuv420p", pattern),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", fmt.Sprint(clipSeconds), "-map", "0:v"}, videoArgs...)
	args = append(args, "-t", fmt.Sprint(clipSeconds), "-map", "1:a", "-c:a", "libopus", "-b:a", "64k",
		"-page_duration", "20000", "-f", "ogg", filepath.Join(dir, "audio.ogg"))
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	started := time.Now()
	if out, err := exec.CommandContext(ctx, ffmpeg, args...).CombinedOutput(); err != nil {
		m.cleanup()
		return nil, fmt.Errorf("ffmpeg could not encode the test media: %v: %s", err, truncate(string(out), 500))
	}
	log.Printf("encoded %d s of %s and opus with ffmpeg in %s", clipSeconds, video, time.Since(started).Round(time.Millisecond))
	return m, nil
}

func (m *mediaSource) cleanup() { _ = os.RemoveAll(m.dir) }

func (m *mediaSource) addTracks(pc *webrtc.PeerConnection) error {
	var err error
	m.audioTrack, err = webrtc.NewTrackLocalStaticSample(opusCodec.RTPCodecCapability, "audio", "pion")
	if err != nil {
		return err
	}
	m.videoTrack, err = webrtc.NewTrackLocalStaticSample(videoCodec(m.video).RTPCodecCapability, "video", "pion")
	if err != nil {
		return err
	}
	for _, track := range []webrtc.TrackLocal{m.audioTrack, m.videoTrack} {
		transceiver, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{
			Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		go drainRTCP(transceiver.Sender()) // RTCP must be read for the interceptors (NACK, reports) to work
	}
	return nil
}

func drainRTCP(sender *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := sender.Read(buf); err != nil {
			return
		}
	}
}

// pace writes both tracks until ctx ends, each on a ticker of its own frame duration, looping the clip.
func (m *mediaSource) pace(ctx context.Context) {
	go m.loop(ctx, "audio", m.writeAudio)
	go m.loop(ctx, "video", m.writeVideo)
}

func (m *mediaSource) loop(ctx context.Context, kind string, write func(context.Context) error) {
	for ctx.Err() == nil {
		if err := write(ctx); err != nil && ctx.Err() == nil {
			m.errors <- fmt.Errorf("writing %s: %w", kind, err)
			return
		}
	}
}

// sleepUntil waits for the next sample's due time; false when ctx ended.
func sleepUntil(ctx context.Context, due time.Time) bool {
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func (m *mediaSource) writeAudio(ctx context.Context) error {
	file, err := os.Open(filepath.Join(m.dir, "audio.ogg"))
	if err != nil {
		return err
	}
	defer file.Close()
	ogg, _, err := oggreader.NewWith(file)
	if err != nil {
		return err
	}
	var lastGranule uint64
	next := time.Now()
	for {
		page, header, err := ogg.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// one Opus packet per page (ffmpeg -page_duration 20000): the granule step is its duration at 48 kHz
		samples := header.GranulePosition - lastGranule
		lastGranule = header.GranulePosition
		if samples == 0 || samples > 48000 {
			continue // header pages
		}
		duration := time.Duration(samples) * time.Second / 48000
		if !sleepUntil(ctx, next) {
			return nil
		}
		next = next.Add(duration)
		if err := m.audioTrack.WriteSample(media.Sample{Data: page, Duration: duration}); err != nil {
			return err
		}
	}
}

func (m *mediaSource) writeVideo(ctx context.Context) error {
	if m.video == "h264" {
		return m.writeH264(ctx)
	}
	file, err := os.Open(filepath.Join(m.dir, "video.ivf"))
	if err != nil {
		return err
	}
	defer file.Close()
	ivf, header, err := ivfreader.NewWith(file)
	if err != nil {
		return err
	}
	duration := time.Duration(int64(time.Second) * int64(header.TimebaseNumerator) / int64(header.TimebaseDenominator))
	if duration <= 0 || duration > time.Second {
		duration = time.Second / fps
	}
	next := time.Now()
	for {
		frame, _, err := ivf.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !sleepUntil(ctx, next) {
			return nil
		}
		next = next.Add(duration)
		if err := m.videoTrack.WriteSample(media.Sample{Data: frame, Duration: duration}); err != nil {
			return err
		}
	}
}

// writeH264 sends one access unit per frame: the NAL units up to and including each slice (SPS, PPS, IDR or a
// non-IDR slice) as Annex-B, which pion's H.264 payloader splits again.
func (m *mediaSource) writeH264(ctx context.Context) error {
	file, err := os.Open(filepath.Join(m.dir, "video.h264"))
	if err != nil {
		return err
	}
	defer file.Close()
	reader, err := h264reader.NewReader(file)
	if err != nil {
		return err
	}
	duration := time.Second / fps
	next := time.Now()
	var unit []byte
	for {
		nal, err := reader.NextNAL()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		unit = append(unit, 0, 0, 0, 1)
		unit = append(unit, nal.Data...)
		if nal.UnitType != h264reader.NalUnitTypeCodedSliceNonIdr && nal.UnitType != h264reader.NalUnitTypeCodedSliceIdr {
			continue
		}
		if !sleepUntil(ctx, next) {
			return nil
		}
		next = next.Add(duration)
		if err := m.videoTrack.WriteSample(media.Sample{Data: unit, Duration: duration}); err != nil {
			return err
		}
		unit = nil
	}
}
