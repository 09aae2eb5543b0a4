package vpn

import (
	"context"
	"database/sql"
	"errors"
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
		s.logger.Warn("vpn interface vanished (deleted by hand?); creating it again")
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
		return false
	}
	if s.devErr != nil {
		s.logger.Info("vpn interface available again")
	}
	s.dev, s.devErr, s.reopen = d, nil, false
	return true
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

// wanted is a live device as the interface should hold it.
type wanted struct {
	peer *Peer
	cfg  wgtypes.PeerConfig
}

// desired returns the live devices of enabled users, by public key.
func (s *Service) desired(ctx context.Context) (map[wgtypes.Key]wanted, error) {
	now := s.clock.Now()
	peers, err := unendedPeers(ctx, s.db, now)
	if err != nil {
		return nil, err
	}
	users, err := s.userMap(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[wgtypes.Key]wanted, len(peers))
	for _, p := range peers {
		u := users[p.OwnerID]
		if !p.live(now) || u == nil || u.Disabled {
			continue
		}
		p.Owner, p.OwnerName = u.Email, u.Name
		pc, err := s.peerConfig(p)
		if err != nil {
			s.logger.Error("reconcile: skip device", "peer", p.ID, "err", err)
			continue
		}
		out[pc.PublicKey] = wanted{peer: p, cfg: pc}
	}
	return out, nil
}

// diffPeers returns the incremental changes that turn the interface's peers into want.
func diffPeers(onDevice []wgtypes.Peer, want map[wgtypes.Key]wanted) []wgtypes.PeerConfig {
	var changes []wgtypes.PeerConfig
	have := make(map[wgtypes.Key]bool, len(onDevice))
	for _, cur := range onDevice {
		have[cur.PublicKey] = true
		w, ok := want[cur.PublicKey]
		if !ok {
			changes = append(changes, wgtypes.PeerConfig{PublicKey: cur.PublicKey, Remove: true})
			continue
		}
		if !sameIPs(cur.AllowedIPs, w.cfg.AllowedIPs) || cur.PresharedKey != *w.cfg.PresharedKey {
			changes = append(changes, w.cfg)
		}
	}
	keys := make([]wgtypes.Key, 0, len(want))
	for k := range want {
		if !have[k] {
			keys = append(keys, k)
		}
	}
	// Lowest address first, so a rebuilt interface fills up in a stable order.
	slices.SortFunc(keys, func(a, b wgtypes.Key) int { return want[a].peer.Address.Compare(want[b].peer.Address) })
	for _, k := range keys {
		changes = append(changes, want[k].cfg)
	}
	return changes
}

func sameIPs(a, b []net.IPNet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].IP.Equal(b[i].IP) || a[i].Mask.String() != b[i].Mask.String() {
			return false
		}
	}
	return true
}

// observe records what the interface says about each live device: handshakes, traffic, endpoint,
// and connect/disconnect events in the connection log.
func (s *Service) observe(ctx context.Context, onDevice []wgtypes.Peer, want map[wgtypes.Key]wanted) {
	now := s.clock.Now()
	next := make(map[int64]peerStats, len(want))
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
	seen := map[int64]bool{}
	for _, cur := range onDevice {
		w, ok := want[cur.PublicKey]
		if !ok {
			continue
		}
		p := w.peer
		seen[p.ID] = true
		hs := cur.LastHandshakeTime
		if hs.Before(p.LastHandshake) { // a recreated interface forgets; the database remembers
			hs = p.LastHandshake
		}
		endpoint := p.Endpoint
		if cur.Endpoint != nil {
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
	for _, w := range want {
		if !seen[w.peer.ID] {
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
