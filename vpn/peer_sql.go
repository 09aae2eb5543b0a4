package vpn

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/rocca-pa/rocca"
)

// The states of a device.
const (
	StateActive  = "active"
	StateRevoked = "revoked"
	StateExpired = "expired"
)

// Peer is a device of a user: its WireGuard public key, its address in the VPN and its history.
type Peer struct {
	ID        int64      `json:"id"`
	OwnerID   int64      `json:"user_id"`
	Owner     string     `json:"user"`                // e-mail of the owner (filled in by listings)
	OwnerName string     `json:"user_name,omitempty"` // display name of the owner
	Name      string     `json:"name"`
	PublicKey string     `json:"public_key"`
	Address   netip.Addr `json:"address"`
	State     string     `json:"state"`              // active, revoked, expired
	OwnKey    bool       `json:"own_key,omitempty"`  // the owner supplied the public key
	Imported  bool       `json:"imported,omitempty"` // adopted from a wg-quick file
	PSK       bool       `json:"preshared_key"`      // a pre-shared key is configured
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at,omitzero"`
	EndedAt   time.Time  `json:"ended_at,omitzero"`

	Online        bool      `json:"online"` // last handshake within OnlineWindow
	LastHandshake time.Time `json:"last_handshake,omitzero"`
	Endpoint      string    `json:"endpoint,omitempty"` // the device's public address:port as last seen
	RxBytes       int64     `json:"rx_bytes"`           // received by the server from the device
	TxBytes       int64     `json:"tx_bytes"`           // sent by the server to the device

	psk       string // sealed pre-shared key, "" when none
	connected bool   // online as last written to the connection log
}

// live reports whether the device should be on the interface at now.
func (p *Peer) live(now time.Time) bool {
	return p.EndedAt.IsZero() && (p.ExpiresAt.IsZero() || now.Before(p.ExpiresAt))
}

const peerColumns = `id, owner_id, name, public_key, address, psk, own_key, imported, created_at, expires_at,
	ended_at, end_reason, last_handshake, rx_bytes, tx_bytes, endpoint, connected`

type scanner interface{ Scan(dest ...any) error }

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func scanPeer(row scanner, now time.Time) (*Peer, error) {
	var p Peer
	if err := newPeerScanner().scan(row, now, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// peerScanner reads rows of peerColumns through variables it reuses, so that reading thousands
// of devices allocates little beyond the strings the driver returns.
type peerScanner struct {
	p                           Peer
	addr, reason                string
	created, expires, ended, hs int64
	dest                        []any
}

func newPeerScanner() *peerScanner {
	sc := &peerScanner{}
	p := &sc.p
	sc.dest = []any{&p.ID, &p.OwnerID, &p.Name, &p.PublicKey, &sc.addr, &p.psk, &p.OwnKey, &p.Imported,
		&sc.created, &sc.expires, &sc.ended, &sc.reason, &sc.hs, &p.RxBytes, &p.TxBytes, &p.Endpoint, &p.connected}
	return sc
}

// scan reads one row into out.
func (sc *peerScanner) scan(row scanner, now time.Time, out *Peer) error {
	sc.p = Peer{}
	if err := row.Scan(sc.dest...); err != nil {
		return err
	}
	p := &sc.p
	a, err := netip.ParseAddr(sc.addr)
	if err != nil {
		return fmt.Errorf("peer %d: bad address %q", p.ID, sc.addr)
	}
	p.Address = a
	p.PSK = p.psk != ""
	p.CreatedAt, p.ExpiresAt, p.EndedAt, p.LastHandshake = fromUnix(sc.created), fromUnix(sc.expires), fromUnix(sc.ended), fromUnix(sc.hs)
	switch {
	case sc.reason == "revoked":
		p.State = StateRevoked
	case sc.reason == "expired" || !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt):
		p.State = StateExpired
	default:
		p.State = StateActive
	}
	p.Online = p.State == StateActive && !p.LastHandshake.IsZero() && now.Sub(p.LastHandshake) <= OnlineWindow
	*out = *p
	return nil
}

func queryPeers(ctx context.Context, q querier, now time.Time, where string, args ...any) ([]*Peer, error) {
	var out []*Peer
	err := eachPeer(ctx, q, now, func(p *Peer) { c := *p; out = append(out, &c) }, where, args...)
	return out, err
}

// eachPeer calls fn with every device the query selects; *p is reused for the next row.
func eachPeer(ctx context.Context, q querier, now time.Time, fn func(p *Peer), where string, args ...any) error {
	rows, err := q.QueryContext(ctx, `SELECT `+peerColumns+` FROM vpn_peers `+where, args...)
	if err != nil {
		return fmt.Errorf("list peers: %w", err)
	}
	defer rows.Close()
	sc := newPeerScanner()
	var p Peer
	for rows.Next() {
		if err := sc.scan(rows, now, &p); err != nil {
			return fmt.Errorf("list peers: %w", err)
		}
		fn(&p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list peers: %w", err)
	}
	return nil
}

// peerByID returns the device id, ended or not.
func peerByID(ctx context.Context, q querier, id int64, now time.Time) (*Peer, error) {
	p, err := scanPeer(q.QueryRowContext(ctx, `SELECT `+peerColumns+` FROM vpn_peers WHERE id = ?`, id), now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errPeerNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("peer %d: %w", id, err)
	}
	return p, nil
}

func errPeerNotFound(id int64) error {
	return rocca.Localized(rocca.ENOTFOUND, "vpn.error.peer_not_found", fmt.Sprintf("there is no device with number %d", id), id)
}

// unendedPeers returns the devices not yet revoked or expired by the service (some may be past
// their expiry time, until the expiry runs), by id.
func unendedPeers(ctx context.Context, q querier, now time.Time) ([]*Peer, error) {
	return queryPeers(ctx, q, now, `WHERE ended_at = 0 ORDER BY id`)
}

// appendUnendedPeers is unendedPeers appending to buf, whose room a caller reading every device
// again and again (the reconcile pass) reuses.
func appendUnendedPeers(ctx context.Context, q querier, now time.Time, buf []Peer) ([]Peer, error) {
	err := eachPeer(ctx, q, now, func(p *Peer) { buf = append(buf, *p) }, `WHERE ended_at = 0 ORDER BY id`)
	return buf, err
}

// livePeerAt returns the device not yet ended that holds address a, or nil.
func livePeerAt(ctx context.Context, q querier, a netip.Addr, now time.Time) (*Peer, error) {
	peers, err := queryPeers(ctx, q, now, `WHERE ended_at = 0 AND address = ?`, a.String())
	if err != nil || len(peers) == 0 {
		return nil, err
	}
	return peers[0], nil
}

// insertPeer stores a new live device and returns its id.
func insertPeer(ctx context.Context, q querier, p *Peer) (int64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO vpn_peers (owner_id, name, public_key, address, addr_num, psk, own_key, imported, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.OwnerID, p.Name, p.PublicKey, p.Address.String(), addrNum(p.Address), p.psk, p.OwnKey, p.Imported, unix(p.CreatedAt), unix(p.ExpiresAt))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// endPeer marks a live device revoked or expired; false when it had ended already.
func endPeer(ctx context.Context, q querier, id int64, now time.Time, reason string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE vpn_peers SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at = 0`, unix(now), reason, id)
	if err != nil {
		return false, fmt.Errorf("end peer %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// setPeerKey gives a live device a new key pair's public half and pre-shared key, and forgets
// its traffic figures, which belonged to the old key.
func setPeerKey(ctx context.Context, q querier, id int64, key, psk string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE vpn_peers SET public_key = ?, psk = ?, own_key = 0, last_handshake = 0, rx_bytes = 0, tx_bytes = 0, endpoint = ''
		WHERE id = ? AND ended_at = 0`, key, psk, id)
	if err != nil {
		return false, fmt.Errorf("rekey peer %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// takenCount counts the addresses from lo to hi (inclusive) that live devices hold or that
// devices which ended after cut held: none of them may be given out now. It reads one range of
// the index on addr_num.
func takenCount(ctx context.Context, q querier, lo, hi netip.Addr, cut time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(DISTINCT addr_num) FROM vpn_peers
		WHERE addr_num BETWEEN ? AND ? AND (ended_at = 0 OR ended_at > ?)`, addrNum(lo), addrNum(hi), unix(cut)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("taken addresses: %w", err)
	}
	return n, nil
}

// addrNum is an IPv4 address as the number stored in vpn_peers.addr_num.
func addrNum(a netip.Addr) int64 {
	b := a.As4()
	return int64(binary.BigEndian.Uint32(b[:]))
}

func addrFromNum(n int64) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(n))
	return netip.AddrFrom4(b)
}

// countLive counts the owner's live devices.
func countLive(ctx context.Context, q querier, ownerID int64, now time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM vpn_peers WHERE owner_id = ? AND ended_at = 0 AND (expires_at = 0 OR expires_at > ?)`,
		ownerID, unix(now)).Scan(&n)
	return n, err
}

// nextExpiry is the earliest expiry of a device not yet ended.
func nextExpiry(ctx context.Context, q querier) (time.Time, bool, error) {
	var at sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT min(expires_at) FROM vpn_peers WHERE ended_at = 0 AND expires_at > 0`).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next expiry: %w", err)
	}
	return fromUnix(at.Int64), at.Valid, nil
}

// dueExpiries returns the ids of devices whose expiry time has come but which are not ended yet.
func dueExpiries(ctx context.Context, q querier, now time.Time) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM vpn_peers WHERE ended_at = 0 AND expires_at > 0 AND expires_at <= ? ORDER BY id`, unix(now))
	if err != nil {
		return nil, fmt.Errorf("due expiries: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// saveStats records what the interface reports about a device.
func saveStats(ctx context.Context, q querier, id int64, hs time.Time, rx, tx int64, endpoint string, connected bool) error {
	_, err := q.ExecContext(ctx, `UPDATE vpn_peers SET last_handshake = ?, rx_bytes = ?, tx_bytes = ?, endpoint = ?, connected = ? WHERE id = ?`,
		unix(hs), rx, tx, endpoint, connected, id)
	if err != nil {
		return fmt.Errorf("save stats of peer %d: %w", id, err)
	}
	return nil
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}
