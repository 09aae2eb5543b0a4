package vpn

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

var privateKeyLine = regexp.MustCompile(`(?m)^PrivateKey = (\S+)$`)

func TestAddPeerGeneratesKeyPairAndAppliesAtOnce(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	d := e.add(e.anna, "portatile")
	m := privateKeyLine.FindStringSubmatch(d.Config)
	if m == nil || !d.PrivateKey {
		t.Fatalf("config has no private key:\n%s", d.Config)
	}
	priv, err := wgtypes.ParseKey(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if priv.PublicKey().String() != d.Peer.PublicKey {
		t.Errorf("the private key in the config does not belong to the device's public key")
	}
	if d.Peer.Address != netip.MustParseAddr("10.86.0.2") {
		t.Errorf("first device got %s, want 10.86.0.2 (the server has 10.86.0.1)", d.Peer.Address)
	}
	p, ok := dev.peer(d.Peer.PublicKey)
	if !ok {
		t.Fatal("the device is not on the interface right after AddPeer")
	}
	if len(p.AllowedIPs) != 1 || p.AllowedIPs[0].String() != "10.86.0.2/32" || p.PresharedKey == (wgtypes.Key{}) {
		t.Errorf("interface peer = %v psk set %v, want 10.86.0.2/32 with a pre-shared key", p.AllowedIPs, p.PresharedKey != (wgtypes.Key{}))
	}
	for _, want := range []string{"Address = 10.86.0.2/32", "PublicKey = " + e.svc.ServerPublicKey().String(),
		"Endpoint = vpn.comune.example.it:51820", "AllowedIPs = 10.86.0.0/24, 192.168.1.0/24", "PersistentKeepalive = 25",
		"DNS = 192.168.1.1", "MTU = 1420", "PresharedKey = " + p.PresharedKey.String()} {
		if !strings.Contains(d.Config, want) {
			t.Errorf("config lacks %q:\n%s", want, d.Config)
		}
	}
	if d.FileName != "rocca-portatile.conf" {
		t.Errorf("file name %q", d.FileName)
	}
	if got := e.auditActions(); !slices.Contains(got, "vpn.peer.create") {
		t.Errorf("audit = %v, want vpn.peer.create", got)
	}
}

func TestAddPeerWithOwnKeyKeepsNoPrivateKey(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	k, _ := wgtypes.GeneratePrivateKey()
	d, err := e.svc.AddPeer(userCtx(e.admin), NewPeer{User: e.anna.Email, Name: "telefono", PublicKey: "  " + k.PublicKey().String() + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	if d.PrivateKey || privateKeyLine.MatchString(d.Config) || !strings.Contains(d.Config, "# PrivateKey = ") {
		t.Errorf("config for an own key must leave the private key to the owner:\n%s", d.Config)
	}
	if !dev.has(k.PublicKey().String()) || !d.Peer.OwnKey {
		t.Error("own-key device not on the interface or not marked own_key")
	}
	again, err := e.svc.OwnKeyConfig(userCtx(e.anna), e.anna, d.Peer.ID)
	if err != nil || again.Config != d.Config {
		t.Errorf("OwnKeyConfig = %v, want the same configuration again", err)
	}
}

// TestAllocationLowestFreeWithHoldBack: addresses are given lowest first; a released one is held
// back for Config.HoldBack, then given out again.
func TestAllocationLowestFreeWithHoldBack(t *testing.T) {
	e := newEnv(t)
	e.start()
	a, b, c := e.add(e.anna, "uno"), e.add(e.anna, "due"), e.add(e.bruno, "tre")
	for i, d := range []*Delivery{a, b, c} {
		if want := netip.AddrFrom4([4]byte{10, 86, 0, byte(2 + i)}); d.Peer.Address != want {
			t.Fatalf("device %d got %s, want %s", i, d.Peer.Address, want)
		}
	}
	if err := e.svc.Revoke(userCtx(e.admin), b.Peer.ID); err != nil {
		t.Fatal(err)
	}
	if d := e.add(e.bruno, "quattro"); d.Peer.Address != netip.MustParseAddr("10.86.0.5") {
		t.Errorf("right after the revoke got %s, want 10.86.0.5 (10.86.0.3 is held back)", d.Peer.Address)
	}
	e.clock.Advance(DefaultHoldBack - time.Minute)
	if d := e.add(e.bruno, "cinque"); d.Peer.Address != netip.MustParseAddr("10.86.0.6") {
		t.Errorf("before the hold-back ended got %s, want 10.86.0.6", d.Peer.Address)
	}
	e.clock.Advance(2 * time.Minute)
	if d := e.add(e.bruno, "sei"); d.Peer.Address != netip.MustParseAddr("10.86.0.3") {
		t.Errorf("after the hold-back got %s, want the released 10.86.0.3 again", d.Peer.Address)
	}
}

func TestPoolExhausted(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Subnet = "10.86.0.0/29" }) // .1 server, .2-.6 devices, .7 broadcast
	dev := e.start()
	for i := range 5 {
		e.add(e.anna, "dispositivo "+string(rune('a'+i)))
	}
	rows, onDev, audits := e.countRows("vpn_peers"), dev.count(), len(e.auditActions())
	_, err := e.svc.AddPeer(userCtx(e.admin), NewPeer{User: e.bruno.Email, Name: "uno di troppo"})
	wantCode(t, err, rocca.ECONFLICT, "vpn.error.pool_exhausted")
	if !strings.Contains(err.Error(), "10.86.0.0/29") || !strings.Contains(err.Error(), "24 hours") {
		t.Errorf("message %q should name the network and the hold-back", err)
	}
	if e.countRows("vpn_peers") != rows || dev.count() != onDev || len(e.auditActions()) != audits {
		t.Error("a refused device changed the database, the interface or the audit log")
	}
}

// TestBadInputChangesNothing: each bad request gets its own clear error and leaves the database,
// the interface and the audit log as they were.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	first := e.add(e.anna, "portatile")
	k, _ := wgtypes.GeneratePrivateKey()
	tests := []struct {
		name string
		in   NewPeer
		code rocca.ErrorCode
		key  string
	}{
		{"invalid public key", NewPeer{User: e.anna.Email, Name: "x", PublicKey: "not-a-key"}, rocca.EINVALID, "vpn.error.key_format"},
		{"short public key", NewPeer{User: e.anna.Email, Name: "x", PublicKey: "AAAA"}, rocca.EINVALID, "vpn.error.key_format"},
		{"all-zero public key", NewPeer{User: e.anna.Email, Name: "x", PublicKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, rocca.EINVALID, "vpn.error.key_zero"},
		{"server's own key", NewPeer{User: e.anna.Email, Name: "x", PublicKey: e.svc.ServerPublicKey().String()}, rocca.EINVALID, "vpn.error.key_is_server"},
		{"key of another device", NewPeer{User: e.bruno.Email, Name: "x", PublicKey: first.Peer.PublicKey}, rocca.ECONFLICT, "vpn.error.key_in_use"},
		{"duplicate device name", NewPeer{User: e.anna.Email, Name: "Portatile"}, rocca.ECONFLICT, "vpn.error.duplicate_name"},
		{"unknown user", NewPeer{User: "nessuno@comune.example.it", Name: "x"}, rocca.ENOTFOUND, "auth.error.user_not_found"},
		{"disabled user", NewPeer{User: e.disable.Email, Name: "x"}, rocca.ECONFLICT, "vpn.error.user_disabled"},
		{"no user", NewPeer{Name: "x"}, rocca.EINVALID, "vpn.error.owner_missing"},
		{"empty name", NewPeer{User: e.anna.Email, Name: "  "}, rocca.EINVALID, "vpn.error.name_missing"},
		{"name with newline", NewPeer{User: e.anna.Email, Name: "a\nb"}, rocca.EINVALID, "vpn.error.name_invalid"},
		{"expiry in the past", NewPeer{User: e.anna.Email, Name: "x", PublicKey: k.PublicKey().String(), ExpiresAt: e.clock.Now().Add(-time.Hour)}, rocca.EINVALID, "vpn.error.expiry_past"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, onDev, audits := e.countRows("vpn_peers"), dev.count(), len(e.auditActions())
			_, err := e.svc.AddPeer(userCtx(e.admin), tt.in)
			wantCode(t, err, tt.code, tt.key)
			if e.countRows("vpn_peers") != rows || dev.count() != onDev || len(e.auditActions()) != audits {
				t.Error("the refused request changed the database, the interface or the audit log")
			}
		})
	}
	for _, tt := range []string{"", "not-a-key", strings.Repeat("A", 43) + "="} {
		if _, err := ParseKey(tt); err == nil {
			t.Errorf("ParseKey(%q) accepted", tt)
		}
	}
}

func TestRevokeAppliesImmediately(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	d := e.add(e.anna, "portatile")
	keep := e.add(e.bruno, "tablet")
	link, err := e.svc.CreateLink(userCtx(e.admin), d.Peer.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Revoke(userCtx(e.admin), d.Peer.ID); err != nil {
		t.Fatal(err)
	}
	// No reconcile pass in between: Revoke itself took the key off the interface.
	if dev.has(d.Peer.PublicKey) {
		t.Fatal("revoked device still on the interface after Revoke returned")
	}
	if !dev.has(keep.Peer.PublicKey) {
		t.Fatal("revoking one device removed another")
	}
	p, _ := e.svc.Peer(context.Background(), d.Peer.ID)
	if p.State != StateRevoked {
		t.Errorf("state %q, want revoked", p.State)
	}
	wantCode(t, e.svc.Revoke(userCtx(e.admin), d.Peer.ID), rocca.ECONFLICT, "vpn.error.already_ended")
	token := link.URL[strings.LastIndex(link.URL, "/")+1:]
	if _, err := e.svc.UseLink(context.Background(), token); rocca.ErrorCodeOf(err) != rocca.EGONE {
		t.Errorf("link of a revoked device: %v, want EGONE", err)
	}
	if !slices.Contains(e.auditActions(), "vpn.peer.revoke") {
		t.Error("no audit entry for the revoke")
	}
	// Reconcile does not bring it back.
	e.svc.Reconcile(context.Background())
	if dev.has(d.Peer.PublicKey) {
		t.Error("reconcile brought a revoked device back")
	}
}

func TestRevokeMineOnlyOwnDevices(t *testing.T) {
	e := newEnv(t)
	e.start()
	d := e.add(e.anna, "portatile")
	wantCode(t, e.svc.RevokeMine(userCtx(e.bruno), e.bruno, d.Peer.ID), rocca.ENOTFOUND, "vpn.error.peer_not_found")
	if err := e.svc.RevokeMine(userCtx(e.anna), e.anna, d.Peer.ID); err != nil {
		t.Fatal(err)
	}
}

// TestExpiryTimerFiresAtExpiry: one timer is set for the exact expiry time; when it fires the
// device leaves the interface without waiting for a reconcile pass.
func TestExpiryTimerFiresAtExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Reconcile = 30 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "interface opened", func() bool { return e.host.device() != nil })
	dev := e.host.device()

	expires := e.clock.Now().Add(90 * time.Minute)
	d, err := e.svc.AddPeer(userCtx(e.admin), NewPeer{User: e.anna.Email, Name: "temporaneo", ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	later, err := e.svc.AddPeer(userCtx(e.admin), NewPeer{User: e.bruno.Email, Name: "dopo", ExpiresAt: expires.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.clock.pending(); len(got) != 1 || !got[0].Equal(expires) {
		t.Fatalf("pending timers %v, want exactly one at %v", got, expires)
	}
	e.clock.Advance(90*time.Minute - time.Second)
	if got := e.clock.pending(); len(got) != 1 || !dev.has(d.Peer.PublicKey) {
		t.Fatalf("a second before expiry: timers %v, device on interface %v", got, dev.has(d.Peer.PublicKey))
	}
	e.clock.Advance(time.Second)
	waitFor(t, "expired device removed", func() bool { return !dev.has(d.Peer.PublicKey) })
	if !dev.has(later.Peer.PublicKey) {
		t.Error("a device expiring later was removed too")
	}
	waitFor(t, "next timer set", func() bool {
		got := e.clock.pending()
		return len(got) == 1 && got[0].Equal(expires.Add(time.Hour))
	})
	p, _ := e.svc.Peer(context.Background(), d.Peer.ID)
	if p.State != StateExpired {
		t.Errorf("state %q, want expired", p.State)
	}
	waitFor(t, "audit entry", func() bool { return slices.Contains(e.auditActions(), "vpn.peer.expire") })
}

// TestExpiryAfterRestart: a device that expired while Rocca was stopped is removed at start.
func TestExpiryAfterRestart(t *testing.T) {
	e := newEnv(t)
	e.start()
	d, err := e.svc.AddPeer(userCtx(e.admin), NewPeer{User: e.anna.Email, Name: "x", ExpiresAt: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour) // the timer fires but nobody runs the loop: "stopped"
	svc := e.service(t)
	svc.expireDue(context.Background())
	svc.Reconcile(context.Background())
	if e.host.device().has(d.Peer.PublicKey) {
		t.Error("device expired during the downtime is on the interface")
	}
}

func TestReconcileRestoresPeerRemovedByHand(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	a, b := e.add(e.anna, "portatile"), e.add(e.bruno, "tablet")
	dev.removeByHand(a.Peer.PublicKey)
	stranger, _ := wgtypes.GeneratePrivateKey()
	dev.ApplyPeers(context.Background(), []wgtypes.PeerConfig{{PublicKey: stranger.PublicKey()}})
	before := len(dev.applies)
	e.svc.Reconcile(context.Background())
	if !dev.has(a.Peer.PublicKey) || !dev.has(b.Peer.PublicKey) {
		t.Fatal("reconcile did not restore the device removed by hand")
	}
	if dev.has(stranger.PublicKey().String()) {
		t.Error("reconcile kept a peer that is not in the database")
	}
	changes := dev.applies[before:]
	if len(changes) != 1 || len(changes[0]) != 2 {
		t.Fatalf("reconcile applied %v, want one incremental change of 2 peers (restore + remove)", changes)
	}
	e.svc.Reconcile(context.Background())
	if len(dev.applies) != before+1 {
		t.Error("a second reconcile pass changed something although nothing differed")
	}
}

func TestReconcileRecreatesVanishedInterface(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	a := e.add(e.anna, "portatile")
	dev.mu.Lock()
	dev.gone = true
	dev.mu.Unlock()
	e.svc.Reconcile(context.Background())
	if e.host.opens != 2 || !dev.closed {
		t.Fatalf("opens = %d, old closed %v: want the vanished interface closed and opened again", e.host.opens, dev.closed)
	}
	if !e.host.device().has(a.Peer.PublicKey) {
		t.Error("the recreated interface lacks the device")
	}
	if e.fw.calls < 2 {
		t.Error("the firewall was not installed again for the recreated interface")
	}
}

func TestReconcileDropsDevicesOfDisabledUsers(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	a := e.add(e.anna, "portatile")
	if err := e.auth.DisableUser(context.Background(), e.anna.Email); err != nil {
		t.Fatal(err)
	}
	e.svc.Reconcile(context.Background())
	if dev.has(a.Peer.PublicKey) {
		t.Error("device of a disabled user stays on the interface")
	}
	if err := e.auth.EnableUser(context.Background(), e.anna.Email); err != nil {
		t.Fatal(err)
	}
	e.svc.Reconcile(context.Background())
	if !dev.has(a.Peer.PublicKey) {
		t.Error("device of a re-enabled user did not come back")
	}
}

func TestRestartRebuildsInterfaceFromDatabase(t *testing.T) {
	e := newEnv(t)
	e.start()
	a := e.add(e.anna, "portatile")
	key := e.svc.ServerPublicKey()
	e.svc.closeDevice()
	svc := e.service(t)
	if svc.ServerPublicKey() != key {
		t.Fatal("the server key changed across a restart")
	}
	svc.Reconcile(context.Background())
	if !e.host.device().has(a.Peer.PublicKey) {
		t.Error("after a restart the device is not on the interface")
	}
}

func TestRekeyReplacesKey(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	d := e.add(e.anna, "portatile")
	again, err := e.svc.RekeyMine(userCtx(e.anna), e.anna, d.Peer.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Peer.PublicKey == d.Peer.PublicKey || again.Peer.Address != d.Peer.Address || !again.PrivateKey {
		t.Fatalf("rekey: %+v", again.Peer)
	}
	if dev.has(d.Peer.PublicKey) || !dev.has(again.Peer.PublicKey) {
		t.Error("after rekey the old key must be gone and the new one present")
	}
	if _, err := e.svc.RekeyMine(userCtx(e.bruno), e.bruno, d.Peer.ID); rocca.ErrorCodeOf(err) != rocca.ENOTFOUND {
		t.Errorf("rekey of someone else's device: %v", err)
	}
}

func TestSelfServicePolicy(t *testing.T) {
	e := newEnv(t)
	e.start()
	ctx := userCtx(e.anna)
	set, _ := e.svc.Settings(ctx)
	set.MaxDevices, set.DefaultDays = 2, 30
	if err := e.svc.UpdateSettings(userCtx(e.admin), set); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"uno", "due"} {
		d, err := e.svc.AddMyPeer(ctx, e.anna, n, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := e.clock.Now().AddDate(0, 0, 30); !d.Peer.ExpiresAt.Equal(want) {
			t.Errorf("self-service device expires %v, want %v", d.Peer.ExpiresAt, want)
		}
	}
	_, err := e.svc.AddMyPeer(ctx, e.anna, "tre", "")
	wantCode(t, err, rocca.ECONFLICT, "vpn.error.too_many_devices")
	set.SelfService = false
	if err := e.svc.UpdateSettings(userCtx(e.admin), set); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AddMyPeer(userCtx(e.bruno), e.bruno, "uno", "")
	wantCode(t, err, rocca.EFORBIDDEN, "vpn.error.self_service_off")
	if _, err := e.svc.AddMyPeer(userCtx(e.admin), e.admin, "uno", ""); err != nil {
		t.Errorf("admins are not bound by the self-service policy: %v", err)
	}
}

func TestHandshakesMakeConnectionLogAndStatus(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	d := e.add(e.anna, "portatile")
	e.svc.Reconcile(context.Background())
	dev.handshake(d.Peer.PublicKey, e.clock.Now(), 1000, 2000, "203.0.113.7:40000")
	e.svc.Reconcile(context.Background())
	st, err := e.svc.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Up || st.Peers != 1 || st.Online != 1 || st.RxBytes != 1000 || st.TxBytes != 2000 || st.FreeAddresses != 252 {
		t.Errorf("status %+v", st)
	}
	peers, _ := e.svc.Peers(context.Background(), PeerFilter{})
	if p := peers[0]; !p.Online || p.Endpoint != "203.0.113.7:40000" || p.LastHandshake.IsZero() || p.Owner != e.anna.Email {
		t.Errorf("peer %+v", p)
	}
	e.clock.Advance(OnlineWindow + time.Second)
	e.svc.Reconcile(context.Background())
	log, err := e.svc.Connections(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[1].Event != EventConnect || log[0].Event != EventDisconnect || log[1].Endpoint != "203.0.113.7:40000" || log[0].Owner != e.anna.Email {
		t.Fatalf("connection log %+v, want connect then disconnect with the endpoint", log)
	}
	// Retention: entries older than log_days go.
	e.clock.Advance(91 * 24 * time.Hour)
	e.svc.purge(context.Background())
	if n := e.countRows("vpn_connections"); n != 0 {
		t.Errorf("%d connection log entries survived the retention", n)
	}
}

func TestUnavailableDeviceIsReported(t *testing.T) {
	e := newEnv(t)
	e.host.failOn = rocca.Localized(rocca.EUNAVAILABLE, "vpn.device.no_tun", "no tun")
	e.svc.Reconcile(context.Background())
	st, err := e.svc.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Up || st.ProblemKey != "vpn.device.no_tun" {
		t.Errorf("status %+v, want down with the device's reason", st)
	}
	// Devices can still be created; they reach the interface once it opens.
	d := e.add(e.anna, "portatile")
	e.host.failOn = nil
	e.svc.Reconcile(context.Background())
	if !e.host.device().has(d.Peer.PublicKey) {
		t.Error("device created while the interface was down is missing after it opened")
	}
}

// waitFor polls cond (for work done by the service's own goroutine) for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAllocateFindsLowestFree compares allocate with a plain scan over random pools: live
// devices, devices ended within the hold-back (taken) and long ago (free), in a /26.
func TestAllocateFindsLowestFree(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Subnet = "10.86.0.0/26" })
	ctx := context.Background()
	subnet := netip.MustParsePrefix("10.86.0.0/26")
	now := e.clock.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 40 {
		if _, err := e.db.ExecContext(ctx, `DELETE FROM vpn_peers`); err != nil {
			t.Fatal(err)
		}
		taken := map[netip.Addr]bool{}
		density := rng.Float64()
		first, last := poolRange(subnet)
		for a := first; a.Compare(last) <= 0; a = a.Next() {
			if rng.Float64() > density {
				continue
			}
			ended := int64(0)
			switch rng.IntN(3) {
			case 1:
				ended = now.Add(-time.Hour).Unix() // held back
				taken[a] = true
			case 2:
				ended = now.Add(-48 * time.Hour).Unix() // released long ago
			default:
				taken[a] = true
			}
			if _, err := e.db.ExecContext(ctx, `INSERT INTO vpn_peers (owner_id, name, public_key, address, addr_num, created_at, ended_at)
				VALUES (?, ?, ?, ?, ?, 1, ?)`, e.anna.ID, a.String(), "k"+a.String(), a.String(), addrNum(a), ended); err != nil {
				t.Fatal(err)
			}
		}
		want := netip.Addr{}
		for a := first; a.Compare(last) <= 0; a = a.Next() {
			if !taken[a] {
				want = a
				break
			}
		}
		got, err := allocate(ctx, e.db, subnet, now, DefaultHoldBack)
		if !want.IsValid() {
			if rocca.ErrorCodeOf(err) != rocca.ECONFLICT {
				t.Fatalf("round %d: full pool gave %s, %v; want pool exhausted", round, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Fatalf("round %d (density %.2f): allocate = %s, %v; want %s", round, density, got, err, want)
		}
	}
}
