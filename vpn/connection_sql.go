package vpn

import (
	"context"
	"fmt"
	"time"
)

// The events of the connection log.
const (
	EventConnect    = "connect"
	EventDisconnect = "disconnect"
)

// Connection is one line of the connection log: a device came online (a fresh handshake after
// being offline) or went offline (no handshake for OnlineWindow), with the address it came from.
type Connection struct {
	ID       int64     `json:"id"`
	PeerID   int64     `json:"peer_id"`
	Peer     string    `json:"peer"` // device name
	OwnerID  int64     `json:"user_id"`
	Owner    string    `json:"user"` // e-mail of the owner
	At       time.Time `json:"at"`
	Event    string    `json:"event"`
	Endpoint string    `json:"endpoint,omitempty"`
}

func insertConnection(ctx context.Context, q querier, peerID int64, at time.Time, event, endpoint string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO vpn_connections (peer_id, at, event, endpoint) VALUES (?, ?, ?, ?)`,
		peerID, unix(at), event, endpoint)
	if err != nil {
		return fmt.Errorf("log connection: %w", err)
	}
	return nil
}

// listConnections returns the newest entries first, for one device when peerID > 0.
func listConnections(ctx context.Context, q querier, peerID int64, limit int) ([]Connection, error) {
	where, args := "", []any{}
	if peerID > 0 {
		where, args = "WHERE c.peer_id = ?", append(args, peerID)
	}
	rows, err := q.QueryContext(ctx, `SELECT c.id, c.peer_id, p.name, p.owner_id, c.at, c.event, c.endpoint
		FROM vpn_connections c JOIN vpn_peers p ON p.id = c.peer_id `+where+` ORDER BY c.at DESC, c.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("connection log: %w", err)
	}
	defer rows.Close()
	var out []Connection
	for rows.Next() {
		var c Connection
		var at int64
		if err := rows.Scan(&c.ID, &c.PeerID, &c.Peer, &c.OwnerID, &at, &c.Event, &c.Endpoint); err != nil {
			return nil, fmt.Errorf("connection log: %w", err)
		}
		c.At = fromUnix(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// purgeConnections removes entries older than before (retention).
func purgeConnections(ctx context.Context, q querier, before time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM vpn_connections WHERE at < ?`, unix(before))
	if err != nil {
		return 0, fmt.Errorf("purge connection log: %w", err)
	}
	return res.RowsAffected()
}
