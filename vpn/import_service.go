package vpn

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// ImportResult says what an import adopted.
type ImportResult struct {
	ServerKeyAdopted bool     `json:"server_key_adopted"` // the server key changed to the file's
	PublicKey        string   `json:"public_key"`         // the server's public key now
	Added            []*Peer  `json:"added"`
	Skipped          []string `json:"skipped,omitempty"` // public keys already present
	Warnings         []Notice `json:"warnings,omitempty"`
}

// Notice is a message for the person running a command: a catalog key with its arguments, and the
// English text.
type Notice struct {
	Key     string `json:"key"`
	Args    []any  `json:"args,omitempty"`
	Message string `json:"message"`
}

// Import adopts a server's wg-quick file (/etc/wireguard/wg0.conf) so that its devices keep
// working with no change on their side: the server's private key, and each [Peer] (public key,
// address, pre-shared key) as a device of the user with e-mail owner. The file never holds the
// devices' private keys, and none are stored. Everything is checked first: on any problem nothing
// changes. Peers already present (same public key) are skipped, so running it twice is harmless.
func (s *Service) Import(ctx context.Context, r io.Reader, owner string) (*ImportResult, error) {
	wq, err := ImportWGQuick(r)
	if err != nil {
		return nil, err
	}
	if wq.PrivateKey == (wgtypes.Key{}) {
		return nil, rocca.Localized(rocca.EINVALID, "vpn.import.no_key", "the [Interface] section has no PrivateKey: import the server's file (for example /etc/wireguard/wg0.conf), not a device's")
	}
	u, err := s.users.UserByEmail(ctx, strings.TrimSpace(owner))
	if err != nil {
		return nil, err
	}
	res := &ImportResult{PublicKey: wq.PrivateKey.PublicKey().String()}
	if err := s.checkImportNetwork(wq, res); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var added []*Peer
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		current := s.ServerPublicKey()
		if wq.PrivateKey.PublicKey() != current {
			if err := checkKeyReplaceable(ctx, tx, now); err != nil {
				return err
			}
			res.ServerKeyAdopted = true
		}
		live, err := unendedPeers(ctx, tx, now)
		if err != nil {
			return err
		}
		byKey, byAddr, names := map[string]bool{}, map[netip.Addr]bool{}, map[string]bool{}
		for _, p := range live {
			byKey[p.PublicKey], byAddr[p.Address] = true, true
			if p.OwnerID == u.ID {
				names[strings.ToLower(p.Name)] = true
			}
		}
		for i, wp := range wq.Peers {
			if byKey[wp.PublicKey.String()] {
				res.Skipped = append(res.Skipped, wp.PublicKey.String())
				continue
			}
			p, err := s.importedPeer(wp, i, u.ID, now, byAddr, names)
			if err != nil {
				return err
			}
			if p.ID, err = insertPeer(ctx, tx, p); err != nil {
				if sqlite.IsUniqueViolation(err) {
					return errConflict(p)
				}
				return err
			}
			p.Owner, p.OwnerName = u.Email, u.Name
			byAddr[p.Address] = true
			added = append(added, p)
		}
		if res.ServerKeyAdopted {
			// Written inside the transaction: if it fails nothing is imported.
			return replaceServerKey(s.cfg.keyPath(serverKeyFile), wq.PrivateKey)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Added = added
	if res.ServerKeyAdopted {
		s.devMu.Lock()
		s.serverKey, s.reopen = wq.PrivateKey, true
		s.devMu.Unlock()
		s.logger.Warn("vpn server key replaced by the imported one; reopening the interface")
	}
	s.auditLog(ctx, "vpn.import", map[string]any{"added": len(added), "skipped": len(res.Skipped),
		"server_key_adopted": res.ServerKeyAdopted, "public_key": res.PublicKey, "user": u.Email})
	s.poke()
	return res, nil
}

// checkImportNetwork refuses a file whose network differs from vpn.subnet and notes what is not
// taken over.
func (s *Service) checkImportNetwork(wq *WGQuick, res *ImportResult) error {
	for _, a := range wq.Addresses {
		if !a.Addr().Is4() {
			continue
		}
		if a.Masked() != s.net.subnet {
			return rocca.Localized(rocca.EINVALID, "vpn.import.subnet_mismatch",
				fmt.Sprintf("the file uses the network %s but vpn.subnet is %s: set subnet = \"%s\" in the [vpn] section, restart Rocca and import again", a.Masked(), s.net.subnet, a.Masked()),
				a.Masked().String(), s.net.subnet.String(), a.Masked().String())
		}
		if a.Addr() != s.net.server {
			res.Warnings = append(res.Warnings, Notice{Key: "vpn.import.server_address", Args: []any{a.Addr().String(), s.net.server.String()},
				Message: fmt.Sprintf("the old server address was %s; Rocca's is %s (devices keep working, but reach the server at the new address)", a.Addr(), s.net.server)})
		}
	}
	if wq.ListenPort != 0 && wq.ListenPort != s.cfg.ListenPort {
		res.Warnings = append(res.Warnings, Notice{Key: "vpn.import.port", Args: []any{wq.ListenPort, s.cfg.ListenPort},
			Message: fmt.Sprintf("the old server listened on port %d and Rocca listens on %d: set listen_port = %d in the [vpn] section so that devices keep working", wq.ListenPort, s.cfg.ListenPort, wq.ListenPort)})
	}
	if len(wq.Ignored) > 0 {
		res.Warnings = append(res.Warnings, Notice{Key: "vpn.import.ignored", Args: []any{strings.Join(uniq(wq.Ignored), ", ")},
			Message: "these settings are not taken over (Rocca manages routing and firewall itself): " + strings.Join(uniq(wq.Ignored), ", ")})
	}
	return nil
}

// checkKeyReplaceable refuses to change the server key while devices created by Rocca depend on it.
func checkKeyReplaceable(ctx context.Context, tx *sql.Tx, now time.Time) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vpn_peers WHERE ended_at = 0 AND imported = 0 AND (expires_at = 0 OR expires_at > ?)`, unix(now)).Scan(&n)
	if err != nil {
		return fmt.Errorf("check devices: %w", err)
	}
	if n > 0 {
		return rocca.Localized(rocca.ECONFLICT, "vpn.import.key_conflict",
			fmt.Sprintf("%d devices already use Rocca's own server key: importing another key would cut them off. Import into a new installation, or revoke those devices first", n), n)
	}
	return nil
}

// importedPeer turns a [Peer] into a device: its address is its one /32 inside vpn.subnet.
func (s *Service) importedPeer(wp WGQuickPeer, i int, ownerID int64, now time.Time, byAddr map[netip.Addr]bool, names map[string]bool) (*Peer, error) {
	var addr netip.Addr
	for _, a := range wp.AllowedIPs {
		if a.Addr().Is4() && a.Bits() == 32 && s.net.subnet.Contains(a.Addr()) && !addr.IsValid() {
			addr = a.Addr()
			continue
		}
		return nil, rocca.Localized(rocca.EINVALID, "vpn.import.peer_ranges",
			fmt.Sprintf("the [Peer] at line %d allows %s, which is not one address inside %s: Rocca gives each device one address; remove that range from the file and import again", wp.Line, a, s.net.subnet),
			wp.Line, a.String(), s.net.subnet.String())
	}
	if !addr.IsValid() || addr == s.net.server || addr == lastAddr(s.net.subnet) {
		return nil, rocca.Localized(rocca.EINVALID, "vpn.import.peer_address",
			fmt.Sprintf("the [Peer] at line %d has no usable address inside %s in AllowedIPs", wp.Line, s.net.subnet), wp.Line, s.net.subnet.String())
	}
	if byAddr[addr] {
		return nil, rocca.Localized(rocca.ECONFLICT, "vpn.import.address_taken",
			fmt.Sprintf("the [Peer] at line %d uses %s, which another device has already", wp.Line, addr), wp.Line, addr.String())
	}
	name := wp.Name
	if validateName(name) != nil {
		name = fmt.Sprintf("importato-%d", i+1)
	}
	base := name
	for n := 2; names[strings.ToLower(name)]; n++ {
		name = fmt.Sprintf("%s-%d", base, n)
	}
	names[strings.ToLower(name)] = true
	p := &Peer{OwnerID: ownerID, Name: name, PublicKey: wp.PublicKey.String(), Address: addr, OwnKey: true,
		Imported: true, CreatedAt: now.Truncate(time.Second), State: StateActive}
	if wp.PresharedKey != nil {
		sealed, err := s.psk.seal(*wp.PresharedKey)
		if err != nil {
			return nil, err
		}
		p.psk, p.PSK = sealed, true
	}
	return p, nil
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
