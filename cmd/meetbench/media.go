package main

import (
	"encoding/binary"
	"math"
	"sync/atomic"
	"time"
)

// The trailer ends every synthetic payload, audio and video alike. The SFU forwards payloads of
// non-simulcast tracks untouched, so the receiver finds it intact:
//
//	[0:8]   send time, ns on the tool's monotonic clock
//	[8:10]  publisher index
//	[10]    kind (0 audio, 1 video)
//	[11]    trailerMagic
//	[12:16] per-publisher, per-kind packet counter
const (
	trailerLen   = 16
	trailerMagic = 0xb5
	kindAudio    = 0
	kindVideo    = 1
)

func putTrailer(p []byte, sent int64, pub, kind int, n uint32) {
	t := p[len(p)-trailerLen:]
	binary.BigEndian.PutUint64(t[0:8], uint64(sent))
	binary.BigEndian.PutUint16(t[8:10], uint16(pub))
	t[10] = byte(kind)
	t[11] = trailerMagic
	binary.BigEndian.PutUint32(t[12:16], n)
}

// readTrailer returns the trailer of a received RTP packet (header included).
func readTrailer(pkt []byte) (sent int64, pub, kind int, ok bool) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return 0, 0, 0, false
	}
	end := len(pkt)
	if pkt[0]&0x20 != 0 { // padding: the last byte counts it
		end -= int(pkt[end-1])
	}
	start := 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 && len(pkt) >= start+4 { // header extension
		start += 4 + 4*int(binary.BigEndian.Uint16(pkt[start+2:start+4]))
	}
	if end-start < trailerLen {
		return 0, 0, 0, false
	}
	t := pkt[end-trailerLen : end]
	if t[11] != trailerMagic || t[10] > kindVideo {
		return 0, 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(t[0:8])), int(binary.BigEndian.Uint16(t[8:10])), int(t[10]), true
}

// vp8Frame builds the RTP payloads of one synthetic VP8 frame of size bytes, split into packets of
// at most maxPayload bytes: each starts with a payload descriptor (RFC 7741: X=1, I=1 with a
// 15-bit PictureID, S=1 on the first packet) and the first carries a VP8 frame tag whose P bit
// tells key frames from inter frames (a key frame also has the start code and a 640x360 size).
// Every payload ends with room for the trailer. The buffers of store are reused between frames.
func vp8Frame(store *[][]byte, size int, pic uint16, key bool) [][]byte {
	const desc = 4
	n := max(1, (size+maxPayload-1)/maxPayload)
	for len(*store) < n {
		*store = append(*store, make([]byte, maxPayload+desc+10+trailerLen))
	}
	bufs := (*store)[:n]
	for i := range n {
		l := size / n
		if i == n-1 {
			l = size - (n-1)*(size/n)
		}
		l = max(l, desc+10+trailerLen)
		p := bufs[i][:l]
		clear(p)
		bufs[i] = p
		p[0] = 0x80 // X
		if i == 0 {
			p[0] |= 0x10 // S: start of partition 0
		}
		p[1] = 0x80 // I: PictureID present
		p[2], p[3] = 0x80|byte(pic>>8)&0x7f, byte(pic)
		if i == 0 {
			tag := p[desc:]
			// Frame tag: P (bit 0; 0 = key frame), version 0, show_frame (bit 4), partition size.
			tag[0], tag[1], tag[2] = 0x10|0x01, 0x40, 0x00
			if key {
				tag[0] &^= 0x01
				tag[3], tag[4], tag[5] = 0x9d, 0x01, 0x2a
				binary.LittleEndian.PutUint16(tag[6:8], 640)
				binary.LittleEndian.PutUint16(tag[8:10], 360)
			}
		}
	}
	return bufs
}

// maxPayload is the largest RTP payload the synthetic video uses, as an encoder keeps packets
// below the path MTU.
const maxPayload = 1100

// window is the measurement interval on the tool's clock. A packet counts when its send time lies
// in [start, end); both ends are set ahead of time, so senders and receivers judge every packet
// alike.
type window struct {
	start, end atomic.Int64
}

func newWindow() *window {
	w := &window{}
	w.end.Store(math.MaxInt64)
	return w
}

func (w *window) in(t int64) bool {
	s := w.start.Load()
	return s != 0 && t >= s && t < w.end.Load()
}

// histogram counts latencies: in fineStep buckets up to fineMax, then in coarseStep buckets up
// to histMax; beyond, in the last bucket. It also keeps the worst latency of each slotLen of
// send time since the window started, which shows whether a tail comes from one stall.
type histogram struct {
	n       atomic.Int64
	max     atomic.Int64
	buckets [histBuckets + 1]atomic.Int64
	slots   [maxSlots]atomic.Int64
}

const (
	fineStep    = 5 * time.Microsecond
	fineMax     = 20 * time.Millisecond
	coarseStep  = time.Millisecond
	histMax     = 5 * time.Second
	fineN       = int(fineMax / fineStep)
	histBuckets = fineN + int((histMax-fineMax)/coarseStep)
	slotLen     = 100 * time.Millisecond
	maxSlots    = int(maxDuration / slotLen)
)

func bucketOf(d int64) int {
	if d < int64(fineMax) {
		return int(d / int64(fineStep))
	}
	return min(fineN+int((d-int64(fineMax))/int64(coarseStep)), histBuckets)
}

// upper is the upper edge of bucket i.
func upper(i int) time.Duration {
	if i < fineN {
		return time.Duration(i+1) * fineStep
	}
	return fineMax + time.Duration(i-fineN+1)*coarseStep
}

// add records one packet sent at sent (window clock) with latency d.
func (h *histogram) add(sent, d int64, w *window) {
	d = max(d, 0)
	h.buckets[bucketOf(d)].Add(1)
	h.n.Add(1)
	raise(&h.max, d)
	if i := int((sent - w.start.Load()) / int64(slotLen)); i >= 0 && i < maxSlots {
		raise(&h.slots[i], d)
	}
}

func raise(v *atomic.Int64, d int64) {
	for m := v.Load(); d > m && !v.CompareAndSwap(m, d); m = v.Load() {
	}
}

// quantile returns the upper edge of the bucket holding quantile q (nearest rank).
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := max(1, int64(math.Ceil(q*float64(n))))
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			if i == histBuckets {
				return time.Duration(h.max.Load())
			}
			return min(upper(i), time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// over returns the share of packets slower than d (to the bucket's resolution).
func (h *histogram) over(d time.Duration) float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	var fast int64
	for i := range h.buckets {
		if upper(i) > d {
			break
		}
		fast += h.buckets[i].Load()
	}
	return float64(n-fast) / float64(n)
}
