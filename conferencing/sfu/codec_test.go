package sfu

import "testing"

func TestParseVP8(t *testing.T) {
	tests := []struct {
		name    string
		p       []byte
		ok, key bool
		pic     uint16
		picLen  uint8
		tl0Off  uint8
	}{
		{"minimal keyframe", []byte{0x10, 0x00}, true, true, 0, 0, 0},
		{"minimal inter", []byte{0x10, 0x01}, true, false, 0, 0, 0},
		{"not start of partition", []byte{0x00, 0x00}, true, false, 0, 0, 0},
		{"partition 1", []byte{0x11, 0x00}, true, false, 0, 0, 0},
		{"7-bit picture id", []byte{0x90, 0x80, 0x12, 0x00}, true, true, 0x12, 1, 0},
		{"15-bit picture id, tl0, tid", []byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40, 0x01}, true, false, 0x123, 2, 4},
		{"keyidx only", []byte{0x90, 0x10, 0x05, 0x00}, true, true, 0, 0, 0},
		{"truncated picture id", []byte{0x90, 0x80, 0x81}, false, false, 0, 0, 0},
		{"no payload after descriptor", []byte{0x90, 0x80, 0x12}, false, false, 0, 0, 0},
		{"empty", nil, false, false, 0, 0, 0},
	}
	for _, tt := range tests {
		d, ok := parseVP8(tt.p)
		if ok != tt.ok || d.keyframe != tt.key || d.picLen != tt.picLen || d.tl0Off != tt.tl0Off {
			t.Errorf("%s: got ok=%v %+v", tt.name, ok, d)
			continue
		}
		if ok && d.picLen > 0 && d.pictureID(tt.p) != tt.pic {
			t.Errorf("%s: picture id %#x, want %#x", tt.name, d.pictureID(tt.p), tt.pic)
		}
	}
	p := []byte{0x90, 0x80, 0x81, 0x23, 0x00}
	d, _ := parseVP8(p)
	d.setPictureID(p, 0x7ffe)
	if d.pictureID(p) != 0x7ffe || p[2]&0x80 == 0 {
		t.Errorf("setPictureID: % x", p)
	}
}

func TestH264Keyframe(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		want bool
	}{
		{"IDR", []byte{0x65, 0x88}, true},
		{"SPS", []byte{0x67, 0x42}, true},
		{"non-IDR slice", []byte{0x41, 0x9a}, false},
		{"STAP-A with SPS", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"STAP-A without", []byte{0x78, 0x00, 0x02, 0x41, 0x9a}, false},
		{"FU-A start of IDR", []byte{0x7c, 0x85, 0x88}, true},
		{"FU-A middle of IDR", []byte{0x7c, 0x05, 0x88}, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := h264Keyframe(tt.p); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzParseVP8 feeds arbitrary payloads (they come from the network) to the VP8 and H.264
// parsers and to the picture id rewrite.
func FuzzParseVP8(f *testing.F) {
	f.Add([]byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40, 0x01})
	f.Add([]byte{0x78, 0x00, 0x02, 0x67, 0x42})
	f.Fuzz(func(t *testing.T, p []byte) {
		h264Keyframe(p)
		d, ok := parseVP8(p)
		if !ok {
			return
		}
		if int(d.picOff)+int(d.picLen) > len(p) || int(d.tl0Off) >= len(p) {
			t.Fatalf("offsets out of range: %+v for %d bytes", d, len(p))
		}
		var f forwarder
		f.reset(90000)
		f.picOff, f.tl0Off = 7, 3
		f.rewriteVP8(p, &d)
	})
}
