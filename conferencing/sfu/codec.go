package sfu

// vp8Desc locates the fields of a VP8 RTP payload descriptor (RFC 7741 §4.2) that the SFU reads
// or rewrites. Offsets are from the start of the payload; 0 means absent (offset 0 is always the
// first descriptor byte, never one of these fields).
type vp8Desc struct {
	picOff   uint8 // PictureID
	picLen   uint8 // 1 (7-bit) or 2 (15-bit)
	tl0Off   uint8 // TL0PICIDX
	keyframe bool  // first packet of a key frame
}

// parseVP8 reads the payload descriptor of one VP8 RTP payload. It reports false for payloads too
// short to hold the descriptor and at least one byte of VP8 data.
func parseVP8(p []byte) (d vp8Desc, ok bool) {
	if len(p) < 2 {
		return d, false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extended control bits follow
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: PictureID
			if len(p) <= i {
				return vp8Desc{}, false
			}
			d.picOff = uint8(i)
			if p[i]&0x80 != 0 { // M: 15-bit PictureID
				d.picLen = 2
			} else {
				d.picLen = 1
			}
			i += int(d.picLen)
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			if len(p) <= i {
				return vp8Desc{}, false
			}
			d.tl0Off = uint8(i)
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX byte
			i++
		}
	}
	if len(p) <= i {
		return vp8Desc{}, false
	}
	start := p[0]&0x10 != 0 && p[0]&0x07 == 0 // S=1 and partition 0
	d.keyframe = start && p[i]&0x01 == 0      // P bit of the VP8 payload header: 0 is a key frame
	return d, true
}

// pictureID returns the PictureID of a payload described by d (15-bit space).
func (d *vp8Desc) pictureID(p []byte) uint16 {
	if d.picLen == 2 {
		return uint16(p[d.picOff]&0x7f)<<8 | uint16(p[d.picOff+1])
	}
	return uint16(p[d.picOff] & 0x7f)
}

// setPictureID writes id into the payload, keeping the field's width.
func (d *vp8Desc) setPictureID(p []byte, id uint16) {
	if d.picLen == 2 {
		p[d.picOff] = 0x80 | byte(id>>8)&0x7f
		p[d.picOff+1] = byte(id)
		return
	}
	p[d.picOff] = byte(id) & 0x7f
}

// picMask is the modulus of the PictureID field.
func (d *vp8Desc) picMask() uint16 {
	if d.picLen == 2 {
		return 0x7fff
	}
	return 0x7f
}

// h264Keyframe reports whether an H.264 RTP payload (RFC 6184) starts a key frame: it carries an
// SPS or an IDR slice, alone, in a STAP-A, or at the start of a FU-A.
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	isKey := func(t byte) bool { return t == 5 || t == 7 }
	switch t := p[0] & 0x1f; t {
	case 24: // STAP-A: 16-bit size, then the NAL unit
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if isKey(p[i] & 0x1f) {
				return true
			}
			i += size
		}
		return false
	case 28: // FU-A
		return len(p) > 1 && p[1]&0x80 != 0 && isKey(p[1]&0x1f)
	default:
		return isKey(t)
	}
}
