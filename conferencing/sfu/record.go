package sfu

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
)

// ManifestName is the file name of the manifest in a recording directory.
const ManifestName = "manifest.json"

// Recording is what a stopped recording left on disk.
type Recording struct {
	Manifest string         // path of the manifest
	Files    []RecordedFile // the WebM files in the manifest's order, then the manifest itself
}

// RecordedFile is one finished file of a recording.
type RecordedFile struct {
	Name   string // file name in the recording directory
	Path   string
	SHA256 string // hex
	Size   int64
}

// Manifest is the content of the manifest (format version 1, see docs/recording.md): which file
// holds which participant's track and where each file starts and ends on the recording's time
// line, so that a player or an editor can line the tracks up.
type Manifest struct {
	Version   int            `json:"version"`
	Room      string         `json:"room"`
	StartedAt time.Time      `json:"started_at"` // wall clock, RFC 3339 with nanoseconds
	StoppedAt time.Time      `json:"stopped_at"`
	Files     []ManifestFile `json:"files"`             // by start offset
	Skipped   []ManifestSkip `json:"skipped,omitempty"` // tracks that could not be recorded
}

// ManifestFile describes one WebM file: one segment of one published track.
type ManifestFile struct {
	File        string `json:"file"`
	Participant string `json:"participant"`
	Track       string `json:"track"`
	Kind        string `json:"kind"`  // audio | video
	Codec       string `json:"codec"` // opus | vp8
	// Segment counts the files of this participant and kind from 1: a publisher who reconnects,
	// or publishes a second video (screen), starts a new one.
	Segment int `json:"segment"`
	// StartOffsetMS is when the file's first frame (time 0 inside the file) arrived, in ms after
	// started_at; EndOffsetMS is when its last frame ends. Timestamps inside the file follow the
	// sender's RTP clock, so StartOffsetMS plus a file time is a point on the recording's time line.
	StartOffsetMS  int64  `json:"start_offset_ms"`
	EndOffsetMS    int64  `json:"end_offset_ms"`
	Frames         int64  `json:"frames"`
	Width          int    `json:"width,omitempty"` // of the first key frame (video)
	Height         int    `json:"height,omitempty"`
	LostPackets    int64  `json:"lost_packets"`    // sequence gaps skipped (lost, or held back by a mute)
	DroppedPackets int64  `json:"dropped_packets"` // arrived while the writer was behind
	SHA256         string `json:"sha256"`
	Size           int64  `json:"size"`
	Error          string `json:"error,omitempty"` // set if writing failed: the file is incomplete
}

// ManifestSkip names a published track that has no file, and why.
type ManifestSkip struct {
	Participant string `json:"participant"`
	Track       string `json:"track"`
	Kind        string `json:"kind"`
	Codec       string `json:"codec"`
	Reason      string `json:"reason"`
}

// StartRecording writes every audio and video track of the room, those published now and those
// published later, each to its own WebM file in dir, without transcoding. dir is created 0700
// and must be empty. It fails if the room is already being recorded or closed.
func (r *Room) StartRecording(dir string) error {
	r.mu.Lock()
	closed, busy := r.closed, r.rec != nil
	r.mu.Unlock()
	if closed {
		return errClosed
	}
	if busy {
		return rocca.Errorf(rocca.ECONFLICT, "the room is already being recorded")
	}
	if err := prepareRecordingDir(dir); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errClosed
	}
	if r.rec != nil {
		return rocca.Errorf(rocca.ECONFLICT, "the room is already being recorded")
	}
	r.rec = newRecording(r, dir)
	for _, u := range r.tracks {
		r.rec.attach(u)
	}
	r.log.Info("recording started", "dir", dir)
	return nil
}

// StopRecording finishes every file, writes the manifest and returns the files with their
// SHA-256. If a file could not be written completely the error says so, and the Recording still
// lists everything on disk (the manifest marks the file).
func (r *Room) StopRecording() (Recording, error) {
	r.mu.Lock()
	rec := r.rec
	r.rec = nil
	for _, u := range r.tracks {
		u.stopRecorder()
	}
	r.mu.Unlock()
	if rec == nil {
		return Recording{}, rocca.Errorf(rocca.ECONFLICT, "the room is not being recorded")
	}
	res, err := rec.finish()
	if err != nil {
		r.log.Error("recording stopped with errors", "dir", rec.dir, "err", err)
	} else {
		r.log.Info("recording stopped", "dir", rec.dir, "files", len(res.Files))
	}
	return res, err
}

// IsRecording reports whether the room is being recorded.
func (r *Room) IsRecording() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec != nil
}

// recordPublishLocked moves the recording from a replaced track to its successor.
func (r *Room) recordPublishLocked(old, u *upTrack) {
	if old != nil {
		old.stopRecorder()
	}
	if r.rec != nil {
		r.rec.attach(u)
	}
}

// stopRecordingOnClose finishes a recording left running when the room closes.
func (r *Room) stopRecordingOnClose() {
	r.mu.Lock()
	running := r.rec != nil
	r.mu.Unlock()
	if running {
		_, _ = r.StopRecording()
	}
}

func prepareRecordingDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create recording directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("create recording directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read recording directory: %w", err)
	}
	if len(entries) > 0 {
		return rocca.Errorf(rocca.ECONFLICT, "recording directory %s is not empty", dir)
	}
	return nil
}

// recording is a room's recording in progress: one trackRecorder per published track.
type recording struct {
	room      string
	dir       string
	log       *slog.Logger
	startedAt time.Time
	startNow  int64 // SFU clock at startedAt
	clock     func() int64
	pool      sync.Pool // of *recPacket, shared by the track recorders

	mu       sync.Mutex
	recs     []*trackRecorder
	segments map[string]int // by participant and kind
	files    []ManifestFile
	skipped  []ManifestSkip
}

func newRecording(r *Room, dir string) *recording {
	rec := &recording{
		room: r.id, dir: dir, log: r.log.With("recording", dir),
		startedAt: time.Now(), startNow: r.s.now(), clock: r.s.now,
		segments: map[string]int{},
	}
	rec.pool.New = func() any { return new(recPacket) }
	return rec
}

// attach starts recording u, if its codec can go into WebM as it is.
func (rec *recording) attach(u *upTrack) {
	codec := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(u.codec.MimeType, "audio/"), "video/"))
	ok := (u.kind == webrtc.RTPCodecTypeAudio && codec == "opus") || (u.kind == webrtc.RTPCodecTypeVideo && u.isVP8)
	if !ok {
		rec.skip(u, codec, "codec not recordable in WebM without transcoding")
		return
	}
	t := newTrackRecorder(rec, u, codec)
	rec.mu.Lock()
	rec.recs = append(rec.recs, t)
	rec.mu.Unlock()
	go t.run()
	if old := u.rec.Swap(t); old != nil {
		old.stop()
	}
}

func (rec *recording) skip(u *upTrack, codec, reason string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.skipped = append(rec.skipped, ManifestSkip{Participant: u.pubID, Track: u.id, Kind: u.kindString(),
		Codec: codec, Reason: reason})
	rec.log.Warn("track not recorded", "participant", u.pubID, "track", u.id, "reason", reason)
}

// newFile names the next segment of a participant's track kind.
func (rec *recording) newFile(pub, kind string) (seg int, name, path string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	key := pub + "\x00" + kind
	rec.segments[key]++
	seg = rec.segments[key]
	name = fmt.Sprintf("%s-%s-%d.webm", fileToken(pub), kind, seg)
	return seg, name, filepath.Join(rec.dir, name)
}

// done records a finished file.
func (rec *recording) done(f ManifestFile) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.files = append(rec.files, f)
}

// wall converts an SFU clock time to the wall clock.
func (rec *recording) wall(now int64) time.Time {
	return rec.startedAt.Add(time.Duration(now - rec.startNow))
}

// offsetMS is an SFU clock time in ms after the start, rounded.
func (rec *recording) offsetMS(now int64) int64 {
	return time.Duration(now - rec.startNow).Round(time.Millisecond).Milliseconds()
}

// finish waits for every track recorder (all are stopped already), then writes the manifest.
func (rec *recording) finish() (Recording, error) {
	rec.mu.Lock()
	recs := rec.recs
	rec.mu.Unlock()
	for _, t := range recs {
		t.stop() // already stopped with its track, or by StopRecording; this is a safety net
		<-t.done
	}
	stopped := rec.wall(rec.clock())
	rec.mu.Lock()
	m := Manifest{Version: 1, Room: rec.room, StartedAt: rec.startedAt.UTC(), StoppedAt: stopped.UTC(),
		Files: slices.Clone(rec.files), Skipped: slices.Clone(rec.skipped)}
	rec.mu.Unlock()
	if m.Files == nil {
		m.Files = []ManifestFile{}
	}
	slices.SortFunc(m.Files, func(a, b ManifestFile) int {
		return cmp.Or(cmp.Compare(a.StartOffsetMS, b.StartOffsetMS), strings.Compare(a.File, b.File))
	})
	var res Recording
	var errs []error
	for _, f := range m.Files {
		res.Files = append(res.Files, RecordedFile{Name: f.File, Path: filepath.Join(rec.dir, f.File),
			SHA256: f.SHA256, Size: f.Size})
		if f.Error != "" {
			errs = append(errs, fmt.Errorf("recording file %s: %s", f.File, f.Error))
		}
	}
	mf, err := writeManifest(rec.dir, &m)
	if err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	res.Manifest = mf.Path
	res.Files = append(res.Files, mf)
	return res, errors.Join(errs...)
}

// writeManifest writes the manifest (0600) through a temporary file, so that a manifest on
// disk is always complete.
func writeManifest(dir string, m *Manifest) (RecordedFile, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return RecordedFile{}, fmt.Errorf("encode manifest: %w", err)
	}
	b = append(b, '\n')
	path := filepath.Join(dir, ManifestName)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return RecordedFile{}, fmt.Errorf("write manifest: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return RecordedFile{}, fmt.Errorf("write manifest: %w", err)
	}
	sum := sha256.Sum256(b)
	return RecordedFile{Name: ManifestName, Path: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))}, nil
}

// fileToken makes a participant id safe in a file name: ASCII letters, digits, '-' and '_',
// at most 48 of them. An id that had to change gets a short hash of the original, so that two
// ids never share a name.
func fileToken(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 48 {
		b = b[:48]
	}
	if s := string(b); s == id && s != "" {
		return s
	}
	sum := sha256.Sum256([]byte(id))
	return string(b) + "_" + hex.EncodeToString(sum[:4])
}
