package vpn

import (
	"context"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/vpn/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Device is the WireGuard interface as the service drives it; *device.Device implements it. An
// error from Peers for which errors.Is(err, fs.ErrNotExist) holds means the interface is gone: the
// service closes it and opens it again.
type Device interface {
	Peers(ctx context.Context) ([]wgtypes.Peer, error)
	// ApplyPeers adds, updates and removes only the given peers (ReplacePeers=false): other
	// peers keep their sessions and counters, and the interface is never recreated.
	ApplyPeers(ctx context.Context, changes []wgtypes.PeerConfig) error
	Close() error
}

// OpenDevice creates or adopts the interface with the server's private key. The service calls it at
// start, after the interface vanished, and after an import changed the key.
type OpenDevice func(ctx context.Context, key wgtypes.Key) (Device, error)

// Firewall holds the access rules of the devices. Traffic between devices and traffic no rule
// allows are dropped by the implementation.
type Firewall interface {
	// ApplyFirewall replaces the whole firewall with p atomically.
	ApplyFirewall(ctx context.Context, p device.Policy) error
	// UpdateFirewallSets adds and deletes addresses of the named sets in one transaction, all or
	// nothing. It fails when a set or an address to delete is missing; the service then installs
	// the whole firewall again.
	UpdateFirewallSets(ctx context.Context, changes []device.SetChange) error
	// FirewallPresent reports whether the firewall is still installed (something outside Rocca,
	// such as `nft flush ruleset`, may have removed it).
	FirewallPresent(ctx context.Context) (bool, error)
}

// Users is what the part needs from the accounts (auth.Service implements it).
type Users interface {
	UserByEmail(ctx context.Context, email string) (*rocca.User, error)
	UserByID(ctx context.Context, id int64) (*rocca.User, error)
	Users(ctx context.Context) ([]*rocca.User, error)
}

// Auditor appends to the audit log (auth.Service.Audit). The actor is the user in ctx, else
// "system". detail never holds a secret.
type Auditor interface {
	Audit(ctx context.Context, action string, detail map[string]any) error
}

// Mailer queues an e-mail in the outbox (mail.Outbox implements it).
type Mailer interface {
	Enqueue(ctx context.Context, env mail.Envelope, raw []byte) (int64, error)
}

// Clock tells the time and runs f after d; tests pass a fake one to fire expiry timers at will.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// systemClock is the real clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
