package main

import (
	"net"
	"testing"
	"time"
)

// TestStampConn: the kernel's receive time of an RTP packet is found by SSRC and sequence number,
// on the tool's clock; RTCP is not noted.
func TestStampConn(t *testing.T) {
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	sc, err := newStampConn(recv, start.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	to := recv.LocalAddr().(*net.UDPAddr).AddrPort()
	rtpPkt := []byte{0x80, 96, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3}
	rtcpPkt := []byte{0x80, 200, 0, 6, 0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0}
	before := now()
	for _, p := range [][]byte{rtpPkt, rtcpPkt} {
		if _, err := send.WriteToUDPAddrPort(p, to); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		n, from, err := sc.ReadFromAddrPort(buf)
		if err != nil || n != len(p) || from != send.LocalAddr().(*net.UDPAddr).AddrPort() {
			t.Fatalf("read %d bytes from %v: %v", n, from, err)
		}
	}
	after := now()
	at, ok := sc.arrived(0xdeadbeef, 0x1234)
	if !ok {
		t.Fatal("no arrival time for the RTP packet")
	}
	// The kernel stamps on the wall clock: converted, it must fall between the two readings
	// (with a wide margin for clock adjustments, this checks units and offset).
	if at < before-int64(time.Second) || at > after+int64(time.Second) {
		t.Errorf("arrival %d ns, want between %d and %d", at, before, after)
	}
	if _, ok := sc.arrived(0xcafebabe, 0); ok {
		t.Error("an RTCP packet was noted")
	}
	if _, ok := sc.arrived(0xdeadbeef, 0x1235); ok {
		t.Error("a packet that never came was found")
	}
}
