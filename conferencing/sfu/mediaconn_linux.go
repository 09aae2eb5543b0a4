package sfu

import (
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/pion/transport/v5"
)

// mediaConn is a UDP socket of the media port whose addressed writes (the path pion/ice takes
// for media, through ice.AddrPortReaderWriter) call sendto(2) directly instead of going through
// the net package's per-descriptor write lock (see mediaNet). Anything it cannot send that way
// (a full send buffer, an address with an IPv6 zone, another family) goes the ordinary way.
// Reads, and every other method, are the embedded *net.UDPConn's.
type mediaConn struct {
	*net.UDPConn
	fd     int
	inet6  bool         // AF_INET6 socket (else AF_INET)
	active atomic.Int64 // direct writes in progress
	closed atomic.Bool
}

func newMediaConn(c *net.UDPConn) transport.UDPConn {
	raw, err := c.SyscallConn()
	if err != nil {
		return c
	}
	fd := -1
	if err := raw.Control(func(d uintptr) { fd = int(d) }); err != nil || fd < 0 {
		return c
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return c
	}
	m := &mediaConn{UDPConn: c, fd: fd}
	switch sa.(type) {
	case *syscall.SockaddrInet4:
	case *syscall.SockaddrInet6:
		m.inet6 = true
	default:
		return c
	}
	return m
}

// ReadFromAddrPort implements ice.AddrPortReaderWriter.
func (m *mediaConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return m.ReadFromUDPAddrPort(b)
}

// WriteToAddrPort implements ice.AddrPortReaderWriter.
func (m *mediaConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	// Counted before looking at closed, so that Close, which sets closed before it waits for the
	// count to drop, never closes the descriptor under a direct write.
	m.active.Add(1)
	if !m.closed.Load() {
		n, ok := m.sendto(b, addr)
		m.active.Add(-1)
		if ok {
			return n, nil
		}
	} else {
		m.active.Add(-1)
	}
	return m.WriteToUDPAddrPort(b, addr)
}

// sendto sends b without blocking; ok is false if the ordinary path must do it (or report why
// it cannot).
func (m *mediaConn) sendto(b []byte, addr netip.AddrPort) (int, bool) {
	ip := addr.Addr()
	if len(b) == 0 || !addr.IsValid() || ip.Zone() != "" {
		return 0, false
	}
	var errno syscall.Errno
	if !m.inet6 {
		ip = ip.Unmap()
		if !ip.Is4() {
			return 0, false
		}
		sa := syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: ip.As4()}
		putPort(&sa.Port, addr.Port())
		errno = sendto(m.fd, b, unsafe.Pointer(&sa), syscall.SizeofSockaddrInet4)
		runtime.KeepAlive(&sa)
	} else {
		sa := syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: ip.As16()}
		putPort(&sa.Port, addr.Port())
		errno = sendto(m.fd, b, unsafe.Pointer(&sa), syscall.SizeofSockaddrInet6)
		runtime.KeepAlive(&sa)
	}
	if errno != 0 {
		return 0, false // EAGAIN (send buffer full) and the rest: the ordinary path waits or reports
	}
	return len(b), true
}

func sendto(fd int, b []byte, sa unsafe.Pointer, size uintptr) syscall.Errno {
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])),
			uintptr(len(b)), 0, uintptr(sa), size)
		if errno != syscall.EINTR {
			return errno
		}
	}
}

// putPort stores a port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

// Close waits for the direct writes in progress, then closes the socket.
func (m *mediaConn) Close() error {
	if m.closed.Swap(true) {
		return m.UDPConn.Close()
	}
	for m.active.Load() != 0 {
		runtime.Gosched()
	}
	return m.UDPConn.Close()
}
