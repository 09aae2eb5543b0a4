package sfu

import (
	"net"

	"github.com/pion/transport/v5"
)

// mediaNet is the network of the media port's UDP mux: the standard one, except that the UDP
// sockets it opens are mediaConns where the platform has them.
//
// Why: every packet to every subscriber leaves through the one media socket, and Go's net package
// serialises all writes to a descriptor with a lock of its own. With several tracks forwarded at
// once, the readers of those tracks queued on that lock thousands of times a second; a goroutine
// that loses the race parks and waits to be scheduled again, which in a runtime trace of a 5 +
// 100 room cost a tenth of a millisecond at the median and milliseconds at the tail. The kernel
// sends each UDP datagram atomically, so the lock buys nothing here.
type mediaNet struct{ transport.Net }

// ListenUDP implements transport.Net.
func (n mediaNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	if u, ok := c.(*net.UDPConn); ok {
		return newMediaConn(u), nil
	}
	return c, nil
}
