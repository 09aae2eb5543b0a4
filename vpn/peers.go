package vpn

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/sqlite"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// maxNameLen bounds device names (in characters).
const maxNameLen = 64

// NewPeer asks for a device. Without PublicKey the server generates the key pair and the private
// key appears only in the returned Delivery.
type NewPeer struct {
	User      string    `json:"user,omitempty"`    // the owner's e-mail
	UserID    int64     `json:"user_id,omitempty"` // or the owner's id
	Name      string    `json:"name"`
	PublicKey string    `json:"public_key,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: no expiry
}

// Delivery is a device's configuration, given out once. When PrivateKey is true the text holds the
// device's private key, which exists nowhere else: show or send it, never store or log it.
type Delivery struct {
	Peer       *Peer  `json:"peer"`
	Config     string `json:"config"`
	FileName   string `json:"file_name"`
	PrivateKey bool   `json:"contains_private_key"`
}

// AddPeer creates a device for a user (an administrator's operation: no self-service limits) and
// puts it on the interface at once. Bad input changes nothing and is a user error: a bad name, an
// invalid public key or the server's own, an unknown or disabled user, a past expiry, a name the
// owner already uses, a key already in use, no free address.
func (s *Service) AddPeer(ctx context.Context, in NewPeer) (*Delivery, error) {
	owner, err := s.owner(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.addPeer(ctx, owner, in, 0)
}

// AddMyPeer creates a device for the signed-in user u within the self-service policy: allowed at
// all, at most Settings.MaxDevices live devices, expiring after Settings.DefaultDays.
func (s *Service) AddMyPeer(ctx context.Context, u *rocca.User, name, publicKey string) (*Delivery, error) {
	set, err := loadSettings(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if !u.Can(rocca.RoleAdmin) && !set.SelfService {
		return nil, rocca.Localized(rocca.EFORBIDDEN, "vpn.error.self_service_off", "creating devices yourself is turned off: ask the IT office")
	}
	in := NewPeer{UserID: u.ID, Name: name, PublicKey: publicKey}
	if set.DefaultDays > 0 {
		in.ExpiresAt = s.clock.Now().AddDate(0, 0, set.DefaultDays)
	}
	limit := 0
	if !u.Can(rocca.RoleAdmin) {
		limit = set.MaxDevices
	}
	owner, err := s.owner(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.addPeer(ctx, owner, in, limit)
}

// owner resolves and checks the owner of a new device.
func (s *Service) owner(ctx context.Context, in NewPeer) (*rocca.User, error) {
	if err := validateName(in.Name); err != nil {
		return nil, err
	}
	if in.PublicKey != "" {
		if _, err := s.parseClientKey(in.PublicKey); err != nil {
			return nil, err
		}
	}
	var u *rocca.User
	var err error
	switch {
	case in.UserID > 0:
		u, err = s.users.UserByID(ctx, in.UserID)
	case strings.TrimSpace(in.User) != "":
		u, err = s.users.UserByEmail(ctx, strings.TrimSpace(in.User))
	default:
		return nil, rocca.Localized(rocca.EINVALID, "vpn.error.owner_missing", "say whose device this is (--user EMAIL)")
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, rocca.Localized(rocca.ECONFLICT, "vpn.error.user_disabled", fmt.Sprintf("the user %s is disabled and cannot have VPN devices", u.Email), u.Email)
	}
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(s.clock.Now()) {
		return nil, rocca.Localized(rocca.EINVALID, "vpn.error.expiry_past", "the expiry date is in the past")
	}
	return u, nil
}

// validateName accepts 1 to 64 characters without control characters.
func validateName(name string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(name))
	if n == 0 {
		return rocca.Localized(rocca.EINVALID, "vpn.error.name_missing", "give the device a name, for example \"portatile\" or \"telefono\"")
	}
	if n > maxNameLen || !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return rocca.Localized(rocca.EINVALID, "vpn.error.name_invalid", fmt.Sprintf("the device name must be at most %d characters on one line", maxNameLen), maxNameLen)
	}
	return nil
}

// parseClientKey parses a public key a person pasted and refuses the server's own.
func (s *Service) parseClientKey(str string) (wgtypes.Key, error) {
	k, err := ParseKey(str)
	if err != nil {
		return k, err
	}
	if k == s.ServerPublicKey() {
		return k, rocca.Localized(rocca.EINVALID, "vpn.error.key_is_server", "this is the public key of the VPN server, not of your device: paste the public key shown by the WireGuard app on your device")
	}
	return k, nil
}

func (s *Service) addPeer(ctx context.Context, owner *rocca.User, in NewPeer, limit int) (*Delivery, error) {
	set, err := loadSettings(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var priv *wgtypes.Key
	var pub wgtypes.Key
	if in.PublicKey != "" {
		if pub, err = s.parseClientKey(in.PublicKey); err != nil {
			return nil, err
		}
	} else {
		k, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			return nil, fmt.Errorf("generate device key: %w", err)
		}
		priv, pub = &k, k.PublicKey()
	}
	psk, sealed, err := s.newPSK(set)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	p := &Peer{
		OwnerID: owner.ID, Owner: owner.Email, OwnerName: owner.Name, Name: strings.TrimSpace(in.Name),
		PublicKey: pub.String(), OwnKey: priv == nil, CreatedAt: now.Truncate(time.Second),
		ExpiresAt: in.ExpiresAt.Truncate(time.Second), State: StateActive, PSK: sealed != "", psk: sealed,
	}
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if err := checkFree(ctx, tx, p, now, limit); err != nil {
			return err
		}
		var err error
		if p.Address, err = allocate(ctx, tx, s.net.subnet, now, s.cfg.HoldBack); err != nil {
			return err
		}
		p.ID, err = insertPeer(ctx, tx, p)
		return err
	})
	if sqlite.IsUniqueViolation(err) { // a concurrent request took the name, key or address
		return nil, errConflict(p)
	}
	if err != nil {
		return nil, err
	}
	s.logger.Info("vpn device created", "peer", p.ID, "user", owner.Email, "name", p.Name, "address", p.Address.String())
	s.auditLog(ctx, "vpn.peer.create", map[string]any{"peer": p.ID, "user": owner.Email, "name": p.Name,
		"address": p.Address.String(), "public_key": p.PublicKey, "own_key": p.OwnKey, "expires": expiryDetail(p.ExpiresAt)})
	s.applyPeer(ctx, p, pub, psk, wgtypes.Key{})
	if !p.ExpiresAt.IsZero() {
		s.scheduleExpiry(ctx)
	}
	return s.delivery(ctx, p, owner, priv, psk, set), nil
}

// checkFree reports a name or key the owner's live devices already use, and the device limit.
func checkFree(ctx context.Context, tx *sql.Tx, p *Peer, now time.Time, limit int) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vpn_peers WHERE ended_at = 0 AND owner_id = ? AND name = ? COLLATE NOCASE`,
		p.OwnerID, p.Name).Scan(&n); err != nil {
		return fmt.Errorf("check name: %w", err)
	}
	if n > 0 {
		return errDuplicateName(p.Name)
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM vpn_peers WHERE ended_at = 0 AND public_key = ?`, p.PublicKey).Scan(&n); err != nil {
		return fmt.Errorf("check key: %w", err)
	}
	if n > 0 {
		return errKeyInUse()
	}
	if limit > 0 {
		live, err := countLive(ctx, tx, p.OwnerID, now)
		if err != nil {
			return fmt.Errorf("count devices: %w", err)
		}
		if live >= limit {
			return rocca.Localized(rocca.ECONFLICT, "vpn.error.too_many_devices", fmt.Sprintf("you already have %d devices, the most allowed: revoke one you no longer use", live), live)
		}
	}
	return nil
}

func errDuplicateName(name string) error {
	return rocca.Localized(rocca.ECONFLICT, "vpn.error.duplicate_name", fmt.Sprintf("there is already a device named %q for this user: choose another name", name), name)
}

func errKeyInUse() error {
	return rocca.Localized(rocca.ECONFLICT, "vpn.error.key_in_use", "this public key already belongs to another device: every device needs its own key pair")
}

// errConflict explains a unique-index violation the checks could not foresee (a race).
func errConflict(p *Peer) error {
	return rocca.Localized(rocca.ECONFLICT, "vpn.error.conflict", fmt.Sprintf("another change to the device %q happened at the same time: try again", p.Name), p.Name)
}

func expiryDetail(t time.Time) any {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// newPSK makes a pre-shared key when the settings want one: the key and its sealed form.
func (s *Service) newPSK(set Settings) (*wgtypes.Key, string, error) {
	if !set.UsePSK {
		return nil, "", nil
	}
	k, err := wgtypes.GenerateKey()
	if err != nil {
		return nil, "", fmt.Errorf("generate preshared key: %w", err)
	}
	sealed, err := s.psk.seal(k)
	if err != nil {
		return nil, "", err
	}
	return &k, sealed, nil
}

// delivery renders the configuration of p in the owner's language.
func (s *Service) delivery(ctx context.Context, p *Peer, owner *rocca.User, priv, psk *wgtypes.Key, set Settings) *Delivery {
	lang := i18n.Default
	if owner != nil && owner.Language != "" {
		lang = owner.Language
	}
	c := ClientConfig{
		Title:      fmt.Sprintf("Rocca - %s - %s", s.cfg.Municipality, p.Name),
		PrivateKey: priv,
		OwnKeyNote: s.cat.T(lang, "vpn.conf.own_key"),
		Address:    p.Address,
		DNS:        s.net.dns,
		MTU:        s.cfg.MTU,
		ServerKey:  s.ServerPublicKey(),
		PSK:        psk,
		Endpoint:   s.cfg.Endpoint,
		AllowedIPs: s.allowedIPs(set),
		Keepalive:  s.cfg.Keepalive,
	}
	if len(s.net.dns) > 0 {
		c.Search = set.SearchDomain
	}
	return &Delivery{Peer: p, Config: c.String(), FileName: ConfigFileName(p.Name), PrivateKey: priv != nil}
}

// allowedIPs is what a device sends through the tunnel under the preset.
func (s *Service) allowedIPs(set Settings) []netip.Prefix {
	switch set.Preset {
	case PresetAll:
		return []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	case PresetCustom:
		return dedupe(append([]netip.Prefix{s.net.subnet}, set.CustomRanges...))
	}
	return dedupe(append([]netip.Prefix{s.net.subnet}, s.net.lan...))
}

func dedupe(in []netip.Prefix) []netip.Prefix {
	seen := map[netip.Prefix]bool{}
	var out []netip.Prefix
	for _, p := range in {
		p = p.Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Revoke ends a device at once: it leaves the interface before Revoke returns, its one-time
// links stop working and its address is released (held back before reuse).
func (s *Service) Revoke(ctx context.Context, id int64) error {
	p, err := peerByID(ctx, s.db, id, s.clock.Now())
	if err != nil {
		return err
	}
	return s.revoke(ctx, p)
}

// RevokeMine revokes a device of the signed-in user u (admins may revoke any).
func (s *Service) RevokeMine(ctx context.Context, u *rocca.User, id int64) error {
	p, err := s.myPeer(ctx, u, id)
	if err != nil {
		return err
	}
	return s.revoke(ctx, p)
}

// myPeer returns device id if u owns it (or is an admin); otherwise "not found", so that the
// numbers of other people's devices reveal nothing.
func (s *Service) myPeer(ctx context.Context, u *rocca.User, id int64) (*Peer, error) {
	p, err := peerByID(ctx, s.db, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if u == nil || (p.OwnerID != u.ID && !u.Can(rocca.RoleAdmin)) {
		return nil, errPeerNotFound(id)
	}
	return p, nil
}

func (s *Service) revoke(ctx context.Context, p *Peer) error {
	now := s.clock.Now()
	var ended bool
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		var err error
		if ended, err = endPeer(ctx, tx, p.ID, now, "revoked"); err != nil || !ended {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM vpn_links WHERE peer_id = ? AND used_at IS NULL`, p.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke device %d: %w", p.ID, err)
	}
	if !ended {
		return rocca.Localized(rocca.ECONFLICT, "vpn.error.already_ended", fmt.Sprintf("the device %q is already revoked or expired", p.Name), p.Name)
	}
	s.removeFromDevice(ctx, p)
	s.logger.Info("vpn device revoked", "peer", p.ID, "name", p.Name)
	s.auditLog(ctx, "vpn.peer.revoke", map[string]any{"peer": p.ID, "name": p.Name, "owner_id": p.OwnerID, "public_key": p.PublicKey})
	s.scheduleExpiry(ctx)
	return nil
}

// Rekey gives a device a new key pair (and pre-shared key) and returns its new configuration:
// "download again". The old key stops working at once.
func (s *Service) Rekey(ctx context.Context, id int64) (*Delivery, error) {
	p, err := peerByID(ctx, s.db, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	return s.rekey(ctx, p, nil)
}

// RekeyMine is Rekey for a device of the signed-in user u (admins may rekey any).
func (s *Service) RekeyMine(ctx context.Context, u *rocca.User, id int64) (*Delivery, error) {
	p, err := s.myPeer(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return s.rekey(ctx, p, nil)
}

// rekey replaces the key of p; claim, when not nil, runs first in the same transaction (a link
// being used) and its error aborts everything.
func (s *Service) rekey(ctx context.Context, p *Peer, claim func(*sql.Tx) error) (*Delivery, error) {
	set, err := loadSettings(ctx, s.db)
	if err != nil {
		return nil, err
	}
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("generate device key: %w", err)
	}
	psk, sealed, err := s.newPSK(set)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	old := p.PublicKey
	err = s.db.WithTx(ctx, func(tx *sql.Tx) error {
		if claim != nil {
			if err := claim(tx); err != nil {
				return err
			}
		}
		cur, err := peerByID(ctx, tx, p.ID, now)
		if err != nil {
			return err
		}
		if !cur.live(now) {
			return rocca.Localized(rocca.ECONFLICT, "vpn.error.already_ended", fmt.Sprintf("the device %q is already revoked or expired", p.Name), p.Name)
		}
		ok, err := setPeerKey(ctx, tx, p.ID, k.PublicKey().String(), sealed)
		if err == nil && !ok {
			err = errPeerNotFound(p.ID)
		}
		*p = *cur
		return err
	})
	if err != nil {
		return nil, err
	}
	p.PublicKey, p.OwnKey, p.psk, p.PSK = k.PublicKey().String(), false, sealed, sealed != ""
	p.LastHandshake, p.RxBytes, p.TxBytes, p.Endpoint, p.Online = time.Time{}, 0, 0, "", false
	oldKey, err := wgtypes.ParseKey(old)
	if err != nil {
		s.logger.Error("rekey: bad key in database", "peer", p.ID, "err", err)
	}
	s.applyPeer(ctx, p, k.PublicKey(), psk, oldKey)
	s.auditLog(ctx, "vpn.peer.rekey", map[string]any{"peer": p.ID, "name": p.Name, "public_key": p.PublicKey, "old_public_key": old})
	owner, err := s.users.UserByID(ctx, p.OwnerID)
	if err != nil {
		owner = nil
	}
	if owner != nil {
		p.Owner, p.OwnerName = owner.Email, owner.Name
	}
	return s.delivery(ctx, p, owner, &k, psk, set), nil
}

// OwnKeyConfig returns the configuration of a device whose owner keeps their own private key: the
// same text as at creation, with the PrivateKey line left for the owner. It can be fetched again.
func (s *Service) OwnKeyConfig(ctx context.Context, u *rocca.User, id int64) (*Delivery, error) {
	p, err := s.myPeer(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !p.OwnKey || p.State != StateActive {
		return nil, errPeerNotFound(id)
	}
	set, err := loadSettings(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var psk *wgtypes.Key
	if p.psk != "" {
		k, err := s.psk.open(p.psk)
		if err != nil {
			return nil, fmt.Errorf("device %d: %w", p.ID, err)
		}
		psk = &k
	}
	owner, _ := s.users.UserByID(ctx, p.OwnerID)
	return s.delivery(ctx, p, owner, nil, psk, set), nil
}

// PeerFilter selects devices for Peers.
type PeerFilter struct {
	UserID int64 // only this owner's devices; 0 = everyone's
	Ended  bool  // include revoked and expired devices
}

// Peers lists devices with their owners and what the interface last reported, newest first.
func (s *Service) Peers(ctx context.Context, f PeerFilter) ([]*Peer, error) {
	now := s.clock.Now()
	where, args := "WHERE 1=1", []any{}
	if f.UserID > 0 {
		where, args = where+" AND owner_id = ?", append(args, f.UserID)
	}
	if !f.Ended {
		where, args = where+" AND ended_at = 0 AND (expires_at = 0 OR expires_at > ?)", append(args, unix(now))
	}
	peers, err := queryPeers(ctx, s.db, now, where+" ORDER BY id DESC", args...)
	if err != nil {
		return nil, err
	}
	users, err := s.userMap(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		if u := users[p.OwnerID]; u != nil {
			p.Owner, p.OwnerName = u.Email, u.Name
		}
	}
	return peers, nil
}

// Peer returns one device with its owner.
func (s *Service) Peer(ctx context.Context, id int64) (*Peer, error) {
	p, err := peerByID(ctx, s.db, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if u, err := s.users.UserByID(ctx, p.OwnerID); err == nil {
		p.Owner, p.OwnerName = u.Email, u.Name
	}
	return p, nil
}

func (s *Service) userMap(ctx context.Context) (map[int64]*rocca.User, error) {
	list, err := s.users.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("vpn: users: %w", err)
	}
	m := make(map[int64]*rocca.User, len(list))
	for _, u := range list {
		m[u.ID] = u
	}
	return m, nil
}

func hostNet(a netip.Addr) net.IPNet {
	return net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(a.BitLen(), a.BitLen())}
}
