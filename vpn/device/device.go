package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Device is an open WireGuard interface. Its methods are safe for concurrent use. In userspace
// mode it owns the goroutines of the embedded device and of its UAPI socket until Close. An error
// for which errors.Is(err, fs.ErrNotExist) holds means the interface is gone (deleted by hand, or
// stopped by the program that owns it in external mode) or was created again since Open (so it
// lacks key, addresses and peers): Close the Device and Open it again.
type Device struct {
	name   string
	mode   string
	logger *slog.Logger
	wg     *wgctrl.Client
	user   *userspace // nil in kernel and external mode

	linkType string // the link's kind as netlink names it: "wireguard" (kernel) or "tun"

	mu     sync.Mutex // guards nl, index and closed
	nl     *netlink.Handle
	index  int // the link's index when configured: another one means the interface was recreated
	closed bool
}

// Open creates the interface opts.Name, or adopts it when a kernel WireGuard interface of that name
// exists already (so a restart drops no tunnel), and makes its key, listen port, MTU and addresses
// match opts, then brings it up. Peers already on an adopted interface are kept. In external mode
// the interface must exist already (created by another program) and is only configured. User
// errors (*rocca.Error) say what is missing and how to fix it. The caller must Close the Device.
func Open(ctx context.Context, opts Options, logger *slog.Logger) (*Device, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(slog.String("iface", opts.Name))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nl, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("open netlink: %w", err)
	}
	d := &Device{name: opts.Name, logger: logger, nl: nl}
	created, err := d.open(opts)
	if err == nil {
		err = d.configure(ctx, opts)
	}
	if err != nil {
		if created && d.mode == ModeKernel {
			// Leave no half-configured interface behind; an adopted one is left alone.
			_ = nl.LinkDel(&netlink.Wireguard{LinkAttrs: netlink.LinkAttrs{Name: opts.Name}})
		}
		d.Close()
		return nil, err
	}
	logger.Info("vpn device open", slog.String("mode", d.mode), slog.Bool("adopted", !created),
		slog.String("link_type", d.linkType), slog.Int("listen_port", opts.ListenPort))
	return d, nil
}

// open chooses the mode and creates (or finds) the interface; created is false when adopted.
func (d *Device) open(opts Options) (created bool, err error) {
	existing := ""
	switch link, err := d.nl.LinkByName(opts.Name); {
	case err == nil:
		existing = link.Type()
	case !errors.As(err, new(netlink.LinkNotFoundError)):
		return false, fmt.Errorf("look up %s: %w", opts.Name, err)
	}
	d.mode, err = resolveMode(opts.Name, opts.Mode, existing, realHost(d.nl, d.logger), d.logger)
	if err != nil {
		return false, err
	}
	d.linkType = existing
	if d.mode == ModeUserspace {
		d.user, err = openUserspace(opts.Name, opts.MTU, d.logger)
		if err != nil {
			return false, err
		}
		created, d.linkType = true, "tun"
	} else if d.mode == ModeKernel && existing == "" {
		err := d.nl.LinkAdd(&netlink.Wireguard{LinkAttrs: netlink.LinkAttrs{Name: opts.Name, MTU: opts.MTU}})
		switch {
		case errors.Is(err, unix.EEXIST):
			return false, errNameInUse(opts.Name, err)
		case isPermission(err):
			return false, errNoPermission(err)
		case isKernelMissing(err):
			return false, errNoKernelModule(err)
		case err != nil:
			return false, fmt.Errorf("create %s: %w", opts.Name, err)
		}
		created, d.linkType = true, "wireguard"
	}
	if d.wg, err = wgctrl.New(); err != nil {
		return created, fmt.Errorf("open wgctrl: %w", err)
	}
	return created, nil
}

// configure sets key and port (only when they differ, so an adopted interface keeps its sessions),
// then MTU, addresses and link state.
func (d *Device) configure(ctx context.Context, opts Options) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cur, err := d.wg.Device(d.name)
	if err != nil && d.mode == ModeExternal {
		return errExternal(d.name, d.linkType, err)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", d.name, err)
	}
	var cfg wgtypes.Config
	if cur.PrivateKey != opts.PrivateKey {
		cfg.PrivateKey = &opts.PrivateKey
	}
	if cur.ListenPort != opts.ListenPort {
		cfg.ListenPort = &opts.ListenPort
	}
	if cfg.PrivateKey != nil || cfg.ListenPort != nil {
		err := d.wg.ConfigureDevice(d.name, cfg)
		if errors.Is(err, unix.EADDRINUSE) {
			return errPortInUse(opts.ListenPort, err)
		}
		if err != nil {
			return fmt.Errorf("configure %s: %w", d.name, err)
		}
	}
	if err := d.setLink(opts); err != nil {
		return err
	}
	if d.user != nil {
		// The link going up starts the device on its own, asynchronously; Up here makes a
		// failure to bind the UDP port an error of Open rather than a line in the log.
		err := d.user.dev.Up()
		if errors.Is(err, unix.EADDRINUSE) {
			return errPortInUse(opts.ListenPort, err)
		}
		if err != nil {
			return fmt.Errorf("start %s: %w", d.name, err)
		}
	}
	return nil
}

// Name returns the interface name.
func (d *Device) Name() string { return d.name }

// Mode returns ModeKernel, ModeUserspace or ModeExternal.
func (d *Device) Mode() string { return d.mode }

// Peers returns the peers on the interface with their handshake time and traffic counters. It
// fails with an error wrapping fs.ErrNotExist when the interface is gone or was created again.
func (d *Device) Peers(ctx context.Context) ([]wgtypes.Peer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := d.checkLink(); err != nil {
		return nil, err
	}
	dev, err := d.wg.Device(d.name)
	if err != nil {
		// errors.Is(err, fs.ErrNotExist) tells the caller the interface is gone.
		return nil, fmt.Errorf("read peers of %s: %w", d.name, err)
	}
	return dev.Peers, nil
}

// ApplyPeers adds, updates (ReplaceAllowedIPs etc.) and removes (Remove) the given peers and
// leaves every other peer, its session and its counters alone. It never recreates the interface.
func (d *Device) ApplyPeers(ctx context.Context, changes []wgtypes.PeerConfig) error {
	if len(changes) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.wg.ConfigureDevice(d.name, wgtypes.Config{Peers: changes}); err != nil {
		return fmt.Errorf("configure peers of %s: %w", d.name, err)
	}
	return nil
}

// Close releases the Device. In userspace mode the interface goes away with the process's device
// (clients reconnect by themselves once it is open again); in kernel and external mode the
// interface stays up with its peers so that a restart drops no tunnel. Close is idempotent.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var err error
	if d.wg != nil {
		err = d.wg.Close()
	}
	if d.user != nil {
		d.user.close()
		d.awaitLinkGone()
	}
	d.nl.Close()
	if err != nil {
		return fmt.Errorf("close %s: %w", d.name, err)
	}
	return nil
}

// awaitLinkGone waits a little for the kernel to unregister a closed TUN interface, so that an
// Open right after Close (a restart) finds the name free.
func (d *Device) awaitLinkGone() {
	for range 150 {
		if _, err := d.nl.LinkByName(d.name); errors.As(err, new(netlink.LinkNotFoundError)) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.logger.Warn("closed tun interface still present")
}

// Destroy removes the interface in kernel and userspace mode, with its peers, addresses and routes,
// and closes the Device. In external mode the interface belongs to another program: Destroy only
// closes the Device and leaves it. The firewall table is separate: see RemoveFirewall.
func (d *Device) Destroy() error {
	d.mu.Lock()
	var err error
	if d.mode == ModeKernel && !d.closed {
		err = d.nl.LinkDel(&netlink.Wireguard{LinkAttrs: netlink.LinkAttrs{Name: d.name}})
		if errors.As(err, new(netlink.LinkNotFoundError)) || errors.Is(err, unix.ENODEV) {
			err = nil
		}
	}
	d.mu.Unlock()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("destroy %s: %w", d.name, err)
	}
	return nil
}
