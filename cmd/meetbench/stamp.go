package main

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// stampConn is a client's media socket that notes the kernel's receive time of each RTP packet
// (SO_TIMESTAMPNS). The receiver looks the time up by SSRC and sequence number, which SRTP leaves
// in clear, once it has read and decrypted the packet. Subtracted from the send time in the
// payload, it gives the latency up to the receiving socket: the sending client's write, the
// server, and loopback, without the receiving client's own reading, decryption and scheduling,
// which on this machine share the cores with the server (a real participant does that work on
// its own device). On loopback the kernel takes the time when the packet enters the loopback
// device, inside the server's sendto, so it is also when the server let the packet go.
//
// pion/ice reads the socket through ReadFromAddrPort from one goroutine per socket; the track
// readers look arrivals up from theirs.
type stampConn struct {
	*net.UDPConn
	oob    []byte // only the ice reader goroutine uses it
	offset int64  // wall clock minus the tool's clock, ns

	mu      sync.Mutex
	streams map[uint32]*[stampRing]arrival // by SSRC, indexed by sequence number
}

// arrival is one packet's kernel receive time, on the tool's clock.
type arrival struct {
	seq  uint16
	used bool
	at   int64
}

// stampRing is how many recent packets of one stream a socket remembers: a receiver reads a
// packet long before this many more of the same stream arrive (17 s of video at 60 packets/s).
const stampRing = 1 << 10

var errNoTimestamps = errors.New("kernel receive timestamps (SO_TIMESTAMPNS) are not available")

// newStampConn enables receive timestamps on sock; offset converts the kernel's wall-clock times
// to the tool's clock.
func newStampConn(sock *net.UDPConn, offset int64) (*stampConn, error) {
	if strconv.IntSize != 64 {
		return nil, errNoTimestamps // parseStamp reads the 64-bit control message layout
	}
	raw, err := sock.SyscallConn()
	if err != nil {
		return nil, err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, errors.Join(errNoTimestamps, serr)
	}
	return &stampConn{UDPConn: sock, oob: make([]byte, 64), offset: offset,
		streams: map[uint32]*[stampRing]arrival{}}, nil
}

// ReadFromAddrPort implements ice.AddrPortReaderWriter, which pion/ice prefers to ReadFrom.
func (c *stampConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, oobn, _, addr, err := c.ReadMsgUDPAddrPort(b, c.oob)
	if err == nil {
		c.note(b[:n], c.oob[:oobn])
	}
	return n, addr, err
}

// WriteToAddrPort implements ice.AddrPortReaderWriter.
func (c *stampConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.WriteToUDPAddrPort(b, addr)
}

// ReadFrom keeps the stamps if a reader ever uses the net.PacketConn method.
func (c *stampConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(addr), nil
}

// note records the arrival of an SRTP packet (not RTCP, STUN or DTLS).
func (c *stampConn) note(pkt, oob []byte) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 || (pkt[1] >= 192 && pkt[1] <= 223) {
		return
	}
	at, ok := parseStamp(oob)
	if !ok {
		return
	}
	ssrc, seq := binary.BigEndian.Uint32(pkt[8:12]), binary.BigEndian.Uint16(pkt[2:4])
	c.mu.Lock()
	ring := c.streams[ssrc]
	if ring == nil {
		ring = new([stampRing]arrival)
		c.streams[ssrc] = ring
	}
	ring[seq%stampRing] = arrival{seq: seq, used: true, at: at - c.offset}
	c.mu.Unlock()
}

// arrived returns when the packet with this SSRC and sequence number reached the socket.
func (c *stampConn) arrived(ssrc uint32, seq uint16) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ring := c.streams[ssrc]
	if ring == nil {
		return 0, false
	}
	a := ring[seq%stampRing]
	return a.at, a.used && a.seq == seq
}

// parseStamp finds the SCM_TIMESTAMPNS control message (struct timespec) on 64-bit Linux:
// cmsghdr {len uint64, level int32, type int32}, then the data aligned to 8 bytes.
func parseStamp(oob []byte) (int64, bool) {
	for len(oob) >= 16 {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < 16 || l > len(oob) {
			return 0, false
		}
		if level == syscall.SOL_SOCKET && typ == syscall.SO_TIMESTAMPNS && l >= 32 {
			sec := int64(binary.NativeEndian.Uint64(oob[16:24]))
			nsec := int64(binary.NativeEndian.Uint64(oob[24:32]))
			return sec*int64(time.Second) + nsec, true
		}
		oob = oob[(l+7)&^7:]
	}
	return 0, false
}
