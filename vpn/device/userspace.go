package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"
)

// userspace is the embedded wireguard-go device on a TUN interface, plus the UAPI socket
// (/var/run/wireguard/NAME.sock) through which wgctrl and `wg` configure it. It owns a goroutine
// that serves the socket, one per open UAPI connection, and one that notices the device stopping
// by itself (its interface deleted by hand); close stops them all.
type userspace struct {
	name   string
	dev    *device.Device
	logger *slog.Logger

	stop       context.CancelFunc // ends serving the socket
	goroutines sync.WaitGroup     // serve and watch

	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
	handlers sync.WaitGroup
}

// openUserspace creates the TUN interface and the device, and starts serving the UAPI socket. The
// device stays down until the caller brings the link up.
func openUserspace(name string, mtu int, logger *slog.Logger) (*userspace, error) {
	if err := checkTUN(tunPath); err != nil {
		return nil, err
	}
	// A container's device cgroup refuses the open itself; without CAP_NET_ADMIN the open works
	// and creating the interface fails. Trying the open first tells the two apart.
	f, err := os.OpenFile(tunPath, os.O_RDWR, 0)
	if err != nil {
		return nil, errTUNDenied(err)
	}
	f.Close()
	tdev, err := tun.CreateTUN(name, mtu)
	switch {
	case errors.Is(err, unix.EBUSY):
		return nil, errNameInUse(name, err)
	case isPermission(err):
		return nil, errNoPermission(err)
	case err != nil:
		return nil, fmt.Errorf("create tun %s: %w", name, err)
	}
	u := &userspace{
		name:   name,
		dev:    device.NewDevice(tdev, conn.NewDefaultBind(), wgLogger(logger)),
		logger: logger,
		conns:  map[net.Conn]struct{}{},
	}
	l, err := listenUAPI(name)
	if err != nil {
		u.dev.Close()
		return nil, err
	}
	u.listener = l
	ctx, stop := context.WithCancel(context.Background())
	u.stop = stop
	u.goroutines.Add(2)
	go u.serve(ctx, l)
	go u.watch(ctx)
	return u, nil
}

// listenUAPI opens /var/run/wireguard/NAME.sock; a socket another live process answers on means
// the name is taken.
func listenUAPI(name string) (net.Listener, error) {
	f, err := ipc.UAPIOpen(name)
	if err != nil {
		if err.Error() == "unix socket in use" {
			return nil, errNameInUse(name, err)
		}
		return nil, fmt.Errorf("open uapi socket for %s: %w", name, err)
	}
	defer f.Close() // UAPIListen works on a duplicate of the descriptor
	l, err := ipc.UAPIListen(name, f)
	if err != nil {
		return nil, fmt.Errorf("listen on uapi socket for %s: %w", name, err)
	}
	return l, nil
}

// serve answers UAPI connections until ctx is cancelled. If the socket file is removed from under
// it (a tmp cleaner, a careless rm), it opens a new one so that the device stays manageable.
func (u *userspace) serve(ctx context.Context, l net.Listener) {
	defer u.goroutines.Done()
	for {
		err := u.accept(ctx, l)
		u.mu.Lock()
		if ctx.Err() != nil { // stopServing has closed the listener
			u.mu.Unlock()
			return
		}
		l.Close()
		u.listener = nil
		u.mu.Unlock()
		u.logger.Error("uapi socket stopped; reopening it", slog.Any("err", err))
		if l = u.relisten(ctx); l == nil {
			return
		}
	}
}

// relisten opens the UAPI socket again, retrying each second, and returns nil once ctx is done.
func (u *userspace) relisten(ctx context.Context) net.Listener {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		l, err := listenUAPI(u.name)
		if err != nil {
			u.logger.Error("reopen uapi socket", slog.Any("err", err))
			continue
		}
		u.mu.Lock()
		defer u.mu.Unlock()
		if ctx.Err() != nil {
			l.Close()
			return nil
		}
		u.listener = l
		return l
	}
}

// watch closes the socket when the device stops by itself, which happens when its interface is
// deleted: wgctrl then reports the device as not existing, and the caller can Close and Open again
// instead of configuring a dead device.
func (u *userspace) watch(ctx context.Context) {
	defer u.goroutines.Done()
	select {
	case <-ctx.Done():
	case <-u.dev.Wait():
		u.logger.Error("wireguard device stopped by itself (interface deleted?); closing its uapi socket")
		u.stopServing()
	}
}

// accept hands each connection to the device until the listener fails.
func (u *userspace) accept(ctx context.Context, l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		u.mu.Lock()
		if ctx.Err() != nil { // accepted just as stopServing ran
			u.mu.Unlock()
			c.Close()
			return ctx.Err()
		}
		u.conns[c] = struct{}{}
		u.handlers.Add(1)
		u.mu.Unlock()
		go func() {
			defer u.handlers.Done()
			u.dev.IpcHandle(c) // closes c
			u.mu.Lock()
			delete(u.conns, c)
			u.mu.Unlock()
		}()
	}
}

// close stops serving the socket (which removes the socket file) and closes the device, which
// removes the TUN interface with its addresses and routes.
func (u *userspace) close() {
	u.stopServing()
	u.goroutines.Wait()
	u.handlers.Wait()
	u.dev.Close()
}

// stopServing closes the socket and the open connections for good.
func (u *userspace) stopServing() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stop()
	if u.listener != nil {
		u.listener.Close()
		u.listener = nil
	}
	for c := range u.conns {
		c.Close()
	}
}

// wgLogger sends wireguard-go's log lines to logger; its verbose lines only when debug is on,
// so that formatting costs nothing otherwise.
func wgLogger(logger *slog.Logger) *device.Logger {
	l := &device.Logger{Verbosef: device.DiscardLogf, Errorf: func(format string, args ...any) {
		logger.Error("wireguard: " + fmt.Sprintf(format, args...))
	}}
	if logger.Enabled(context.Background(), slog.LevelDebug) {
		l.Verbosef = func(format string, args ...any) {
			logger.Debug("wireguard: " + fmt.Sprintf(format, args...))
		}
	}
	return l
}
