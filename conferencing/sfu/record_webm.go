package sfu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// cuesReserve is the space kept at the head of each WebM file for its seek index (Cues); a long
// recording with more cue points than fit keeps every other one, so seeking stays possible.
const cuesReserve = 32 << 10

// webmFile writes the frames of one track to a single-track WebM file.
type webmFile struct {
	sink *fileSink
	w    webm.BlockWriteCloser
}

// createWebM creates path (0600, never overwriting) with one Opus or VP8 track. For VP8 the
// first frame must be a key frame, whose header gives the picture size.
func createWebM(path string, video bool, start time.Time, first []byte) (*webmFile, error) {
	var entry webm.TrackEntry
	if video {
		w, h, ok := vp8Size(first)
		if !ok {
			return nil, errors.New("first video frame is not a VP8 key frame")
		}
		entry = webm.TrackEntry{Name: "video", TrackNumber: 1, TrackUID: trackUID(), CodecID: "V_VP8",
			TrackType: 1, Video: &webm.Video{PixelWidth: uint64(w), PixelHeight: uint64(h)}}
	} else {
		entry = webm.TrackEntry{Name: "audio", TrackNumber: 1, TrackUID: trackUID(), CodecID: "A_OPUS",
			TrackType: 2, CodecPrivate: opusHead(2), SeekPreRoll: uint64(80 * time.Millisecond),
			Audio: &webm.Audio{SamplingFrequency: 48000, Channels: 2}}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	sink := &fileSink{f: f}
	opts := []mkvcore.BlockWriterOption{
		// A private Info: the library's default is shared, and it writes the duration into it.
		mkvcore.WithSegmentInfo(&webm.Info{TimecodeScale: uint64(time.Millisecond), MuxingApp: "rocca",
			WritingApp: "rocca", DateUTC: start.UTC()}),
		// Frames arrive in order from one track: no sorter (the default one is shared too).
		mkvcore.WithBlockInterceptor(nil),
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(cuesReserve),
		// The default handler panics; fileSink already keeps I/O errors.
		mkvcore.WithOnFatalHandler(sink.fail),
		mkvcore.WithOnErrorHandler(func(error) {}),
	}
	if video {
		opts = append(opts, mkvcore.WithMinMaxClusterDuration(1, 0, 0x7fff)) // clusters start at key frames
	}
	ws, err := webm.NewSimpleBlockWriter(sink, []webm.TrackEntry{entry}, opts...)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("start webm: %w", err)
	}
	return &webmFile{sink: sink, w: ws[0]}, nil
}

// write adds one frame at ms milliseconds from the start of the file. The writer keeps data.
func (w *webmFile) write(key bool, ms int64, data []byte) error {
	if err := w.sink.error(); err != nil {
		return err
	}
	_, err := w.w.Write(key, ms, data)
	return err
}

// close finishes the file (index, duration) and reports the first error met while writing it.
func (w *webmFile) close() error {
	if err := w.w.Close(); err != nil {
		return err
	}
	return w.sink.error()
}

// fileSink is the file under the WebM writer. It remembers the first error and then ignores
// writes, so the writer's goroutine never stops halfway (a later Write would then block forever).
type fileSink struct {
	f   *os.File
	mu  sync.Mutex
	err error
}

func (s *fileSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		_, s.err = s.f.Write(b)
	}
	return len(b), nil
}

func (s *fileSink) WriteAt(b []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		_, s.err = s.f.WriteAt(b, off)
	}
	return len(b), nil
}

// Close syncs and closes the file; the WebM writer calls it once, after the last byte.
func (s *fileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.f.Sync()
	}
	if err := s.f.Close(); s.err == nil {
		s.err = err
	}
	return nil
}

func (s *fileSink) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *fileSink) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func trackUID() uint64 { return rand.Uint64() | 1 }

// opusHead is the Opus identification header (RFC 7845 §5.1) that WebM carries as CodecPrivate.
// Pre-skip is 0: the RTP timestamps place the audio, and the first samples are kept.
func opusHead(channels uint8) []byte {
	h := make([]byte, 19)
	copy(h, "OpusHead")
	h[8] = 1 // version
	h[9] = channels
	binary.LittleEndian.PutUint16(h[10:], 0)     // pre-skip
	binary.LittleEndian.PutUint32(h[12:], 48000) // input sample rate, informational
	binary.LittleEndian.PutUint16(h[16:], 0)     // output gain
	h[18] = 0                                    // channel mapping family 0: mono or stereo
	return h
}

// vp8Size reads the picture size from the header of a VP8 key frame (RFC 6386 §9.1).
func vp8Size(f []byte) (w, h int, ok bool) {
	if len(f) < 10 || f[0]&0x01 != 0 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
		return 0, 0, false
	}
	w = int(binary.LittleEndian.Uint16(f[6:]) & 0x3fff)
	h = int(binary.LittleEndian.Uint16(f[8:]) & 0x3fff)
	return w, h, w > 0 && h > 0
}
