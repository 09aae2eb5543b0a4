package vpn

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/rocca-pa/rocca"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// applyPeer puts one device on the interface now, replacing the key old when it is not zero (a
// rekey), and puts its address in its firewall sets. A failure is logged and left to the next
// reconcile pass: the database is what counts.
func (s *Service) applyPeer(ctx context.Context, p *Peer, key wgtypes.Key, psk *wgtypes.Key, old wgtypes.Key) {
	pc := wgtypes.PeerConfig{PublicKey: key, ReplaceAllowedIPs: true, AllowedIPs: []net.IPNet{hostNet(p.Address)}}
	zero := wgtypes.Key{}
	pc.PresharedKey = &zero
	if psk != nil {
		pc.PresharedKey = psk
	}
	changes := []wgtypes.PeerConfig{pc}
	if old != zero {
		changes = []wgtypes.PeerConfig{{PublicKey: old, Remove: true}, pc}
	}
	s.applyNow(ctx, changes, p.Address)
}

// removeFromDevice takes an ended device off the interface and out of the firewall now.
func (s *Service) removeFromDevice(ctx context.Context, p *Peer) {
	key, err := wgtypes.ParseKey(p.PublicKey)
	if err != nil {
		s.logger.Error("remove device: bad key in database", "peer", p.ID, "err", err)
		return
	}
	s.applyNow(ctx, []wgtypes.PeerConfig{{PublicKey: key, Remove: true}}, p.Address)
}

// applyNow applies peer changes to the interface and brings the firewall sets of the devices at
// addrs up to date.
func (s *Service) applyNow(ctx context.Context, changes []wgtypes.PeerConfig, addrs ...netip.Addr) {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	if s.dev != nil {
		if err := s.dev.ApplyPeers(ctx, changes); err != nil {
			s.logger.Error("apply change to vpn interface; the reconcile loop will retry", "err", err)
			s.poke()
		}
	}
	s.refreshFirewallLocked(ctx, addrs...)
}

// Reconcile makes the interface equal to the database: it opens the interface if it is closed or
// vanished, adds missing devices, fixes changed ones, removes devices that are not live (revoked,
// expired, removed from the database, owner disabled) — each change incremental, other tunnels
// untouched — installs the firewall rules and records handshakes. Run calls it periodically; a
// failing pass is logged and retried.
func (s *Service) Reconcile(ctx context.Context) {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	if s.open == nil {
		return
	}
	reopened := false
	if s.dev == nil || s.reopen {
		if !s.openLocked(ctx) {
			return
		}
		reopened = true
	}
	onDevice, err := s.dev.Peers(ctx)
	if errors.Is(err, fs.ErrNotExist) && !reopened {
		if s.cfg.Mode == ModeExternal {
			s.logger.Warn("vpn interface gone or created again by the program that owns it; configuring it again as soon as it is there", "err", err)
		} else {
			s.logger.Warn("vpn interface vanished (deleted by hand?); creating it again", "err", err)
		}
		s.dev.Close()
		s.dev = nil
		if !s.openLocked(ctx) {
			return
		}
		reopened = true
		onDevice, err = s.dev.Peers(ctx)
	}
	if err != nil {
		s.logger.Error("read vpn interface", "err", err)
		return
	}
	want, err := s.desired(ctx)
	if err != nil {
		// Never strip the interface because the database could not be read.
		s.logger.Error("reconcile: read devices", "err", err)
		return
	}
	changes := diffPeers(onDevice, want)
	if len(changes) > 0 {
		if err := s.dev.ApplyPeers(ctx, changes); err != nil {
			s.logger.Error("reconcile: apply to vpn interface", "err", err, "changes", len(changes))
			return
		}
		s.logger.Info("vpn interface reconciled", "changes", len(changes), "reopened", reopened)
	}
	s.syncFirewallLocked(ctx, want, reopened || s.firewallGoneLocked(ctx))
	s.observe(ctx, onDevice, want)
}

// openLocked opens the interface with the current server key; on failure it keeps the reason for
// Status and logs it when it changes.
func (s *Service) openLocked(ctx context.Context) bool {
	if s.dev != nil {
		s.dev.Close()
		s.dev = nil
	}
	d, err := s.open(ctx, s.serverKey)
	if err != nil {
		if s.devErr == nil || s.devErr.Error() != err.Error() {
			s.logger.Error("vpn interface unavailable; the rest of Rocca keeps working", "err", err)
		}
		s.devErr = err
		s.setReady(err)
		return false
	}
	if s.devErr != nil {
		s.logger.Info("vpn interface available again")
	}
	s.dev, s.devErr, s.reopen = d, nil, false
	s.setReady(nil)
	return true
}

// setReady records what Ready reports: nil while the interface is open, else why it is not.
func (s *Service) setReady(err error) {
	s.mu.Lock()
	s.notReady = err
	s.mu.Unlock()
}

// Ready is the part's readiness check for /readyz: it fails while the interface is not open, for
// the reason Status shows (for example, in external mode, the program that runs the interface is
// stopped). It never waits for a reconcile pass in progress. Without OpenDevice it always passes.
func (s *Service) Ready(context.Context) error {
	if s.open == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notReady != nil {
		return fmt.Errorf("vpn interface %s: %w", s.cfg.Interface, s.notReady)
	}
	return nil
}

// firewallGoneLocked reports whether the firewall we installed has disappeared (removed from
// outside Rocca, e.g. `nft flush ruleset`): the devices' traffic would pass unfiltered.
func (s *Service) firewallGoneLocked(ctx context.Context) bool {
	if s.firewall == nil || s.fwSig == "" {
		return false
	}
	present, err := s.firewall.FirewallPresent(ctx)
	if err != nil {
		s.logger.Warn("check the vpn firewall", "err", err)
		return false
	}
	if !present {
		s.logger.Warn("the vpn firewall table was removed from outside Rocca; installing it again")
	}
	return !present
}

// liveSet is the live devices of one pass as the interface should hold them, in a few flat
// allocations sized from the pass before: no object per device, no change prepared for devices
// that need none. It is garbage once the pass ends, on purpose: kept between passes it would stay
// live, and Go lets the heap grow to twice what is live before it collects, so the process would
// hold twice its size for good instead of a few short-lived megabytes per pass.
type liveSet struct {
	rows  []Peer                // the devices not ended, as read from the database
	list  []wanted              // the live ones of enabled users
	index map[wgtypes.Key]int32 // position in list by public key
	pskIn []byte                // scratch for opening sealed pre-shared keys
	pskTo []byte
}

// wanted is a live device as the interface should hold it.
type wanted struct {
	peer *Peer // into liveSet.rows
	key  wgtypes.Key
	psk  wgtypes.Key // the zero key when the device has none
	seen bool        // found on the interface in this pass
}

// lookup returns the live device with public key k, or nil.
func (l *liveSet) lookup(k wgtypes.Key) *wanted {
	if i, ok := l.index[k]; ok {
		return &l.list[i]
	}
	return nil
}

// config is the incremental change that puts w on the interface as it should be.
func (w *wanted) config() wgtypes.PeerConfig {
	psk := w.psk // the zero key clears a pre-shared key
	return wgtypes.PeerConfig{PublicKey: w.key, PresharedKey: &psk, ReplaceAllowedIPs: true,
		AllowedIPs: []net.IPNet{hostNet(w.peer.Address)}}
}

// desired returns the live devices of enabled users. The caller holds devMu.
func (s *Service) desired(ctx context.Context) (*liveSet, error) {
	now := s.clock.Now()
	rows, err := appendUnendedPeers(ctx, s.db, now, make([]Peer, 0, s.liveHint+s.liveHint/8+16))
	if err != nil {
		return nil, err
	}
	users, err := s.userMap(ctx)
	if err != nil {
		return nil, err
	}
	s.liveHint = len(rows)
	l := &liveSet{rows: rows, list: make([]wanted, 0, len(rows)), index: make(map[wgtypes.Key]int32, len(rows))}
	for i := range l.rows {
		p := &l.rows[i]
		u := users[p.OwnerID]
		if !p.live(now) || u == nil || u.Disabled {
			continue
		}
		p.Owner, p.OwnerName = u.Email, u.Name
		w := wanted{peer: p}
		if err := s.peerKeys(l, p, &w); err != nil {
			s.logger.Error("reconcile: skip device", "peer", p.ID, "err", err)
			continue
		}
		if j, dup := l.index[w.key]; dup { // the database forbids it; the last one wins, as on the interface
			l.list[j] = w
			continue
		}
		l.index[w.key] = int32(len(l.list))
		l.list = append(l.list, w)
	}
	return l, nil
}

// peerKeys decodes the public key and opens the pre-shared key of p into w, through the
// scratch buffers of l rather than new memory for each device.
func (s *Service) peerKeys(l *liveSet, p *Peer, w *wanted) error {
	if !decodeKey(p.PublicKey, &w.key) {
		return fmt.Errorf("device %d: bad public key", p.ID)
	}
	if p.psk == "" {
		return nil
	}
	var err error
	l.pskIn, l.pskTo, err = s.psk.openInto(p.psk, &w.psk, l.pskIn, l.pskTo)
	if err != nil {
		return fmt.Errorf("device %d: %w", p.ID, err)
	}
	return nil
}

// decodeKey decodes a base64 WireGuard key into k without allocating; false when s is not one.
func decodeKey(s string, k *wgtypes.Key) bool {
	const encoded = 44 // base64 of 32 bytes, with its padding
	if len(s) != encoded {
		return false
	}
	var src [encoded]byte
	var dst [33]byte // DecodedLen(44)
	copy(src[:], s)
	n, err := base64.StdEncoding.Decode(dst[:], src[:])
	if err != nil || n != wgtypes.KeyLen {
		return false
	}
	copy(k[:], dst[:n])
	return true
}

// diffPeers returns the incremental changes that turn the interface's peers into want, and marks
// the live devices found on the interface as seen.
func diffPeers(onDevice []wgtypes.Peer, want *liveSet) []wgtypes.PeerConfig {
	var changes []wgtypes.PeerConfig
	for i := range onDevice {
		cur := &onDevice[i]
		w := want.lookup(cur.PublicKey)
		if w == nil {
			changes = append(changes, wgtypes.PeerConfig{PublicKey: cur.PublicKey, Remove: true})
			continue
		}
		w.seen = true
		if !onlyHost(cur.AllowedIPs, w.peer.Address) || cur.PresharedKey != w.psk {
			changes = append(changes, w.config())
		}
	}
	var missing []*wanted
	for i := range want.list {
		if !want.list[i].seen {
			missing = append(missing, &want.list[i])
		}
	}
	// Lowest address first, so a rebuilt interface fills up in a stable order.
	slices.SortFunc(missing, func(a, b *wanted) int { return a.peer.Address.Compare(b.peer.Address) })
	for _, w := range missing {
		changes = append(changes, w.config())
	}
	return changes
}

// onlyHost reports whether ips is exactly the one host route of a (a /32 for IPv4).
func onlyHost(ips []net.IPNet, a netip.Addr) bool {
	if len(ips) != 1 {
		return false
	}
	ip, ok := netip.AddrFromSlice(ips[0].IP)
	ones, bits := ips[0].Mask.Size()
	return ok && ip.Unmap() == a && ones == a.BitLen() && bits == a.BitLen()
}

// observe records what the interface says about each live device: handshakes, traffic, endpoint,
// and connect/disconnect events in the connection log. It runs after diffPeers, which marked the
// devices found on the interface as seen.
func (s *Service) observe(ctx context.Context, onDevice []wgtypes.Peer, want *liveSet) {
	now := s.clock.Now()
	next := make(map[int64]peerStats, len(want.list))
	type change struct {
		id       int64
		hs       time.Time
		rx, tx   int64
		endpoint string
		event    string
		stats    bool
		online   bool
	}
	var changes []change
	for i := range onDevice {
		cur := &onDevice[i]
		w := want.lookup(cur.PublicKey)
		if w == nil {
			continue
		}
		p := w.peer
		hs := cur.LastHandshakeTime
		if hs.Before(p.LastHandshake) { // a recreated interface forgets; the database remembers
			hs = p.LastHandshake
		}
		endpoint := p.Endpoint
		if cur.Endpoint != nil && !sameEndpoint(p.Endpoint, cur.Endpoint) {
			endpoint = cur.Endpoint.String()
		}
		online := !hs.IsZero() && now.Sub(hs) <= OnlineWindow
		c := change{id: p.ID, hs: hs, rx: cur.ReceiveBytes, tx: cur.TransmitBytes, endpoint: endpoint}
		c.online = online
		c.stats = unix(hs) != unix(p.LastHandshake) || c.rx != p.RxBytes || c.tx != p.TxBytes || endpoint != p.Endpoint
		switch {
		case online && !p.connected:
			c.event = EventConnect
		case !online && p.connected:
			c.event = EventDisconnect
		}
		if c.stats || c.event != "" {
			changes = append(changes, c)
		}
		next[p.ID] = peerStats{name: p.Name, owner: p.Owner, handshake: hs, rx: c.rx, tx: c.tx, online: online}
	}
	for i := range want.list {
		if w := &want.list[i]; !w.seen {
			p := w.peer
			next[p.ID] = peerStats{name: p.Name, owner: p.Owner, handshake: p.LastHandshake, rx: p.RxBytes, tx: p.TxBytes}
		}
	}
	s.mu.Lock()
	s.stats, s.statsAt = next, now
	s.mu.Unlock()
	if len(changes) == 0 {
		return
	}
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		for _, c := range changes {
			if err := saveStats(ctx, tx, c.id, c.hs, c.rx, c.tx, c.endpoint, c.online); err != nil {
				return err
			}
			if c.event != "" {
				if err := insertConnection(ctx, tx, c.id, now, c.event, c.endpoint); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.logger.Error("record vpn handshakes", "err", err)
	}
}

// sameEndpoint reports whether the endpoint recorded as text is a, without formatting a (false
// when unsure: the caller then compares the text).
func sameEndpoint(recorded string, a *net.UDPAddr) bool {
	ap, err := netip.ParseAddrPort(recorded)
	if err != nil {
		return false
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	return ok && ap.Port() == uint16(a.Port) && ap.Addr() == ip.Unmap().WithZone(a.Zone)
}

// deviceState reports whether the interface is open, its mode, and why not.
func (s *Service) deviceState() (up bool, mode string, problem error) {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	if s.dev == nil {
		if s.devErr == nil && s.open == nil {
			return false, "", rocca.Localized(rocca.EUNAVAILABLE, "vpn.error.no_device", "the VPN interface is not managed by this process")
		}
		if s.devErr == nil {
			return false, "", rocca.Localized(rocca.EUNAVAILABLE, "vpn.error.starting", "the VPN interface is starting")
		}
		return false, "", s.devErr
	}
	if m, ok := s.dev.(interface{ Mode() string }); ok {
		mode = m.Mode()
	}
	return true, mode, nil
}
