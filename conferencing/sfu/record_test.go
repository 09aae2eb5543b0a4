package sfu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"github.com/rocca-pa/rocca"
)

// opusSilence is one 20 ms Opus frame of silence (CELT, fullband, mono).
var opusSilence = []byte{0xf8, 0xff, 0xfe}

// loadVP8 reads testdata/vp8-64x48.ivf: 20 real VP8 frames of 64x48 at 20 fps, key frames at 0
// and 10, made with
//
//	ffmpeg -f lavfi -i testsrc=size=64x48:rate=20 -frames:v 20 -c:v libvpx -g 10 -b:v 100k \
//	  -deadline realtime -auto-alt-ref 0 -f ivf vp8-64x48.ivf
func loadVP8(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/vp8-64x48.ivf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if err != nil {
			break
		}
		frames = append(frames, fr)
	}
	if len(frames) != 20 || frames[0][0]&1 != 0 {
		t.Fatalf("testdata: %d frames", len(frames))
	}
	return frames
}

// mediaPub publishes real media from a test client: Opus silence every 20 ms and the VP8 test
// clip at 20 fps, looping, restarting at its first (key) frame after a PLI. Like a browser, it
// stamps each frame with the time it was captured (here: taken from the clock just before
// sending), so a sender delayed by a busy machine does not blur what the test expects. It can
// pause and resume; resume sends audio and a key frame at once and reports their time.
type mediaPub struct {
	c      *client
	audio  *webrtc.TrackLocalStaticRTP
	video  *webrtc.TrackLocalStaticRTP
	frames [][]byte
	pli    atomic.Bool
	paused atomic.Bool
	resume chan chan time.Time

	// Owned by loop.
	origin     time.Time
	aseq, vseq uint16
	vp8        codecs.VP8Payloader
}

func newMediaPub(t *testing.T, name string, frames [][]byte) *mediaPub {
	t.Helper()
	m := &mediaPub{c: newClient(t, name, clientOpts{}), frames: frames, resume: make(chan chan time.Time),
		origin: time.Now(), vp8: codecs.VP8Payloader{EnablePictureID: true}}
	m.paused.Store(true)
	var err error
	m.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, name+"-audio", name)
	if err != nil {
		t.Fatal(err)
	}
	m.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
		ClockRate: 90000}, name+"-video", name)
	if err != nil {
		t.Fatal(err)
	}
	as, err := m.c.pc.AddTrack(m.audio)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := m.c.pc.AddTrack(m.video)
	if err != nil {
		t.Fatal(err)
	}
	m.c.wg.Add(2)
	go func() {
		defer m.c.wg.Done()
		for {
			if _, _, err := as.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	go func() {
		defer m.c.wg.Done()
		for {
			pkts, _, err := vs.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if _, ok := p.(*rtcp.PictureLossIndication); ok {
					m.pli.Store(true)
				}
			}
		}
	}()
	m.c.wg.Add(1)
	go m.loop()
	return m
}

// rtpTime is the RTP timestamp of a capture time.
func (m *mediaPub) rtpTime(at time.Time, clock int64) uint32 {
	return 1_000_000 + uint32(int64(at.Sub(m.origin))*clock/int64(time.Second))
}

func (m *mediaPub) sendAudio(at time.Time) {
	m.aseq++
	_ = m.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: m.aseq,
		Timestamp: m.rtpTime(at, 48000)}, Payload: opusSilence})
}

func (m *mediaPub) sendVideo(at time.Time, frame []byte) {
	parts := m.vp8.Payload(1200, frame)
	for i, p := range parts {
		m.vseq++
		_ = m.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: m.vseq,
			Timestamp: m.rtpTime(at, 90000), Marker: i == len(parts)-1}, Payload: p})
	}
}

func (m *mediaPub) loop() {
	defer m.c.wg.Done()
	audioTick := time.NewTicker(20 * time.Millisecond)
	videoTick := time.NewTicker(50 * time.Millisecond)
	defer audioTick.Stop()
	defer videoTick.Stop()
	frame := 0
	nextVideo := func(at time.Time) {
		if m.pli.Swap(false) {
			frame = 0
		}
		m.sendVideo(at, m.frames[frame%len(m.frames)])
		frame++
	}
	for {
		select {
		case <-m.c.stop:
			return
		case reply := <-m.resume:
			frame = 0
			at := time.Now()
			m.sendAudio(at)
			nextVideo(at)
			m.paused.Store(false)
			reply <- at
		case <-audioTick.C:
			if !m.paused.Load() {
				m.sendAudio(time.Now())
			}
		case <-videoTick.C:
			if !m.paused.Load() {
				nextVideo(time.Now())
			}
		}
	}
}

// start sends from now on, beginning with a key frame; it returns when the first packets left.
func (m *mediaPub) start() time.Time {
	reply := make(chan time.Time, 1)
	m.resume <- reply
	return <-reply
}

func (m *mediaPub) join(t *testing.T, r *Room) {
	t.Helper()
	m.c.join(r, JoinOptions{})
	waitFor(t, long, m.c.name+" connected", func() bool {
		return m.c.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
}

// leave closes the participant as the signalling layer does when the client goes away.
func (m *mediaPub) leave(t *testing.T, r *Room) {
	t.Helper()
	_ = m.c.p.Close()
	m.c.close()
	waitFor(t, long, m.c.name+" gone", func() bool { return r.Participant(m.c.name) == nil })
}

func publishedTracks(r *Room, pub string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k := range r.tracks {
		if k.pub == pub {
			n++
		}
	}
	return n
}

// Acceptance 6: two participants, the second joining a second after the recording started,
// leaving and coming back. Every WebM file is read by ffprobe without a word on stderr; the
// manifest places each file where its first packet arrived and lines up the audio and video of
// each publisher; the reconnection is a second segment; the SHA-256 are those of the files.
func TestRecordingTwoParticipants(t *testing.T) {
	frames := loadVP8(t)
	s := newTestSFU(t, nil)
	r, err := s.Room("council")
	if err != nil {
		t.Fatal(err)
	}
	// anna publishes before the recording starts (her tracks exist when it does), then pauses,
	// so that what the recording gets from her begins at a moment the test knows.
	anna := newMediaPub(t, "anna", frames)
	anna.join(t, r)
	anna.start()
	waitFor(t, long, "anna's tracks", func() bool { return publishedTracks(r, "anna") == 2 })
	anna.paused.Store(true)
	time.Sleep(300 * time.Millisecond) // let what she sent drain

	dir := filepath.Join(t.TempDir(), "rec")
	if err := r.StartRecording(dir); err != nil {
		t.Fatal(err)
	}
	if err := r.StartRecording(dir); rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
		t.Errorf("second StartRecording: %v", err)
	}
	sent := map[string]time.Time{} // participant/segment -> when its media started
	time.Sleep(200 * time.Millisecond)
	sent["anna/1"] = anna.start()
	time.Sleep(time.Second)

	bruno := newMediaPub(t, "bruno", frames)
	bruno.join(t, r)
	sent["bruno/1"] = bruno.start()
	time.Sleep(1500 * time.Millisecond)
	bruno.leave(t, r)

	bruno2 := newMediaPub(t, "bruno", frames)
	bruno2.join(t, r)
	sent["bruno/2"] = bruno2.start()
	time.Sleep(1500 * time.Millisecond)

	res, err := r.StopRecording()
	if err != nil {
		t.Fatalf("StopRecording: %v", err)
	}
	if _, err := r.StopRecording(); rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
		t.Errorf("second StopRecording: %v", err)
	}

	// Files: 0600 in a 0700 directory, SHA-256 and size as reported, the manifest last.
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("recording dir: %v %v", st.Mode(), err)
	}
	if len(res.Files) == 0 || res.Files[len(res.Files)-1].Path != res.Manifest ||
		filepath.Base(res.Manifest) != ManifestName {
		t.Fatalf("files %+v, manifest %q", res.Files, res.Manifest)
	}
	for _, f := range res.Files {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Size {
			t.Errorf("%s: sha256 %s size %d, file has %x and %d bytes", f.Name, f.SHA256, f.Size, sum, len(b))
		}
		if st, _ := os.Stat(f.Path); st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f.Name, st.Mode())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(res.Files) {
		t.Errorf("%d files in the directory, %d reported", len(entries), len(res.Files))
	}

	var m Manifest
	b, err := os.ReadFile(res.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"started_at": "`+m.StartedAt.Format(time.RFC3339Nano)+`"`)) {
		t.Errorf("started_at not in RFC 3339 with nanoseconds: %s", b)
	}
	t.Logf("manifest:\n%s", b)
	if len(m.Files) != 6 || len(res.Files) != 7 || len(m.Skipped) != 0 {
		t.Fatalf("%d files in the manifest (%d in the result), %d skipped; want 6 (7)", len(m.Files), len(res.Files), len(m.Skipped))
	}
	byKey := map[string]ManifestFile{}
	frameCount := map[string]int64{}
	for i, f := range m.Files {
		frameCount[f.File] = f.Frames
		if res.Files[i].Name != f.File || res.Files[i].SHA256 != f.SHA256 || res.Files[i].Size != f.Size {
			t.Errorf("manifest file %d %+v, result %+v", i, f, res.Files[i])
		}
		want := f.Participant + "-" + f.Kind + "-" + string(rune('0'+f.Segment)) + ".webm"
		if f.File != want || f.Error != "" || f.Frames == 0 || f.EndOffsetMS <= f.StartOffsetMS {
			t.Errorf("file %+v", f)
		}
		if f.Codec != map[string]string{"audio": "opus", "video": "vp8"}[f.Kind] ||
			(f.Kind == "video" && (f.Width != 64 || f.Height != 48)) {
			t.Errorf("file %s: codec %s, %dx%d", f.File, f.Codec, f.Width, f.Height)
		}
		byKey[f.Participant+"/"+string(rune('0'+f.Segment))+"/"+f.Kind] = f
	}
	const tolerance = 100 // ms
	for key, at := range sent {
		want := at.Sub(m.StartedAt).Milliseconds()
		a, v := byKey[key+"/audio"], byKey[key+"/video"]
		if a.File == "" || v.File == "" {
			t.Errorf("%s: no audio or video segment in the manifest", key)
			continue
		}
		t.Logf("%s: sent at %d ms, audio file at %d ms, video file at %d ms", key, want, a.StartOffsetMS, v.StartOffsetMS)
		for _, f := range []ManifestFile{a, v} {
			if d := f.StartOffsetMS - want; d < -tolerance || d > tolerance {
				t.Errorf("%s starts at %d ms, its first packet was sent at %d ms", f.File, f.StartOffsetMS, want)
			}
		}
		if d := a.StartOffsetMS - v.StartOffsetMS; d < -tolerance || d > tolerance {
			t.Errorf("%s: audio at %d ms, video at %d ms", key, a.StartOffsetMS, v.StartOffsetMS)
		}
	}

	t.Run("ffprobe", func(t *testing.T) {
		ffprobe := needFFprobe(t)
		for _, f := range res.Files[:len(res.Files)-1] {
			out, stderr := runFFprobe(t, ffprobe, "-v", "error", "-show_streams", f.Path)
			codec := map[bool]string{true: "vp8", false: "opus"}[strings.Contains(f.Name, "-video-")]
			if !strings.Contains(out, "codec_name="+codec) {
				t.Errorf("%s: ffprobe sees no %s stream:\n%s", f.Name, codec, out)
			}
			if stderr != "" {
				t.Errorf("%s: ffprobe -show_streams: %s", f.Name, stderr)
			}
			// Every frame decodes, there are as many as the manifest says, and video begins with
			// a key frame.
			out, stderr = runFFprobe(t, ffprobe, "-v", "error", "-show_entries", "frame=key_frame",
				"-of", "csv=p=0", f.Path)
			keys := strings.Fields(out)
			if stderr != "" || int64(len(keys)) != frameCount[f.Name] || (codec == "vp8" && keys[0] != "1") {
				t.Errorf("%s: %d frames decoded (manifest: %d), first key %q, stderr %q", f.Name, len(keys),
					frameCount[f.Name], keys[:min(len(keys), 1)], stderr)
			}
		}
	})
}

func needFFprobe(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffprobe")
	if err != nil {
		if os.Getenv("ROCCA_E2E") == "1" {
			t.Fatal("ffprobe not found: install Debian's ffmpeg package")
		}
		t.Skip("ffprobe not found: install Debian's ffmpeg package (or set ROCCA_E2E=1 to fail)")
	}
	return p
}

func runFFprobe(t *testing.T, ffprobe string, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(ffprobe, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Errorf("ffprobe %s: %v\n%s", strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String()
}

func TestStartRecordingNeedsEmptyDir(t *testing.T) {
	s := newTestSFU(t, nil)
	r, err := s.Room("m")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.StartRecording(dir); rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
		t.Errorf("non-empty dir: %v", err)
	}
	if r.IsRecording() {
		t.Error("recording after a refused start")
	}
	// A room closed while recording still finishes the files and the manifest.
	dir = filepath.Join(t.TempDir(), "rec")
	if err := r.StartRecording(dir); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil {
		t.Errorf("no manifest after Room.Close: %v", err)
	}
	if err := r.StartRecording(filepath.Join(t.TempDir(), "again")); !errors.Is(err, errClosed) {
		t.Errorf("StartRecording on a closed room: %v", err)
	}
}

// newTestRecording is a recording without a room, writing to dir, on a fake clock.
func newTestRecording(t *testing.T, dir string, clock func() int64) *recording {
	rec := &recording{room: "test", dir: dir, log: testLog(t), startedAt: time.Now(), startNow: clock(),
		clock: clock, segments: map[string]int{}}
	rec.pool.New = func() any { return new(recPacket) }
	return rec
}

// The forwarding path does not allocate while recording either, and a full recorder queue drops
// packets (counting them) instead of blocking.
func TestRecordPushDoesNotAllocate(t *testing.T) {
	start := time.Now()
	clock := func() int64 { return int64(time.Since(start)) + 1 }
	u, _, _ := fakeTrack(3, clock)
	rec := newTestRecording(t, t.TempDir(), clock)
	tr := newTrackRecorder(rec, u, "vp8")
	u.rec.Store(tr) // its goroutine does not run: the queue fills up
	raw := vp8Packet(2, 1, 1, 1, true)
	var pkt rtp.Packet
	var m packetMeta
	l := u.layers[2].Load()
	for range cap(tr.in) {
		_ = pkt.Unmarshal(raw)
		u.handle(l, &pkt, len(raw), &m)
	}
	if len(tr.in) != cap(tr.in) || tr.dropped.Load() != 0 {
		t.Fatalf("queue %d/%d, dropped %d", len(tr.in), cap(tr.in), tr.dropped.Load())
	}
	allocs := testing.AllocsPerRun(1000, func() {
		_ = pkt.Unmarshal(raw)
		u.handle(l, &pkt, len(raw), &m)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet while recording", allocs)
	}
	if tr.dropped.Load() < 1000 {
		t.Errorf("dropped %d packets, want at least 1000", tr.dropped.Load())
	}
}

// The recorder puts packets back in order, writes whole VP8 frames from the first key frame on,
// skips to the next key frame after a loss, and times frames by their RTP timestamps.
func TestRecorderFramesAndLoss(t *testing.T) {
	frames := loadVP8(t)
	now := int64(1_000_000)
	clock := func() int64 { return now }
	u := &upTrack{pubID: "anna/1", id: "cam", kind: webrtc.RTPCodecTypeVideo, isVP8: true, clock: clock,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}}
	u.layers[0].Store(&layer{rid: ""})
	dir := t.TempDir()
	rec := newTestRecording(t, dir, clock)
	tr := newTrackRecorder(rec, u, "vp8")

	pay := &codecs.VP8Payloader{EnablePictureID: true}
	seq := uint16(65530) // wraps during the test
	var pkts [][]*rtp.Packet
	for i := range 30 {
		var fp []*rtp.Packet
		parts := pay.Payload(400, frames[i%20]) // key frames split in several packets
		for j, p := range parts {
			fp = append(fp, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: 4_294_967_296 - 60_000 + uint32(i)*4500,
				Marker: j == len(parts)-1}, Payload: p})
			seq++
		}
		pkts = append(pkts, fp)
	}
	feed := func(p *rtp.Packet) {
		d, _ := parseVP8(p.Payload)
		tr.push(0, p, d.keyframe, now)
		tr.receive(<-tr.in)
	}
	// Frame 1..9 (inter frames) come first: dropped. Frame 10 is a key frame, sent out of order.
	for i := 1; i < 10; i++ {
		for _, p := range pkts[i] {
			now += int64(time.Millisecond)
			feed(p)
		}
		now += int64(40 * time.Millisecond)
	}
	for i := 10; i < 30; i++ {
		fp := pkts[i]
		if i == 10 {
			fp = []*rtp.Packet{fp[1], fp[0], fp[2], fp[1]} // reordered, with a duplicate
			fp = append(fp, pkts[i][3:]...)
		}
		if i == 13 {
			fp = fp[1:] // lost: frames 13..19 are not written, 20 is a key frame
		}
		for _, p := range fp {
			feed(p)
		}
		now += int64(50 * time.Millisecond)
		tr.tick(now) // the gap is given up after recMaxHold
	}
	tr.stop()
	tr.finish()
	if len(rec.files) != 1 {
		t.Fatalf("files: %+v", rec.files)
	}
	f := rec.files[0]
	if f.File != fileToken("anna/1")+"-video-1.webm" || !strings.HasPrefix(f.File, "anna_1_") {
		t.Errorf("file name %q", f.File)
	}
	if f.Frames != 13 || f.LostPackets != 1 || f.Width != 64 {
		t.Errorf("frames %d, lost %d, width %d; want 13, 1, 64", f.Frames, f.LostPackets, f.Width)
	}

	r, err := os.Open(filepath.Join(dir, f.File))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rs, err := mkvcore.NewSimpleBlockReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		b, key, ts, err := rs[0].Read()
		if err != nil {
			break
		}
		i := 10 + ts/50
		if !bytes.Equal(b, frames[i%20]) {
			t.Errorf("frame at %d ms differs from clip frame %d", ts, i%20)
		}
		got = append(got, map[bool]string{true: "K", false: "."}[key])
	}
	if strings.Join(got, "") != "K..K"+strings.Repeat(".", 9) {
		t.Errorf("frames written: %s", strings.Join(got, ""))
	}
	if e := rs[0].TrackEntry(); e.CodecID != "V_VP8" || e.TrackType != 1 {
		t.Errorf("track entry %+v", e)
	}
}

func TestReorder(t *testing.T) {
	var o reorder
	pk := func(seq uint16, at int64) *recPacket { return &recPacket{seq: seq, at: at} }
	var out []uint16
	var losses []uint16
	pop := func(now int64, force bool) {
		for {
			p, lost := o.pop(now, force)
			if p == nil {
				return
			}
			out = append(out, p.seq)
			if lost {
				losses = append(losses, p.seq)
			}
		}
	}
	for _, s := range []uint16{65534, 0, 65535, 1} { // reordered across the wrap
		if !o.add(pk(s, 0)) {
			t.Fatalf("add %d refused", s)
		}
		pop(0, false)
	}
	if o.add(pk(0, 0)) || o.add(pk(65000, 0)) {
		t.Error("late or duplicate packet accepted")
	}
	o.add(pk(3, 10))
	pop(10+recMaxHold-1, false) // 2 may still come
	if len(out) != 4 {
		t.Fatalf("released %v too early", out)
	}
	pop(10+recMaxHold, false)
	if !o.farAhead(4+reorderSlots) || o.farAhead(4+reorderSlots-1) { // next is 4
		t.Error("farAhead")
	}
	if want := []uint16{65534, 65535, 0, 1, 3}; !slices.Equal(out, want) || !slices.Equal(losses, []uint16{3}) || o.lost != 1 {
		t.Errorf("out %v losses %v lost %d", out, losses, o.lost)
	}
}

func TestFileToken(t *testing.T) {
	for id, want := range map[string]string{"u42": "u42", "anna-b_1": "anna-b_1"} {
		if got := fileToken(id); got != want {
			t.Errorf("%q: %q", id, got)
		}
	}
	a, b := fileToken("a/b"), fileToken("a_b")
	if a == b || !strings.HasPrefix(a, "a_b_") || strings.ContainsAny(a, "/.") {
		t.Errorf("%q %q", a, b)
	}
	if got := fileToken("../" + strings.Repeat("x", 100)); len(got) > 60 || strings.Contains(got, ".") {
		t.Errorf("long id: %q", got)
	}
	if got := fileToken(""); got == "" || strings.ContainsAny(got, "/.") {
		t.Errorf("empty id: %q", got)
	}
}

// With simulcast the recorder takes the highest layer that is sending; when that layer stops it
// moves to the next one down at that layer's key frame, and the file's time line goes on.
func TestRecorderSimulcastSwitch(t *testing.T) {
	frames := loadVP8(t)
	now := int64(10 * time.Second)
	clock := func() int64 { return now }
	u, _, _ := fakeTrack(0, clock)
	for i := range maxLayers {
		u.layers[i].Load().lastPacket.Store(now)
	}
	dir := t.TempDir()
	rec := newTestRecording(t, dir, clock)
	tr := newTrackRecorder(rec, u, "vp8")
	if tr.cur.Load() != 2 {
		t.Fatalf("recording layer %d, want 2", tr.cur.Load())
	}
	pay := &codecs.VP8Payloader{EnablePictureID: true}
	seqs := [maxLayers]uint16{100, 20000, 40000}
	send := func(layer, i int) {
		u.layers[layer].Load().lastPacket.Store(now)
		parts := pay.Payload(1200, frames[i%20])
		for j, p := range parts {
			pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: seqs[layer],
				Timestamp: uint32(layer*1_000_000 + i*4500), Marker: j == len(parts)-1}, Payload: p}
			seqs[layer]++
			d, _ := parseVP8(p)
			tr.push(layer, pkt, d.keyframe, now)
			for len(tr.in) > 0 {
				tr.receive(<-tr.in)
			}
		}
	}
	for i := range 20 {
		if i == 6 { // the top layer stops (the publisher's bandwidth dropped)
			u.layers[2].Load().lastPacket.Store(now - 2*layerTimeout)
			tr.tick(now)
			if tr.want.Load() != 1 {
				t.Fatalf("want layer %d, want 1", tr.want.Load())
			}
		}
		for layer := range maxLayers {
			if layer != 2 || i < 6 {
				send(layer, i)
			}
		}
		now += int64(50 * time.Millisecond)
	}
	tr.stop()
	tr.finish()
	if tr.cur.Load() != 1 || len(rec.files) != 1 {
		t.Fatalf("layer %d, files %+v", tr.cur.Load(), rec.files)
	}
	r, err := os.Open(filepath.Join(dir, rec.files[0].File))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rs, err := mkvcore.NewSimpleBlockReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for {
		b, key, ts, err := rs[0].Read()
		if err != nil {
			break
		}
		i := int(ts / 50)
		if !bytes.Equal(b, frames[i%20]) || key != (i%10 == 0) {
			t.Errorf("frame at %d ms (key %v) is not clip frame %d", ts, key, i)
		}
		got = append(got, ts)
	}
	// Frames 0-5 from the top layer, 10-19 from the middle one (from its key frame on), each at
	// the time it arrived.
	want := []int64{0, 50, 100, 150, 200, 250, 500, 550, 600, 650, 700, 750, 800, 850, 900, 950}
	if !slices.Equal(got, want) {
		t.Errorf("frame times %v, want %v", got, want)
	}
}
