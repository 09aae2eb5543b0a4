//go:build !linux

package sfu

import (
	"net"

	"github.com/pion/transport/v5"
)

// newMediaConn keeps the socket as it is: the direct writes of mediaconn_linux.go are Linux only.
func newMediaConn(c *net.UDPConn) transport.UDPConn { return c }
