//go:build linux

package sfu

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// listenMedia opens a socket the way the media port does.
func listenMedia(t *testing.T, network, addr string) transport.UDPConn {
	t.Helper()
	std, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	c, err := mediaNet{std}.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("cannot listen on %s (%v): this machine has no such loopback address", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

type addrPortConn interface {
	ReadFromAddrPort([]byte) (int, netip.AddrPort, error)
	WriteToAddrPort([]byte, netip.AddrPort) (int, error)
}

// Datagrams written by several goroutines at once through the media socket's direct path arrive
// whole, from the media port, over IPv4 and IPv6, and a write allocates nothing.
func TestMediaConnSends(t *testing.T) {
	for _, tc := range []struct{ network, media, peer string }{
		{"udp4", "127.0.0.1:0", "127.0.0.1:0"},
		{"udp6", "[::1]:0", "[::1]:0"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			media := listenMedia(t, tc.network, tc.media)
			mc, ok := media.(*mediaConn)
			if !ok {
				t.Fatalf("media socket is a %T, want *mediaConn", media)
			}
			peer := listenMedia(t, tc.network, tc.peer)
			to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
			if _, ok := mc.sendto([]byte("direct"), to); !ok {
				t.Fatal("the direct path refused a plain datagram")
			}
			if _, _, err := peer.(addrPortConn).ReadFromAddrPort(make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			w := media.(addrPortConn)
			const writers, each = 4, 10 // well within the receive buffer
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					p := bytes.Repeat([]byte{byte(i + 1)}, 1000)
					for range each {
						if n, err := w.WriteToAddrPort(p, to); err != nil || n != len(p) {
							t.Errorf("write: %d, %v", n, err)
							return
						}
					}
				})
			}
			wg.Wait()
			from := media.LocalAddr().(*net.UDPAddr).AddrPort()
			buf := make([]byte, 1500)
			_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second)) // a lost datagram fails, not hangs
			for range writers * each {
				n, src, err := peer.(addrPortConn).ReadFromAddrPort(buf)
				if err != nil {
					t.Fatal(err)
				}
				if n != 1000 || !bytes.Equal(buf[:n], bytes.Repeat(buf[:1], n)) || src.Port() != from.Port() {
					t.Fatalf("got %d bytes from %v, want 1000 equal bytes from port %d", n, src, from.Port())
				}
			}
			p := make([]byte, 100)
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := w.WriteToAddrPort(p, to); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per write", allocs)
			}
		})
	}
}

// After Close, writes fail instead of reaching a descriptor that may have been reused.
func TestMediaConnClose(t *testing.T) {
	media := listenMedia(t, "udp4", "127.0.0.1:0")
	peer := listenMedia(t, "udp4", "127.0.0.1:0")
	if err := media.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := media.(addrPortConn).WriteToAddrPort([]byte("x"), peer.LocalAddr().(*net.UDPAddr).AddrPort()); err == nil {
		t.Error("write after close: no error")
	}
}
